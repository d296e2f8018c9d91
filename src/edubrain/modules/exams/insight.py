"""The 评价—反馈—改进 loop's three report pages, as tables and charts (issue 16, item 6).

- `research`: the 教研员's county view of one exam — the paper's items judged by CTT (难度,
  区分度 from the 27 % groups, point-biserial, Ebel band, flags), the knowledge points weakest
  county-wide, the schools side by side by mean and by rates with a band against the county
  (never a pupil's rank, and schools listed by code, not by score), and the trend of the mean
  得分率 across the exams and years in scope.
- `school_report`: one school against the county on one exam — strengths and weak knowledge
  points, the value-added band per subject when `exam_value_added` exists (written by the
  value-added job; an empty state in Chinese otherwise), and what to work on: the weakest
  points with the items that show it.
- `progress`: one pupil's own exams — 得分率, rank band among the takers, the knowledge points
  of each exam, the trend; nothing about other pupils but the band.

Every figure is an aggregate of the caller's scope (`reads.scoped_paper`), or of all an exam's
takers for the county's reference figures (a 统考's population, shown only as aggregates).
A group smaller than `reads.smallest_group_for(actor)` gets no figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edubrain.errors import NotFoundError
from edubrain.modules.exams import reads
from edubrain.modules.exams.analysis import (
    EXCELLENT,
    GOOD,
    PASS,
    Paper,
    item_report,
    rank_band,
    score_report,
)
from edubrain.service.policy import Scope, scope_predicate
from edubrain.service.reads import WarehouseReader
from edubrain.service.report_export import Column, Kind, Report, Table, Value
from edubrain.standard.codes import code_tables

VALUE_ADDED_TABLE = "exam_value_added"  # written by the value-added job (interfaces §4)
# A school's knowledge point is a strength or a weakness when its 得分率 differs from the
# county's by at least this much (5 percentage points: about a tenth of a typical SD of item
# 得分率 across schools; a convention of this platform, said on the page).
KP_MARGIN = 0.05
# A school's mean is 高于/低于全县 when it lies outside the county mean ± 1.96 standard errors
# of a mean of that many pupils (the 95 % band of a random group of the county's pupils).
Z95 = 1.96
WORK_ON = 3  # the weakest points a school report lists under 改进重点
# as the value-added page names them (psychometrics.value_added.BAND_LABELS_ZH, exams-va)
VA_BANDS = {"above": "显著高于", "in_line": "与预期相当", "below": "显著低于"}
SCHOOL_BANDS = ("高于全县", "与全县持平", "低于全县")
RATES = ("优秀率", "良好率", "及格率")


@dataclass
class Section:
    """A table, and the chart drawn from it (None: the table alone)."""

    table: Table
    chart: dict[str, Any] | None = None
    intro: str = ""
    links: tuple[str | None, ...] = ()  # the first cell of row i links here


@dataclass
class View:
    """What a report page shows: the report (title, lines, tables: what the exports write),
    and around it the page's notices, facts, exam choices and charts."""

    title: str
    lines: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    choices: list[tuple[str, str, bool]] = field(default_factory=list)  # label, href, current
    exam_id: str | None = None
    audited: list[str] = field(default_factory=list)  # the exams whose scores were read
    pupils: int = 0

    def report(self) -> Report:
        return Report(self.title, tuple(self.lines), tuple(s.table for s in self.sections))


def _label(table: str, code: Any) -> str:
    return code_tables()[table].codes.get(str(code), str(code)) if code else "—"


def _exam_line(exam: dict[str, Any]) -> str:
    return (
        f"考试：{exam['name']}（{_label('subject', exam['subject'])}，"
        f"{_label('grade', exam['grade_code'])}，{exam['exam_date']}，满分{exam['max_score']:g}）"
    )


def _mean(values: np.ndarray[Any, Any]) -> float | None:
    return float(values.mean()) if values.size else None


def _rate(totals: np.ndarray[Any, Any], maximum: float, share: float) -> float | None:
    return float((totals >= share * maximum - 1e-9).mean()) if totals.size else None


def _point_names(paper: Paper) -> dict[str, str]:
    """Each knowledge point's name (or 未命名知识点N, as the score report names it)."""
    report = score_report(paper) if paper.students else None
    if report is None:
        return dict(paper.point_names)
    return {s.key: s.label for s in report.by_knowledge_point}


def _kp_rates(paper: Paper) -> dict[str, float]:
    """得分率 of each knowledge point over the paper's pupils."""
    groups: dict[str, list[int]] = defaultdict(list)
    for j, points in enumerate(paper.knowledge_points):
        for point in points:
            groups[point].append(j)
    out = {}
    for key, cols in sorted(groups.items()):
        maximum = float(paper.item_maxima[cols].sum())
        if paper.students and maximum > 0:
            out[key] = float(paper.scores[:, cols].sum(axis=1).mean()) / maximum
    return out


def _item_rates(paper: Paper) -> np.ndarray[Any, Any]:
    if not paper.students:
        return np.full(len(paper.item_nos), np.nan)
    return np.asarray(paper.scores.mean(axis=0) / paper.item_maxima, dtype=np.float64)


def _schools_of(reader: WarehouseReader, exam_id: str) -> dict[str, str]:
    """学籍号 → school of every taker of the exam."""
    with reader.lock:
        s = reader.table("item_score")
        takers = s.filter(s.exam_id == exam_id).student_number
        st = reader.table("student")
        expr = st.filter(st.student_number.isin(takers)).select("student_number", "school_code")
    return {str(r["student_number"]): str(r["school_code"]) for r in reader.rows(expr)}


def school_names(reader: WarehouseReader) -> dict[str, str]:
    if not reader.has_table("school"):
        return {}
    with reader.lock:
        expr = reader.table("school").select("school_code", "name")
    return {str(r["school_code"]): str(r["name"]) for r in reader.rows(expr)}


def _choices(exams: list[dict[str, Any]], chosen: str, href: str) -> list[tuple[str, str, bool]]:
    sep = "&" if "?" in href else "?"
    return [
        (
            f"{e['name']}（{e['exam_date']}）",
            f"{href}{sep}exam={e['exam_id']}",
            e["exam_id"] == chosen,
        )
        for e in exams
    ]


def _bar(
    labels: list[str], series: list[tuple[str, list[float | None]]], name: str, percent: bool
) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 56, "right": 16, "top": 32, "bottom": 72},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value", "name": name, "max": 100 if percent else None},
        "series": [
            {
                "type": "bar",
                "name": title,
                "data": [
                    None if v is None else round(v * 100 if percent else v, 1) for v in values
                ],
            }
            for title, values in series
        ],
    }


def _trend_chart(rows: list[dict[str, Any]], name: str, series: str) -> dict[str, Any]:
    """A line per `series` (学科 or 年级) over the exams' dates (a category axis: one tick per
    date an exam was sat)."""
    dates = sorted({str(r["exam_date"]) for r in rows if r["rate"] is not None})
    lines: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        if r["rate"] is not None:
            label = _label("grade" if series == "grade_code" else series, r[series])
            lines[label][str(r["exam_date"])] = round(r["rate"] * 100, 1)
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 56, "right": 16, "top": 32, "bottom": 40},
        "xAxis": {"type": "category", "data": dates},
        "yAxis": {"type": "value", "name": name, "max": 100},
        "series": [
            {
                "type": "line",
                "name": title,
                "connectNulls": True,
                "data": [points.get(d) for d in dates],
            }
            for title, points in sorted(lines.items())
        ],
    }


# ---- 教研员 --------------------------------------------------------------------------------------


def research(
    reader: WarehouseReader, scope: Scope, exam_id: str | None, *, smallest_group: int
) -> View:
    """The county's item and school analysis of one exam (the newest when none is named)."""
    view = View("教研分析：试题与学校")
    exams = reads.exams_in_scope(reader, scope)
    if not exams:
        view.notices.append("您的权限范围内还没有考试成绩。")
        view.sections.append(_trend_section(reader, []))
        return view
    chosen = exam_id or exams[0]["exam_id"]
    if chosen not in {e["exam_id"] for e in exams}:
        raise reads.ExamNotFoundError(f"no exam {chosen} with scores in your scope")
    view.exam_id = chosen
    view.choices = _choices(exams, chosen, "/research")
    exam, paper = reads.scoped_paper(reader, scope, chosen)
    view.audited.append(chosen)
    view.pupils = len(paper.students)
    view.lines.append(_exam_line(exam))
    items = item_report(paper)
    view.notices.extend(items.notices[1:])
    names = _point_names(paper)
    flagged = [
        i for i in items.items if i.flags or i.band in ("需修改", "淘汰")
    ]  # bad or weak items
    view.facts = [
        ("参考人数", str(len(paper.students))),
        ("信度系数", "—" if items.alpha is None else f"{items.alpha:.3f}"),
        ("测量标准误", "—" if items.sem is None else f"{items.sem:.2f}"),
        ("试卷难度", "—" if items.difficulty is None else f"{items.difficulty:.2f}"),
        ("需关注的试题", f"{len(flagged)}道"),
    ]
    kp_of = dict(zip(paper.item_nos, paper.knowledge_points, strict=True))
    item_rows = tuple(
        (
            i.item_no,
            i.maximum,
            "、".join(names.get(k, k) for k in kp_of[i.item_no]) or "—",
            i.difficulty,
            i.discrimination,
            i.point_biserial,
            i.band,
            "；".join(i.flags) or ("需关注" if i in flagged else ""),
        )
        for i in items.items
    )
    item_table = Table(
        "items",
        "试题质量（经典测量理论）",
        (
            Column("题号", Kind.INTEGER),
            Column("分值", Kind.DECIMAL, digits=1),
            Column("知识点"),
            Column("难度", Kind.DECIMAL, "试题指标"),
            Column("区分度", Kind.DECIMAL, "试题指标"),
            Column("点二列相关", Kind.DECIMAL, "试题指标"),
            Column("区分度评价"),
            Column("提示"),
        ),
        item_rows,
        note="难度为平均得分率；区分度为总分前、后各27%学生的得分率之差；"
        "评价：0.40以上很好，0.30至0.39较好，0.20至0.29需修改，低于0.20淘汰。",
    )
    view.sections.append(
        Section(
            item_table,
            _bar(
                [f"第{i.item_no}题" for i in items.items],
                [
                    ("难度", [i.difficulty for i in items.items]),
                    ("区分度", [i.discrimination for i in items.items]),
                ],
                "指标",
                percent=False,
            )
            if items.items
            else None,
        )
    )
    view.sections.append(_weakest_section(paper))
    view.sections.append(_schools_section(reader, chosen, paper, smallest_group))
    view.sections.append(
        _trend_section(reader, [e for e in exams if e["subject"] == exam["subject"]])
    )
    return view


def _trend_section(reader: WarehouseReader, exams: list[dict[str, Any]]) -> Section:
    years = _school_years(reader, [e["exam_id"] for e in exams])
    rows = [
        {
            "name": e["name"],
            "subject": e["subject"],
            "grade_code": e["grade_code"],
            "school_year": years.get(e["exam_id"], ""),
            "exam_date": e["exam_date"],
            "pupils": e["pupils"],
            "rate": e["mean_rate"],
        }
        for e in sorted(exams, key=lambda e: (e["grade_code"], e["exam_date"], e["exam_id"]))
    ]
    table = Table(
        "trend",
        "本学科历次考试平均得分率",
        (
            Column("考试名称"),
            Column("年级"),
            Column("学年"),
            Column("考试日期"),
            Column("参考人数", Kind.INTEGER),
            Column("平均得分率", Kind.PERCENT, digits=1),
        ),
        tuple(
            (
                r["name"],
                _label("grade", r["grade_code"]),
                r["school_year"],
                r["exam_date"],
                r["pupils"],
                r["rate"],
            )
            for r in rows
        ),
    )
    chart = _trend_chart(rows, "平均得分率（%）", "grade_code") if rows else None
    return Section(table, chart, intro="同一学科各年级历次统考的全县平均得分率。")


def _school_years(reader: WarehouseReader, exam_ids: list[str]) -> dict[str, str]:
    if not exam_ids:
        return {}
    with reader.lock:
        e = reader.table("exam")
        expr = e.filter(e.exam_id.isin(exam_ids)).select("exam_id", "school_year")
    return {str(r["exam_id"]): str(r["school_year"] or "") for r in reader.rows(expr)}


def _weakest_section(paper: Paper) -> Section:
    report = score_report(paper)
    weakest = sorted(report.by_knowledge_point, key=lambda s: (s.rate, s.key))
    table = Table(
        "points",
        "知识点得分率（由低到高）",
        (
            Column("知识点"),
            Column("题数", Kind.INTEGER),
            Column("分值", Kind.DECIMAL, digits=1),
            Column("平均得分", Kind.DECIMAL),
            Column("得分率", Kind.PERCENT, digits=1),
        ),
        tuple((s.label, s.items, s.maximum, s.mean, s.rate) for s in weakest),
    )
    chart = (
        _bar([s.label for s in weakest], [("得分率", [s.rate for s in weakest])], "%", True)
        if weakest
        else None
    )
    return Section(table, chart)


def _band(mean: float, county_mean: float, county_sd: float, pupils: int) -> str:
    se = county_sd / math.sqrt(pupils) if pupils else math.inf
    if se == 0 or not math.isfinite(se):
        return SCHOOL_BANDS[1]
    z = (mean - county_mean) / se
    return SCHOOL_BANDS[0] if z > Z95 else SCHOOL_BANDS[2] if z < -Z95 else SCHOOL_BANDS[1]


def _schools_section(
    reader: WarehouseReader, exam_id: str, paper: Paper, smallest_group: int
) -> Section:
    school_of = _schools_of(reader, exam_id)
    names = school_names(reader)
    totals = paper.totals()
    schools = np.array([school_of.get(s, "") for s in paper.students])
    county_mean = float(totals.mean()) if totals.size else 0.0
    county_sd = float(totals.std(ddof=1)) if totals.size > 1 else 0.0
    rows: list[tuple[Value, ...]] = []
    links: list[str | None] = []
    labels: list[str] = []
    means: list[float | None] = []
    for code in sorted(set(schools.tolist()) - {""}):
        mine = totals[schools == code]
        name = names.get(code, code)
        if mine.size < max(smallest_group, 1):
            rows.append((name, int(mine.size), None, None, None, None, None, "人数过少，不显示"))
        else:
            mean = float(mine.mean())
            rows.append(
                (
                    name,
                    int(mine.size),
                    mean,
                    mean / paper.maximum,
                    _rate(mine, paper.maximum, EXCELLENT),
                    _rate(mine, paper.maximum, GOOD),
                    _rate(mine, paper.maximum, PASS),
                    _band(mean, county_mean, county_sd, int(mine.size)),
                )
            )
            labels.append(name)
            means.append(mean / paper.maximum)
        links.append(f"/schools/{code}/report?exam={exam_id}")
    if totals.size:
        rows.append(
            (
                "全县（全部参考学生）",
                int(totals.size),
                county_mean,
                county_mean / paper.maximum,
                _rate(totals, paper.maximum, EXCELLENT),
                _rate(totals, paper.maximum, GOOD),
                _rate(totals, paper.maximum, PASS),
                "—",
            )
        )
        links.append(None)
    table = Table(
        "schools",
        "学校比较（按学校代码排列，不排名）",
        (
            Column("学校"),
            Column("参考人数", Kind.INTEGER),
            Column("平均分", Kind.DECIMAL),
            Column("平均得分率", Kind.PERCENT, digits=1),
            Column("优秀率", Kind.PERCENT, "比率", 1),
            Column("良好率", Kind.PERCENT, "比率", 1),
            Column("及格率", Kind.PERCENT, "比率", 1),
            Column("与全县比较"),
        ),
        tuple(rows),
        note="与全县比较：学校平均分超出全县平均分±1.96个标准误（该校人数的随机分组）时为"
        "高于或低于全县，否则为持平。优秀、良好、及格分别指总分达到满分的85%、70%、60%。",
    )
    chart = _bar(labels, [("平均得分率", means)], "%", True) if labels else None
    return Section(table, chart, links=tuple(links))


# ---- 学校报告 ------------------------------------------------------------------------------------


def school_in_scope(reader: WarehouseReader, scope: Scope, school_code: str) -> bool:
    """Whether the scope covers pupils of the school (the roster's own scope rule)."""
    if not reader.has_table("student"):
        return False
    with reader.lock:
        st = reader.table("student")
        st = st.filter(scope_predicate(scope, "student", st, reader))
        expr = st.filter(st.school_code == school_code).count()
    return int(reader.scalar(expr)) > 0


def school_exams(reader: WarehouseReader, scope: Scope, school_code: str) -> list[dict[str, Any]]:
    """The exams the school's pupils (in scope) took, newest first."""
    if not (reader.has_table("exam") and reader.has_table("item_score")):
        return []
    with reader.lock:
        s = reader.table("item_score")
        s = s.filter(scope_predicate(scope, "item_score", s, reader))
        st = reader.table("student")
        s = s.filter(s.student_number.isin(st.filter(st.school_code == school_code).student_number))
        taken = s.select("exam_id").distinct()
        e = reader.table("exam")
        expr = e.inner_join(taken, "exam_id").order_by([e.exam_date.desc(), e.exam_id])
    return [reads.exam_fields(r) for r in reader.rows(expr)]


def school_report(
    reader: WarehouseReader,
    scope: Scope,
    school_code: str,
    exam_id: str | None,
    *,
    smallest_group: int,
) -> View:
    """The school against the county on one exam (the school's newest when none is named)."""
    if not school_in_scope(reader, scope, school_code):
        raise NotFoundError(f"no school {school_code} in your scope")
    name = school_names(reader).get(school_code, school_code)
    view = View(f"学校质量报告：{name}")
    exams = school_exams(reader, scope, school_code)
    view.sections.append(_value_added_section(reader, school_code))
    if not exams:
        view.notices.append("本校学生还没有考试成绩。")
        return view
    chosen = exam_id or exams[0]["exam_id"]
    if chosen not in {e["exam_id"] for e in exams}:
        raise reads.ExamNotFoundError(f"no exam {chosen} of this school in your scope")
    view.exam_id = chosen
    view.choices = _choices(exams, chosen, f"/schools/{school_code}/report")
    exam, school = reads.scoped_paper(reader, scope, chosen, school_code=school_code)
    _, county = reads.scoped_paper(reader, None, chosen, whole_exam=True)
    view.audited.append(chosen)
    view.pupils = len(school.students)
    view.lines.append(_exam_line(exam))
    if len(school.students) < smallest_group:
        view.notices.append(
            f"本校参考学生只有{len(school.students)}人，少于{smallest_group}人："
            "为保护学生个人信息，不显示统计结果。"
        )
        return view
    view.sections.insert(0, _summary_section(school, county))
    names = _point_names(county)
    mine, all_ = _kp_rates(school), _kp_rates(county)
    points = sorted(mine, key=lambda k: (mine[k] - all_.get(k, mine[k]), k))
    verdict = {
        k: "优势"
        if mine[k] - all_[k] >= KP_MARGIN - 1e-12
        else "薄弱"
        if mine[k] - all_[k] <= -KP_MARGIN + 1e-12
        else "持平"
        for k in points
        if k in all_
    }
    kp_table = Table(
        "points",
        "知识点：本校与全县",
        (
            Column("知识点"),
            Column("本校", Kind.PERCENT, "得分率", 1),
            Column("全县", Kind.PERCENT, "得分率", 1),
            Column("差异（百分点）", Kind.DECIMAL, digits=1),
            Column("评价"),
        ),
        tuple(
            (
                names.get(k, k),
                mine[k],
                all_.get(k),
                (mine[k] - all_[k]) * 100 if k in all_ else None,
                verdict.get(k, "—"),
            )
            for k in points
        ),
        note=f"本校得分率比全县高{KP_MARGIN * 100:.0f}个百分点及以上为优势，"
        f"低{KP_MARGIN * 100:.0f}个百分点及以上为薄弱。",
    )
    view.sections.insert(
        1,
        Section(
            kp_table,
            _bar(
                [names.get(k, k) for k in points],
                [("本校", [mine[k] for k in points]), ("全县", [all_.get(k) for k in points])],
                "%",
                True,
            )
            if points
            else None,
        ),
    )
    strengths = [names.get(k, k) for k in points if verdict.get(k) == "优势"]
    weak = [k for k in points if verdict.get(k) == "薄弱"]
    view.facts = [
        ("参考人数", str(len(school.students))),
        ("优势知识点", "、".join(reversed(strengths)) or "无"),
        ("薄弱知识点", "、".join(names.get(k, k) for k in weak) or "无"),
    ]
    view.sections.insert(2, _work_on_section(school, county, weak or points[:WORK_ON], names))
    return view


def _summary_section(school: Paper, county: Paper) -> Section:
    def row(label: str, paper: Paper) -> tuple[Any, ...]:
        t = paper.totals()
        mean = _mean(t)
        return (
            label,
            int(t.size),
            mean,
            None if mean is None else mean / paper.maximum,
            _rate(t, paper.maximum, EXCELLENT),
            _rate(t, paper.maximum, GOOD),
            _rate(t, paper.maximum, PASS),
        )

    table = Table(
        "summary",
        "成绩概况：本校与全县",
        (
            Column("范围"),
            Column("参考人数", Kind.INTEGER),
            Column("平均分", Kind.DECIMAL),
            Column("平均得分率", Kind.PERCENT, digits=1),
            Column("优秀率", Kind.PERCENT, "比率", 1),
            Column("良好率", Kind.PERCENT, "比率", 1),
            Column("及格率", Kind.PERCENT, "比率", 1),
        ),
        (row("本校", school), row("全县", county)),
    )
    rows = table.rows
    chart = _bar(
        ["平均得分率", *RATES],
        [(str(r[0]), [_finite(v) for v in r[3:7]]) for r in rows],
        "%",
        True,
    )
    return Section(table, chart)


def _work_on_section(
    school: Paper, county: Paper, points: list[str], names: dict[str, str]
) -> Section:
    mine, all_ = _item_rates(school), _item_rates(county)
    rows = []
    for k in points:
        cols = [j for j, kps in enumerate(school.knowledge_points) if k in kps]
        cols.sort(key=lambda j: (mine[j] - all_[j], school.item_nos[j]))
        for j in cols:
            rows.append(
                (
                    names.get(k, k),
                    school.item_nos[j],
                    float(school.item_maxima[j]),
                    float(mine[j]),
                    float(all_[j]),
                    float(mine[j] - all_[j]) * 100,
                )
            )
    table = Table(
        "work_on",
        "改进重点：薄弱知识点及相关试题",
        (
            Column("知识点"),
            Column("题号", Kind.INTEGER),
            Column("分值", Kind.DECIMAL, digits=1),
            Column("本校", Kind.PERCENT, "得分率", 1),
            Column("全县", Kind.PERCENT, "得分率", 1),
            Column("差异（百分点）", Kind.DECIMAL, digits=1),
        ),
        tuple(rows),
        note="薄弱知识点（没有时为与全县差距最大的知识点），每个知识点下的试题按本校与全县的差距排列。",
    )
    return Section(table)


def _value_added_section(reader: WarehouseReader, school_code: str) -> Section:
    columns = (
        Column("学科"),
        Column("年级"),
        Column("学年"),
        Column("人数", Kind.INTEGER),
        Column("增值", Kind.DECIMAL, "增值效应"),
        Column("下限", Kind.DECIMAL, "增值效应"),
        Column("上限", Kind.DECIMAL, "增值效应"),
        Column("等级"),
        Column("进步分", Kind.DECIMAL),
        Column("提示"),
    )
    title = "增值评价（各学科）"
    if not reader.has_table(VALUE_ADDED_TABLE):
        return Section(
            Table(
                "value_added",
                title,
                columns,
                (),
                empty="增值评价尚未计算：需要先运行增值评价任务，才能显示本校各学科的增值等级。",
            )
        )
    with reader.lock:
        va = reader.table(VALUE_ADDED_TABLE)
        expr = va.filter((va.level == "school") & (va.school_code == school_code))
    found = reader.rows(expr)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in sorted(found, key=lambda r: str(r.get("school_year") or "")):
        latest[(str(r.get("subject")), str(r.get("grade_code")))] = r
    rows = tuple(
        (
            _label("subject", r.get("subject")),
            _label("grade", r.get("grade_code")),
            str(r.get("school_year") or ""),
            r.get("pupils"),
            _finite(r.get("effect")),
            _finite(r.get("lower")),
            _finite(r.get("upper")),
            VA_BANDS.get(str(r.get("band")), "—"),
            _finite(r.get("progress_score")),
            "人数较少，结果仅供参考" if r.get("small_group") else "",
        )
        for _, r in sorted(latest.items())
    )
    return Section(
        Table(
            "value_added",
            title,
            columns,
            rows,
            note="增值效应为学校对学生进步的影响（已考虑入学前成绩），区间为95%置信区间；"
            "区间整体高于零为显著高于预期，整体低于零为显著低于预期。",
            empty="本校还没有增值评价结果。",
        )
    )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _takers_totals(reader: WarehouseReader, exam_id: str) -> np.ndarray[Any, Any]:
    """Every taker's total on the exam (the population of a pupil's rank band, never shown)."""
    with reader.lock:
        s = reader.table("item_score")
        s = s.filter(s.exam_id == exam_id)
        expr = s.group_by("student_number").aggregate(total=s.score.sum())
    return np.array([float(r["total"] or 0.0) for r in reader.rows(expr)], dtype=np.float64)


# ---- 学生进步 ------------------------------------------------------------------------------------


def progress(reader: WarehouseReader, scope: Scope, number: str, *, clear: bool) -> View:
    """One pupil's exams, oldest first: 得分率, rank band, knowledge points, trend."""
    view = View("学业进步")
    taken = sorted(
        reads.exams_taken(reader, scope, number),
        key=lambda e: (str(e["exam_date"]), str(e["exam_id"])),
    )
    if not clear:
        view.notices.append("成绩属敏感信息，您的角色不可见。")
    exam_rows: list[tuple[Value, ...]] = []
    kp_rows: list[tuple[Value, ...]] = []
    trend = []
    for row in taken:
        exam = {k: row[k] for k in ("exam_id", "name", "subject", "grade_code", "max_score")}
        exam["exam_date"] = str(row["exam_date"])
        view.audited.append(str(exam["exam_id"]))
        if not clear:
            exam_rows.append(
                (exam["name"], _label("subject", exam["subject"]), exam["exam_date"], None, None)
            )
            continue
        _, mine = reads.scoped_paper(reader, scope, exam["exam_id"], student_number=number)
        if not mine.students:
            continue
        everyone = _takers_totals(reader, exam["exam_id"])
        total = float(mine.totals()[0])
        rate = total / mine.maximum
        exam_rows.append(
            (
                exam["name"],
                _label("subject", exam["subject"]),
                exam["exam_date"],
                rate,
                rank_band(total, everyone),
            )
        )
        trend.append({**exam, "rate": rate})
        names = _point_names(mine)  # the paper's items name them, whoever sat it
        for key, value in _kp_rates(mine).items():
            kp_rows.append((exam["name"], names.get(key, key), value))
    exams_table = Table(
        "exams",
        "历次考试",
        (
            Column("考试名称"),
            Column("学科"),
            Column("考试日期"),
            Column("得分率", Kind.PERCENT, digits=1),
            Column("位次段（全体考生中）"),
        ),
        tuple(exam_rows),
        note="位次段只说明在全体参考学生中所处的区间，不显示名次，也不显示其他学生的成绩。",
    )
    view.sections.append(
        Section(exams_table, _trend_chart(trend, "得分率（%）", "subject") if trend else None)
    )
    latest = trend[-1]["name"] if trend else None
    points = [r for r in kp_rows if r[0] == latest]
    view.sections.append(
        Section(
            Table(
                "points",
                "各次考试的知识点得分率",
                (Column("考试名称"), Column("知识点"), Column("得分率", Kind.PERCENT, digits=1)),
                tuple(kp_rows),
            ),
            _bar(
                [str(r[1]) for r in points],
                [("得分率", [_finite(r[2]) for r in points])],
                "%",
                True,
            )
            if points
            else None,
            intro=f"图为最近一次考试（{latest}）的知识点得分率。" if latest else "",
        )
    )
    if not taken:
        view.notices.append("还没有考试成绩。")
    return view
