"""The installed domain modules, in order: a new domain is a folder plus one line here.

A module comes after every module it requires; the order is also the order of the data
standard's entities and of the declared references.
"""

from __future__ import annotations

from edubrain.modules import (
    attendance,
    diagnosis,
    exams,
    facilities,
    fitness,
    growth,
    health,
    homework,
    psych,
    roster,
    teachers,
)
from edubrain.modules.spec import Module, check_registry

MODULES: tuple[Module, ...] = (
    roster.MODULE,
    facilities.MODULE,
    exams.MODULE,
    homework.MODULE,
    fitness.MODULE,
    health.MODULE,
    attendance.MODULE,
    diagnosis.MODULE,
    psych.MODULE,
    teachers.MODULE,
    growth.MODULE,
)
check_registry(MODULES)
