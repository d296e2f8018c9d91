"""Who may see psychological screening (心理筛查).

A pupil's answers and graded results go only to the psychology teacher of the pupil's school
(`PSYCH_READ`; the results' scope rule is the pupil's, and a 心理教师 holds a school scope).
Everyone else who runs or plans schools sees counts (`PSYCH_SUMMARY`), with cells under 5
withheld. Not yet: the head teacher's view of a pupil the psychology teacher refers.
"""

from __future__ import annotations

from edubrain.service.policy import DomainPermission, Role

PSYCH_READ = DomainPermission(
    "psych:read", frozenset({Role.PSYCH_TEACHER}), reads=("psych_response",)
)
PSYCH_SUMMARY = DomainPermission(
    "psych:summary",
    frozenset(
        {
            Role.BUREAU_LEADER,
            Role.DATA_ADMIN,
            Role.SCHOOL_ADMIN,
            Role.TEACHING_RESEARCHER,
            Role.PSYCH_TEACHER,
        }
    ),
)
PERMISSIONS = (PSYCH_READ, PSYCH_SUMMARY)
