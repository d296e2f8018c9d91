"""Who may read exam results: those who teach, run or plan schools, and families (their own
children, through the scope). Reports are aggregates; a pupil's own scores are 敏感 and shown
only to roles cleared for them (the bureau and 教研员 see the aggregates, not a pupil's score)."""

from __future__ import annotations

from edubrain.service.policy import DomainPermission, Role

EXAMS_READ = DomainPermission(
    "exams:read",
    frozenset(
        {
            Role.BUREAU_LEADER,
            Role.DATA_ADMIN,
            Role.SCHOOL_ADMIN,
            Role.TEACHER,
            Role.HEAD_TEACHER,
            Role.TEACHING_RESEARCHER,
            Role.PARENT,
            Role.STUDENT,
        }
    ),
    reads=("item_score",),
)
# The 教研员's county analysis (items, knowledge points, schools side by side): region roles
# that plan teaching and schools. Aggregates only; groups too small are withheld.
RESEARCH_READ = DomainPermission(
    "research:read",
    frozenset({Role.TEACHING_RESEARCHER, Role.BUREAU_LEADER, Role.DATA_ADMIN}),
    reads=("item_score",),
)
# A school's report against the county: its principal (school scope) and the region roles.
SCHOOL_REPORT_READ = DomainPermission(
    "school_reports:read",
    frozenset({Role.SCHOOL_ADMIN, Role.TEACHING_RESEARCHER, Role.BUREAU_LEADER, Role.DATA_ADMIN}),
    reads=("item_score",),
)
# The principal's menu entry to the own school's report (the region roles reach every school's
# from the 教研员 page).
OWN_SCHOOL_REPORT = DomainPermission(
    "own_school_report:read", frozenset({Role.SCHOOL_ADMIN}), reads=("item_score",)
)
# 学情 (`/learning`): a class's mastery, groups, practice and 错题本 — for those who teach it and
# the school's staff; pupils' mastery is 敏感 like their scores, and these roles are cleared.
LEARNING_READ = DomainPermission(
    "learning:read",
    frozenset({Role.TEACHER, Role.HEAD_TEACHER, Role.SCHOOL_ADMIN}),
    reads=("item_score",),
)
# 增值评价 (`exam_value_added`): those who run or plan schools; a principal sees their school
# (the table's scope rule), the bureau and 教研员 their region; not teachers, parents or pupils.
EXAMS_VALUE_ADDED = DomainPermission(
    "exams:value-added",
    frozenset(
        {
            Role.BUREAU_LEADER,
            Role.DATA_ADMIN,
            Role.SCHOOL_ADMIN,
            Role.TEACHING_RESEARCHER,
        }
    ),
)
PERMISSIONS = (
    EXAMS_READ,
    EXAMS_VALUE_ADDED,
    RESEARCH_READ,
    SCHOOL_REPORT_READ,
    OWN_SCHOOL_REPORT,
    LEARNING_READ,
)
