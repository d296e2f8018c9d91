"""The indicator catalogue: one module per family, assembled into one registry.

The families here are the built-in ones; a domain module adds its own by declaring them
(`Module.indicators`), and `families()` / `indicators()` list both.
"""

from __future__ import annotations

from edubrain import installed
from edubrain.errors import ConfigError, NotFoundError
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


BUILTIN_FAMILIES: tuple[Family, ...] = (
    balance.FAMILY,
    class_size.FAMILY,
    staffing.FAMILY,
    homework.FAMILY,
    informatization.FAMILY,
    data.FAMILY,
)


@installed.per_installation
def families() -> tuple[Family, ...]:
    """The built-in families, then those the installed modules declare."""
    return (*BUILTIN_FAMILIES, *installed.declared(Family))


@installed.per_installation
def indicators() -> tuple[Indicator, ...]:
    return tuple(i for f in families() for i in f.indicators)


@installed.per_installation
def _by_id() -> dict[str, Indicator]:
    by_id = {i.id: i for i in indicators()}
    if len(by_id) != len(indicators()):
        raise ConfigError("two indicators share an id")
    return by_id


def indicator(indicator_id: str) -> Indicator:
    try:
        return _by_id()[indicator_id]
    except KeyError:
        close = [i for i in _by_id() if indicator_id in i][:5]
        hint = f"; did you mean {', '.join(close)}" if close else ""
        raise UnknownIndicatorError(
            f"no indicator {indicator_id!r}{hint} (edubrain indicators show --list)"
        ) from None


def family(family_id: str) -> Family:
    for f in families():
        if f.id == family_id:
            return f
    raise UnknownIndicatorError(
        f"no indicator family {family_id!r}; use one of {', '.join(f.id for f in families())}"
    )


__all__ = [
    "BUILTIN_FAMILIES",
    "UnknownIndicatorError",
    "families",
    "family",
    "indicator",
    "indicators",
]
