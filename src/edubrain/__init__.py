"""edubrain: a regional education data platform (区域教育数据大脑)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
