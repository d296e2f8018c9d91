"""The roster's generator part: the shared world every other part builds on.

Per county: the schools, classes, pupils, guardians, teachers and teaching assignments
(`sources.generator.region`), left in `CountyDraw.shared["world"]`, and each pupil's body
(height and BMI, which the health checks and fitness tests measure) in `shared["body"]`. Per
region: the region and term tables, which no source system exports.
"""

from __future__ import annotations

from edubrain.sources.generator import measures
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart, RegionDraw
from edubrain.sources.generator.pipeline import write_table
from edubrain.sources.generator.plan import (
    PREFECTURE_CODE,
    PREFECTURE_NAME,
    PROVINCE_CODE,
    PROVINCE_NAME,
    TERMS,
)
from edubrain.sources.generator.region import build_world
from edubrain.standard.entities import entity


def county(draw: CountyDraw) -> None:
    world = build_world(draw.county, [draw.stream(i) for i in range(4)], draw.n_counties)
    draw.shared["world"] = world
    draw.shared["body"] = measures.body(world.students, draw.stream(5))
    draw.tables.update(
        {
            "school": world.schools,
            "class": world.classes,
            "student": world.students,
            "guardian": world.guardians,
            "teacher": world.teachers,
            "teaching_assignment": world.assignments,
        }
    )


def region(draw: RegionDraw) -> None:
    regions = [
        [PROVINCE_CODE, PROVINCE_NAME, "province", ""],
        [PREFECTURE_CODE, PREFECTURE_NAME, "prefecture", PROVINCE_CODE],
    ]
    regions += [[c.code, c.name, "county", PREFECTURE_CODE] for c in draw.counties]
    terms = [list(t) for t in TERMS]
    for name, rows in (("region", regions), ("term", terms)):
        write_table(draw.out / "truth" / f"{name}.csv", entity(name).field_names, rows)
        draw.entities[name] = len(rows)


# Streams 0–3: schools, pupils, guardians, teachers; stream 5 (shared with the health and
# fitness parts, which continue it): the pupils' bodies.
PART = GeneratorPart(
    county,
    region,
    streams=(0, 1, 2, 3, 5),
    standard=("region", "term"),
    own_truth=("region", "term"),
    faults=(
        EntityFaults("school", clean=True),
        EntityFaults("class", clean=True),
        EntityFaults("student", missing_ids=True),
    ),
)
