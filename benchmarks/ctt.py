"""CTT item analysis of one paper, 1,000,000 pupils × 40 items: edubrain beside plain pandas.

    python benchmarks/ctt.py [--pupils 1000000] [--json OUT]

A seeded paper (30 four-option choice items scored 0/1 and 10 constructed items of 满分 4–10,
driven by one normal ability) is written to a temporary .npz; each engine then runs in its own
child process that loads it and reports CPU seconds, wall seconds and its peak RSS, so one
engine's memory does not count against the other. The engines compute the same report: 难度 P,
区分度 D from the top and bottom 27 %, point-biserial and corrected item–total r, option shares
overall/top/bottom, Cronbach's α and the SEM. The pandas peer is what an analyst would write
(`corrwith`, boolean masks, `value_counts` per item); its figures are compared with ours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CHOICE_ITEMS = 30
CONSTRUCTED_ITEMS = 10
N_OPTIONS = 4


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "os": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def make_paper(pupils: int, path: Path) -> None:
    rng = np.random.default_rng(16)
    ability = rng.normal(size=pupils).astype(np.float32)
    difficulty = rng.normal(size=CHOICE_ITEMS).astype(np.float32)
    right = rng.random((pupils, CHOICE_ITEMS), dtype=np.float32) < 1 / (
        1 + np.exp(-(ability[:, None] - difficulty))
    )
    keys = rng.integers(0, N_OPTIONS, CHOICE_ITEMS)
    wrong_option = (keys + rng.integers(1, N_OPTIONS, (pupils, CHOICE_ITEMS))) % N_OPTIONS
    choices = np.where(right, keys, wrong_option).astype(np.int8)
    choices[rng.random((pupils, CHOICE_ITEMS)) < 0.01] = -1  # omitted
    right &= choices >= 0
    maxima = np.r_[np.ones(CHOICE_ITEMS), rng.integers(4, 11, CONSTRUCTED_ITEMS)].astype(float)
    share = 1 / (1 + np.exp(-(ability[:, None] + rng.normal(size=(pupils, CONSTRUCTED_ITEMS)))))
    constructed = np.round(share * maxima[CHOICE_ITEMS:])
    scores = np.hstack([right.astype(np.int8), constructed.astype(np.int8)])
    np.savez(path, scores=scores, maxima=maxima, choices=choices, keys=keys)


def run_ours(data: dict[str, Any]) -> dict[str, Any]:
    from edubrain.psychometrics.ctt import analyse_paper

    result = analyse_paper(
        data["scores"],
        data["maxima"],
        choices=data["choices"],
        choice_items=list(range(CHOICE_ITEMS)),
        keys=[int(k) for k in data["keys"]],
        n_options=N_OPTIONS,
    )
    return {
        "difficulty": [item.difficulty for item in result.items],
        "discrimination": [item.discrimination for item in result.items],
        "point_biserial": [item.point_biserial for item in result.items],
        "corrected": [item.corrected_item_total for item in result.items],
        "option_top": [list(item.options.top) for item in result.items if item.options is not None],
        "alpha": result.alpha,
        "sem": result.sem,
    }


def run_pandas(data: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    scores = pd.DataFrame(data["scores"]).astype(float)
    maxima = pd.Series(data["maxima"])
    total = scores.sum(axis=1)
    n = len(scores)
    size = int(np.floor(0.27 * n + 0.5))
    rank = total.rank(method="first")  # ties in row order, as edubrain
    top, bottom = rank > n - size, rank <= size
    difficulty = scores.mean() / maxima
    discrimination = (scores[top].mean() - scores[bottom].mean()) / maxima
    point_biserial = scores.corrwith(total)
    corrected = pd.Series({c: scores[c].corr(total - scores[c]) for c in scores.columns})
    choices = pd.DataFrame(data["choices"])
    option_top = []
    for c in choices.columns:
        shares = choices.loc[top, c].value_counts(normalize=True)
        option_top.append([float(shares.get(o, 0.0)) for o in (*range(N_OPTIONS), -1)])
        choices.loc[bottom, c].value_counts(normalize=True)
        choices[c].value_counts(normalize=True)
    k = scores.shape[1]
    alpha = k / (k - 1) * (1 - scores.var().sum() / total.var())
    sem = total.std() * np.sqrt(1 - alpha)
    return {
        "difficulty": difficulty.tolist(),
        "discrimination": discrimination.tolist(),
        "point_biserial": point_biserial.tolist(),
        "corrected": corrected.tolist(),
        "option_top": option_top,
        "alpha": float(alpha),
        "sem": float(sem),
    }


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(engine: str, path: Path) -> None:
    loaded = np.load(path)
    data = {name: loaded[name] for name in loaded.files}
    rss_loaded = peak_rss_mib()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    figures = run_ours(data) if engine == "edubrain" else run_pandas(data)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    peak = peak_rss_mib()
    print(
        json.dumps(
            {
                "cpu_seconds": round(cpu, 2),
                "wall_seconds": round(wall, 2),
                "peak_rss_mib": round(peak),
                "rss_after_loading_mib": round(rss_loaded),
                "figures": figures,
            }
        )
    )


def largest_difference(a: dict[str, Any], b: dict[str, Any]) -> float:
    worst = 0.0
    for name in ("difficulty", "discrimination", "point_biserial", "corrected", "option_top"):
        worst = max(worst, float(np.max(np.abs(np.array(a[name]) - np.array(b[name])))))
    return max(worst, abs(a["alpha"] - b["alpha"]), abs(a["sem"] - b["sem"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=1_000_000)
    parser.add_argument("--json")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "NPZ"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    report: dict[str, Any] = {"machine": machine(), "pupils": args.pupils, "items": 40}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "paper.npz"
        make_paper(args.pupils, path)
        runs: dict[str, dict[str, Any]] = {}
        for engine in ("edubrain", "pandas"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", engine, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs[engine] = json.loads(out.splitlines()[-1])
    report["load_average_at_end"] = os.getloadavg()
    report["largest_difference"] = largest_difference(
        runs["edubrain"]["figures"], runs["pandas"]["figures"]
    )
    for engine, run in runs.items():
        report[engine] = {k: v for k, v in run.items() if k != "figures"}
        print(
            f"{engine:9} {run['cpu_seconds']:7.2f} s CPU {run['wall_seconds']:7.2f} s wall "
            f"peak RSS {run['peak_rss_mib']} MiB (data loaded: {run['rss_after_loading_mib']} MiB)"
        )
    print(f"alpha {runs['edubrain']['figures']['alpha']:.6f}; largest difference between the two "
          f"reports {report['largest_difference']:.2e}")  # fmt: skip
    print(json.dumps(report["machine"]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
