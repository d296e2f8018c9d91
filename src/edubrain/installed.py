"""The installed domain modules: the one place where the core frameworks learn what exists.

The frameworks (standard, ingest, warehouse, quality, identity, indicators, access, the
operational store) know no entity name. Each domain is a module (`edubrain.modules.<name>`)
that declares its facts — entities, references, quality rules, scope rules, indicator
families, routes, pages, commands — as plain objects of the frameworks' own types, and the
registry (`edubrain.modules.registry.MODULES`) lists the modules in order.

A framework asks for the facts of its own type: `declared(Entity)` is every entity of every
installed module, in registry order. The registry is found by name, like a plugin (Datasette's
`DEFAULT_PLUGINS`), so the frameworks never import the modules that build on them. Nothing
here may be called while a module is being imported (the registry imports the modules), so
frameworks compute what they derive from the facts lazily, with `per_installation`.

Tests install a module of their own beside the registry's with `installing(...)`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

REGISTRY = "edubrain.modules.registry"

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.RLock()
_extra: tuple[Any, ...] = ()
_generation = 0


def modules() -> tuple[Any, ...]:
    """The installed modules: the registry's, then any a test installed, in order."""
    registry = importlib.import_module(REGISTRY)
    return (*registry.MODULES, *_extra)


def declared(kind: type[T]) -> tuple[T, ...]:
    """Every fact of type `kind` that an installed module declares, in registry order.

    A module is a dataclass; its facts are the items of its tuple-valued fields.
    """
    found: list[T] = []
    for module in modules():
        for spec_field in dataclasses.fields(module):
            value = getattr(module, spec_field.name)
            if isinstance(value, tuple):
                found.extend(item for item in value if isinstance(item, kind))
    return tuple(found)


def per_installation(fn: F) -> F:
    """Cache `fn`'s results (its arguments must be hashable) until the installed modules change."""
    cached = functools.cache(fn)
    seen = -1

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        with _lock:
            if seen != _generation:
                cached.cache_clear()
                seen = _generation
            return cached(*args, **kwargs)

    return cast(F, wrapper)


@contextmanager
def installing(*extra: Any) -> Iterator[None]:
    """Install `extra` modules after the registry's for the duration of the block."""
    global _extra, _generation
    with _lock:
        before = _extra
        _extra = (*before, *extra)
        _generation += 1
    try:
        yield
    finally:
        with _lock:
            _extra = before
            _generation += 1
