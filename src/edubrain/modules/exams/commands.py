"""`edubrain exams list|report|items`: the operator's view of the exams in the warehouse.

Aggregates only (no pupil's score): the operator on the machine reads the whole warehouse, like
`edubrain diagnose`; people read pupils' results through the API and the cockpit, in scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from edubrain.modules.exams import reads
from edubrain.modules.exams.tables import Sheet, item_sheet, report_sheets
from edubrain.service.reads import WarehouseReader
from edubrain.settings import load_settings
from edubrain.warehouse import open_warehouse

JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]
SchoolOption = Annotated[str | None, typer.Option("--school", help="A 学校标识码.")]
ClassOption = Annotated[int | None, typer.Option("--class", help="班号 (with --school).")]


@contextmanager
def _reader() -> Iterator[WarehouseReader]:
    """The warehouse, read-only, closed when the command is done."""
    with open_warehouse(load_settings(), read_only=True) as wh:
        yield WarehouseReader(wh)


def _echo_sheet(sheet: Sheet) -> None:
    title, header, rows = sheet
    typer.echo(f"\n{title}")
    typer.echo("\t".join(header))
    for row in rows:
        typer.echo("\t".join(str(row[h]) for h in header))


def _echo_json(found: Any) -> None:
    typer.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))


def add_commands(app: typer.Typer) -> None:
    group = typer.Typer(
        help="考试分析: exams, score reports and CTT item analysis.", no_args_is_help=True
    )

    @group.command("list")
    def list_cmd(as_json: JsonOption = False) -> None:
        """The exams with item scores, newest first, with how many pupils took each."""
        with _reader() as reader:
            found = reads.exams_in_scope(reader, None)
        if as_json:
            _echo_json(found)
            return
        for e in found:
            typer.echo(f"{e['exam_id']}\t{e['name']}\t满分{e['max_score']:g}\t{e['pupils']}人")

    @group.command("report")
    def report_cmd(
        exam_id: Annotated[str, typer.Argument(help="The 考试编号.")],
        school: SchoolOption = None,
        class_no: Annotated[
            int | None, typer.Option("--class", help="班号 (with --school).")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """The score report of an exam (of a school, of a class)."""
        with _reader() as reader:
            found = reads.exam_report(reader, None, exam_id, school_code=school, class_no=class_no)
        if as_json:
            _echo_json(found)
            return
        typer.echo(found["exam"]["name"])
        for sheet in report_sheets(found["report"]):
            _echo_sheet(sheet)
        for notice in found["report"]["notices"]:
            typer.echo(notice)

    @group.command("items")
    def items_cmd(
        exam_id: Annotated[str, typer.Argument(help="The 考试编号.")],
        school: SchoolOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """CTT item analysis of an exam's paper: 难度, 区分度, point-biserial, Ebel band, α."""
        with _reader() as reader:
            found = reads.exam_items(reader, None, exam_id, school_code=school)
        if as_json:
            _echo_json(found)
            return
        analysis = found["analysis"]
        typer.echo(found["exam"]["name"])
        alpha, sem = analysis["alpha"], analysis["sem"]
        typer.echo(
            f"人数 {analysis['pupils']}  信度α "
            f"{'—' if alpha is None else f'{alpha:.3f}'}  测量标准误 "
            f"{'—' if sem is None else f'{sem:.2f}'}"
        )
        _echo_sheet(item_sheet(analysis))
        for notice in analysis["notices"]:
            typer.echo(notice)

    app.add_typer(group, name="exams")
