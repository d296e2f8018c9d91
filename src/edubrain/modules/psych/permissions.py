"""Who may see psychological screening (心理筛查).

A pupil's answers and graded results go only to the psychology teacher of the pupil's school
(`PSYCH_READ`; the results' scope rule is the pupil's, and a 心理教师 holds a school scope).
Everyone else who runs or plans schools sees counts (`PSYCH_SUMMARY`), with cells under 5
withheld. The psychology teacher may refer a pupil to the head teacher of the pupil's class
(`PSYCH_REFER`); a head teacher then reads the referred pupils' graded results, not their
scores, while the referral stays open and the pupil is in the class (`PSYCH_REFERRED`).
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
PSYCH_REFER = DomainPermission("psych:refer", frozenset({Role.PSYCH_TEACHER}))
PSYCH_REFERRED = DomainPermission("psych:referred", frozenset({Role.HEAD_TEACHER}))
PERMISSIONS = (PSYCH_READ, PSYCH_SUMMARY, PSYCH_REFER, PSYCH_REFERRED)
