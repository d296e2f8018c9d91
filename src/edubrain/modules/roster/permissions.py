"""Who may read the roster's people: pupils' records (学籍) and staff records (人事)."""

from __future__ import annotations

from edubrain.service.policy import DomainPermission, Role

# Everyone who teaches, runs or plans schools, families (their own children, through the
# scope) and the vendors' apps read pupils; the auditor reads the trail, not the records.
STUDENTS_READ = DomainPermission(
    "students:read",
    frozenset(Role) - {Role.AUDITOR},
    reads=("student",),
)
# Staff records: the bureau, the schools and the apps that serve them; not families.
TEACHERS_READ = DomainPermission(
    "teachers:read",
    frozenset(
        {
            Role.BUREAU_LEADER,
            Role.DATA_ADMIN,
            Role.SCHOOL_ADMIN,
            Role.TEACHER,
            Role.HEAD_TEACHER,
            Role.TEACHING_RESEARCHER,
            Role.APP_VENDOR,
        }
    ),
    reads=("teacher",),
)
PERMISSIONS = (STUDENTS_READ, TEACHERS_READ)
