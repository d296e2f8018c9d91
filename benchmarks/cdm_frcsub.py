"""DINA and G-DINA on FrcSub: the full-data fit, and prediction of held-out answers.

    python benchmarks/cdm_frcsub.py [--seeds 5] [--data DIR] [--json OUT]

Full data: log-likelihood, parameters, AIC/BIC, EM iterations and CPU seconds of each model,
beside the README's reference DINA fit (logLik −4402.288).

Prediction, the split protocol of the NeuralCD / EduCDM papers (Wang et al. 2020): for every
pupil, 20 % of their answered items (at least one) are held out at random, the model is fitted on
the remaining 80 % (held-out cells are missing, left out of the likelihood), and each held-out
answer is predicted by P(right) under the pupil's posterior from their own training answers.
Reported: accuracy (threshold 0.5), AUC and RMSE pooled over held-out answers, mean ± SD over
seeds, beside the item-mean baseline (each item's training share right).

The data is read from `shared/datasets/frcsub` next to the repository (or `--data`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from edubrain.diagnosis import roc_auc
from edubrain.psychometrics.cdm import DiagnosisFit, fit_dina, fit_gdina

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = (ROOT.parent / "shared" / "datasets" / "frcsub", Path("/work/shared/datasets/frcsub"))


def find_data(given: str | None) -> Path:
    for path in (Path(given),) if given else CANDIDATES:
        if (path / "frcsub_responses.csv").exists():
            return path
    sys.exit("FrcSub not found; pass --data DIR")


def scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float(np.mean((predicted >= 0.5) == (truth == 1))),
        "auc": float(roc_auc(truth.astype(np.int64), predicted)),
        "rmse": float(np.sqrt(np.mean((predicted - truth) ** 2))),
    }


def split(responses: np.ndarray, seed: int) -> np.ndarray:
    """Held-out mask: 20 % of each pupil's items (rounded, at least one)."""
    rng = np.random.default_rng(seed)
    hidden = np.zeros(responses.shape, dtype=bool)
    n_items = responses.shape[1]
    count = max(1, round(0.2 * n_items))
    for pupil in range(responses.shape[0]):
        hidden[pupil, rng.choice(n_items, count, replace=False)] = True
    return hidden


def summary(fit: DiagnosisFit, cpu: float) -> dict[str, Any]:
    return {
        "log_likelihood": round(fit.log_likelihood, 4),
        "parameters": fit.parameters,
        "aic": round(fit.aic, 2),
        "bic": round(fit.bic, 2),
        "iterations": fit.iterations,
        "converged": fit.converged,
        "cpu_seconds": round(cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data")
    parser.add_argument("--json")
    args = parser.parse_args()
    data = find_data(args.data)
    responses = np.loadtxt(data / "frcsub_responses.csv", delimiter=",", skiprows=1)[:, 1:]
    q_raw = np.loadtxt(data / "frcsub_qmatrix.csv", delimiter=",", skiprows=1, dtype=str)
    q_matrix = q_raw[:, 1:].astype(int)
    report: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "load_average_at_start": os.getloadavg(),
        }
    }
    fitters = {"DINA": fit_dina, "G-DINA": fit_gdina}
    for name, fitter in fitters.items():
        cpu0 = time.process_time()
        fit = fitter(responses, q_matrix, max_iterations=5000)
        report[f"full {name}"] = summary(fit, time.process_time() - cpu0)
        print(f"full data {name:6}: {report[f'full {name}']}")

    results: dict[str, list[dict[str, float]]] = {"item mean": [], "DINA": [], "G-DINA": []}
    for seed in range(args.seeds):
        hidden = split(responses, seed)
        training = np.where(hidden, np.nan, responses)
        truth = responses[hidden]
        item_mean = np.broadcast_to(np.nanmean(training, axis=0), responses.shape)
        results["item mean"].append(scores(truth, item_mean[hidden]))
        for name, fitter in fitters.items():
            fit = fitter(training, q_matrix, max_iterations=5000)
            results[name].append(scores(truth, fit.predict(training)[hidden]))
    report["split"] = {}
    for name, runs in results.items():
        line = {
            metric: (
                round(float(np.mean([r[metric] for r in runs])), 4),
                round(float(np.std([r[metric] for r in runs])), 4),
            )
            for metric in ("accuracy", "auc", "rmse")
        }
        report["split"][name] = line
        print(
            f"80/20 {name:9}: " + ", ".join(f"{m} {v[0]:.4f} ± {v[1]:.4f}" for m, v in line.items())
        )
    report["load_average_at_end"] = os.getloadavg()
    print(f"load average {report['machine']['load_average_at_start']} → {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
