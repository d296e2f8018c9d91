"""Knowledge tracing on ASSISTments 2009 (Gervet et al. 2020 split): AUC and fit time per model.

    python benchmarks/kt_assist2009.py [--models bkt,irt1pl,pfa,best_lr] [--pybkt PYTHON]
                                       [--data DIR] [--json OUT]

Trains each edubrain model on `preprocessed_data_train.tsv.gz` and reports pooled AUC (and
accuracy, RMSE) over every interaction of the test students, with wall-clock fit time, beside
the published numbers. `--pybkt` names the python of a separate, throwaway virtualenv that has
pyBKT 1.4.3 (never a dependency of edubrain); pyBKT is then run on the same files in a
subprocess, one BKT per skill combination as in its published run, and scored by the same AUC
code.

The data is read from `shared/datasets/assist2009/gervet2020_assistments09` next to the
repository (or `--data`); it is never copied into the repository.
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
import pandas as pd
from scipy import sparse

from edubrain.diagnosis import BKT, IRT1PL, PFA, BestLR, ResponseLog, roc_auc

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = (
    ROOT.parent / "shared" / "datasets" / "assist2009" / "gervet2020_assistments09",
    Path("/work/shared/datasets/assist2009/gervet2020_assistments09"),
)
PUBLISHED = {  # shared/research/learning_analytics.md, Block A
    "bkt": ("pyBKT 1.4.3, 149 skill combinations, 562 s fit on 2 cores", 0.7145),
    "irt1pl": ("Gervet et al. README (IRT, item one-hot)", 0.69),
    "pfa": ("Gervet et al. README", 0.72),
    "best_lr": ("Gervet et al. README", 0.77),
}
PYBKT_SCRIPT = """
import sys, time, json
import numpy as np, pandas as pd
from pyBKT.models import Model
train = pd.read_csv(sys.argv[1], sep="\\t")
test = pd.read_csv(sys.argv[2], sep="\\t")
def frame(df):
    return pd.DataFrame({"order_id": np.arange(len(df)), "user_id": df["user_id"],
                         "skill_name": df["skill_id"].astype(str), "correct": df["correct"]})
model = Model(seed=42, num_fits=1)
t0 = time.perf_counter()
model.fit(data=frame(train))
fit = time.perf_counter() - t0
t0 = time.perf_counter()
pred = model.predict(data=frame(test))
predict = time.perf_counter() - t0
np.save(sys.argv[3], pred["correct_predictions"].to_numpy(dtype=float))
print(json.dumps({"fit_seconds": fit, "predict_seconds": predict}))
"""


def find_data(given: str | None) -> Path:
    for path in (Path(given),) if given else CANDIDATES:
        if (path / "preprocessed_data_train.tsv.gz").exists():
            return path
    sys.exit("ASSISTments 2009 data not found; pass --data DIR (gervet2020_assistments09)")


def read_log(path: Path, q: sparse.csr_array) -> ResponseLog:
    df = pd.read_csv(path, sep="\t")
    # rows are grouped by user and in original order within a user (README); keep that order
    return ResponseLog(
        df["user_id"].to_numpy(np.int64),
        df["item_id"].to_numpy(np.int64),
        df["correct"].to_numpy(np.int64),
        q,
    )


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "auc": roc_auc(y, p),
        "accuracy": float(((p >= 0.5) == (y == 1)).mean()),
        "rmse": float(np.sqrt(((p - y) ** 2).mean())),
    }


def run_pybkt(python: str, data: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "run_pybkt.py"
        script.write_text(PYBKT_SCRIPT)
        out = Path(tmp) / "pred.npy"
        train, test = (data / f"preprocessed_data_{s}.tsv.gz" for s in ("train", "test"))
        proc = subprocess.run(
            [python, str(script), str(train), str(test), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
        pred = np.load(out)
    y = pd.read_csv(test, sep="\t")["correct"].to_numpy(np.float64)
    return {**scores(y, pred), **timing}


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_before": Path("/proc/loadavg").read_text().strip()
        if Path("/proc/loadavg").exists()
        else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="bkt,irt1pl,pfa,best_lr")
    parser.add_argument("--pybkt", help="python of a throwaway venv with pyBKT 1.4.3")
    parser.add_argument("--data")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--seed", type=int, default=20251)
    args = parser.parse_args()
    data = find_data(args.data)
    q = sparse.csr_array(sparse.load_npz(data / "q_mat.npz"), dtype=np.float64)
    t0 = time.perf_counter()
    train = read_log(data / "preprocessed_data_train.tsv.gz", q)
    test = read_log(data / "preprocessed_data_test.tsv.gz", q)
    print(
        f"data: {train.size:,} train / {test.size:,} test interactions, "
        f"{q.shape[0]:,} items × {q.shape[1]} skills, read in {time.perf_counter() - t0:.1f} s"
    )
    factories = {"bkt": BKT, "irt1pl": IRT1PL, "pfa": PFA, "best_lr": BestLR}
    results: dict[str, dict[str, float | str]] = {}
    info = machine()
    y = test.correct.astype(np.float64)
    for name in args.models.split(","):
        model = factories[name]()
        t0 = time.perf_counter()
        model.fit(train, np.random.default_rng(args.seed))
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = model.predict(test)
        predict = time.perf_counter() - t0
        results[name] = {**scores(y, p), "fit_seconds": fit, "predict_seconds": predict}
        if isinstance(model, BKT):
            results[name]["units"] = float(model.unit_keys.size)
            results[name]["em_iterations"] = float(model.iterations)
        label, published = PUBLISHED[name]
        print(
            f"{name:8s} AUC {results[name]['auc']:.4f}  ACC {results[name]['accuracy']:.4f}  "
            f"RMSE {results[name]['rmse']:.4f}  fit {fit:7.1f} s  predict {predict:5.1f} s"
            f"   | published {published} ({label})"
        )
    if args.pybkt:
        r = run_pybkt(args.pybkt, data)
        results["pybkt"] = r
        print(
            f"pyBKT    AUC {r['auc']:.4f}  ACC {r['accuracy']:.4f}  RMSE {r['rmse']:.4f}  "
            f"fit {r['fit_seconds']:7.1f} s  predict {r['predict_seconds']:5.1f} s"
        )
    if "bkt" in results:
        reference = float(results["pybkt"]["fit_seconds"]) if "pybkt" in results else 562.0
        speedup = reference / float(results["bkt"]["fit_seconds"])
        source = "measured in this run" if "pybkt" in results else "published figure"
        print(f"BKT fit speed-up over pyBKT ({reference:.0f} s, {source}): {speedup:.1f}×")
    info["load_after"] = Path("/proc/loadavg").read_text().strip() if info["load_before"] else ""
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": results}, indent=2))
    print(f"machine: {info}")


if __name__ == "__main__":
    main()
