"""What the generator's truth says 数据互通率 of the practice responses (练习作答) must be."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from edubrain.govern.quality import UNKNOWN_SCHOOL


def practice_interop_from_truth(truth: Path) -> dict[str, tuple[int, int]]:
    """数据互通率 of 练习作答 per school, (records, resolved), worked out from the truth alone.

    The generator (`sources/generator/knowledge.py`) writes a response with the pupil's own
    current 学籍号 (G, or J/L for a pupil without an ID number) and injects no faults into the
    knowledge folder, so every row of truth/practice_response.csv is loaded as written. A row
    resolves exactly when its number is a registry pupil, i.e. a row of truth/student.csv (the
    学籍 records ingestion accepts); it then counts in that pupil's school (a response has no
    school of its own). The rest belong to pupils whose 学籍 row was rejected at ingest: they
    resolve to nobody and count under UNKNOWN_SCHOOL.
    """
    with (truth / "student.csv").open(encoding="utf-8") as fh:
        school_of = {r["student_number"]: r["school_code"] for r in csv.DictReader(fh)}
    records: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    with (truth / "practice_response.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            school = school_of.get(row["student_number"])
            records[school or UNKNOWN_SCHOOL] += 1
            resolved[school or UNKNOWN_SCHOOL] += school is not None
    return {school: (n, resolved[school]) for school, n in records.items()}
