"""学情诊断: fit BKT per knowledge point, show a student or a class, recommend practice, audit.

Imports the models (scipy, pandas); the CLI imports this module only when a diagnose command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edubrain.diagnosis import run
from edubrain.diagnosis.audit import Audit
from edubrain.diagnosis.diagnose import LAYER_NAMES, PracticePolicy
from edubrain.diagnosis.run import (
    class_view,
    open_diagnosis,
    run_audit,
    student_view,
)
from edubrain.errors import DiagnosisInputError
from edubrain.settings import Settings
from edubrain.usecases.ingest import ingest
from edubrain.usecases.ready import require_workspace

__all__ = [
    "DemoDiagnosis",
    "PracticePolicy",
    "audit",
    "class_groups",
    "classes",
    "fit",
    "fit_and_audit",
    "student",
]


def fit(settings: Settings, knowledge_dir: Path | None = None, seed: int = 20251) -> dict[str, Any]:
    """Fit the diagnosis on the warehouse's knowledge graph and practice responses; with
    `knowledge_dir`, ingest that knowledge folder first (its four files are standard entities,
    quality-checked like any other data). Returns a summary."""
    if knowledge_dir is not None:
        loaded = ingest(settings, [knowledge_dir])
        if loaded.failed:
            problems = "; ".join(f"{r.file}: {r.error}" for r in loaded.failed)
            raise DiagnosisInputError(f"{knowledge_dir}: not ingested ({problems})")
    else:
        require_workspace(settings, "edubrain diagnose fit 知识文件夹")
    return run.fit(settings, seed)


def student(settings: Settings, student_number: str, policy: PracticePolicy) -> dict[str, Any]:
    """A student's mastery (with uncertainty), next practice and 错题本."""
    ws = open_diagnosis(settings)
    view = student_view(ws, student_number, policy)
    ids, codes = ws.items.item_ids, ws.diagnosis.kp_codes
    return {
        "student_number": view.student_number,
        "class": view.class_key,
        "mastery": view.mastery,
        "recommendations": [
            {
                "item_id": str(ids[r.item]),
                "target": str(codes[r.target_point]),
                "success": round(r.success, 3),
                "target_mastery": round(r.target_mastery, 3),
            }
            for r in view.recommendations
        ],
        "wrong_book": [
            {
                "item_id": str(ids[w.item]),
                "wrong_times": w.wrong_times,
                "similar": [str(ids[j]) for j in w.similar],
            }
            for w in view.wrong_items
        ],
    }


def classes(settings: Settings) -> list[dict[str, Any]]:
    """The classes in the diagnosis with their number of students."""
    ws = open_diagnosis(settings)
    keys, counts = np.unique(ws.roster.class_key, return_counts=True)
    return [{"class": str(k), "students": int(n)} for k, n in zip(keys, counts, strict=True)]


def class_groups(
    settings: Settings, class_key: str, groups: int = 3, min_size: int = 4
) -> dict[str, Any]:
    """A class's mean mastery per knowledge point (heatmap) and layered groups (分层教学)."""
    ws = open_diagnosis(settings)
    view = class_view(ws, class_key, groups, min_size)
    codes = [str(c) for c in view.heatmap.kp_codes]
    layers = view.layers
    return {
        "class": class_key,
        "heatmap": {
            "kp_codes": codes,
            "names": [str(ws.graph.names[k]) for k in view.points],
            "mean_mastery": [round(float(v), 3) for v in view.heatmap.mean_mastery[0]],
        },
        "groups": [
            {
                "layer": LAYER_NAMES[j],
                "students": [ws.in_clear(str(s)) for s in view.students[layers.group == j]],
                "focus": [codes[k] for k in layers.focus[j]],
                "mean_mastery": round(float(layers.mean_mastery[j].mean()), 3),
            }
            for j in range(layers.mean_mastery.shape[0])
        ],
    }


def audit(settings: Settings, policy: PracticePolicy, truth: Path | None = None) -> Audit:
    """Diagnosis accuracy and recommendation quality by 城乡 and sex, with the gaps."""
    return run_audit(open_diagnosis(settings), policy, truth)


@dataclass(frozen=True)
class DemoDiagnosis:
    fit: dict[str, Any]
    audit: Audit


def fit_and_audit(settings: Settings, region_dir: Path) -> DemoDiagnosis:
    """Fit on a generated region's practice log, ingested with the rest of the region, and
    audit against its truth (the demo's step)."""
    summary = fit(settings)
    return DemoDiagnosis(summary, audit(settings, PracticePolicy(), region_dir / "truth"))
