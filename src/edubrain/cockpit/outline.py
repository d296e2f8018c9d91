"""The region's outline for 教育一张图: a GeoJSON file the bureau drops in (or the demo's).

The file is read as it is, checked just enough that the map can draw it (a FeatureCollection
or a single Feature of Polygon / MultiPolygon geometries in longitude/latitude); a file that is
not usable is refused with one clear message instead of a broken map.
"""

from __future__ import annotations

import json
from typing import Any

from edubrain.errors import ConfigError
from edubrain.settings import Settings

_SHAPES = {"Polygon", "MultiPolygon"}


def parse_outline(raw: Any, origin: str) -> dict[str, Any]:
    """A FeatureCollection of the polygons in `raw`; ConfigError naming the problem."""
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        raw = {"type": "FeatureCollection", "features": [raw]}
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection":
        raise ConfigError(f"{origin}: expected a GeoJSON FeatureCollection or Feature")
    features = []
    for n, feature in enumerate(raw.get("features") or [], 1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") not in _SHAPES:
            raise ConfigError(f"{origin}: feature {n} is not a Polygon or MultiPolygon")
        props = feature.get("properties") or {}
        name = str(props.get("name") or props.get("region_code") or f"区域{n}")
        features.append({**feature, "properties": {**props, "name": name}})
    if not features:
        raise ConfigError(f"{origin}: no polygon in the outline")
    return {"type": "FeatureCollection", "features": features}


def region_outline(settings: Settings) -> dict[str, Any] | None:
    """The outline from `settings.workspace.map_outline`, or None when there is no file."""
    path = settings.workspace.map_outline
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the map outline: {exc}") from None
    return parse_outline(raw, str(path))
