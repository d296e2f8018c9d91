"""Benchmark: value-added (random-intercept REML) for a large region, ours beside statsmodels.

    python benchmarks/value_added.py --pupils 1000000 --schools 5000 --statsmodels-pupils 60000
    python benchmarks/value_added.py ... --statsmodels-at-full-scale   # statsmodels at 1M too

Data follow the simulation protocol of the acceptance harness (anchors §4): log-normal school
sizes, true school effect u ~ N(0, 0.3²), prior ~ N(0, 1) + a school intake shift, a 0/1 female
covariate, y = 0.6·prior + 0.1·female + u + ε with σ = 0.75. They are generated (seeded) and
saved before anything is timed. Each fit runs in its own child process, so the CPU seconds and
the peak RSS are its own (the RSS includes Python, NumPy/SciPy and the input arrays).

Reported for each fit: wall and CPU seconds of the fit, peak RSS, −2 × REML log-likelihood (the
same quantity for both: lme4's "REML criterion"), the school variance, corr(estimated, true
school effect), whether it reports convergence. statsmodels MixedLM runs with its default
optimiser list (bfgs → lbfgs → cg); its warnings are counted. Ours runs on every data set
statsmodels runs on, so the two −2REML values are comparable.

Prints markdown rows for docs/performance.md and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import scipy
    import statsmodels

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
        "os": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def generate(pupils: int, schools: int, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 0.5, schools)
    sizes = rng.multinomial(pupils - 2 * schools, weights / weights.sum()) + 2
    school = np.repeat(np.arange(schools), sizes)
    u = rng.normal(0, 0.3, schools)
    shift = rng.normal(0, 0.5, schools)
    prior = rng.normal(0, 1, pupils) + shift[school]
    female = rng.integers(0, 2, pupils).astype(np.float64)
    y = 0.6 * prior + 0.1 * female + u[school] + rng.normal(0, 0.75, pupils)
    np.savez(path, y=y, prior=prior, female=female, school=school, u=u)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(kind: str, data_path: Path) -> dict[str, Any]:
    data = np.load(data_path)
    y, prior, female, school, u = (data[k] for k in ("y", "prior", "female", "school", "u"))
    if kind == "ours":
        from edubrain.psychometrics.value_added import fit_value_added

        wall, cpu = time.perf_counter(), cpu_seconds()
        fit = fit_value_added(y, prior, school, covariates=female, covariate_names=["female"])
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        truth = u[np.array([int(label) for label in fit.schools.labels])]
        return {
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "minus_2_reml": round(fit.criterion, 4),
            "school_variance": round(fit.school_variance, 5),
            "residual_variance": round(fit.residual_variance, 5),
            "prior_effect": round(fit.fixed("prior").estimate, 5),
            "corr_with_truth": round(float(np.corrcoef(fit.schools.effect, truth)[0, 1]), 4),
            "converged": fit.optimum.converged,
            "newton_improvement": fit.optimum.newton_improvement,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    from statsmodels.regression.mixed_linear_model import MixedLM

    exog = np.column_stack([np.ones_like(y), prior, female])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wall, cpu = time.perf_counter(), cpu_seconds()
        result = MixedLM(y, exog, groups=school).fit(reml=True)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    effects = result.random_effects
    labels = sorted(effects)
    estimated = np.array([float(np.asarray(effects[label])[0]) for label in labels])
    truth = u[np.array([int(label) for label in labels])]
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "minus_2_reml": round(-2 * float(result.llf), 4),
        "school_variance": round(float(np.asarray(result.cov_re)[0, 0]), 5),
        "residual_variance": round(float(result.scale), 5),
        "prior_effect": round(float(result.fe_params[1]), 5),
        "corr_with_truth": round(float(np.corrcoef(estimated, truth)[0, 1]), 4),
        "converged": bool(result.converged),
        "warnings": sorted({type(w.message).__name__ for w in caught}),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def run_child(kind: str, data_path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--data", str(data_path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1_000_000)
    parser.add_argument("--schools", type=int, default=5_000)
    parser.add_argument("--statsmodels-pupils", type=int, default=60_000)
    parser.add_argument("--statsmodels-at-full-scale", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/va-bench"))
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", choices=["ours", "statsmodels"], default=None)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M")}
    full = args.workdir / f"va-{args.pupils}.npz"
    small = args.workdir / f"va-{args.statsmodels_pupils}.npz"
    per_school = args.pupils / args.schools
    small_schools = max(3, round(args.statsmodels_pupils / per_school))
    generate(args.pupils, args.schools, args.seed, full)
    generate(args.statsmodels_pupils, small_schools, args.seed + 1, small)
    runs: list[dict[str, Any]] = []
    for label, path, pupils, schools in (
        ("small", small, args.statsmodels_pupils, small_schools),
        ("full", full, args.pupils, args.schools),
    ):
        kinds = ["ours", "statsmodels"]
        if label == "full" and not args.statsmodels_at_full_scale:
            kinds = ["ours"]
        for kind in kinds:
            numbers = run_child(kind, path)
            runs.append(
                {"data": label, "pupils": pupils, "schools": schools, "fit": kind, **numbers}
            )
            print(json.dumps(runs[-1]), flush=True)
    result["runs"] = runs
    result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print("| pupils / schools | fit | wall s | CPU s | peak RSS MiB | −2REML | σ²ᵤ | corr(VA, u) |")
    for run in runs:
        print(
            f"| {run['pupils']:,} / {run['schools']:,} | {run['fit']} | {run['wall_s']} | "
            f"{run['cpu_s']} | {run['peak_rss_mib']} | {run['minus_2_reml']} | "
            f"{run['school_variance']} | {run['corr_with_truth']} |"
        )
    return 0 if all(not math.isnan(run["minus_2_reml"]) for run in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
