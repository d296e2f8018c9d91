"""A steward decision names mentions of every person source a module declares, not a fixed list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edubrain.govern.persons import linked_sources
from edubrain.service.schemas import StewardDecision
from edubrain.standard.entities import staff_registry

G = "G" + "3399012013072671" + "82"  # shaped like a 学籍号; nothing is looked up here


def _decision(left: str, right: str = "P1") -> StewardDecision:
    return StewardDecision(left=left, right=right, verdict="same")


@pytest.mark.parametrize(
    "entity", sorted({s.entity for s in linked_sources()} | {staff_registry().entity})
)
def test_a_mention_key_of_every_linked_source_is_accepted(entity: str) -> None:
    assert _decision(f"{entity}|{G}").left == f"{entity}|{G}"


def test_practice_responses_are_among_them() -> None:
    # 练习作答 (the diagnosis module) is a by-number source: `practice_response|<number>`.
    assert _decision(f"practice_response|{G}", f"student|{G}").right == f"student|{G}"


@pytest.mark.parametrize(
    "bad",
    [
        f"student|{G}\u0000",  # a NUL
        f"Student|{G}",  # not an entity-shaped name
        f"practice response|{G}",
        f"x|{G}|a|b",  # more parts than a key has
        "student|",
    ],
)
def test_malformed_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        _decision(bad)
