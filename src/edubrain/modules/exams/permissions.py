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
PERMISSIONS = (EXAMS_READ, EXAMS_VALUE_ADDED)
