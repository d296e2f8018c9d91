"""Use cases: what edubrain does, as functions of `Settings` and plain arguments.

One module per use case — ingest, govern, quality, compute (indicators), warnings, diagnose,
keys, generate, demo. Each function opens what it needs (the warehouse, the operational store),
reports progress through a callback or a Protocol instead of printing, and returns a result
object. The CLI parses options, calls one of these and renders the result; the API and a
scheduler can call the same functions. Nothing here imports `edubrain.cli`.
"""
