"""Benchmark: 体测评分 of a city's fitness tests by the 2014 standard (issue 17: ≤ 10 s for 1M).

    python benchmarks/fitness.py --records 1000000

Draws the records (grade 11–33, both sexes, every item of the grade, results spread from below
the 10-point threshold to past the 100-point one, so every level and the bonus steps are hit;
one record in fifty with an item missing), then times `modules.fitness.scoring.score_tests` on
them, as the scoring job calls it. Prints the time, the peak memory and the level counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

import numpy as np

from edubrain.modules.fitness.scoring import ITEMS, load_standard, score_tests


def records(n: int, seed: int) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    standard = load_standard()
    grades = np.array([g for g in standard.grades if g < "40"])
    grade = rng.choice(grades, n)
    sex = rng.choice(np.array(["1", "2"]), n)
    measures = {name: np.full(n, np.nan) for name in ITEMS}
    measures["height_cm"] = rng.normal(150, 18, n).clip(100, 200).round(1)
    measures["weight_kg"] = (measures["height_cm"] / 100) ** 2 * rng.normal(19, 3.5, n).clip(11, 35)
    for (g, s), rules in standard.items.items():
        rows = np.flatnonzero((grade == g) & (sex == s))
        for rule in rules:
            if rule.item == "bmi" or rows.size == 0:
                continue
            column = standard.columns[(g, s, rule.item)]
            low, high = float(column.thresholds[0]), float(column.thresholds[-1])
            span = high - low
            value = rng.uniform(low - 0.1 * span, high + 0.15 * span, rows.size)
            measures[rule.item][rows] = np.round(-value if column.lower_is_better else value, 1)
    gaps = rng.random(n) < 0.02
    measures["run_50m"][gaps] = np.nan
    return grade.tolist(), sex.tolist(), measures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    grade, sex, measures = records(args.records, args.seed)
    load_standard()  # the tables are read once per process; not part of a scoring run
    started = time.perf_counter()
    cpu = time.process_time()
    scored = score_tests(grade, sex, measures)
    seconds = time.perf_counter() - started
    levels, counts = np.unique(scored.level, return_counts=True)
    result = {
        "records": args.records,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "levels": {str(k) or "(缺项)": int(v) for k, v in zip(levels, counts, strict=True)},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
