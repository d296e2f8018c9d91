"""A 综合素质评价 scheme as data: the domains (德智体美劳) with their weights, the rules that turn a
pupil's confirmed records into points, the levels and the decline that raises 成长预警.

A bureau writes its own scheme as a YAML file in `home/schemes/` (one file; it replaces the
packaged example, `schemes/example.yaml`, written for the project). The file is checked whole
before anything is scored: every problem is reported with the file, the line and the reason
(`SchemeFileError`).

    id: example
    name: 综合素质评价示例方案
    note: …                            # shown with the scores
    domains:                           # each of 德智体美劳 at most once; weights sum to 1
      - domain: moral                  # moral, intellectual, physical, aesthetic, labour
        name: 品德发展
        weight: 0.2
        base: 70                       # the score of a term with records but no points
        rules:
          - {kind: 志愿服务, per_unit: 1, cap: 20}   # 1 point per hour, at most 20
          - {kind: 荣誉表彰, each: 5, cap: 10}       # 5 points per record, at most 10
          - {kind: 违纪处分, each: -10}              # minus 10 per record
      - domain: intellectual
        name: 学业发展
        weight: 0.3
        base: 0
        rules:
          - {kind: 学业等级, levels: {A: 95, B: 85, C: 70, D: 55}}  # the term's best level
    levels:                            # on a domain's score and on the total, 0–100
      - {name: 优秀, at_least: 85}
      - {name: 良好, at_least: 70}
      - {name: 合格, at_least: 60}
      - {name: 待提高}
    decline: 10                        # 成长预警: a domain 10 or more below the previous term

A domain's score in a term is its base plus its rules' points, held within 0–100; a domain with
no record of any of its kinds that term has no score (无记录), never 0, and the total — the
weighted sum of the domains — is scored only when every domain is.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from edubrain.declaration_files import (
    DeclarationFileError,
    Level,
    LineReader,
    level_of,
    read_text,
)
from edubrain.standard.codes import code_table

MAX_SCHEME_BYTES = 256 * 1024
MAX_RULES = 200


class SchemeFileError(DeclarationFileError):
    """An evaluation scheme that cannot be used: the file, the line and why."""


@dataclass(frozen=True)
class Rule:
    """How records of one kind give points: `each` per record, `per_unit` per unit of their
    values, or `levels` for the term's best level; `cap` bounds the points either way."""

    kind: str
    each: float | None = None
    per_unit: float | None = None
    levels: tuple[tuple[str, float], ...] = ()
    cap: float | None = None

    def points(self, values: list[float | None], levels: list[str | None]) -> float:
        """The points of a term's records of this kind."""
        if self.each is not None:
            found = self.each * len(values)
        elif self.per_unit is not None:
            found = self.per_unit * sum(v for v in values if v is not None)
        else:
            table = dict(self.levels)
            given = [table[lv] for lv in levels if lv is not None and lv in table]
            found = max(given) if given else 0.0
        if self.cap is not None:
            found = max(-self.cap, min(self.cap, found))
        return found


@dataclass(frozen=True)
class Domain:
    domain: str  # a growth_domain code
    name: str
    weight: float
    base: float
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Scheme:
    id: str
    name: str
    note: str
    domains: tuple[Domain, ...]
    levels: tuple[Level, ...]
    decline: float | None
    source: str

    def level_of(self, score: float) -> str | None:
        found = level_of(self.levels, score)
        return found.name if found is not None else None

    def domain_of_kind(self) -> dict[str, str]:
        """Each kind a rule names → its domain."""
        return {rule.kind: d.domain for d in self.domains for rule in d.rules}


def _rule(r: LineReader, node: yaml.Node, what: str) -> Rule:
    fields = r.mapping(node, what)
    r.only(fields, {"kind", "each", "per_unit", "levels", "cap"}, what)
    kind = r.text(r.need(fields, "kind", node, what), f"{what}的记录类别 kind", max_length=40)
    ways = [k for k in ("each", "per_unit", "levels") if k in fields]
    if len(ways) != 1:
        raise r.fail(node, f"{what}（{kind}）应恰好有 each、per_unit、levels 之一")
    cap = r.number(fields["cap"], f"{kind}的上限 cap") if "cap" in fields else None
    if cap is not None and cap <= 0:
        raise r.fail(fields["cap"], f"{kind}的上限 cap 应大于0（扣分也按绝对值封顶）")
    if ways[0] == "levels":
        table = r.mapping(fields["levels"], f"{kind}的 levels")
        if not table:
            raise r.fail(fields["levels"], f"{kind}的 levels 不能为空")
        pairs = tuple(
            (name, r.number(v, f"{kind}的等级「{name}」的分数")) for name, v in table.items()
        )
        return Rule(kind, levels=pairs, cap=cap)
    amount = r.number(fields[ways[0]], f"{kind}的 {ways[0]}")
    if ways[0] == "each":
        return Rule(kind, each=amount, cap=cap)
    return Rule(kind, per_unit=amount, cap=cap)


def parse_scheme(text: str, source: str) -> Scheme:
    """A scheme from its YAML text; `source` names the file in every error."""
    r = LineReader(source, SchemeFileError)
    root = r.root(text, MAX_SCHEME_BYTES, "评价方案文件")
    top = r.mapping(root, "评价方案文件")
    r.only(top, {"id", "name", "note", "domains", "levels", "decline"}, "评价方案文件")
    scheme_id = r.text(r.need(top, "id", root, "评价方案文件"), "方案编号 id", max_length=64)
    name = r.text(r.need(top, "name", root, "评价方案文件"), "方案名称 name")
    note = r.text(top["note"], "说明 note", max_length=500) if "note" in top else ""
    codes = code_table("growth_domain").codes
    domains: list[Domain] = []
    kinds: dict[str, str] = {}
    count = 0
    for i, node in enumerate(r.sequence(r.need(top, "domains", root, "评价方案文件"), "domains")):
        what = f"domains第{i + 1}项"
        fields = r.mapping(node, what)
        r.only(fields, {"domain", "name", "weight", "base", "rules"}, what)
        code = r.text(r.need(fields, "domain", node, what), "维度 domain", max_length=20)
        if code not in codes:
            known = "、".join(f"{k}（{v}）" for k, v in codes.items())
            raise r.fail(fields["domain"], f"没有「{code}」这一维度（可用：{known}）")
        if any(d.domain == code for d in domains):
            raise r.fail(fields["domain"], f"维度「{code}」重复")
        label = r.text(fields["name"], "维度名称 name") if "name" in fields else codes[code]
        weight = r.number(r.need(fields, "weight", node, what), f"「{label}」的权重 weight")
        if not 0 < weight <= 1:
            raise r.fail(fields["weight"], f"「{label}」的权重应在0到1之间")
        base = r.number(fields["base"], f"「{label}」的基础分 base") if "base" in fields else 0.0
        if not 0 <= base <= 100:
            raise r.fail(fields["base"], f"「{label}」的基础分应在0到100之间")
        rules = []
        for j, rule_node in enumerate(r.sequence(r.need(fields, "rules", node, what), "rules")):
            rule = _rule(r, rule_node, f"「{label}」的 rules第{j + 1}项")
            if rule.kind in kinds:
                raise r.fail(rule_node, f"记录类别「{rule.kind}」已在「{kinds[rule.kind]}」中计分")
            kinds[rule.kind] = label
            rules.append(rule)
        count += len(rules)
        if count > MAX_RULES:
            raise r.fail(node, f"规则超过{MAX_RULES}条")
        domains.append(Domain(code, label, weight, base, tuple(rules)))
    total = sum(d.weight for d in domains)
    if abs(total - 1.0) > 1e-6:
        raise r.fail(top["domains"], f"各维度权重之和应为1，现在是{total:g}")
    levels = r.levels(r.need(top, "levels", root, "评价方案文件"), "levels", 0.0, 100.0)
    decline = None
    if "decline" in top:
        decline = r.number(top["decline"], "成长预警降幅 decline")
        if not 0 < decline <= 100:
            raise r.fail(top["decline"], "成长预警降幅 decline 应在0到100之间")
    return Scheme(scheme_id, name, note, tuple(domains), levels, decline, source)


def packaged_scheme() -> Scheme:
    item = resources.files(__package__).joinpath("schemes").joinpath("example.yaml")
    return parse_scheme(item.read_text("utf-8"), "schemes/example.yaml")


def active_scheme(folder: Path) -> Scheme:
    """The bureau's scheme (the one `*.yaml` in `folder`), else the packaged example; more than
    one file, or a broken one, stops everything."""
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if len(files) > 1:
        names = "、".join(p.name for p in files)
        raise SchemeFileError(str(folder), 0, f"只能有一个评价方案文件，现在有：{names}")
    if files:
        path = files[0]
        return parse_scheme(read_text(path, MAX_SCHEME_BYTES, "评价方案文件", SchemeFileError),
                            str(path))  # fmt: skip
    return packaged_scheme()
