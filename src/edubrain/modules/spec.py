"""What a domain module declares: one `Module` per domain, listed in `registry.MODULES`.

A module is a folder under `edubrain/modules/` whose `__init__.py` defines `MODULE`. Its facts
are objects of the core frameworks' own types, so each framework collects the ones it
understands (`edubrain.installed.declared`) and none of them needs to know the domain:

- `entities`: the data standard's entities (`standard.entities.Entity`), plus the person,
  staff and unit registries when the module holds them (`PersonRegistry`, `StaffRegistry`,
  `UnitRegistry`);
- `references`: foreign keys from this module's entities (`govern.references.Reference`);
- `mappings`: the folder of source mappings (`*.yaml`) for the source systems it reads;
- `quality`: rules on its entities — declared kinds (`NeededField`, `OneIdPerKey`,
  `Agreement`, `DatesInOrder`) or whole `QualityRule`s; referential integrity and timeliness
  are derived for every entity;
- `persons`: the entities whose rows speak about a pupil (`govern.persons.PersonSource`):
  where record linkage finds mentions, golden records find values, and 数据互通率 counts;
- `indicators`: indicator families (`indicators.definitions.Family`) on the module's data;
  their bases are built from `indicators.inputs.Inputs` (and the roster's `frames` for pupils,
  classes and staff);
- `scope`: how a caller's scope reaches each of its tables (`service.policy.TableScope`);
  a table without one is read by nobody (deny by default);
- `tallies`: what a school's (and a region's) profile counts of its records
  (`service.units.Tally`);
- `portrait`: its section of a pupil's portrait (`service.portrait.PortraitSection`);
- `demo`: how the demo picks its accounts' scopes (`service.demo.DemoScopes`; the roster),
  and the records its class and pupil should have (`service.demo.DemoEvidence`);
- `permissions`: its own permissions, each with the roles that hold it and the entities it
  opens (`service.policy.DomainPermission`); its routes declare them like the core's;
- `generator`: its part of the synthetic-region generator (`sources.generator.parts.
  GeneratorPart`): what it adds to each county (drawn from its own numbered random streams)
  and to the region, so `edubrain generate` writes its entities' source files and truth;
- `routes`, `pages`, `commands`: the API router, cockpit pages and CLI commands, as functions
  the surfaces call when they assemble themselves; `menu`: the cockpit menu entries of its
  pages (`MenuEntry`), shown to the roles holding each entry's permission;
- `requires`: the modules it builds on (usually `roster`); it may import nothing else of
  `edubrain.modules`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

from edubrain.errors import ConfigError
from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import (
    Agreement,
    DatesInOrder,
    NeededField,
    OneIdPerKey,
    QualityRule,
)
from edubrain.govern.references import Reference
from edubrain.indicators.definitions import Family
from edubrain.service.demo import DemoEvidence, DemoScopes
from edubrain.service.policy import DomainPermission, TableScope
from edubrain.service.portrait import PortraitSection
from edubrain.service.units import Tally
from edubrain.sources.generator.parts import GeneratorPart
from edubrain.standard.entities import Entity, PersonRegistry, StaffRegistry, UnitRegistry

QualityFact = NeededField | OneIdPerKey | Agreement | DatesInOrder | QualityRule


@dataclass(frozen=True)
class MenuEntry:
    """A cockpit menu entry of a module's page: its path, its Chinese label (with an English
    entry in `cockpit.i18n.EN`) and the permission that shows it."""

    href: str
    label: str
    permission: DomainPermission


@dataclass(frozen=True)
class Module:
    name: str
    label: str
    description: str
    requires: tuple[str, ...] = ()
    entities: tuple[Entity | PersonRegistry | StaffRegistry | UnitRegistry, ...] = ()
    references: tuple[Reference, ...] = ()
    mappings: Traversable | None = None
    quality: tuple[QualityFact, ...] = ()
    persons: tuple[PersonSource, ...] = ()
    indicators: tuple[Family, ...] = ()
    scope: tuple[TableScope, ...] = ()
    tallies: tuple[Tally, ...] = ()
    portrait: tuple[PortraitSection, ...] = ()
    permissions: tuple[DomainPermission, ...] = ()
    demo: tuple[DemoScopes | DemoEvidence, ...] = ()
    generator: GeneratorPart | None = None
    routes: Callable[[], Any] | None = None
    pages: Callable[[], Any] | None = None
    commands: Callable[[Any], None] | None = None
    menu: tuple[MenuEntry, ...] = ()


def check_registry(modules: tuple[Module, ...]) -> None:
    """Each name once, and every module after the modules it requires."""
    seen: set[str] = set()
    for module in modules:
        if module.name in seen:
            raise ConfigError(f"the module {module.name!r} is registered twice")
        missing = [r for r in module.requires if r not in seen]
        if missing:
            raise ConfigError(
                f"the module {module.name!r} requires {', '.join(missing)}, "
                "which must be registered before it"
            )
        seen.add(module.name)
