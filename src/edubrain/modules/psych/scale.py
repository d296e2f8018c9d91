"""A psychological screening scale as data: items, subscales, reverse items, scoring, cut-offs.

A bureau supplies its own scales as YAML files in `home/scales/` (the workspace's `scales`
folder); the platform ships one generic example written for the project
(`scales/example.yaml`), not a published instrument. A file is checked whole before anything is
scored: every problem is reported with the file, the line and the reason (`ScaleFileError`).

    id: wellbeing-example            # the 量表编号 the 测评 export carries
    name: 学生心理健康自评示例量表
    note: …                         # shown with every result (what the scale is and is not)
    response: {min: 1, max: 4}      # the answer scale; answers outside it are invalid
    scoring: mean                   # mean or sum of a subscale's (reversed) answers
    max_missing: 1                  # unanswered items a subscale may have and still be scored
    subscales:
      - {id: mood, name: 情绪困扰}
    items:
      - {no: 1, subscale: mood, text: 最近两周我感到心情低落。}
      - {no: 2, subscale: mood, reverse: true, text: 我能从日常小事中感到快乐。}
    levels:                         # on the total (the mean or sum over the subscales' items)
      - {name: 预警, at_least: 3.0, warning: true}
      - {name: 关注, at_least: 2.5}
      - {name: 正常}                # the last level has no bound: everything below
    subscale_levels:                # optional, the same form, on each subscale's score
      - {name: 关注, at_least: 3.0}
      - {name: 正常}

A reverse item's answer x counts as (min + max − x). The total is the mean (or sum) over all
answered items after reversal; it is scored only when every subscale is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edubrain.declaration_files import (
    DeclarationFileError,
    Level,
    LineReader,
    level_of,
    read_text,
)

MAX_SCALE_BYTES = 256 * 1024
"""A scale file is a page of text; anything larger is refused before it is parsed."""
MAX_ITEMS = 500


class ScaleFileError(DeclarationFileError):
    """A scale file that cannot be used: the file, the line (1-based, 0 when unknown) and why."""


@dataclass(frozen=True)
class Subscale:
    id: str
    name: str


@dataclass(frozen=True)
class Item:
    no: int
    subscale: str
    text: str
    reverse: bool = False


@dataclass(frozen=True)
class Scale:
    id: str
    name: str
    note: str
    response_min: float
    response_max: float
    scoring: str  # "mean" or "sum"
    max_missing: int
    subscales: tuple[Subscale, ...]
    items: tuple[Item, ...]
    levels: tuple[Level, ...]
    subscale_levels: tuple[Level, ...]
    source: str

    def level_of(self, score: float, *, subscale: bool = False) -> Level | None:
        """The level a score falls in (None for NaN or a scale without subscale levels)."""
        return level_of(self.subscale_levels if subscale else self.levels, score)

    @property
    def warning_levels(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.levels if level.warning)


def parse_scale(text: str, source: str) -> Scale:
    """A scale from its YAML text; `source` names the file in every error."""
    r = LineReader(source, ScaleFileError)
    root = r.root(text, MAX_SCALE_BYTES, "量表文件")
    top = r.mapping(root, "量表文件")
    r.only(
        top,
        {"id", "name", "note", "response", "scoring", "max_missing", "subscales", "items",
         "levels", "subscale_levels"},
        "量表文件",
    )  # fmt: skip
    scale_id = r.text(r.need(top, "id", root, "量表文件"), "量表编号 id", max_length=64)
    name = r.text(r.need(top, "name", root, "量表文件"), "量表名称 name")
    note = r.text(top["note"], "说明 note", max_length=500) if "note" in top else ""
    response = r.mapping(r.need(top, "response", root, "量表文件"), "response")
    r.only(response, {"min", "max"}, "response")
    lo = r.number(r.need(response, "min", top["response"], "response"), "response.min")
    hi = r.number(r.need(response, "max", top["response"], "response"), "response.max")
    if hi <= lo:
        raise r.fail(response["max"], "response.max 应大于 response.min")
    scoring = r.text(top["scoring"], "scoring") if "scoring" in top else "mean"
    if scoring not in ("mean", "sum"):
        raise r.fail(top["scoring"], f"scoring 应是 mean 或 sum，不是「{scoring}」")
    max_missing = (
        r.integer(top["max_missing"], "max_missing", minimum=0) if "max_missing" in top else 0
    )

    subscales: list[Subscale] = []
    for i, node in enumerate(r.sequence(r.need(top, "subscales", root, "量表文件"), "subscales")):
        fields = r.mapping(node, f"subscales第{i + 1}项")
        r.only(fields, {"id", "name"}, f"subscales第{i + 1}项")
        sub_id = r.text(r.need(fields, "id", node, f"subscales第{i + 1}项"), "分量表 id")
        if any(s.id == sub_id for s in subscales):
            raise r.fail(node, f"分量表「{sub_id}」重复")
        sub_name = r.text(r.need(fields, "name", node, f"subscales第{i + 1}项"), "分量表名称")
        subscales.append(Subscale(sub_id, sub_name))

    items: list[Item] = []
    item_nodes = r.sequence(r.need(top, "items", root, "量表文件"), "items")
    if len(item_nodes) > MAX_ITEMS:
        raise r.fail(top["items"], f"题目超过{MAX_ITEMS}道")
    for i, node in enumerate(item_nodes):
        what = f"items第{i + 1}项"
        fields = r.mapping(node, what)
        r.only(fields, {"no", "subscale", "text", "reverse"}, what)
        no = r.integer(r.need(fields, "no", node, what), "题号 no", minimum=1)
        if any(item.no == no for item in items):
            raise r.fail(fields["no"], f"题号{no}重复")
        sub = r.text(r.need(fields, "subscale", node, what), "subscale")
        if not any(s.id == sub for s in subscales):
            raise r.fail(fields["subscale"], f"第{no}题的分量表「{sub}」没有在 subscales 中声明")
        text = r.text(r.need(fields, "text", node, what), "题目 text", max_length=300)
        reverse = r.flag(fields["reverse"], "reverse") if "reverse" in fields else False
        items.append(Item(no, sub, text, reverse))
    empty = [s.id for s in subscales if not any(item.subscale == s.id for item in items)]
    if empty:
        raise r.fail(top["subscales"], f"分量表「{'、'.join(empty)}」没有题目")

    per_item_hi = hi
    total_lo, total_hi = (lo, per_item_hi) if scoring == "mean" else (lo, hi * len(items))
    levels = r.levels(r.need(top, "levels", root, "量表文件"), "levels", total_lo, total_hi)
    sub_levels: tuple[Level, ...] = ()
    if "subscale_levels" in top:
        most = max(sum(1 for item in items if item.subscale == s.id) for s in subscales)
        sub_hi = hi if scoring == "mean" else hi * most
        sub_levels = r.levels(top["subscale_levels"], "subscale_levels", lo, sub_hi)
    return Scale(
        id=scale_id,
        name=name,
        note=note,
        response_min=lo,
        response_max=hi,
        scoring=scoring,
        max_missing=max_missing,
        subscales=tuple(subscales),
        items=tuple(sorted(items, key=lambda item: item.no)),
        levels=levels,
        subscale_levels=sub_levels,
        source=source,
    )


def read_scale(path: Path) -> Scale:
    return parse_scale(read_text(path, MAX_SCALE_BYTES, "量表文件", ScaleFileError), str(path))


def packaged_scales() -> dict[str, Scale]:
    from importlib import resources

    folder = resources.files(__package__).joinpath("scales")
    found: dict[str, Scale] = {}
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            scale = parse_scale(item.read_text("utf-8"), f"scales/{item.name}")
            found[scale.id] = scale
    return found


def available_scales(folder: Path) -> dict[str, Scale]:
    """The packaged example and the bureau's own scales (`folder/*.yaml`); a bureau's scale
    with the same id replaces the packaged one. Any broken file stops everything."""
    found = packaged_scales()
    if folder.is_dir():
        seen: dict[str, str] = {}
        for path in sorted(folder.glob("*.yaml")):
            scale = read_scale(path)
            if scale.id in seen:
                raise ScaleFileError(
                    str(path), 0, f"量表编号「{scale.id}」与 {seen[scale.id]} 重复"
                )
            seen[scale.id] = str(path)
            found[scale.id] = scale
    return found
