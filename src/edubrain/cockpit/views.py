"""What each page shows, read through the API's own route functions.

Indicator values, warnings, schools, students and the data office's tables come from the
functions behind `/api/v1` (called with the page's caller, its scope and its audit trail), so a
page shows what the API would answer the same person and every read of personal data is audited
the same way. Two school-profile figures without a person in them are read here: the facility
survey (only for a school the policy's `covers` puts inside the caller's scope) and class sizes
(counted over the scoped student query, so only counts leave the warehouse).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edubrain.cockpit import format as fmt
from edubrain.cockpit.render import PUPILS
from edubrain.indicators.catalogue import indicator, indicators
from edubrain.indicators.definitions import Direction, Grain, Indicator
from edubrain.indicators.plans import Plan, load_plans
from edubrain.indicators.warnings import Level
from edubrain.service import units
from edubrain.service.deps import Services
from edubrain.service.policy import (
    REGION_LEVELS,
    Actor,
    Permission,
    Scope,
    ScopeLevel,
    allowed,
    covers,
)
from edubrain.service.routes import indicators as indicator_routes
from edubrain.standard.codes import code_tables

CODES = code_tables()
LEVEL_COLOURS = {"red": "#c62828", "orange": "#e65100", "yellow": "#f9a825"}
MET_COLOUR, MISSED_COLOUR, NONE_COLOUR = "#2e7d32", "#c62828", "#9e9e9e"
QUANTILE_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")
UNRESOLVED = ("open", "acknowledged")


def all_pages(fetch: Callable[[str | None], dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item of a cursor-paged route function."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def values(services: Services, actor: Actor, **filters: str | None) -> list[dict[str, Any]]:
    """Indicator values in the caller's scope (latest computation per school year)."""
    return all_pages(
        lambda cursor: indicator_routes.values_page(
            services, actor, cursor=cursor, limit=500, **filters
        )
    )


def warnings(services: Services, actor: Actor, **filters: str | None) -> list[dict[str, Any]]:
    return all_pages(
        lambda cursor: indicator_routes.list_warnings(
            services,
            actor,
            status_=filters.get("status"),
            level=filters.get("level"),
            indicator_id=filters.get("indicator_id"),
            unit_code=filters.get("unit_code"),
            grain=filters.get("grain"),
            cursor=cursor,
            limit=500,
        )
    )


def schools(services: Services, actor: Actor) -> list[dict[str, Any]]:
    return all_pages(
        lambda cursor: units.schools_page(
            services, actor, region_code=None, cursor=cursor, limit=500
        )
    )


# ---- the region the caller looks at -----------------------------------------------------------


@dataclass(frozen=True)
class RegionView:
    """The unit whose figures a page headlines: the caller's county or city."""

    grain: Grain
    unit_code: str


def region_of(services: Services, actor: Actor) -> RegionView | None:
    scope = actor.scope
    if scope.level is ScopeLevel.COUNTY:
        return RegionView(Grain.COUNTY, scope.key)
    if scope.level in REGION_LEVELS:  # a city or a province: its (first) city
        codes = [
            r["unit_code"]
            for r in values(services, actor, grain=Grain.CITY.value)
            if r["unit_code"].startswith(scope.region_prefix)
        ]
        return RegionView(Grain.CITY, min(codes)) if codes else None
    school = (
        scope.key
        if scope.level is ScopeLevel.SCHOOL
        else scope.class_key[0]
        if scope.level is ScopeLevel.CLASS
        else None
    )
    if school is None:
        return None
    found = units.school_profile(services, actor, school)
    return RegionView(Grain.COUNTY, found["school"]["region_code"])


def region_rows(
    services: Services, actor: Actor, region: RegionView
) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """(indicator, year, grain, stage) → value row, for the region and its 学段×county rows."""
    # County and 学段×county rows share the county's code; school codes are 10 digits.
    return {
        (r["indicator_id"], r["school_year"], r["grain"], r["stage"]): r
        for r in values(services, actor, unit_code=region.unit_code)
        if r["grain"] != Grain.SCHOOL.value
    }


# ---- overview ------------------------------------------------------------------------------


@dataclass
class Headline:
    ind: Indicator
    row: dict[str, Any]
    target: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        stage = fmt.stage(self.row["stage"])
        return f"{self.ind.name_zh}（{stage}）" if stage else self.ind.name_zh

    @property
    def short_label(self) -> str:
        """The chart's axis label: the 学段 first (so rows of one indicator differ where the
        axis cuts a long label), then the name without its parenthesis, at most
        `SHORT_LABEL` characters; the full label is in the tooltip and the table."""
        name = self.ind.name_zh.split("（")[0].split("(")[0].strip() or self.ind.name_zh
        if len(name) > SHORT_LABEL:
            cut = SHORT_LABEL - 1
            # Never through a number or a unit (1000Mbps): cut before it.
            while cut > 1 and _word_char(name[cut - 1]) and _word_char(name[cut]):
                cut -= 1
            name = name[:cut] + "…"
        stage = fmt.stage(self.row["stage"]) or "全区"
        return f"{stage}·{name}"

    @property
    def attainment(self) -> float | None:
        """Value as a share of the requirement, oriented so that ≥ 100 meets it."""
        value: float | None = self.row["value"]
        limit: float | None = self.row["threshold"]
        if value is None or limit is None or limit == 0 or value == 0:
            return None
        ratio = value / limit if self.ind.direction != Direction.LOWER else limit / value
        return round(min(ratio, 2.0) * 100, 1)


SHORT_LABEL = 12


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def chart_labels(headlines: Sequence[Headline]) -> list[str]:
    """Unique axis labels: the short one, or the full label where two short ones are alike."""
    short = [h.short_label for h in headlines]
    return [s if short.count(s) == 1 else h.label for s, h in zip(short, headlines, strict=True)]


@dataclass
class Overview:
    region: RegionView | None
    year: str | None
    years: list[str]
    headlines: list[Headline]
    chart: dict[str, Any]
    trend_choices: list[Indicator]
    trend: Indicator | None
    trend_chart: dict[str, Any] | None
    warning_levels: dict[str, int]
    warning_total: int
    week: list[dict[str, Any]]
    balance: list[dict[str, Any]]
    checklists: list[dict[str, Any]]
    region_name: str = ""


def _plan_targets(plans: Sequence[Plan]) -> dict[tuple[str, str], dict[str, Any]]:
    """(indicator, grain) → what the plans ask of it: a plan's target (baseline → target in a
    year) or, where no plan sets one, a checklist's requirement (≥ 95 …). Built-in plans and
    the bureau's own (`EDUBRAIN_HOME/plans`, which replace them by id) alike."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for plan in plans:
        for item in plan.checklist:
            if item.indicator_id is None or item.value is None:
                continue
            out.setdefault(
                (item.indicator_id, Grain.COUNTY.value),
                {
                    "target": item.value,
                    "op": item.op,
                    "year": None,
                    "title": plan.title,
                    "document": plan.document,
                    "item": item.item,
                },
            )
    for plan in plans:  # a target, with its year, wins over a checklist's requirement
        for t in plan.targets:
            out[(t.indicator_id, t.grain.value)] = {
                "target": t.target,
                "op": None,
                "year": t.target_year,
                "title": plan.title,
                "document": t.document,
                "item": t.item,
            }
    return out


def overview(services: Services, actor: Actor, trend_id: str | None) -> Overview:
    region = region_of(services, actor)
    rows = region_rows(services, actor, region) if region else {}
    years = sorted({key[1] for key in rows})
    year = years[-1] if years else None
    plans = load_plans(services.settings.workspace.plans)
    targets = _plan_targets(plans)
    known = {i.id for i in indicators()}
    headlines = [
        Headline(indicator(r["indicator_id"]), r, targets.get((r["indicator_id"], r["grain"])))
        for key, r in sorted(rows.items())
        if key[1] == year and key[0] in known and indicator(key[0]).headline
    ]
    headlines.sort(key=lambda h: ([i.id for i in indicators()].index(h.ind.id), h.row["stage"]))
    charted = [h for h in headlines if h.attainment is not None]
    chart = {
        "aria": {"enabled": True},
        "grid": {"left": 8, "right": 48, "top": 8, "bottom": 24, "containLabel": True},
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}%"},
        "xAxis": {"type": "value", "max": 200, "axisLabel": {"formatter": "{value}%"}},
        "yAxis": {
            "type": "category",
            "inverse": True,
            "data": chart_labels(charted),
            "axisLabel": {"width": 240, "overflow": "truncate"},
        },
        "series": [
            {
                "type": "bar",
                "name": "达成度",
                "data": [
                    {
                        "value": h.attainment,
                        "full": h.label,  # cockpit.js: the tooltip names the full label
                        "itemStyle": {"color": MET_COLOUR if h.row["meets"] else MISSED_COLOUR},
                    }
                    for h in charted
                ],
                "label": {"show": True, "position": "right", "formatter": "{c}%"},
                "markLine": {
                    "symbol": "none",
                    "silent": True,
                    "data": [{"xAxis": 100}],
                    "label": {"formatter": "要求"},
                    "lineStyle": {"color": "#333", "type": "dashed"},
                },
            }
        ],
    }
    # Trends: indicators with values in two or more school years.
    by_indicator: dict[str, set[str]] = defaultdict(set)
    for ind_id, yr, _grain, _stage in rows:
        by_indicator[ind_id].add(yr)
    trend_choices = [i for i in indicators() if len(by_indicator.get(i.id, ())) >= 2]
    trend = next((i for i in trend_choices if i.id == trend_id), None) or next(
        (i for i in trend_choices if i.headline), trend_choices[0] if trend_choices else None
    )
    trend_chart = _trend_chart(trend, rows, years) if trend else None
    levels: Counter[str] = Counter()
    total = 0
    if allowed(actor, Permission.WARNINGS_READ):
        for status in UNRESOLVED:
            for w in warnings(services, actor, status=status):
                levels[w["level"]] += 1
                total += 1
    region_name = next((r["unit_name"] for r in rows.values() if r["unit_name"]), "")
    return Overview(
        region=region,
        year=year,
        years=years,
        headlines=headlines,
        chart=chart,
        trend_choices=trend_choices,
        trend=trend,
        trend_chart=trend_chart,
        warning_levels={lv.value: levels.get(lv.value, 0) for lv in Level},
        warning_total=total,
        week=week_items(services, actor),
        balance=_balance_checklist(rows, year),
        checklists=_plan_checklists(plans, rows, year),
        region_name=region_name or "",
    )


def _trend_chart(
    ind: Indicator, rows: dict[tuple[str, str, str, str], dict[str, Any]], years: list[str]
) -> dict[str, Any]:
    stages = sorted({k[3] for k in rows if k[0] == ind.id})
    series = []
    for stage in stages:
        data = []
        for yr in years:
            found = [r for k, r in rows.items() if k[0] == ind.id and k[1] == yr and k[3] == stage]
            value = found[0]["value"] if found else None
            data.append(round(value, ind.decimals) if value is not None else None)
        series.append(
            {
                "type": "line",
                "name": fmt.stage(stage) or ind.name_zh,
                "data": data,
                "connectNulls": True,
                "label": {"show": True},
            }
        )
    return {
        "aria": {"enabled": True},
        "grid": {"left": 8, "right": 24, "top": 32, "bottom": 24, "containLabel": True},
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [fmt.school_year(y) for y in years]},
        "yAxis": {"type": "value", "name": ind.unit, "scale": True},
        "series": series,
    }


def _balance_checklist(
    rows: dict[tuple[str, str, str, str], dict[str, Any]], year: str | None
) -> list[dict[str, Any]]:
    """优质均衡: per resource indicator and 学段, the share of schools meeting it and the CV."""

    def row(ind_id: str, stage: str) -> dict[str, Any] | None:
        return rows.get((ind_id, year or "", Grain.STAGE_COUNTY.value, stage))

    out = []
    shares = "balance.share_meeting."
    # One line per resource indicator with a share-meeting indicator (the balance family's
    # module declares them); its requirement is the resource indicator's school threshold.
    for key in [i.id.removeprefix(shares) for i in indicators() if i.id.startswith(shares)]:
        resource = indicator(f"balance.{key}")
        [school_rule] = resource.thresholds_at(Grain.SCHOOL)
        line: dict[str, Any] = {"name": resource.name_zh, "unit": resource.unit, "stages": []}
        for stage in ("primary", "junior"):
            requirement = school_rule.value_for(stage)
            share = row(f"balance.share_meeting.{key}", stage)
            cv = row(f"balance.cv.{key}", stage)
            line["stages"].append(
                {
                    "stage": stage,
                    "requirement": requirement,
                    "share": share["value"] if share else None,
                    "cv": cv["value"] if cv else None,
                    "cv_limit": cv["threshold"] if cv else None,
                    "cv_meets": cv["meets"] if cv else None,
                }
            )
        out.append(line)
    rule = {
        stage: row("balance.schools_meeting_rule_share", stage) for stage in ("primary", "junior")
    }
    if any(rule.values()):
        out.append(
            {
                "name": indicator("balance.schools_meeting_rule_share").name_zh,
                "unit": "%",
                "rule": True,
                "stages": [
                    {
                        "stage": stage,
                        "share": r["value"] if r else None,
                        "meets": r["meets"] if r else None,
                    }
                    for stage, r in rule.items()
                ],
            }
        )
    return out


def _plan_checklists(
    plans: Iterable[Plan], rows: dict[tuple[str, str, str, str], dict[str, Any]], year: str | None
) -> list[dict[str, Any]]:
    """共性要求 and every other plan checklist: measured items pass or fail, others say why."""
    out = []
    for plan in plans:
        if not plan.checklist:
            continue
        items = []
        for item in plan.checklist:
            entry: dict[str, Any] = {"item": item.item, "reason": item.reason}
            if item.computable and item.indicator_id:
                found = [
                    r
                    for k, r in rows.items()
                    if k[0] == item.indicator_id and k[1] == year and k[3] == ""
                ]
                value = found[0]["value"] if found else None
                entry.update(
                    indicator=indicator(item.indicator_id),
                    requirement=f"{item.op} {item.value:g}",
                    value=value,
                    passes=item.passes(value) if value is not None else None,
                )
            items.append(entry)
        out.append({"title": plan.checklist_title or plan.title, "document": plan.document,
                    "items": items})  # fmt: skip
    return out


# ---- the map ---------------------------------------------------------------------------------


def warning_triage_view(
    services: Services, actor: Actor, view: str, status: str | None
) -> dict[str, Any]:
    """The warnings page's grouped (`groups`) or per-school (`schools`) view."""
    chosen = status if status in UNRESOLVED or status == "resolved" else None
    context: dict[str, Any] = {
        "view": view,
        "filters": {"status": chosen or "", "level": "", "grain": "", "indicator_id": ""},
        "items": [],
        "groups": [],
        "school_rows": [],
        "indicators": {i.id: i for i in indicators()},
        "grains": [g.value for g in Grain],
    }
    if view == "groups":
        context["groups"] = indicator_routes.warning_groups(services, actor, chosen)
    else:
        context["school_rows"] = indicator_routes.warning_schools(services, actor, chosen)
    return context


def week_items(services: Services, actor: Actor) -> list[dict[str, Any]]:
    """本周待决策 for a region's leader; empty for a caller without warnings or a region."""
    if not allowed(actor, Permission.WARNINGS_READ) or region_of(services, actor) is None:
        return []
    return indicator_routes.warnings_this_week(services, actor)


@dataclass
class MapView:
    schools: list[dict[str, Any]]
    choices: list[Indicator]
    chosen: Indicator | None
    by_warning: bool
    legend: list[dict[str, str]]
    points: list[dict[str, Any]] = field(default_factory=list)
    year: str | None = None


def school_indicators() -> list[Indicator]:
    return [i for i in indicators() if Grain.SCHOOL in i.grains]


def map_view(services: Services, actor: Actor, colour: str | None) -> MapView:
    all_schools = schools(services, actor)
    choices = school_indicators()
    by_warning = colour == "warning" and allowed(actor, Permission.WARNINGS_READ)
    chosen = None
    colours: dict[str, str] = {}
    labels: dict[str, str] = {}
    legend: list[dict[str, str]] = []
    year = None
    if by_warning:
        # Each school by its roll-up: the level of its worst open or acknowledged item.
        for school in indicator_routes.warning_schools(services, actor, None):
            level = school["level"]
            colours[school["school_code"]] = LEVEL_COLOURS[level]
            counts = "、".join(f"{fmt.LEVEL_ZH[lv]}{n}" for lv, n in school["levels"].items() if n)
            labels[school["school_code"]] = f"{fmt.LEVEL_ZH[level]}预警（{counts}）"
        legend = [{"colour": LEVEL_COLOURS[lv.value], "label": fmt.LEVEL_ZH[lv.value] + "预警"}
                  for lv in Level]  # fmt: skip
        legend.append({"colour": MET_COLOUR, "label": "无未处理预警"})
        region = {s["school_code"]: s["region_code"] for s in all_schools}
        for code in region:
            if code not in colours and school_in_scope(actor, code, region.get):
                colours[code] = MET_COLOUR
                labels[code] = "无未处理预警"
    else:
        chosen = next((i for i in choices if i.id == colour), None) or next(
            (i for i in choices if i.headline), choices[0]
        )
        rows = values(services, actor, indicator_id=chosen.id, grain=Grain.SCHOOL.value)
        year = max((r["school_year"] for r in rows), default=None)
        latest = [r for r in rows if r["school_year"] == year]
        colours, labels, legend = _value_colours(chosen, latest)
    points = []
    for s in all_schools:
        if s["longitude"] is None or s["latitude"] is None:
            continue
        code = s["school_code"]
        points.append(
            {
                "name": s["name"],
                "code": code,
                "value": [s["longitude"], s["latitude"]],
                "label": labels.get(code, "无数据"),
                "itemStyle": {"color": colours.get(code, NONE_COLOUR)},
            }
        )
    legend.append({"colour": NONE_COLOUR, "label": "无数据或不在权限范围内"})
    return MapView(all_schools, choices, chosen, by_warning, legend, points, year)


def school_in_scope(
    actor: Actor, school_code: str, region_of_school: Callable[[str], str | None]
) -> bool:
    """Whether the caller's scope covers the whole school (the policy's own rule)."""
    return covers(actor.scope, Scope(ScopeLevel.SCHOOL, school_code), region_of_school)


def _value_colours(
    ind: Indicator, rows: list[dict[str, Any]]
) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    colours, labels = {}, {}
    with_threshold = any(r["threshold"] is not None for r in rows)
    present = [r for r in rows if r["value"] is not None]
    for r in present:
        labels[r["unit_code"]] = fmt.indicator_value(r["value"], ind.unit, ind.decimals)
    if with_threshold:
        for r in present:
            met = r["meets"]
            colours[r["unit_code"]] = (
                NONE_COLOUR if met is None else MET_COLOUR if met else MISSED_COLOUR
            )
        legend = [{"colour": MET_COLOUR, "label": "达标"},
                  {"colour": MISSED_COLOUR, "label": "未达标"}]  # fmt: skip
        return colours, labels, legend
    ordered = sorted(r["value"] for r in present)
    if not ordered:
        return colours, labels, []
    cuts = [ordered[min(len(ordered) - 1, len(ordered) * q // 4)] for q in (1, 2, 3)]
    for r in present:
        band = sum(r["value"] >= c for c in cuts)
        colours[r["unit_code"]] = QUANTILE_COLOURS[band]
    bounds = [ordered[0], *cuts, ordered[-1]]
    legend = [
        {
            "colour": QUANTILE_COLOURS[n],
            "label": f"{fmt.number(bounds[n], ind.decimals)} – "
            f"{fmt.number(bounds[n + 1], ind.decimals)}",
        }
        for n in range(4)
    ]
    return colours, labels, legend


# ---- a school's profile ------------------------------------------------------------------------

FACILITY_FIELDS = (
    ("teaching_aux_area_m2", "教学及辅助用房面积", "m²"),
    ("sports_area_m2", "体育运动场馆面积", "m²"),
    ("equipment_value_yuan", "教学仪器设备值", "元"),
    ("multimedia_classrooms", "网络多媒体教室数", "间"),
    ("computers", "计算机台数", "台"),
    ("books", "图书册数", "册"),
    ("outbound_bandwidth_mbps", "出口带宽", "Mbps"),
    ("wireless_coverage", "无线网络覆盖率（比例）", ""),
    ("labs", "实验室数", "间"),
)


@dataclass
class SchoolProfile:
    school: dict[str, Any]
    students: int
    classes: int
    teachers: int
    in_scope: bool
    year: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    quality: dict[str, Any] | None = None
    facility: dict[str, Any] | None = None
    class_sizes: list[dict[str, Any]] = field(default_factory=list)
    trend_choices: list[Indicator] = field(default_factory=list)
    trend: Indicator | None = None
    trend_chart: dict[str, Any] | None = None
    counts: list[dict[str, Any]] = field(default_factory=list)
    """What the modules tally for the school, each with its label and definition."""


def school_profile(
    services: Services, actor: Actor, school_code: str, trend_id: str | None
) -> SchoolProfile:
    found = units.school_profile(services, actor, school_code)  # 404: unknown or not the caller's
    school = found["school"]
    in_scope = school_in_scope(actor, school_code, lambda _code: school["region_code"])
    profile = SchoolProfile(school, found["students"], found["classes"], found["teachers"],
                            in_scope)  # fmt: skip
    profile.counts = [
        {"name": tally.name, "label": tally.label_zh or tally.name,
         "definition": tally.definition_zh, "value": found[tally.name]}
        for tally in units.tallies()
    ]  # fmt: skip
    if allowed(actor, Permission.INDICATORS_READ):
        rows = values(services, actor, grain=Grain.SCHOOL.value, unit_code=school_code)
        years = sorted({r["school_year"] for r in rows})
        profile.year = years[-1] if years else None
        latest = [r for r in rows if r["school_year"] == profile.year]
        order = [i.id for i in indicators()]
        profile.rows = sorted(
            ({**r, "ind": indicator(r["indicator_id"])} for r in latest
             if r["indicator_id"] in {i.id for i in indicators()}),
            key=lambda r: (order.index(r["indicator_id"]), r["stage"]),
        )  # fmt: skip
        profile.quality = next(
            (r for r in profile.rows if r["indicator_id"] == "data.quality_score"), None
        )
        seen: dict[str, set[str]] = {}
        for r in rows:
            seen.setdefault(r["indicator_id"], set()).add(r["school_year"])
        profile.trend_choices = [i for i in indicators() if len(seen.get(i.id, ())) >= 2]
        profile.trend = next(
            (i for i in profile.trend_choices if i.id == trend_id),
            profile.trend_choices[0] if profile.trend_choices else None,
        )
        if profile.trend is not None:
            keyed = {(r["indicator_id"], r["school_year"], r["grain"], r["stage"]): r
                     for r in rows}  # fmt: skip
            profile.trend_chart = _trend_chart(profile.trend, keyed, years)
    if in_scope:
        profile.facility = _facility(services, school_code)
        if allowed(actor, PUPILS):
            profile.class_sizes = _class_sizes(services, actor, school_code)
    return profile


def _facility(services: Services, school_code: str) -> dict[str, Any] | None:
    """The school's latest facility survey (装备普查): figures about the school, no person."""
    reader = services.reader
    if not reader.has_table("facility_survey"):
        return None
    with reader.lock:
        t = reader.table("facility_survey")
        expr = t.filter(t.school_code == school_code).order_by(t.survey_year.desc()).limit(1)
    rows = reader.rows(expr)
    return rows[0] if rows else None


def _class_sizes(services: Services, actor: Actor, school_code: str) -> list[dict[str, Any]]:
    """Classes per grade with their mean and largest size: counted inside the caller's scope
    (the scoped student query), so only counts leave the warehouse."""
    reader = services.reader
    fields = ["school_year", "grade_code", "class_no"]
    with reader.lock:
        pupils = services.scoped.query(
            actor.scope, "student", filters={"school_code": school_code}, fields=fields
        )
        current = pupils.filter(pupils.school_year == pupils.school_year.max())
        per_class = current.group_by(["grade_code", "class_no"]).aggregate(size=current.count())
        per_grade = (
            per_class.group_by("grade_code")
            .aggregate(
                classes=per_class.count(),
                mean_size=per_class["size"].mean(),
                max_size=per_class["size"].max(),
                large=(per_class["size"] >= 56).sum(),
            )
            .order_by("grade_code")
        )
    return reader.rows(per_grade)


# ---- a pupil's portrait ------------------------------------------------------------------------

FITNESS_FIELDS = (
    ("height_cm", "身高", "cm"),
    ("weight_kg", "体重", "kg"),
    ("vital_capacity", "肺活量", "ml"),
    ("run_50m", "50米跑", "s"),
    ("sit_and_reach", "坐位体前屈", "cm"),
    ("rope_skip_1min", "1分钟跳绳", "次"),
    ("sit_up_1min", "1分钟仰卧起坐", "次"),
    ("standing_long_jump", "立定跳远", "cm"),
    ("pull_up", "引体向上", "次"),
    ("run_800m", "800米跑", "s"),
    ("run_1000m", "1000米跑", "s"),
)


def score_chart(exams: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """得分率 (total ÷ full marks × 100) per exam in date order, one line per subject."""
    scored = [e for e in exams if e["score"] is not None and e["max_score"]]
    if not scored:
        return None
    dates = sorted({str(e["exam_date"]) for e in scored})
    series = []
    for subject in sorted({e["subject"] or "" for e in scored}):
        by_date = {str(e["exam_date"]): e for e in scored if (e["subject"] or "") == subject}
        series.append(
            {
                "type": "line",
                "name": label("subject", subject),
                "connectNulls": True,
                "data": [
                    round(100 * by_date[d]["score"] / by_date[d]["max_score"], 1)
                    if d in by_date
                    else None
                    for d in dates
                ],
            }
        )
    return {
        "aria": {"enabled": True},
        "grid": {"left": 8, "right": 24, "top": 32, "bottom": 24, "containLabel": True},
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [fmt.day(d) for d in dates]},
        "yAxis": {"type": "value", "name": "得分率 %", "min": 0, "max": 100},
        "series": series,
    }


def label(table: str, code: str | None) -> str:
    if not code:
        return ""
    return CODES[table].codes.get(code, code)
