"""Who takes part in 写实记录's review: pupils and parents (their own records, and objections to
their class's 公示), teachers (submitting for a pupil of the class) and head teachers
(reviewing, 公示, resolving objections, confirming). The workflow checks each step's role."""

from __future__ import annotations

from edubrain.service.policy import DomainPermission, Role

GROWTH_RECORDS = DomainPermission(
    "growth:records", frozenset({Role.STUDENT, Role.PARENT, Role.TEACHER, Role.HEAD_TEACHER})
)
PERMISSIONS = (GROWTH_RECORDS,)
