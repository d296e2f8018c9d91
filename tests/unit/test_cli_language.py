"""The command line speaks Chinese when EDUBRAIN_LANG or the locale says so, English otherwise.

The catalogue (`edubrain.cli.catalogue`) must hold every text the CLI shows, with the same
placeholders in both languages; a zh-CN run must show no English word outside a short list of
what a user types or reads as a name (command and option names, option values, codes, paths,
product and unit names).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import indicator_region as region
import pytest
import typer
from typer.testing import CliRunner

from edubrain.cli import language
from edubrain.cli.catalogue import TOOLKIT_ZH, ZH
from edubrain.cli.main import KIND_NAMES, MEANINGS, build_app, error_line
from edubrain.errors import (
    KINDS,
    EdubrainError,
    EmptyWorkspaceError,
    NotFoundError,
    TooManyRequestsError,
)
from edubrain.govern.golden import FIELDS
from edubrain.service.policy import Role
from edubrain.settings import Settings, language_of_locale, load_settings
from edubrain.standard.identifiers import id_check_char

CLI_SOURCES = Path(language.__file__).parent
# Wide enough that rich never breaks a word (it breaks `county` in mixed Chinese text).
ZH_CN = {"EDUBRAIN_LANG": "zh-CN", "COLUMNS": "240"}

# What a zh-CN screen may still show in Latin letters: words a user types (option values, codes
# of the standard and of sources) and names (products, formats, units, models).
ALLOWED = {
    # option values and codes a user types
    "open", "resolved", "all", "acknowledged", "red", "orange", "yellow", "same", "different",
    "school", "county", "city", "province", "class", "self", "source", "load", "entity",
    "xueji", "ingest", "govern", "compute", "scorecard", "fit", "balance", "staffing",
    "homework", "info", "data", "teachers", "cv", "LOW", "HIGH", "ID", "CODE", "true", "false",
    "scale", "haebara",  # `edubrain jobs start scale`, `exams scale --method haebara`: typed
    "draft",  # `edubrain ingest draft-mapping FILE`: the word is typed
    "YAML", "yaml",
    # product, format, protocol and unit names
    "edubrain", "python", "JSON", "CSV", "Parquet", "xlsx", "BKT", "EM", "AUC", "IPv",
    "Mbps", "http", "https", "api", "docs", "OpenAPI",
}  # fmt: skip
_NOT_WORDS = [
    re.compile(p)
    for p in (
        r"https?://\S+",  # addresses
        r"\S*/\S*",  # paths, keys with slashes, `a|b` lists
        r"\S+\.(csv|xlsx|xls|parquet|json|duckdb)\b",  # file names
        r"--?[A-Za-z][\w-]*",  # option names
        r"EDUBRAIN_\w+",  # settings
        r"<[^>]+>",  # typer's type hints: <bool>, <int range>, <list[Path]>
        r"\[[A-Z_ .]+\]",  # usage: [OPTIONS], [ARGS]
        r"\b[A-Z][A-Z_]+\b",  # metavars: COMMAND, KNOWLEDGE_DIR
        r"\b\w*(_|\d)\w*\b",  # identifiers and codes: student_number, W1a2b, 2025-2026
        r"\bx\b",  # ranges: [x>=1]
    )
]


def english_words(text: str, commands: set[str]) -> list[str]:
    """Latin words in `text` outside the allowed ones, command names and code-like tokens."""
    for pattern in _NOT_WORDS:
        text = pattern.sub(" ", text)
    words = re.findall(r"[A-Za-z]{2,}", text)
    return [w for w in words if w not in ALLOWED and w not in commands]


def _tree() -> typer.core.TyperGroup:
    return typer.main.get_command(build_app())  # type: ignore[return-value]


def _paths(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += _paths(sub, (*path, name))
    return found


def _command_names() -> set[str]:
    """Command names, parameter names (typer shows an argument as `{student}`) and string
    defaults (`[默认：steward]`): what a user types."""
    names = set()
    for path in _paths(_tree()):
        names |= set(path)
        command = _tree()
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            names.add(param.name or "")
            if isinstance(param.default, str):
                names |= set(re.findall(r"[A-Za-z]+", param.default))
    return names | set(FIELDS) | {role.value for role in Role}  # role codes: users add --role


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _said_texts() -> list[str]:
    """Every literal text the CLI's code passes to `say`."""
    texts = []
    for source in sorted(CLI_SOURCES.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "say"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                texts.append(language.key(node.args[0].value))
    return texts


def invoke(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(build_app(), list(args), env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


# ---- the setting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "C"}, "zh-CN"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL decides first
        ({"LC_ALL": "", "LANG": "zh_CN.GB18030"}, "zh-CN"),  # an empty one does not count
    ],
)
def test_the_locale_decides_when_edubrain_lang_is_unset(
    environ: dict[str, str], expected: str
) -> None:
    assert language_of_locale(environ) == expected


def test_edubrain_lang_beats_the_locale_and_accepts_common_spellings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    for spelled, expected in [("en", "en"), ("zh", "zh-CN"), ("zh_CN", "zh-CN"),
                              ("zh-cn", "zh-CN"), ("en_US", "en"), ("", "zh-CN")]:  # fmt: skip
        monkeypatch.setenv("EDUBRAIN_LANG", spelled)
        assert load_settings().language == expected, spelled
    assert Settings(lang=None).language == "zh-CN"  # the locale's
    monkeypatch.setenv("EDUBRAIN_LANG", "fr")
    with pytest.raises(EdubrainError, match="EDUBRAIN_LANG"):
        load_settings()


# ---- the catalogue -----------------------------------------------------------------------------


def test_every_help_text_has_chinese() -> None:
    missing = sorted({t for t in map(language.key, language.help_texts(_tree())) if t not in ZH})
    assert missing == []


def test_every_said_text_has_chinese() -> None:
    texts = _said_texts()
    assert len(texts) > 70  # the scan finds the CLI's lines
    assert sorted({t for t in texts if t not in ZH}) == []


def test_both_languages_carry_the_same_placeholders() -> None:
    differ = {k: v for k, v in ZH.items() if _placeholders(k) != _placeholders(v)}
    assert differ == {}
    differ = {k: v for k, v in TOOLKIT_ZH.items() if _placeholders(k) != _placeholders(v)}
    assert differ == {}


def test_chinese_texts_are_chinese() -> None:
    commands = _command_names()
    english = {k: english_words(re.sub(r"\{[^}]*\}", " ", v), commands) for k, v in ZH.items()}
    assert {k: w for k, w in english.items() if w} == {}


def test_exit_code_meanings_and_error_kinds_have_chinese() -> None:
    assert all(language.key(m) in ZH for m in MEANINGS.values())
    assert set(KIND_NAMES) == set(KINDS)
    assert all(name in ZH for name in KIND_NAMES.values())


# ---- errors in both languages ------------------------------------------------------------------


def test_each_error_kind_is_said_in_both_languages() -> None:
    try:
        for kind in KINDS:
            error = (
                kind("boom", retry_after=1)  # type: ignore[call-arg]
                if kind is TooManyRequestsError
                else kind("boom")
            )
            language.use("en")
            assert error_line(error) == "edubrain: error: boom"
            language.use("zh-CN")
            assert error_line(error) == f"edubrain：错误（{ZH[KIND_NAMES[kind]]}）：boom"
        assert error_line(NotFoundError("boom")) == "edubrain：错误（未找到）：boom"
        # A message written 中文 — English is cut to its Chinese part.
        empty = error_line(EmptyWorkspaceError("/srv/edubrain"))
        assert empty == (
            "edubrain：错误（未找到）：工作区还没有数据：请先运行 edubrain ingest 文件夹"
            "（或 edubrain demo 生成示例县）"
        )
    finally:
        language.use("en")


# ---- help and runs, scanned --------------------------------------------------------------------


def test_every_help_page_in_chinese_has_no_english_word() -> None:
    commands = _command_names()
    found = {}
    for path in _paths(_tree()):
        text = invoke(ZH_CN, *path, "--help")
        assert "用法：" in text and "显示此帮助并退出。" in text, path
        if words := english_words(text, commands):
            found[" ".join(path)] = words
    assert found == {}


def test_english_help_is_unchanged() -> None:
    text = invoke({"EDUBRAIN_LANG": "en"}, "quarantine", "--help")
    assert "Usage:" in text and "Show this message and exit." in text
    assert "Counts by file, reason and status" in text
    assert "选项" not in text and "用法" not in text
    # After a Chinese run in the same process, English is back whole.
    invoke(ZH_CN, "jobs", "--help")
    assert "Show this message and exit." in invoke({"EDUBRAIN_LANG": "en"}, "jobs", "--help")


HEADER = (
    "学籍号,身份证件号,姓名,性别,出生日期,民族,户口所在地代码,现住址,学校标识码,学年,年级,班号,"
    "入学年份,学籍状态"
)


def _export(folder: Path) -> Path:
    """A 学籍 export in GBK: one good pupil, one with a wrong check digit, one bad date."""
    body = "43010220180305001"
    good = f"G{body}{id_check_char(body)}"
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    other = "43010220180407002"
    dated = f"G{other}{id_check_char(other)}"
    rows = [
        f"{good},,王小一,男,2018-03-05,汉族,,,4301020001,2025-2026,二年级,1,,在读",
        f"{wrong},,李小二,女,2018-04-05,汉族,,,4301020001,2025-2026,二年级,1,,在读",
        f"{dated},,赵小三,女,2018-04-31,汉族,,,4301020001,2025-2026,二年级,1,,在读",
    ]
    export = folder / "学籍_学生信息_1.csv"
    export.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("gbk"))
    return export


def test_a_run_on_a_small_region_in_chinese_has_no_english_word(tmp_path: Path) -> None:
    commands = _command_names()
    home = region.build(tmp_path / "county").home
    loaded = tmp_path / "loaded"
    env = {**ZH_CN, "EDUBRAIN_HOME": str(home)}
    outputs = {
        "indicators compute": invoke(env, "indicators", "compute"),
        "indicators show": invoke(env, "indicators", "show"),
        "warnings list": invoke(env, "warnings", "list", "--limit", "5"),
        "jobs list": invoke(env, "jobs", "list"),
    }
    env = {**ZH_CN, "EDUBRAIN_HOME": str(loaded)}
    outputs["ingest"] = invoke(env, "ingest", str(_export(tmp_path)))
    outputs["quarantine --summary"] = invoke(env, "quarantine", "--summary")
    outputs["quarantine"] = invoke(env, "quarantine")
    # What was said, by the hand-made data: 3 rows read, 1 accepted, 2 quarantined.
    assert "读取 3 行，隔离 2 行" in outputs["ingest"]
    assert "校验位错误" in outputs["quarantine --summary"]
    assert "日期无效" in outputs["quarantine --summary"]
    # The command-line compute above is recorded as a job, listed in Chinese.
    assert "指标计算与预警" in outputs["jobs list"] and "已完成" in outputs["jobs list"]
    assert "个指标" in outputs["indicators compute"]
    found = {name: english_words(text, commands) for name, text in outputs.items()}
    assert {name: words for name, words in found.items() if words} == {}
    # The same run in English is the English the existing tests read.
    english = invoke({"EDUBRAIN_LANG": "en", "EDUBRAIN_HOME": str(loaded)}, "quarantine",
                     "--summary")  # fmt: skip
    assert "quarantine (隔离区)" in english and "bad_check_digit" in english


def test_errors_are_said_in_chinese_by_the_console_script(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    def run(lang: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "EDUBRAIN_LANG": lang, "EDUBRAIN_HOME": str(tmp_path / "home")}
        env.pop("EDUBRAIN_DEBUG", None)
        return subprocess.run([sys.executable, "-m", "edubrain", *args], capture_output=True,
                              text=True, env=env, check=False)  # fmt: skip

    chinese = run("zh-CN", "standard", "show", "pupil")
    assert chinese.returncode == 2  # a NotFoundError, as in English
    said = "edubrain：错误（未找到）：未知实体 'pupil'；数据标准中有：region"
    assert chinese.stderr.startswith(said)
    english = run("en", "standard", "show", "pupil")
    assert english.returncode == 2
    assert english.stderr.startswith("edubrain: error: unknown entity 'pupil'; the standard has")
    unknown = tmp_path / "名单.csv"
    unknown.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = run("zh-CN", "ingest", str(unknown), str(tmp_path / "无此文件.csv"))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"edubrain：错误：{unknown}：不是可识别的导出文件（文件名不符合任何源系统映射，也不是 "
        "实体名.csv/.parquet）；请用 --source 源系统 或 --standard 实体 指明",
        f"edubrain：错误：{tmp_path / '无此文件.csv'}：没有这个文件或文件夹",
    ]
    empty = run("zh-CN", "warnings", "list")
    assert empty.returncode == 2
    assert empty.stderr.strip() == (
        "edubrain：错误（未找到）：工作区还没有数据：请先运行 edubrain ingest 文件夹"
        "（或 edubrain demo 生成示例县）"
    )


def test_usage_errors_are_said_in_chinese() -> None:
    runner = CliRunner()
    for args, expected in [
        (["jobs", "list", "--bogus"], "没有选项 --bogus"),
        (["jobs", "lst"], "没有命令 'lst'。是不是要用 'list'？"),
        (["jobs", "list", "--limit", "0"], "'--limit' 的值无效：应大于或等于 1"),
        (["diagnose", "recommend"], "缺少参数 'student'。"),
        (["jobs", "list", "extra"], "多余的参数（extra）"),
    ]:
        result = runner.invoke(build_app(), args, env=ZH_CN)
        assert result.exit_code == 2, args
        assert expected in result.output, (args, result.output)
        assert "用法：" in result.output and "错误" in result.output
        # What the user typed comes back as typed.
        assert not english_words(result.output, _command_names() | set(args)), result.output
    english = runner.invoke(build_app(), ["jobs", "list", "--bogus"], env={"EDUBRAIN_LANG": "en"})
    assert "No such option: --bogus" in english.output and "Usage:" in english.output
