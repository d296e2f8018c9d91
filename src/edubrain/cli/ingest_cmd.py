"""`edubrain ingest PATH... [--source NAME | --standard ENTITY] [--json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import error_message, say
from edubrain.cli.render import RichProgress, entity_label, reason_label
from edubrain.ingest import FileReport
from edubrain.settings import load_settings
from edubrain.usecases.jobs import command_line_user, ingest_here
from edubrain.usecases.mappings import draft_mapping


def _table(reports: list[FileReport]) -> Table:
    table = Table(title=say("edubrain ingest"))
    for name in (
        "file",
        "entity",
        "read",
        "accepted",
        "inserted",
        "updated",
        "unchanged",
        "quarantined",
        "reasons",
    ):
        table.add_column(
            say(name), justify="left" if name in ("file", "entity", "reasons") else "right"
        )
    for r in reports:
        if r.status != "loaded":
            table.add_row(Path(r.file).name, entity_label(r.entity), *[""] * 6, say(r.status))
            continue
        reasons = ", ".join(f"{reason_label(k)} {v}" for k, v in r.reasons.items())
        table.add_row(
            Path(r.file).name,
            entity_label(r.entity),
            *(
                f"{n:,}"
                for n in (
                    r.rows_read,
                    r.rows_accepted,
                    r.rows_inserted,
                    r.rows_updated,
                    r.rows_unchanged,
                    r.rows_quarantined,
                )
            ),
            reasons,
        )
    return table


def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Export files or folders (searched recursively).")
    ],
    source: Annotated[
        str | None,
        typer.Option("--source", help="Read the files with this source mapping (e.g. xueji)."),
    ] = None,
    standard: Annotated[
        str | None,
        typer.Option(
            "--standard",
            metavar="ENTITY",
            help="The files are standard-format (CSV or Parquet) of this entity.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-file reports as JSON.")
    ] = False,
    draft_out: Annotated[
        Path | None,
        typer.Option("--out", help="With draft-mapping: write the draft YAML to this file."),
    ] = None,
) -> None:
    """Validate, normalise and load exports into the warehouse; bad rows go to quarantine.

    `edubrain ingest draft-mapping FILE [--out DRAFT.yaml]` loads nothing: it writes a draft
    mapping for a file no mapping recognises, to review and put in the workspace's mappings/."""
    if len(paths) == 2 and str(paths[0]) == DRAFT_MAPPING and not paths[0].exists():
        _draft(paths[1], draft_out)
        return
    if source and standard:
        raise typer.BadParameter(say("give --source or --standard, not both"))
    settings = load_settings()
    err = Console(stderr=True)
    show_bar = settings.progress and not as_json and sys.stderr.isatty()
    if show_bar:
        with RichProgress(err) as bar:
            result = ingest_here(
                settings,
                paths,
                source=source,
                entity=standard,
                progress=bar,
                by=command_line_user(),
            )
    else:
        result = ingest_here(
            settings, paths, source=source, entity=standard, by=command_line_user()
        )
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in result.reports], ensure_ascii=False, indent=2))
    else:
        out = Console(width=None if sys.stdout.isatty() else 160)
        out.print(_table(result.reports))
        s = result.summary()
        out.print(
            say(
                "{loaded} loaded, {failed} failed, {skipped} skipped; "
                "{rows_read:,} rows read, {rows_quarantined:,} quarantined.",
                **{k: s[k] for k in ("loaded", "failed", "skipped", "rows_read")},
                rows_quarantined=s["rows_quarantined"],
            )
        )
        for r in result.reports:
            notes = r.layout_notes() if r.status != "failed" else []
            if notes:
                out.print(f"{Path(r.file).name}：" + "；".join(notes), markup=False)
    failed = result.failed
    for r in failed:
        # One line per failed file, naming it; no traceback.
        hint = f" — {error_message(r.note)}" if r.note else ""
        problem = error_message(r.error or "")
        line = say("edubrain: error: {file}: {error}{hint}", file=r.file, error=problem, hint=hint)
        typer.echo(line, err=True)
    if failed:
        raise typer.Exit(2)


DRAFT_MAPPING = "draft-mapping"


def _draft(path: Path, out: Path | None) -> None:
    draft = draft_mapping(load_settings(), path)
    text = draft.to_yaml()
    for problem in draft.problems():
        typer.echo(f"待处理：{problem}", err=True)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, "utf-8")
    typer.echo(f"映射草稿已写入 {out}；检查后放入工作区的 mappings/ 文件夹即可导入", err=True)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
