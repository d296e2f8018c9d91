"""Who reads a teacher's archive (一师一档): those who manage and develop teachers — the
bureau, the data office, 教研员 and the school's principal, each in their scope."""

from __future__ import annotations

from edubrain.service.policy import DomainPermission, Role

TEACHER_ARCHIVE = DomainPermission(
    "teachers:archive",
    frozenset({Role.BUREAU_LEADER, Role.DATA_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHING_RESEARCHER}),
    reads=("teacher_training", "teacher_literacy"),
)
PERMISSIONS = (TEACHER_ARCHIVE,)
