"""学籍与人事: regions, schools, terms, classes, pupils, guardians, staff and who teaches whom.

Every other pupil-bearing module requires it: its `student` table is the person registry
(学籍) that linkage and consistency checks compare against.
"""

from __future__ import annotations

from importlib import resources

from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import DatesInOrder, NeededField, OneIdPerKey
from edubrain.govern.references import Reference
from edubrain.modules.roster import class_size, staffing
from edubrain.modules.roster.demo import DEMO_SCOPES
from edubrain.modules.roster.entities import CLASS_KEY, ENTITIES
from edubrain.modules.roster.generator import PART as GENERATOR
from edubrain.modules.roster.permissions import PERMISSIONS, STUDENTS_READ, TEACHERS_READ
from edubrain.modules.roster.routes import routes
from edubrain.modules.roster.scope import SCOPES
from edubrain.modules.spec import Module
from edubrain.service.units import Tally
from edubrain.standard.entities import PersonRegistry, StaffRegistry, UnitRegistry

# What 学籍 records about who a pupil is, besides the 学籍号 itself: linkage evidence and the
# values of golden records (黄金记录).
PERSON_FIELDS = ("name", "sex", "birth_date", "ethnicity", "id_number", "school_code",
                 "grade_code", "class_no")  # fmt: skip

MODULE = Module(
    name="roster",
    label="学籍与人事",
    description="行政区划、学校、学年学期、班级、学生、监护人、教职工与任课安排。",
    entities=(
        *ENTITIES,
        PersonRegistry("student", "student_number", "学籍"),
        StaffRegistry("teacher", "staff_number", "人事"),
        UnitRegistry("school", "region"),
    ),
    references=(
        Reference("school", ("region_code",), "region"),
        Reference("class", ("school_code",), "school"),
        Reference("class", ("head_teacher_staff_number",), "teacher", ("staff_number",)),
        Reference("student", CLASS_KEY, "class"),
        Reference("guardian", ("student_number",), "student"),
        Reference("teacher", ("school_code",), "school"),
        Reference("teaching_assignment", ("staff_number",), "teacher"),
        Reference("teaching_assignment", CLASS_KEY, "class"),
    ),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        NeededField(
            "student", "id_number", "一人一码比对依赖身份证件号", "one-person-one-ID linkage"
        ),
        NeededField(
            "student", "hukou_region", "招生片区核验依赖户口所在地", "enrolment zone checks"
        ),
        NeededField("guardian", "phone", "家校联系与预警通知", "reaching the family for warnings"),
        NeededField("teacher", "id_number", "教职工身份核验", "staff identity"),
        NeededField("teacher", "title", "职称结构指标", "professional-title indicators"),
        NeededField("school", "longitude", "教育一张图定位", "the education map"),
        NeededField("school", "latitude", "教育一张图定位", "the education map"),
        NeededField("school", "enrolment_zone", "按片区招生", "enrolment by zone"),
        NeededField("class", "head_teacher_staff_number", "班主任视图", "head-teacher views"),
        OneIdPerKey("student", "id_number"),
        OneIdPerKey("teacher", "id_number"),
        DatesInOrder("term", "start_date", "end_date", strict=True),
    ),
    persons=(
        # The registry holds every field under its own name. Its sex is its own (a required
        # field), never read out of the 学籍号.
        PersonSource(
            "student",
            "学籍",
            fields={f: f for f in PERSON_FIELDS},
            from_number=("id_number", "birth_date"),
        ),
        # A guardian's row is about the pupil whose 学籍号 it carries, but names the guardian.
        PersonSource("guardian", "监护人", linked=False),
    ),
    indicators=(class_size.FAMILY, staffing.FAMILY),
    scope=SCOPES,
    tallies=(
        # 在校生 as the indicators count them (`frames.enrolled`): the latest school year's
        # pupils whose 学籍状态 is 在读 — and, apart, every 学籍 row (all years and statuses).
        Tally(
            "enrolled",
            "student",
            in_regions=True,
            where=(("status", "enrolled"),),
            latest="school_year",
            label_zh="在校生（在读）",
            definition_zh="最新学年学籍状态为“在读”的学生，与指标同一口径",
        ),
        Tally(
            "students",
            "student",
            in_regions=True,
            label_zh="学籍记录（在籍）",
            definition_zh="本校的全部学籍记录，含各学年与转出、休学、毕业等状态",
        ),
        Tally("classes", "class", label_zh="班级", definition_zh="本校的全部班级记录"),
        Tally("teachers", "teacher", label_zh="教职工", definition_zh="本校的全部教职工记录"),
    ),
    permissions=PERMISSIONS,
    demo=(DEMO_SCOPES,),
    routes=routes,
    generator=GENERATOR,
)

__all__ = ["MODULE", "STUDENTS_READ", "TEACHERS_READ"]
