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
PERMISSIONS = (EXAMS_READ,)
