"""学情诊断: the knowledge graph, its practice items and the pupils' practice responses.

The four files of a knowledge folder (docs/diagnosis.md) are standard entities: ingested
(`edubrain ingest FOLDER` recognises them by name), quality-checked and linked like any other.
The diagnosis (`edubrain.diagnosis`) reads them from the warehouse and writes each pupil's
fitted mastery back (`MASTERY_TABLE`), which `GET /students/{ref}/mastery` serves in scope,
masked and audited.
"""

from __future__ import annotations

from typing import Any

from edubrain.govern.persons import PersonSource
from edubrain.govern.references import Reference
from edubrain.modules.diagnosis.entities import ENTITIES, MASTERY_TABLE
from edubrain.modules.diagnosis.generator import PART as GENERATOR
from edubrain.modules.diagnosis.rules import ITEM_POINTS_KNOWN, PREREQUISITES_ACYCLIC
from edubrain.modules.spec import Module
from edubrain.service.demo import DemoEvidence
from edubrain.service.policy import of_person


def routes() -> Any:
    """The API router, imported only when the service assembles itself."""
    from edubrain.modules.diagnosis.routes import routes as router

    return router()


MODULE = Module(
    name="diagnosis",
    label="学情诊断",
    description="学科知识图谱、练习题（知识点标注）与学生练习作答。",
    requires=("roster",),
    entities=ENTITIES,
    references=(
        Reference("knowledge_prerequisite", ("kp_code",), "knowledge_point"),
        Reference(
            "knowledge_prerequisite", ("prerequisite_code",), "knowledge_point", ("kp_code",)
        ),
        Reference("practice_response", ("student_number",), "student"),
        Reference("practice_response", ("item_id",), "practice_item"),
    ),
    quality=(ITEM_POINTS_KNOWN, PREREQUISITES_ACYCLIC),
    # A response row says nothing about the pupil but the 学籍号 the practice platform wrote
    # (the generator writes the pupil's current number, `sources/generator/knowledge.py`):
    # one mention per written number, like 阅卷.
    persons=(PersonSource("practice_response", "练习作答", by_number=True),),
    scope=(
        of_person("practice_response", "student_number"),
        of_person(MASTERY_TABLE, "student_number"),
    ),
    # The demo's teacher and parent see a class with practice responses (a diagnosis).
    demo=(DemoEvidence("practice_response"),),
    routes=routes,
    generator=GENERATOR,
)
