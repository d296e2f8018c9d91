"""A synthetic outline for each generated county: OUT/map/outline.geojson.

Real boundaries are the bureau's to supply (setting `map_outline`). For the synthetic region
each county gets an irregular polygon around the rectangle its schools are drawn in: a
32-point ellipse whose radius wobbles between 97% and 115%, with semi-axes 1.6 times the
schools' spread, so every school lies inside (the rectangle's corner is at 1/1.6·√2 ≈ 0.88 of
the radius, below the smallest wobble).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edubrain.sources.generator.plan import County
from edubrain.sources.generator.region import SCHOOL_SPREAD, county_centre

POINTS = 32
AXES = 1.6  # semi-axes as a multiple of SCHOOL_SPREAD
WOBBLE = (0.97, 1.15)


def county_outline(county: County, rng: np.random.Generator) -> dict[str, object]:
    lon0, lat0 = county_centre(county.index)
    a, b = SCHOOL_SPREAD[0] * AXES, SCHOOL_SPREAD[1] * AXES
    # A smooth wobble: random radii at every fourth point, interpolated in between.
    anchors = rng.uniform(*WOBBLE, POINTS // 4 + 1)
    anchors[-1] = anchors[0]
    radii = np.interp(np.arange(POINTS), np.arange(0, POINTS + 1, 4), anchors)
    ring = []
    for k in range(POINTS):
        angle = 2 * math.pi * k / POINTS
        ring.append(
            [
                round(lon0 + a * radii[k] * math.cos(angle), 5),
                round(lat0 + b * radii[k] * math.sin(angle), 5),
            ]
        )
    ring.append(ring[0])
    return {
        "type": "Feature",
        "properties": {"region_code": county.code, "name": county.name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def write_outline(out: Path, counties: Sequence[County], seed: int) -> Path:
    """OUT/map/outline.geojson: one polygon per county (its own random stream: the seed's
    other outputs do not change)."""
    rng = np.random.default_rng([seed, 0x6E0])
    collection = {
        "type": "FeatureCollection",
        "name": "synthetic region outline (edubrain generate)",
        "features": [county_outline(c, rng) for c in counties],
    }
    path = out / "map" / "outline.geojson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
