"""Domain modules: one folder per domain, each declaring its facts in a `MODULE` (see `spec`)."""
