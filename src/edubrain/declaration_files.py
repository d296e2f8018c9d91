"""A bureau's declaration files — a screening scale, an evaluation scheme — read as YAML so that
every complaint names the file, the line and the reason, in Chinese, before anything is
computed from them.

A module defines its file's shape with `LineReader`'s checks (`mapping`, `sequence`, `only`,
`need`, `text`, `number`, `integer`, `flag`, `levels`) and raises its own subclass of
`DeclarationFileError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edubrain.errors import ConfigError


class DeclarationFileError(ConfigError):
    """A declaration file that cannot be used: the file, the line (1-based, 0 when unknown) and
    why."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file} 第{line}行" if line else file
        super().__init__(f"{where}：{reason}")


@dataclass(frozen=True)
class Level:
    """A named band of scores: everything at or above `at_least` that no higher band takes
    (None: the last band, everything below the others)."""

    name: str
    at_least: float | None
    warning: bool = False


def level_of(levels: tuple[Level, ...], score: float) -> Level | None:
    """The band a score falls in (None for NaN or no bands)."""
    if math.isnan(score):
        return None
    for level in levels:
        if level.at_least is None or score >= level.at_least - 1e-9:
            return level
    return None


class LineReader:
    """Walks the YAML nodes so that every complaint can name its line."""

    def __init__(self, source: str, error: type[DeclarationFileError]) -> None:
        self.source = source
        self.error = error

    def fail(self, node: yaml.Node | None, reason: str) -> DeclarationFileError:
        line = node.start_mark.line + 1 if node is not None else 0
        return self.error(self.source, line, reason)

    def root(self, text: str, max_bytes: int, kind: str) -> yaml.Node:
        """The document's root node, or the error of a file too large, not YAML, or empty."""
        if len(text.encode("utf-8")) > max_bytes:
            raise self.error(self.source, 0, f"文件超过{max_bytes // 1024} KB，不像{kind}")
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            problem = getattr(exc, "problem", exc)
            raise self.error(self.source, line, f"不是有效的 YAML（{problem}）") from None
        if root is None:
            raise self.error(self.source, 0, "文件是空的")
        return root

    def mapping(self, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what}应是「键: 值」的映射")
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if not isinstance(name, str):
                raise self.fail(key, f"{what}的键应是文字")
            if name in out:
                raise self.fail(key, f"{what}中的「{name}」重复")
            out[name] = value
        return out

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what}应是非空列表")
        return list(node.value)

    def only(self, fields: dict[str, yaml.Node], allowed: set[str], what: str) -> None:
        for name, node in fields.items():
            if name not in allowed:
                known = "、".join(sorted(allowed))
                raise self.fail(node, f"{what}没有「{name}」这一项（可用：{known}）")

    def need(self, fields: dict[str, yaml.Node], name: str, parent: yaml.Node, what: str) -> Any:
        if name not in fields:
            raise self.fail(parent, f"{what}缺少「{name}」")
        return fields[name]

    def text(self, node: yaml.Node, what: str, *, max_length: int = 200) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail(node, f"{what}应是非空文字")
        value = str(node.value).strip()
        if len(value) > max_length:
            raise self.fail(node, f"{what}超过{max_length}字")
        return value

    def number(self, node: yaml.Node, what: str) -> float:
        if isinstance(node, yaml.ScalarNode):
            try:
                value = float(node.value)
            except ValueError:
                pass
            else:
                if math.isfinite(value):
                    return value
        raise self.fail(node, f"{what}应是数字")

    def integer(self, node: yaml.Node, what: str, *, minimum: int) -> int:
        value = self.number(node, what)
        if value != int(value) or value < minimum:
            raise self.fail(node, f"{what}应是不小于{minimum}的整数")
        return int(value)

    def flag(self, node: yaml.Node, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.value in ("true", "false"):
            return bool(node.value == "true")
        raise self.fail(node, f"{what}应是 true 或 false")

    def levels(self, node: yaml.Node, what: str, lo: float, hi: float) -> tuple[Level, ...]:
        """Bands from the highest down, each with `at_least` but the last."""
        found: list[Level] = []
        nodes = self.sequence(node, what)
        for i, entry in enumerate(nodes):
            fields = self.mapping(entry, f"{what}第{i + 1}项")
            self.only(fields, {"name", "at_least", "warning"}, f"{what}第{i + 1}项")
            name = self.text(self.need(fields, "name", entry, f"{what}第{i + 1}项"), "等级名称")
            last = i == len(nodes) - 1
            bound: float | None = None
            if "at_least" in fields:
                if last:
                    raise self.fail(
                        fields["at_least"], f"最后一级「{name}」不设下限（其余分数都归它）"
                    )
                bound = self.number(fields["at_least"], f"「{name}」的下限")
                if not lo <= bound <= hi:
                    raise self.fail(
                        fields["at_least"], f"「{name}」的下限{bound:g}不在得分范围{lo:g}–{hi:g}内"
                    )
                if found and found[-1].at_least is not None and bound >= found[-1].at_least:
                    raise self.fail(
                        fields["at_least"], f"等级应从高到低排列：「{name}」的下限不低于上一级"
                    )
            elif not last:
                raise self.fail(entry, f"等级「{name}」缺少下限 at_least（只有最后一级可以不设）")
            warning = self.flag(fields["warning"], "warning") if "warning" in fields else False
            if any(level.name == name for level in found):
                raise self.fail(entry, f"等级「{name}」重复")
            found.append(Level(name, bound, warning))
        return tuple(found)


def read_text(path: Path, max_bytes: int, kind: str, error: type[DeclarationFileError]) -> str:
    """A declaration file's text, or the error of a file unreadable, too large or not UTF-8."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise error(str(path), 0, f"读不到文件（{exc.strerror}）") from None
    if size > max_bytes:
        raise error(str(path), 0, f"文件超过{max_bytes // 1024} KB，不像{kind}")
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise error(str(path), 0, "不是 UTF-8 编码的文本") from None
