"""The command line's language: English or 中文, chosen once per invocation.

The language comes from the one settings object (`EDUBRAIN_LANG`, else the locale: see
`edubrain.settings.language_of_locale`). Every user-visible line is written in English in the
code and looked up in one catalogue (`edubrain.cli.catalogue`, English → 中文) when it is shown:

- runtime lines (progress, summaries, table heads, errors) go through `say`;
- help texts (typer's `help=` and docstrings, evaluated at import time) are translated on the
  click command tree when the app is built for a run (`LocalisedGroup.main`), so the code keeps
  plain English strings and `edubrain docs` can render both languages from the same tree;
- typer's own words (it vendors click): `Options`, `[default: …]` go through gettext or are
  module constants, so `use` points them at the catalogue's toolkit section for zh-CN and puts
  the originals back for English; `Usage:` and the `--help` option's text are written by its
  click, so the translated tree carries a formatter and the option's text in Chinese; its usage
  errors (`No such option: --x`) are rewritten by pattern when they are shown. This is the one
  place edubrain reaches into typer; `test_cli_language` fails when an upgrade moves them.

The language is resolved per invocation, not per import: a test's CliRunner may run Chinese
and English in one process, and `edubrain docs` renders the English tree with both languages.

tests/unit/test_cli_language.py holds the catalogue to this: every text shown has a Chinese
entry with the same placeholders, and a zh-CN run shows no English word outside a short list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from typer._click.core import Context
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup

from edubrain.cli.catalogue import ERROR_PATTERNS_ZH, TOOLKIT_PATTERNS_ZH, TOOLKIT_ZH, ZH
from edubrain.errors import ConfigError
from edubrain.settings import Language, language_of_locale, load_settings

_current: list[Language] = ["en"]


def current() -> Language:
    """The language of this invocation."""
    return _current[0]


def chosen_language() -> Language:
    """The language the settings ask for; the locale's when a setting is invalid (the error
    about it is then said in that language by the command that loads the settings)."""
    try:
        return load_settings().language
    except ConfigError:
        return language_of_locale(os.environ)


def key(text: str) -> str:
    """A catalogue key: the English text with its whitespace collapsed (docstrings wrap)."""
    return " ".join(text.split())


def translated(text: str, language: Language | None = None) -> str:
    """The text in the language (default: this invocation's); unknown texts pass unchanged
    (the catalogue test keeps that from happening to any text the CLI owns)."""
    if (language or current()) == "en":
        return text
    found = ZH.get(key(text))
    if found is None:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return lead + found + trail


def say(text: str, /, **values: object) -> str:
    """One user-visible line: translated, then its `{placeholders}` filled."""
    line = translated(text)
    return line.format(**values) if values else line


def by_pattern(message: str, patterns: list[tuple[str, str]]) -> str:
    """A message matched by one of the (pattern, 中文) pairs, rewritten; else as it is."""
    for pattern, chinese in patterns:
        found = re.search(pattern, message)
        if found:
            values = {k: v or "" for k, v in found.groupdict().items()}
            return message[: found.start()] + chinese.format(**values) + message[found.end() :]
    return message


def error_message(message: str) -> str:
    """An error's message in this invocation's language: the catalogue's, or by pattern."""
    if current() == "en":
        return message
    exact = ZH.get(key(message))
    return exact if exact is not None else by_pattern(message, ERROR_PATTERNS_ZH)


def _usage_error_zh(message: str) -> str:
    # Each pattern rewrites its part: the sentence, then a suggestion or a value's problem.
    for pattern in TOOLKIT_PATTERNS_ZH:
        message = by_pattern(message, [pattern])
    return message


# ---- click's and typer's own words ---------------------------------------------------------------

# The modules that bind gettext's `_` at import and call it when they render help or errors.
_TOOLKIT_MODULES = (
    "typer.core",
    "typer.main",
    "typer.rich_utils",
)
# typer.rich_utils evaluates these at import; their English values are kept to switch back.
_RICH_CONSTANTS = (
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)
_originals: dict[tuple[str, str], Any] = {}


def _toolkit_gettext(message: str) -> str:
    return TOOLKIT_ZH.get(message, message)


def _toolkit_ngettext(singular: str, plural: str, n: int) -> str:
    return TOOLKIT_ZH.get(singular if n == 1 else plural, singular if n == 1 else plural)


def _modules() -> list[ModuleType]:
    import importlib

    return [importlib.import_module(name) for name in _TOOLKIT_MODULES]


def _set(module: ModuleType, name: str, value: Any) -> None:
    _originals.setdefault((module.__name__, name), getattr(module, name))
    setattr(module, name, value)


def _toolkit_language(language: Language) -> None:
    replacements: dict[str, Callable[..., str]] = {
        "_": _toolkit_gettext,
        "ngettext": _toolkit_ngettext,
    }
    for module in _modules():
        for name, function in replacements.items():
            if not hasattr(module, name):
                continue
            if language == "en":
                original = _originals.get((module.__name__, name))
                if original is not None:
                    setattr(module, name, original)
            else:
                _set(module, name, function)
    import typer.rich_utils as rich_utils

    original_format_error = _originals.get(
        ("typer.rich_utils", "rich_format_error"), rich_utils.rich_format_error
    )
    if language == "en":
        rich_utils.rich_format_error = original_format_error
    else:

        def chinese_format_error(error: Any) -> None:
            english = error.format_message()
            error.format_message = lambda: _usage_error_zh(english)
            original_format_error(error)

        _set(rich_utils, "rich_format_error", chinese_format_error)
    for name in _RICH_CONSTANTS:
        original = _originals.get(("typer.rich_utils", name), getattr(rich_utils, name))
        if language == "en":
            setattr(rich_utils, name, original)
        else:
            _set(rich_utils, name, TOOLKIT_ZH.get(original, original))


def use(language: Language) -> None:
    """Make the language this invocation's, for our lines and for click's and typer's."""
    _current[0] = language
    _toolkit_language(language)


# ---- help texts on the command tree --------------------------------------------------------------


def help_texts(command: Any) -> list[str]:
    """Every help text of a command tree, as written in the code (the catalogue's keys)."""
    texts = [t for t in (command.help, command.short_help) if t]
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            texts.append(text)
    for sub in getattr(command, "commands", {}).values():
        texts += help_texts(sub)
    return texts


class _ChineseFormatter(HelpFormatter):
    """Click writes `Usage: ` itself, not through gettext."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, TOOLKIT_ZH["Usage:"] if prefix is None else prefix)


class _ChineseContext(Context):
    formatter_class = _ChineseFormatter


def translate_command(command: Any, language: Language) -> None:
    """Put the language's help texts on a command tree built from the code (in place)."""
    if language == "en":
        return
    command.context_class = _ChineseContext
    # The --help option is made on first use, with click's English help text.
    help_option = command.get_help_option(Context(command))
    if help_option is not None:
        help_option.help = TOOLKIT_ZH.get(help_option.help, help_option.help)
    if command.help:
        command.help = translated(command.help, language)
    if command.short_help:
        command.short_help = translated(command.short_help, language)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            param.help = translated(text, language)
    for sub in getattr(command, "commands", {}).values():
        translate_command(sub, language)


class LocalisedGroup(TyperGroup):
    """The root command: each run (the console script or a test's CliRunner) first takes the
    language from the settings, then translates the freshly built command tree."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        language = chosen_language()
        use(language)
        translate_command(self, language)
        return super().main(*args, **kwargs)
