"""`edubrain diagnose`: 学情诊断 — fit, show a student or class, recommend practice, audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import say
from edubrain.cli.render import audit_tables
from edubrain.errors import ConfigError
from edubrain.settings import load_settings

if TYPE_CHECKING:  # the models (scipy, pandas) load only when a diagnose command runs
    from edubrain.diagnosis.diagnose import PracticePolicy

app = typer.Typer(
    help="学情诊断: mastery per knowledge point, layered groups, next practice, fairness audit.",
    no_args_is_help=True,
)

BandOption = Annotated[
    str, typer.Option("--band", help="Success band of recommended items, LOW,HIGH.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]


def _policy(band: str, count: int = 5) -> PracticePolicy:
    from edubrain.diagnosis.diagnose import PracticePolicy

    try:
        lo, hi = (float(x) for x in band.split(","))
    except ValueError as e:
        raise ConfigError(say("--band {band!r}: give two numbers, e.g. 0.6,0.8", band=band)) from e
    return PracticePolicy(band=(lo, hi), count=count)


def _console() -> Console:
    return Console(width=120)


@app.command("fit")
def fit_cmd(
    knowledge_dir: Annotated[
        Path | None,
        typer.Argument(
            help="A knowledge folder (graph, items, practice responses) to ingest first; "
            "without it, the warehouse's are used."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the EM restarts.")] = 20251,
    as_json: JsonOption = False,
) -> None:
    """Fit BKT per knowledge point on the warehouse's practice responses and save the
    diagnosis (ingesting KNOWLEDGE_DIR first when given)."""
    from edubrain.usecases.diagnose import fit

    summary = fit(load_settings(), knowledge_dir, seed)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    typer.echo(
        say(
            "{students:,} students × {points} knowledge points from {responses:,} responses on "
            "{items:,} items; one-step-ahead AUC {auc:.3f}; {seconds:.1f} s → {file}",
            students=summary["students"],
            points=summary["knowledge_points"],
            responses=summary["responses"],
            items=summary["items"],
            auc=summary["one_step_auc"],
            seconds=summary["seconds"],
            file=summary["file"],
        )
    )


def _student(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    console = _console()
    title = say("{student} ({class_key}): mastery, weakest first",
                student=payload["student_number"], class_key=payload["class"])  # fmt: skip
    table = Table(title=title)
    for c in ("knowledge point", "name", "mastery", "± sd", "attempts"):
        numeric = c in {"mastery", "± sd", "attempts"}
        table.add_column(say(c), justify="right" if numeric else "left")
    for m in payload["mastery"][:12]:
        table.add_row(m["kp_code"], m["name"], f"{m['mastery']:.2f}", f"{m['uncertainty']:.2f}",
                      str(m["attempts"]))  # fmt: skip
    console.print(table)
    rec_table = Table(title=say("Next practice (个性化练习)"))
    for c in ("item", "target point", "success", "target mastery"):
        rec_table.add_column(say(c))
    for r in payload["recommendations"]:
        rec_table.add_row(r["item_id"], r["target"], f"{r['success']:.2f}",
                          f"{r['target_mastery']:.2f}")  # fmt: skip
    console.print(rec_table)
    book = Table(title=say("错题本 (wrong items, similar items to retry)"))
    for c in ("item", "times wrong", "retry"):
        book.add_column(say(c))
    for w in payload["wrong_book"][:10]:
        book.add_row(w["item_id"], str(w["wrong_times"]), ", ".join(w["similar"]))
    console.print(book)


@app.command("show")
def show_cmd(
    student: Annotated[
        str | None, typer.Option("--student", help="A student number: mastery, practice, 错题本.")
    ] = None,
    class_key: Annotated[
        str | None,
        typer.Option("--class", help="SCHOOL_CODE/GRADE/CLASS_NO: heatmap and layered groups."),
    ] = None,
    groups: Annotated[int, typer.Option("--groups", min=1, max=5, help="Layers.")] = 3,
    min_size: Annotated[int, typer.Option("--min-size", min=1, help="Smallest layer.")] = 4,
    band: BandOption = "0.6,0.8",
    as_json: JsonOption = False,
) -> None:
    """A student's mastery (with uncertainty), next practice and 错题本, or a class's heatmap
    and layered groups (分层教学); with neither, the classes in the diagnosis."""
    from edubrain.usecases import diagnose

    settings = load_settings()
    if student:
        _student(diagnose.student(settings, student, _policy(band)), as_json)
        return
    if class_key:
        _class(diagnose.class_groups(settings, class_key, groups, min_size), as_json)
        return
    rows = diagnose.classes(settings)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=say("Classes in the diagnosis (use --class KEY)"))
    table.add_column(say("class"))
    table.add_column(say("students"), justify="right")
    for r in rows:
        table.add_row(r["class"], str(r["students"]))
    _console().print(table)


def _class(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    console = _console()
    heat = Table(
        title=say("{class_key}: class mean mastery per knowledge point (heatmap)",
                  class_key=out["class"])
    )  # fmt: skip
    heat.add_column(say("knowledge point"))
    heat.add_column(say("name"))
    heat.add_column(say("mean mastery"), justify="right")
    heatmap = out["heatmap"]
    for code, name, v in zip(heatmap["kp_codes"], heatmap["names"], heatmap["mean_mastery"],
                             strict=True):  # fmt: skip
        heat.add_row(code, name, f"{v:.2f}")
    console.print(heat)
    table = Table(title=say("Layered groups (分层教学)"))
    for c in ("layer", "size", "mean mastery", "focus points"):
        table.add_column(say(c))
    for g in out["groups"]:
        table.add_row(g["layer"], str(len(g["students"])), f"{g['mean_mastery']:.2f}",
                      ", ".join(g["focus"]))  # fmt: skip
    console.print(table)


@app.command("exams")
def exams_cmd(
    exam: Annotated[
        list[str] | None,
        typer.Option("--exam", help="An exam id (repeatable); without it, every exam."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Cognitive diagnosis of exam papers: DINA and G-DINA on the items' knowledge points,
    the better fit (BIC) per paper; writes each pupil's mastery (exam_mastery), as a job."""
    from edubrain.usecases.jobs import command_line_user, exam_mastery_here

    out = exam_mastery_here(load_settings(), exam or [], by=command_line_user())
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(title=say("Cognitive diagnosis of exam papers"))
    for c in ("exam", "pupils", "attributes", "DINA BIC", "G-DINA BIC", "model", "notices"):
        table.add_column(say(c), overflow="fold")
    for p in out["papers"]:
        bic = {m["model"]: f"{m['bic']:.1f}" for m in p.get("models", [])}
        table.add_row(
            p["exam_id"],
            str(p["pupils"]),
            str(len(p.get("attributes", []))),
            bic.get("DINA", "—"),
            bic.get("G-DINA", "—"),
            p["chosen"] or "—",
            "；".join(p["notices"]),
        )
    _console().print(table)
    typer.echo(
        say(
            "{diagnosed} of {papers} papers diagnosed; {rows:,} mastery rows",
            diagnosed=out["diagnosed"],
            papers=len(out["papers"]),
            rows=out["mastery_rows"],
        )
    )


@app.command("recommend")
def recommend_cmd(
    student: Annotated[str, typer.Argument(help="Student number.")],
    band: BandOption = "0.6,0.8",
    count: Annotated[int, typer.Option("--count", min=1, help="Items to recommend.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Next practice items on the weakest prerequisite-ready points, within the band."""
    from edubrain.usecases import diagnose

    _student(diagnose.student(load_settings(), student, _policy(band, count)), as_json)


@app.command("audit")
def audit_cmd(
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Generator truth folder: compare with true mastery."),
    ] = None,
    band: BandOption = "0.6,0.8",
    as_json: JsonOption = False,
) -> None:
    """Diagnosis accuracy and recommendation quality by 城乡 and sex, with the gaps."""
    from edubrain.usecases import diagnose

    result = diagnose.audit(load_settings(), _policy(band), truth)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    console = _console()
    for table in audit_tables(result):
        console.print(table)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="diagnose")
