"""The indicator catalogue: the families the installed modules declare, in one registry.

A domain module declares the families of its data (`Module.indicators`); the data family
(`data`), which measures every module's records, is governance's. `families()` lists them
by their declared `order`, then in registry order; `indicators()` lists their indicators.
"""

from __future__ import annotations

from edubrain import installed
from edubrain.errors import ConfigError, NotFoundError
from edubrain.indicators.catalogue import data
from edubrain.indicators.definitions import Family, Indicator


class UnknownIndicatorError(NotFoundError):
    """An indicator id that is not in the catalogue."""


@installed.per_installation
def families() -> tuple[Family, ...]:
    """The declared families and the data family: those with an `order` first, by it, then
    the others in registry order."""
    found = (*installed.declared(Family), data.family())
    return tuple(sorted(found, key=lambda f: (f.order is None, f.order or 0)))


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
    "UnknownIndicatorError",
    "families",
    "family",
    "indicator",
    "indicators",
]
