"""Registers every command module on the app. One line per module."""

from __future__ import annotations

import typer

from edubrain import installed


def register(app: typer.Typer) -> None:
    from edubrain.cli import (
        demo_cmd,
        diagnose_cmd,
        docs_cmd,
        exams_cmd,
        exams_scale_cmd,
        fitness_cmd,
        generate_cmd,
        govern_cmd,
        growth_cmd,
        health_cmd,
        indicators_cmd,
        ingest_cmd,
        jobs_cmd,
        keys_cmd,
        psych_cmd,
        quality_cmd,
        quarantine_cmd,
        service_cmd,
        standard_cmd,
        warnings_cmd,
    )

    standard_cmd.register(app)
    generate_cmd.register(app)
    ingest_cmd.register(app)
    quarantine_cmd.register(app)
    quality_cmd.register(app)
    demo_cmd.register(app)
    govern_cmd.register(app)
    diagnose_cmd.register(app)
    indicators_cmd.register(app)
    warnings_cmd.register(app)
    jobs_cmd.register(app)
    docs_cmd.register(app)
    service_cmd.register(app)
    keys_cmd.register(app)
    # Each domain module's own commands.
    for domain in installed.modules():
        if domain.commands is not None:
            domain.commands(app)
    if any(d.name == "exams" for d in installed.modules()):
        # Commands of the CLI layer that join the exams module's group (each runs a use case
        # as a job).
        exams_cmd.register(app)
        exams_scale_cmd.register(app)
    if any(d.name == "fitness" for d in installed.modules()):
        fitness_cmd.register(app)
    if any(d.name == "health" for d in installed.modules()):
        health_cmd.register(app)
    if any(d.name == "psych" for d in installed.modules()):
        psych_cmd.register(app)
    if any(d.name == "growth" for d in installed.modules()):
        growth_cmd.register(app)
