"""The indicator catalogue: one module per family, assembled into one registry."""

from __future__ import annotations

from edubrain.errors import NotFoundError
from edubrain.indicators.catalogue import (
    balance,
    class_size,
    data,
    homework,
    informatization,
    staffing,
)
from edubrain.indicators.definitions import Family, Indicator


class UnknownIndicatorError(NotFoundError):
    """An indicator id that is not in the catalogue."""


FAMILIES: tuple[Family, ...] = (
    balance.FAMILY,
    class_size.FAMILY,
    staffing.FAMILY,
    homework.FAMILY,
    informatization.FAMILY,
    data.FAMILY,
)
INDICATORS: tuple[Indicator, ...] = tuple(i for f in FAMILIES for i in f.indicators)
_BY_ID = {i.id: i for i in INDICATORS}
if len(_BY_ID) != len(INDICATORS):  # pragma: no cover - a catalogue bug, caught by any import
    raise RuntimeError("two indicators share an id")


def indicator(indicator_id: str) -> Indicator:
    try:
        return _BY_ID[indicator_id]
    except KeyError:
        close = [i for i in _BY_ID if indicator_id in i][:5]
        hint = f"; did you mean {', '.join(close)}" if close else ""
        raise UnknownIndicatorError(
            f"no indicator {indicator_id!r}{hint} (edubrain indicators show --list)"
        ) from None


def family(family_id: str) -> Family:
    for f in FAMILIES:
        if f.id == family_id:
            return f
    raise UnknownIndicatorError(
        f"no indicator family {family_id!r}; use one of {', '.join(f.id for f in FAMILIES)}"
    )


__all__ = ["FAMILIES", "INDICATORS", "UnknownIndicatorError", "family", "indicator"]
