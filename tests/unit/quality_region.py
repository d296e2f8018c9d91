"""A tiny hand-written region in the standard format, clean or with known defects.

The defects, and which rule must list which record, are written next to each other so the
expected numbers in test_quality*.py can be checked by hand.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from edubrain.ingest import ingest_paths
from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.standard.identifiers import id_check_char

AS_OF_INGEST = date(2026, 3, 1)  # birth date vs grade is judged on this day
S1, S2, NO_SCHOOL = "4301020001", "4301020002", "4301020009"
YEAR = "2025-2026"
PRACTISED = "2025-10-10 19:00:00"


def idn(birth: str, seq: int) -> str:
    body = f"430102{birth}{seq:03d}"
    return body + id_check_char(body)


def pupil(n: int) -> str:
    return "G" + idn(f"2018030{n}", n)


A = {n: pupil(n) for n in range(1, 9)}  # A[1]…A[8]: the class S1 / 二年级 / 1
B1 = "G" + idn("20180401", 11)  # in S2
C1 = "G" + idn("20180501", 21)  # registered in a class that does not exist
X = "G" + idn("20180601", 41)  # a well-formed 学籍号 nobody registered
NAMES = {n: "王" + "一二三四五六七八"[n - 1] for n in range(1, 9)}
SEX = {n: "1" if n % 2 else "2" for n in range(1, 9)}  # matches the ID's sex digit


def _student(sn: str, idno: str, name: str, sex: str, birth: str, school: str, cls: str) -> dict:
    return {
        "student_number": sn, "id_number": idno, "name": name, "sex": sex, "birth_date": birth,
        "hukou_region": "430102", "school_code": school, "school_year": YEAR,
        "grade_code": "12", "class_no": cls, "status": "enrolled",
    }  # fmt: skip


def _fitness(n: int) -> dict:
    return {
        "student_number": A[n], "school_year": YEAR, "grade_code": "12", "sex": SEX[n],
        "student_name": NAMES[n], "birth_date": f"2018-03-0{n}", "test_date": "2025-11-20",
        "height_cm": "125", "weight_kg": "25", "vital_capacity": "1200", "run_50m": "11",
        "sit_and_reach": "10", "rope_skip_1min": "80",
    }  # fmt: skip


def clean() -> dict[str, list[dict]]:
    """Every rule passes on this region."""
    students = [_student(A[n], A[n][1:], NAMES[n], SEX[n], f"2018-03-0{n}", S1, "1") for n in A] + [
        _student(B1, B1[1:], "赵一", "1", "2018-04-01", S2, "1")
    ]
    return {
        "region": [{"region_code": "430102", "name": "芙蓉区", "level": "county"}],
        "term": [
            {
                "school_year": YEAR,
                "term": "1",
                "start_date": "2025-09-01",
                "end_date": "2026-01-20",
            },
            {
                "school_year": YEAR,
                "term": "2",
                "start_date": "2026-02-20",
                "end_date": "2026-07-10",
            },
        ],
        "school": [
            {
                "school_code": S1,
                "name": "一小",
                "stages": "primary",
                "urban_rural": "urban",
                "region_code": "430102",
                "enrolment_zone": "Z1",
                "longitude": "112.9",
                "latitude": "28.2",
            },
            {
                "school_code": S2,
                "name": "二小",
                "stages": "primary",
                "urban_rural": "rural",
                "region_code": "430102",
                "enrolment_zone": "Z2",
                "longitude": "113.0",
                "latitude": "28.3",
            },
        ],
        "class": [
            {
                "school_code": S1,
                "school_year": YEAR,
                "grade_code": "12",
                "class_no": "1",
                "stage": "primary",
                "head_teacher_staff_number": "T1",
            },
            {
                "school_code": S2,
                "school_year": YEAR,
                "grade_code": "12",
                "class_no": "1",
                "stage": "primary",
                "head_teacher_staff_number": "T2",
            },
        ],
        "student": students,
        "guardian": [
            {"student_number": A[1], "relation": "father", "name": "王父", "phone": "13800000001"},
            {"student_number": A[2], "relation": "mother", "name": "李母", "phone": "13800000002"},
        ],
        "teacher": [
            {
                "staff_number": f"T{i}",
                "id_number": idn(f"198{i}0612", 30 + i),
                "name": f"师{i}",
                "sex": "2",
                "birth_date": f"198{i}-06-12",
                "education": "bachelor",
                "title": "first",
                "school_code": school,
                "post": "teacher",
            }
            for i, school in ((1, S1), (2, S2), (3, S1))
        ],
        "teaching_assignment": [
            {
                "staff_number": "T1",
                "school_code": S1,
                "school_year": YEAR,
                "grade_code": "12",
                "class_no": "1",
                "subject": "math",
                "weekly_periods": "5",
            },
            {
                "staff_number": "T2",
                "school_code": S2,
                "school_year": YEAR,
                "grade_code": "12",
                "class_no": "1",
                "subject": "chinese",
                "weekly_periods": "6",
            },
        ],
        "facility_survey": [{"school_code": S1, "survey_year": "2025", "computers": "40"}],
        "exam": [
            {
                "exam_id": "E1",
                "name": "期末数学",
                "school_year": YEAR,
                "term": "1",
                "subject": "math",
                "grade_code": "12",
                "exam_date": "2026-01-10",
                "max_score": "10",
            },
            {
                "exam_id": "E2",
                "name": "期末语文",
                "school_year": YEAR,
                "term": "1",
                "subject": "chinese",
                "grade_code": "12",
                "exam_date": "2026-01-11",
                "max_score": "20",
            },
        ],
        "exam_item": [
            {"exam_id": "E1", "item_no": "1", "max_score": "4", "knowledge_points": "K1"},
            {"exam_id": "E1", "item_no": "2", "max_score": "6", "knowledge_points": "K2"},
            {"exam_id": "E2", "item_no": "1", "max_score": "20", "knowledge_points": "K3"},
        ],
        "item_score": [
            {"exam_id": "E1", "student_number": A[1], "item_no": "1", "score": "3"},
            {"exam_id": "E1", "student_number": A[1], "item_no": "2", "score": "5"},
            {"exam_id": "E1", "student_number": A[2], "item_no": "1", "score": "4"},
            {"exam_id": "E2", "student_number": A[2], "item_no": "1", "score": "18"},
        ],
        "homework_assignment": [
            {
                "assignment_id": "H1",
                "school_code": S1,
                "school_year": YEAR,
                "grade_code": "12",
                "class_no": "1",
                "subject": "math",
                "assigned_date": "2025-10-10",
                "due_date": "2025-10-11",
                "is_written": "是",
                "expected_minutes": "30",
            },
            {
                "assignment_id": "H2",
                "school_code": S2,
                "school_year": YEAR,
                "grade_code": "12",
                "class_no": "1",
                "subject": "chinese",
                "assigned_date": "2025-10-10",
                "due_date": "2025-10-12",
                "is_written": "是",
                "expected_minutes": "20",
            },
        ],
        "homework_submission": [
            {
                "assignment_id": "H1",
                "student_number": A[1],
                "submitted_at": "2025-10-10 20:00:00",
                "minutes_spent": "25",
                "score": "0.9",
            },
            {
                "assignment_id": "H1",
                "student_number": A[2],
                "submitted_at": "2025-10-10 20:30:00",
                "minutes_spent": "30",
                "score": "0.8",
            },
            {
                "assignment_id": "H2",
                "student_number": B1,
                "submitted_at": "2025-10-10 21:00:00",
                "minutes_spent": "20",
                "score": "1",
            },
        ],
        "fitness_test": [_fitness(n) for n in A],
        "health_check": [
            {
                "student_number": A[n],
                "student_name": NAMES[n],
                "sex": SEX[n],
                "check_date": "2025-10-15",
                "height_cm": "124",
                "weight_kg": "24",
                "vision_left": "5.0",
                "vision_right": "4.9",
            }
            for n in (1, 2, 3, 4)
        ],
        "attendance": [{"student_number": A[1], "date": "2025-10-20", "status": "sick_leave"}],
        "growth_record": [
            {
                "record_id": "R1",
                "student_number": A[1],
                "school_year": "2025-2026",
                "term": "1",
                "domain": "moral",
                "kind": "志愿服务",
                "value": "2",
                "evidence_date": "2025-10-18",
                "submitted_by": "pupil",
            }
        ],
        "teacher_training": [
            {
                "staff_number": "T1",
                "programme_id": "PX1",
                "programme_kind": "ict2",
                "school_year": "2022-2023",
                "hours": "50",
                "result": "passed",
            }
        ],
        "teacher_literacy": [
            {
                "staff_number": "T1",
                "school_year": "2025-2026",
                "total_score": "81.5",
                "level": "good",
            }
        ],
        "psych_response": [
            {
                "student_number": A[1],
                "student_name": NAMES[1],
                "scale_id": "wellbeing-example",
                "test_date": "2025-11-05",
                "item_no": "1",
                "response": "2",
            }
        ],
        "knowledge_point": [
            {
                "kp_code": f"K{k}",
                "subject": "math",
                "grade_code": "12",
                "chapter_no": "1",
                "point_no": str(k),
                "chapter_name": "数与运算",
                "name": f"知识点{k}",
            }
            for k in (1, 2, 3)
        ],
        "knowledge_prerequisite": [
            {"kp_code": "K2", "prerequisite_code": "K1"},
            {"kp_code": "K3", "prerequisite_code": "K2"},
        ],
        "practice_item": [
            {"item_id": "P1", "subject": "math", "grade_code": "12", "knowledge_points": "K1"},
            {"item_id": "P2", "subject": "math", "grade_code": "12", "knowledge_points": "K2;K1"},
            {"item_id": "P3", "subject": "math", "grade_code": "12", "knowledge_points": "K3"},
        ],
        "practice_response": [
            {"student_number": A[1], "item_id": "P1", "answered_at": PRACTISED, "correct": "1"},
            {"student_number": A[1], "item_id": "P2", "answered_at": PRACTISED, "correct": "0"},
            {"student_number": A[2], "item_id": "P3", "answered_at": PRACTISED, "correct": "1"},
        ],
    }


def _set(rows: list[dict], match: dict, **changes: str) -> None:
    hits = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(hits) == 1, (match, hits)
    hits[0].update(changes)


def defective() -> dict[str, list[dict]]:
    """The clean region with the defects that EXPECTED (in test_quality_rules) lists."""
    d = clean()
    st = d["student"]
    _set(st, {"student_number": A[8]}, id_number="")
    _set(st, {"student_number": A[7]}, hukou_region="")
    _set(st, {"student_number": A[6]}, id_number=A[5][1:])  # A5 and A6 share an ID number
    st.append(_student(C1, C1[1:], "孙一", "1", "2018-05-01", S1, "2"))

    _set(d["school"], {"school_code": S2}, enrolment_zone="", longitude="", region_code="430103")
    _set(d["school"], {"school_code": S1}, latitude="")
    _set(d["class"], {"school_code": S2}, head_teacher_staff_number="T9")
    d["class"] += [
        {"school_code": S1, "school_year": YEAR, "grade_code": "12", "class_no": "3",
         "stage": "primary"},
        {"school_code": NO_SCHOOL, "school_year": YEAR, "grade_code": "12", "class_no": "1",
         "stage": "primary", "head_teacher_staff_number": "T1"},
    ]  # fmt: skip
    _set(d["term"], {"term": "2"}, end_date="2026-02-20")

    te = d["teacher"]
    _set(te, {"staff_number": "T2"}, title="")
    _set(te, {"staff_number": "T3"}, id_number="")
    te += [
        {**te[0], "staff_number": "T4", "name": "师4"},  # T1's ID number again
        {**te[2], "staff_number": "T5", "name": "师5", "id_number": idn("19850101", 35),
         "school_code": NO_SCHOOL},
    ]  # fmt: skip
    ta = d["teaching_assignment"]
    ta += [{**ta[0], "staff_number": "T8", "subject": "english"}, {**ta[0], "class_no": "7"}]
    d["facility_survey"].append({"school_code": NO_SCHOOL, "survey_year": "2025"})

    _set(d["exam"], {"exam_id": "E2"}, max_score="25")
    _set(d["exam_item"], {"exam_id": "E1", "item_no": "2"}, knowledge_points="")
    d["exam_item"].append(
        {"exam_id": "E3", "item_no": "1", "max_score": "5", "knowledge_points": "K9"}
    )
    sc = d["item_score"]
    _set(sc, {"student_number": A[1], "item_no": "2"}, score="7")  # item 2 is worth 6
    sc += [
        {"exam_id": "E1", "student_number": A[2], "item_no": "3", "score": "1"},
        {"exam_id": "E1", "student_number": X, "item_no": "1", "score": "2"},
    ]

    ha = d["homework_assignment"]
    _set(ha, {"assignment_id": "H2"}, due_date="2025-10-09")
    ha.append({**ha[0], "assignment_id": "H3", "class_no": "9"})
    hs = d["homework_submission"]
    _set(hs, {"student_number": A[2]}, submitted_at="")
    hs += [
        {**hs[0], "assignment_id": "H9", "student_number": A[3]},
        {**hs[0], "student_number": X},
    ]

    ft = d["fitness_test"]
    for n in (1, 2, 3):
        _set(ft, {"student_number": A[n]}, sex="2" if SEX[n] == "1" else "1")
    _set(ft, {"student_number": A[1]}, student_name="王壹")
    _set(ft, {"student_number": A[2]}, grade_code="13")
    _set(ft, {"student_number": A[3]}, birth_date="2018-03-13")
    _set(ft, {"student_number": A[5]}, test_date="")
    _set(ft, {"student_number": A[6]}, birth_date="")
    ft += [
        {**_fitness(7), "school_year": "2024-2025", "height_cm": "500"},  # quarantined
        {**_fitness(1), "student_number": X},
    ]

    hc = d["health_check"]
    hc.append({**hc[0], "student_number": X})
    _set(hc, {"student_number": A[1]}, vision_left="", vision_right="")
    _set(hc, {"student_number": A[2]}, student_name="王贰")
    _set(hc, {"student_number": A[3]}, sex="2")
    _set(hc, {"student_number": A[4]}, sex="")

    _set(d["guardian"], {"student_number": A[2]}, phone="")
    d["guardian"].append(
        {"student_number": X, "relation": "father", "name": "某父", "phone": "13800000009"}
    )
    d["attendance"].append({"student_number": X, "date": "2025-10-21", "status": "absent"})
    d["psych_response"].append({**d["psych_response"][0], "student_number": X})
    d["growth_record"].append({**d["growth_record"][0], "record_id": "R2", "student_number": X})
    d["teacher_training"].append({**d["teacher_training"][0], "staff_number": "T9"})
    d["teacher_literacy"].append({**d["teacher_literacy"][0], "staff_number": "T9"})

    kp = d["knowledge_prerequisite"]
    kp += [
        {"kp_code": "K1", "prerequisite_code": "K3"},  # K1 ← K3 ← K2 ← K1: a cycle
        {"kp_code": "K3", "prerequisite_code": "K9"},  # no such point
        {"kp_code": "K8", "prerequisite_code": "K1"},  # no such point
    ]
    d["practice_item"] += [
        {"item_id": "P4", "subject": "math", "grade_code": "12", "knowledge_points": "K1;K7"},
        {"item_id": "P5", "subject": "math", "grade_code": "12", "knowledge_points": " ; "},
    ]
    d["practice_response"] += [
        {"student_number": X, "item_id": "P1", "answered_at": PRACTISED, "correct": "1"},
        {"student_number": A[3], "item_id": "P9", "answered_at": PRACTISED, "correct": "0"},
    ]
    return d


def write_and_ingest(data: dict[str, list[dict]], root: Path) -> Settings:
    """Write one standard CSV per entity and ingest them all; returns the settings."""
    folder = root / "standard"
    folder.mkdir(parents=True)
    paths = []
    for name, rows in data.items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(entity(name).field_names), restval="")
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    settings = Settings(home=root / "home", progress=False)
    reports = ingest_paths(paths, settings, as_of=AS_OF_INGEST)
    failed = [r for r in reports if r.status != "loaded"]
    assert not failed, failed
    return settings
