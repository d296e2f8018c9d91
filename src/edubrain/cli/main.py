"""The `edubrain` command. Thin: each command parses options and calls one library function.

Errors are translated here, once: an EdubrainError becomes one line on stderr and the exit code
of its kind (`EXIT_CODES`, the table in `edubrain.errors`); `--debug` (or EDUBRAIN_DEBUG=1)
re-raises for a traceback.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated

import typer

from edubrain import __version__
from edubrain.cli.language import LocalisedGroup, current, error_message, say
from edubrain.errors import (
    ConflictError,
    EdubrainError,
    ForbiddenError,
    GoneError,
    InvalidInputError,
    LockedError,
    NotFoundError,
    TooManyRequestsError,
    UnauthenticatedError,
    UnavailableError,
    kind_of,
)

# Kind → exit code, the one table. 2: the command is wrong (as click's usage errors); 3: try
# again later, or once an operator has fixed the store, warehouse or key; 4: not allowed.
EXIT_CODES: dict[type[EdubrainError], int] = {
    InvalidInputError: 2,
    NotFoundError: 2,
    ConflictError: 2,
    GoneError: 2,
    LockedError: 3,
    TooManyRequestsError: 3,
    UnavailableError: 3,
    UnauthenticatedError: 4,
    ForbiddenError: 4,
}
FAILED = 1  # an error of no kind: a bug or an engine failure
MEANINGS: dict[int, str] = {
    0: "done",
    FAILED: "failed unexpectedly: a bug or an engine failure (`--debug` shows the traceback)",
    2: "the command is wrong: fix what was asked (click's usage errors exit 2 too)",
    3: "try again later, or once an operator has fixed the store, warehouse or key",
    4: "not allowed",
}


# Kind → its name, said before the message in Chinese (the API's problem titles).
KIND_NAMES: dict[type[EdubrainError], str] = {
    InvalidInputError: "invalid input",
    NotFoundError: "not found",
    ConflictError: "conflict",
    GoneError: "gone",
    LockedError: "locked",
    TooManyRequestsError: "too many requests",
    UnavailableError: "unavailable",
    UnauthenticatedError: "not logged in",
    ForbiddenError: "not allowed",
}


def error_line(exc: EdubrainError) -> str:
    """The one line an error becomes, in this invocation's language.

    English: `edubrain: error: MESSAGE`. Chinese: `edubrain：错误（KIND）：MESSAGE`, the message
    translated when the catalogue has it, and a message written `中文 — English` (the empty
    workspace's) cut to its Chinese part.
    """
    message = str(exc)
    if current() == "en":
        return f"edubrain: error: {message}"
    chinese, dash, english = message.partition(" — ")
    if dash and re.search("[\u4e00-\u9fff]", chinese) and re.search("[A-Za-z]{3}", english):
        message = chinese
    kind = kind_of(exc)
    name = say(KIND_NAMES[kind]) if kind is not None else say("internal error")
    return say("edubrain: error ({kind}): {message}", kind=name, message=error_message(message))


def exit_code(exc: EdubrainError) -> int:
    """The exit code of an error's kind."""
    kind = kind_of(exc)
    return FAILED if kind is None else EXIT_CODES[kind]


app = typer.Typer(
    name="edubrain",
    cls=LocalisedGroup,
    help="edubrain — 区域教育数据大脑: regional education data platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"edubrain {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[  # noqa: ARG001 - handled eagerly by its callback
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
    ] = False,
) -> None:
    """edubrain — 区域教育数据大脑."""
    if debug:
        os.environ["EDUBRAIN_DEBUG"] = "1"


_registered = False


def build_app() -> typer.Typer:
    """The `edubrain` app with every command registered (once)."""
    global _registered
    if not _registered:
        # Each command module owns its options; registering here keeps one entry point.
        from edubrain.cli import commands

        commands.register(app)
        _registered = True
    return app


def run() -> None:
    """Console-script entry point."""
    build_app()
    try:
        # Standalone mode handles usage errors and Ctrl-C (click prints "Aborted!", exit 1);
        # our own errors come out of it and are translated here.
        app()
    except EdubrainError as exc:
        if os.environ.get("EDUBRAIN_DEBUG") == "1":
            raise
        typer.echo(error_line(exc), err=True)
        sys.exit(exit_code(exc))
