"""The psychological screening part of the synthetic region: answers to the example scale.

Pupils from 四年级 to 高三 sit the packaged example scale (`scales/example.yaml`) once in the
autumn term; 5 % miss it. Each pupil has a latent distress z ~ N(0, 1) (plus a small school
share); an item's answer is 1.9 + 0.55·z + noise, rounded to the 1–4 steps and reversed on
reverse items; 1.5 % of answers are left blank. About 3 % of pupils reach the 预警 level and
15 % 关注 (measured: 58 and 295 of 2,016 sittings, 3,000 pupils, seed 5). Truth:
`truth/psych_answers.csv` (the answers as drawn, before export, with z).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edubrain.modules.psych.scale import packaged_scales
from edubrain.sources.generator.columns import STR, Table
from edubrain.sources.generator.measures import school_dates
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart, RegionDraw, WideSheet
from edubrain.sources.generator.render import Wide, csv_lines

SCALE_ID = "wellbeing-example"
GRADES = ("14", "15", "16", "21", "22", "23", "31", "32", "33")
ABSENT = 0.05
BLANK = 0.015


def answers(students: Table, rng: np.random.Generator) -> tuple[Table, Wide, Table]:
    """The sheet's rows, its answers and the truth (rows × items, NaN blank)."""
    scale = packaged_scales()[SCALE_ID]
    sits = (
        (students["status"] == "enrolled")
        & np.isin(students["grade_code"], GRADES)
        & (rng.random(len(students["status"])) >= ABSENT)
    )
    idx = np.flatnonzero(sits)
    n = idx.size
    school = students["_school"][idx]
    n_schools = int(school.max()) + 1 if n else 0
    z = rng.standard_normal(n) * 0.97 + rng.normal(0, 0.25, n_schools)[school]
    k = len(scale.items)
    raw = 1.9 + 0.55 * z[:, None] + rng.normal(0, 0.6, (n, k))
    clean = np.clip(np.round(raw), scale.response_min, scale.response_max)
    reverse = np.array([item.reverse for item in scale.items])
    clean[:, reverse] = scale.response_min + scale.response_max - clean[:, reverse]
    given = np.where(rng.random((n, k)) < BLANK, np.nan, clean)
    rows: Table = {
        "student_number": students["student_number"][idx],
        "student_name": students["name"][idx],
        "scale_id": np.full(n, SCALE_ID, dtype=STR),
        "test_date": school_dates(rng, school, "2025-11-03", 20),
        "_school": school,
        "_student": idx,
    }
    truth: Table = {
        "student_number": rows["student_number"],
        "scale_id": rows["scale_id"],
        "test_date": rows["test_date"].astype(str).astype(STR),
        "z": np.array([f"{x:.4f}" for x in z], dtype=STR),
        **{
            f"q{item.no}": np.array(
                ["" if np.isnan(v) else str(int(v)) for v in given[:, j]], dtype=STR
            )
            for j, item in enumerate(scale.items)
        },
    }
    return rows, Wide([item.no for item in scale.items], given), truth


_PARTS = Path("truth") / ".parts" / "psych-truth"
TRUTH_FILE = "psych_answers"


def county(draw: CountyDraw) -> None:
    students = draw.shared["world"].students
    rows, wide, truth = answers(students, draw.stream(12))
    draw.sheets["psych_response"] = [WideSheet(f"{draw.county.code}-{SCALE_ID}", rows, wide)]
    part = draw.out / _PARTS / f"{draw.county.code}.csv"
    part.parent.mkdir(parents=True, exist_ok=True)
    header = list(truth)
    cols = [np.asarray(truth[c]).astype(STR) for c in header]
    with part.open("wb") as fh:
        if cols[0].size:
            fh.write(("\n".join(csv_lines(cols)) + "\n").encode("utf-8"))
    (draw.out / _PARTS / "header.csv").write_text(",".join(header) + "\n", encoding="utf-8")


def region(draw: RegionDraw) -> None:
    """Merge the counties' truth parts into OUT/truth/psych_answers.csv (in county order)."""
    header = draw.out / _PARTS / "header.csv"
    if not header.exists():
        return
    with (draw.out / "truth" / f"{TRUTH_FILE}.csv").open("wb") as fh:
        fh.write(header.read_bytes())
        for c in draw.counties:
            part = draw.out / _PARTS / f"{c.code}.csv"
            if part.exists():
                fh.write(part.read_bytes())


README = """\
* `truth/psych_answers.csv` — the psychological screening answers as drawn, before export
  (`edubrain/modules/psych/generator.py`): student_number, scale_id, test_date, the latent
  distress z and q1 … q20 (blank: unanswered) of the packaged example scale.
"""

PART = GeneratorPart(county, region, streams=(12,), readme=README)
