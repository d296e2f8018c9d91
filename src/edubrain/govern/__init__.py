"""Governance: data quality, one person one ID (一人一码), golden records, steward review."""
