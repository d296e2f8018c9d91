"""A pupil's portrait (学生画像): the record and what each module holds about the pupil.

Each module that keeps records about pupils contributes a section (`PortraitSection`): exam
totals, fitness tests, health checks. A section reads through the scoped reader
(`ScopedReader.records`/`summed`) — each table's declared scope rule inside the query, masked
for the caller's clearance — and the pupil must be in the scope, like `GET /students/{ref}`;
the whole portrait is audited as one read. The route is the roster module's; the cockpit's
portrait page reads the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, create_model

from edubrain import installed
from edubrain.service.deps import AuditTrail, Services
from edubrain.service.policy import Actor, clearance, scope_predicate
from edubrain.service.records import open_record
from edubrain.service.schemas import record_model
from edubrain.standard.entities import DataClass, person_registry

# The model of the person registry's records: the portrait's record (its field is named by the
# registry's entity), and the roster's list and detail routes.
PERSON_MODEL = "StudentPublic"

SectionReader = Callable[[Services, Actor, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class PortraitSection:
    """One part of the portrait, declared by the module whose records it shows.

    `name`: the portrait's field; `label`: what it is, in the portrait's description;
    `read(services, actor, person_key)`: the rows, read through `services.scoped`; `item()`:
    the model of one row (called when the app is built).
    """

    name: str
    label: str
    read: SectionReader
    item: Callable[[], type[BaseModel]]


def results_of(
    table: str, key: str, columns: tuple[str, ...], *, sensitive: tuple[str, ...], order: str
) -> SectionReader:
    """A section that is every row of a module's derived table (a job's results about pupils,
    not an entity: fitness scores, health screening) whose `key` is the pupil's, inside the
    table's declared scope rule; the `sensitive` columns read None for a caller not cleared for
    敏感 data (as the portrait's `scores_masked` says), the others as stored. None before the
    job has run."""

    def read(services: Services, actor: Actor, person_key: str) -> list[dict[str, Any]]:
        reader = services.reader
        if not reader.has_table(table):
            return []
        with reader.lock:
            t = reader.table(table)
            t = t.filter(scope_predicate(actor.scope, table, t, reader))
            t = t.filter(t[key] == person_key).select(*columns).order_by(order)
        rows = reader.rows(t)
        if DataClass.SENSITIVE not in clearance(actor.role):
            for row in rows:
                row.update(dict.fromkeys(sensitive))
        return rows

    return read


def records_of(entity_name: str, key: str) -> SectionReader:
    """A section that is every record of `entity_name` whose `key` is the pupil's (fitness
    tests, health checks), as the caller may see them; none before the table is loaded."""

    def read(services: Services, actor: Actor, person_key: str) -> list[dict[str, Any]]:
        if not services.reader.has_table(entity_name):
            return []
        return services.scoped.records(actor, entity_name, filters={key: person_key})

    return read


@installed.per_installation
def sections() -> tuple[PortraitSection, ...]:
    return installed.declared(PortraitSection)


@installed.per_installation
def portrait_model() -> type[BaseModel]:
    found = sections()
    labels = [s.label for s in found]
    told = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else "".join(labels)
    parts: dict[str, Any] = {s.name: (list[s.item()], ...) for s in found}  # type: ignore[misc]
    person = person_registry().entity
    record: dict[str, Any] = {person: (record_model(person, PERSON_MODEL), ...)}
    return create_model(
        "Portrait",
        __doc__=f"学生画像: the record, {told}, masked by role." if told else None,
        **record,
        **parts,
        scores_masked=(bool, ...),
    )


def portrait(
    services: Services, trail: AuditTrail, actor: Actor, ref_or_key: str
) -> dict[str, Any]:
    """The pupil's record with every module's section, if in scope (404 otherwise)."""
    person = person_registry().entity
    person_key, record = open_record(
        services, trail, actor, person, ref_or_key, resource=f"{person}_portrait"
    )
    found: dict[str, Any] = {person: record}
    for section in sections():
        found[section.name] = section.read(services, actor, person_key)
    found["scores_masked"] = DataClass.SENSITIVE not in clearance(actor.role)
    return found
