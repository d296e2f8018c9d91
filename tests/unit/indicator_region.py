"""A tiny county whose indicator values are worked out by hand next to the data.

Six schools in county 330101 (city 330100):

| school | stage | pupils | classes (size)            | notes                                   |
|--------|-------|--------|---------------------------|-----------------------------------------|
| P1     | 小学  | 100    | 13/1 (45), 11/2 (55)      | meets all 7 优质均衡 indicators          |
| P2     | 小学  | 100    | 13/1 (50), 13/2 (50)      | multimedia 2 rooms = 2.0 (86.96% of 2.3) |
| P3     | 小学  | 100    | 13/1 (50), 13/2 (50)      | sports 600 m² = 6.0/pupil (80% of 7.5)   |
| P4     | 小学  | 100    | 13/1 (50), 13/2 (50)      | both of P2's and P3's misses             |
| J1     | 初中  | 242    | 21/1..4 (55, 56, 65, 66)  | class-size boundaries; meets all 7      |
| S1     | 高中  | 250    | 31/1..5 (50 each)         | 15 staff for 250 pupils (standard 12.5) |

So, by hand:
* rule (≥6 of 7 met, the missed one ≥ 85%): P1 yes (7), P2 yes (6, 86.96%), P3 no (6, 80%),
  P4 no (5) → 小学 2/4 = 50%, 初中 1/1 = 100%, county 3/5 = 60%.
* class size, county: 17 classes; ≥56: 56, 65, 66 → 3 (17.647%); ≥66: 1 (5.882%).
  J1: 3/4 = 75% 大班额, 1/4 = 25% 超大班额; over its standard 50: all 4 (100%).
* staffing: P1 100 pupils / 6 staff = 16.667 ≤ 19; S1 250 / 15 = 16.667 > 12.5, short
  250/12.5 − 15 = 5 posts.
* homework: P1 13/1: day 1 written 35 + 25, day 2 written 45 (and a non-written task) →
  105 / 2 days = 52.5 min ≤ 60. P1 11/2: written 15 on day 2 of 2 → 7.5 > 0. J1 21/1: two
  written tasks of 50 on its one day → 100 > 90. Over-limit classes: 2 of 3 (66.667%).
* subjects: P2 teaches music with no music teacher → 1 short subject; 1 of 2 timetabled schools.
* informatization: bandwidth 1000, 500, 1000, 10000, 1000, 100 → ≥1000: 4/6 = 66.667%;
  ≥10000: 1/6. Multimedia rooms covering classes: min(3,2)+min(2,2)+min(3,2)+min(2,2)+
  min(6,4)+min(3,5) = 15 of 17 classes = 88.235%.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.warehouse import LoadRecord, entity_schema, open_warehouse

YEAR = "2025-2026"
COUNTY, CITY = "330101", "330100"
P1, P2, P3, P4, J1, S1 = (f"33010100{n:02d}" for n in range(1, 7))
STAGE = {P1: "primary", P2: "primary", P3: "primary", P4: "primary", J1: "junior", S1: "senior"}
CLASSES = {
    P1: [("13", 1, 45), ("11", 2, 55)],
    P2: [("13", 1, 50), ("13", 2, 50)],
    P3: [("13", 1, 50), ("13", 2, 50)],
    P4: [("13", 1, 50), ("13", 2, 50)],
    J1: [("21", 1, 55), ("21", 2, 56), ("21", 3, 65), ("21", 4, 66)],
    S1: [("31", c, 50) for c in range(1, 6)],
}
# Facilities meeting every 小学 requirement for 100 pupils; P2-P4 and J1 differ below.
FACILITY: dict[str, dict[str, Any]] = {
    P1: {"teaching_aux_area_m2": 500.0, "sports_area_m2": 800.0,
         "equipment_value_yuan": 250000.0, "multimedia_classrooms": 3,
         "outbound_bandwidth_mbps": 1000.0},
    P2: {"teaching_aux_area_m2": 500.0, "sports_area_m2": 800.0,
         "equipment_value_yuan": 250000.0, "multimedia_classrooms": 2,
         "outbound_bandwidth_mbps": 500.0},
    P3: {"teaching_aux_area_m2": 500.0, "sports_area_m2": 600.0,
         "equipment_value_yuan": 250000.0, "multimedia_classrooms": 3,
         "outbound_bandwidth_mbps": 1000.0},
    P4: {"teaching_aux_area_m2": 500.0, "sports_area_m2": 600.0,
         "equipment_value_yuan": 250000.0, "multimedia_classrooms": 2,
         "outbound_bandwidth_mbps": 10000.0},
    # 初中 for 242 pupils: 5.8 × 242 = 1403.6; 10.2 × 242 = 2468.4; 2500 × 242 = 605000 (equal
    # meets); 2.4 × 2.42 = 5.808 rooms.
    J1: {"teaching_aux_area_m2": 1500.0, "sports_area_m2": 2500.0,
         "equipment_value_yuan": 605000.0, "multimedia_classrooms": 6,
         "outbound_bandwidth_mbps": 1000.0},
    S1: {"teaching_aux_area_m2": 3000.0, "sports_area_m2": 3000.0,
         "equipment_value_yuan": 1000000.0, "multimedia_classrooms": 3,
         "outbound_bandwidth_mbps": 100.0},
}  # fmt: skip


def _teachers() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(school: str, n: int, education: str, subjects: str, backbone: str = "none",
            post: str = "teacher") -> None:  # fmt: skip
        for _ in range(n):
            rows.append({
                "staff_number": f"T{len(rows) + 1:04d}", "name": "教师", "sex": "2",
                "birth_date": date(1985, 1, 1), "education": education, "subjects": subjects,
                "backbone_level": backbone if post == "teacher" else None,
                "school_code": school, "post": post,
            })  # fmt: skip

    for school in (P1, P2, P3, P4):
        # 5 teachers per 100 pupils (≥ 4.2 above 中师), 1 county backbone (≥ 1), 1 PE (≥ 0.9)
        add(school, 3, "bachelor", "chinese")
        add(school, 1, "associate", "math", backbone="county")
        add(school, 1, "associate", "pe")
        add(school, 1, "secondary", "", post="admin")
    # J1, 242 pupils: 13 本科 teachers (5.37 ≥ 5.3), 3 backbone (1.24), 3 PE/art (1.24)
    add(J1, 7, "bachelor", "math")
    add(J1, 3, "bachelor", "chinese", backbone="city")
    add(J1, 2, "bachelor", "pe")
    add(J1, 1, "postgraduate", "art;music")
    add(J1, 1, "associate", "english")  # 专科: not above the 初中 requirement
    add(J1, 4, "bachelor", "", post="support")
    # S1, 250 pupils: 15 staff → 16.67 pupils per staff member, 5 short of 1:12.5
    add(S1, 14, "bachelor", "physics")
    add(S1, 1, "bachelor", "", post="admin")
    return rows


def _students() -> list[dict[str, Any]]:
    rows = []
    for school, classes in CLASSES.items():
        for grade, class_no, size in classes:
            for k in range(size):
                rows.append({
                    "student_number": f"S{school[-2:]}{grade}{class_no:02d}{k:03d}",
                    "name": "学生", "sex": "1", "birth_date": date(2015, 1, 1),
                    "school_code": school, "school_year": YEAR, "grade_code": grade,
                    "class_no": class_no, "status": "enrolled",
                })  # fmt: skip
    # A pupil who left does not count anywhere.
    rows.append({**rows[0], "student_number": "SLEFT", "status": "transferred_out"})
    return rows


def _homework() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    plan = [  # (school, grade, class, day, written, [minutes of each submission])
        (P1, "13", 1, 3, True, [30, 40]),
        (P1, "13", 1, 3, True, [20, 30]),
        (P1, "13", 1, 4, True, [40, 50]),
        (P1, "13", 1, 4, False, [30]),
        (P1, "11", 2, 3, False, [10]),
        (P1, "11", 2, 4, True, [15]),
        (J1, "21", 1, 3, True, [50]),
        (J1, "21", 1, 3, True, [50]),
    ]
    assignments, submissions = [], []
    for n, (school, grade, class_no, day, written, minutes) in enumerate(plan, 1):
        aid = f"HW{n:03d}"
        assignments.append({
            "assignment_id": aid, "school_code": school, "school_year": YEAR,
            "grade_code": grade, "class_no": class_no, "subject": "chinese",
            "assigned_date": date(2025, 11, day), "is_written": written,
            "expected_minutes": 99.0,
        })  # fmt: skip
        for k, m in enumerate(minutes):
            submissions.append({"assignment_id": aid, "student_number": f"X{n}{k}",
                                "minutes_spent": float(m)})  # fmt: skip
    return assignments, submissions


def _assignments() -> list[dict[str, Any]]:
    rows = []
    for school, subjects in ((P1, ("chinese", "math", "pe")), (P2, ("chinese", "music"))):
        for subject in subjects:
            rows.append({
                "staff_number": "T0001", "school_code": school, "school_year": YEAR,
                "grade_code": "13", "class_no": 1, "subject": subject, "weekly_periods": 2,
            })  # fmt: skip
    return rows


def tables() -> dict[str, list[dict[str, Any]]]:
    assignments, submissions = _homework()
    return {
        "region": [
            {"region_code": "330000", "name": "浙江省", "level": "province"},
            {"region_code": CITY, "name": "示例市", "level": "prefecture", "parent_code": "330000"},
            {"region_code": COUNTY, "name": "示例县", "level": "county", "parent_code": CITY},
        ],
        "school": [
            {
                "school_code": s,
                "name": f"学校{s[-1]}",
                "stages": STAGE[s],
                "urban_rural": "rural" if s == P4 else "urban",
                "region_code": COUNTY,
            }
            for s in STAGE
        ],
        "student": _students(),
        "teacher": _teachers(),
        "facility_survey": [
            {
                "school_code": s,
                "survey_year": 2025,
                "wireless_coverage": 1.0,
                "ipv6_enabled": True,
                **f,
            }
            for s, f in FACILITY.items()
        ],
        "homework_assignment": assignments,
        "homework_submission": submissions,
        "teaching_assignment": _assignments(),
    }


def load(settings: Settings, data: dict[str, list[dict[str, Any]]], load_id: str = "L1") -> None:
    """Merge rows into the warehouse as a load would (missing fields are null)."""
    when = datetime(2025, 12, 1)
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        for name, rows in data.items():
            ent = entity(name)
            schema = entity_schema(ent)
            full = [{f: row.get(f) for f in schema.names} for row in rows]
            lid = f"{load_id}-{name}"
            table = pa.Table.from_pylist(full, schema=schema)
            n = tx.merge(ent, table, load_id=lid, source="test", valid_from=when)
            tx.record_load(
                LoadRecord(
                    load_id=lid,
                    file=f"{name}.csv",
                    sha256=lid,
                    source="test",
                    export=name,
                    entity=name,
                    started_at=when,
                    finished_at=when,
                    rows_read=len(rows),
                    rows_accepted=len(rows),
                    rows_inserted=n.inserted,
                    rows_updated=n.updated,
                    rows_unchanged=n.unchanged,
                    rows_quarantined=0,
                    status="loaded",
                )
            )


def build(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", progress=False)
    load(settings, tables())
    return settings
