"""Indicators and warnings (指标与预警): a declarative catalogue of official indicators computed
as Ibis expressions over the warehouse, stored as a time series with provenance, and graded
warnings with a lifecycle.

Layering: reads the warehouse through its interface (and governance's 数据互通率 and quality
scorecard); never imports a database driver.
"""

from edubrain.indicators.catalogue import families, family, indicator, indicators
from edubrain.indicators.definitions import Direction, Grain, Indicator, Reliability, Threshold
from edubrain.indicators.run import RunSummary, compute_catalogue

__all__ = [
    "Direction",
    "Grain",
    "Indicator",
    "Reliability",
    "RunSummary",
    "Threshold",
    "compute_catalogue",
    "families",
    "family",
    "indicator",
    "indicators",
]
