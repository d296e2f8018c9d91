"""`edubrain exams scale`: IRT calibration and scale linking of every exam paper, as a job.

The `exams` group is the exams module's (`modules.exams.commands`); this command joins it from
the CLI layer because it runs a use case through the jobs path (`usecases.jobs.scale_here`:
the 任务 tab shows its stage, progress and outcome), which a module cannot import.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.settings import load_settings

GROUP = "exams"


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def scale_cmd(
    rasch: Annotated[
        bool, typer.Option("--rasch", help="Calibrate 0/full-mark papers by the Rasch model.")
    ] = False,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Linking method: stocking_lord (default), haebara, mean_mean or mean_sigma.",
        ),
    ] = "stocking_lord",
    min_anchors: Annotated[
        int,
        typer.Option("--min-anchors", min=2, help="Fewest anchor items that link two papers."),
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """IRT calibration (2PL, graded response or Rasch), EAP abilities, item fit, and linking
    of each year's paper to the base year of its grade and subject through anchor items."""
    from edubrain.usecases.jobs import scale_here

    params = {"rasch": rasch, "method": method, "min_anchors": min_anchors}
    outcome = scale_here(load_settings(), params, by=_who())
    if as_json:
        typer.echo(json.dumps(outcome, ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(
        say(
            "{papers} papers: {base} base, {linked} linked, {unlinked} not linked, "
            "{failed} not calibrated; {items} items, {pupils} pupils scored",
            papers=outcome["papers"],
            base=outcome.get("papers_base", 0),
            linked=outcome.get("papers_linked", 0),
            unlinked=outcome.get("papers_unlinked", 0),
            failed=outcome.get("papers_not_calibrated", 0),
            items=outcome["items_calibrated"],
            pupils=outcome["pupils_scored"],
        )
    )
    for line in outcome["notices"]:
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add `scale` to the exams module's group (nothing when the module is not installed)."""
    for info in app.registered_groups:
        if info.name == GROUP and info.typer_instance is not None:
            info.typer_instance.command("scale")(scale_cmd)
            return
