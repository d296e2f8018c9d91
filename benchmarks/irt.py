"""2PL calibration side by side: edubrain's MML-EM beside mirt 1.2.0 and girth 0.8.0.

    python benchmarks/irt.py [--pupils 100000,1000000] [--items 40] [--girth-up-to 100000]
                             [--blas-threads 1] [--json OUT]
    python benchmarks/irt.py --recovery     # bias and RMSE of each model, 5 seeds

One run: for each scale, the same seeded 2PL data (a ~ lognormal(0, 0.3), b ~ N(0, 1),
θ ~ N(0, 1); shared/research/anchors-next-modules.md §3) is written once as int8, and each
library calibrates it in its own fresh process, so that its CPU seconds (user + system of the
fit alone) and its peak RSS (the process's, data included) are its own. Recovery is the RMSE
of a and b against the generating values. Settings: edubrain 49 rectangular points on
[−6, 6], tolerance 1e-4 on the largest parameter change; mirt `fit_mirt(model="2PL")` with its
defaults (EM, 21 points, tol 1e-4, Rust backend) and no standard errors; girth `twopl_mml`
with its defaults. The peers come from the `bench` extra; they are never imported by src.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 16

WORKER = r"""
import json, resource, sys, time
import numpy as np
library, path = sys.argv[1], sys.argv[2]
data = np.load(path)
truth = np.load(path.replace(".npy", "_truth.npz"))
start_cpu, start_wall = time.process_time(), time.perf_counter()
if library == "edubrain":
    from edubrain.psychometrics.irt import calibrate
    fit = calibrate(data, "2pl", tolerance=1e-4)
    a, b, iterations = fit.a, fit.difficulty, fit.convergence.iterations
elif library == "mirt":
    import mirt
    fit = mirt.fit_mirt(data, model="2PL", compute_standard_errors=False)
    a = np.asarray(fit.model.discrimination, dtype=float).reshape(-1)
    b = np.asarray(fit.model.difficulty, dtype=float).reshape(-1)
    iterations = int(fit.n_iterations)
else:
    import girth
    fit = girth.twopl_mml(data.T.astype(int))
    a, b, iterations = fit["Discrimination"], fit["Difficulty"], -1
cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
rmse = lambda x, y: float(np.sqrt(np.mean((np.asarray(x) - y) ** 2)))
print(json.dumps({
    "library": library, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "iterations": iterations,
    "rmse_a": round(rmse(a, truth["a"]), 4), "rmse_b": round(rmse(b, truth["b"]), 4),
    "bias_a": round(float(np.mean(a - truth["a"])), 4),
    "bias_b": round(float(np.mean(b - truth["b"])), 4),
}))
"""


def simulate(pupils: int, items: int, folder: Path) -> Path:
    rng = np.random.default_rng(SEED)
    a = rng.lognormal(0.0, 0.3, items)
    b = rng.normal(0.0, 1.0, items)
    data = np.empty((pupils, items), dtype=np.int8)
    for start in range(0, pupils, 100_000):  # in blocks: the float draws stay small
        theta = rng.normal(0.0, 1.0, min(100_000, pupils - start))
        p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
        data[start : start + theta.size] = rng.random(p.shape) < p
    path = folder / f"irt_{pupils}x{items}.npy"
    np.save(path, data)
    np.savez(folder / f"irt_{pupils}x{items}_truth.npz", a=a, b=b)
    return path


def run(library: str, path: Path, blas_threads: int) -> dict[str, object]:
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(blas_threads)
    done = subprocess.run(
        [sys.executable, "-c", WORKER, library, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        return {"library": library, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def recovery(seeds: int = 5) -> list[dict[str, object]]:
    """Bias and RMSE of every model on seeded simulations (the docs' recovery table)."""
    from edubrain.psychometrics.irt import calibrate

    rows: list[dict[str, object]] = []
    for model, pupils, items in [
        ("rasch", 5000, 20),
        ("1pl", 5000, 20),
        ("2pl", 5000, 20),
        ("2pl", 20000, 20),
        ("grm", 5000, 10),
    ]:
        errors_a: list[np.ndarray] = []
        errors_b: list[np.ndarray] = []
        for seed in range(seeds):
            rng = np.random.default_rng(1000 + seed)
            slope = {"rasch": np.ones(items), "1pl": np.full(items, 0.8)}.get(
                model, rng.lognormal(0.0, 0.3, items)
            )
            steps = 3 if model == "grm" else 1
            b = np.sort(rng.normal(0.0, 1.0, (items, steps)), axis=1)
            theta = rng.normal(0.0, 1.0, pupils)
            at_least = 1.0 / (1.0 + np.exp(-slope[None, :, None] * (theta[:, None, None] - b)))
            scores = (rng.random((pupils, items))[:, :, None] < at_least).sum(axis=2)
            fit = calibrate(scores.astype(np.float64), model)  # type: ignore[arg-type]
            errors_a.append(fit.a - slope)
            errors_b.append((fit.b - b).ravel())
        ea, eb = np.concatenate(errors_a), np.concatenate(errors_b)
        rows.append(
            {
                "model": model, "pupils": pupils, "items": items, "seeds": seeds,
                "bias_a": round(float(ea.mean()), 4),
                "rmse_a": round(float(np.sqrt(np.mean(ea**2))), 4),
                "bias_b": round(float(eb.mean()), 4),
                "rmse_b": round(float(np.sqrt(np.mean(eb**2))), 4),
            }
        )  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", default="100000,1000000")
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--girth-up-to", type=int, default=100_000)
    parser.add_argument("--peers", default="mirt,girth")
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--recovery", action="store_true", help="only the recovery table")
    args = parser.parse_args()
    if args.recovery:
        recovery()
        return
    peers = [p for p in args.peers.split(",") if p]
    report: dict[str, object] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "runs": [],
    }
    print(report["machine"], "load", report["load_average_at_start"], flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for pupils in (int(n) for n in args.pupils.split(",")):
            path = simulate(pupils, args.items, Path(folder))
            for library in ["edubrain", *peers]:
                if library == "girth" and pupils > args.girth_up_to:
                    continue
                result = run(library, path, args.blas_threads)
                result.update(pupils=pupils, items=args.items, load=os.getloadavg()[0])
                print(json.dumps(result), flush=True)
                runs = report["runs"]
                assert isinstance(runs, list)
                runs.append(result)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
