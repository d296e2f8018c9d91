"""The exam reports as tables with Chinese headers: what the cockpit shows under every chart
and what the xlsx export writes (`service.spreadsheet.xlsx_sheet`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Sheet = tuple[str, tuple[str, ...], list[dict[str, Any]]]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_sheet(report: Mapping[str, Any]) -> Sheet:
    header = ("人数", "满分", "平均分", "标准差", "最高分", "最低分", "优秀率", "良好率", "及格率")
    row = dict(
        zip(
            header,
            (
                report["pupils"],
                report["maximum"],
                _num(report["mean"]),
                _num(report["sd"]),
                _num(report["highest"], 1),
                _num(report["lowest"], 1),
                _pct(report["excellent_rate"]),
                _pct(report["good_rate"]),
                _pct(report["pass_rate"]),
            ),
            strict=True,
        )
    )
    return "成绩概况", header, [row]


def band_sheet(report: Mapping[str, Any]) -> Sheet:
    header = ("得分段（占满分）", "分数范围", "人数", "占比")
    rows = [
        {
            "得分段（占满分）": b["label"],
            "分数范围": f"{b['low']:g}–{b['high']:g}",
            "人数": b["pupils"],
            "占比": _pct(b["share"]),
        }
        for b in report["bands"]
    ]
    return "分数段分布", header, rows


def subscore_sheet(report: Mapping[str, Any], key: str, title: str, first: str) -> Sheet:
    header = (first, "题数", "分值", "平均得分", "得分率")
    rows = [
        {
            first: s["label"],
            "题数": s["items"],
            "分值": s["maximum"],
            "平均得分": _num(s["mean"]),
            "得分率": _pct(s["rate"]),
        }
        for s in report[key]
    ]
    return title, header, rows


def item_sheet(analysis: Mapping[str, Any]) -> Sheet:
    header = ("题号", "分值", "平均得分", "难度", "区分度", "点二列相关", "区分度评价", "提示")
    rows = [
        {
            "题号": i["item_no"],
            "分值": i["maximum"],
            "平均得分": _num(i["mean"]),
            "难度": _num(i["difficulty"]),
            "区分度": _num(i["discrimination"]),
            "点二列相关": _num(i["point_biserial"]),
            "区分度评价": i["band"],
            "提示": "；".join(i["flags"]),
        }
        for i in analysis["items"]
    ]
    return "试题分析", header, rows


def report_sheets(report: Mapping[str, Any]) -> list[Sheet]:
    return [
        summary_sheet(report),
        band_sheet(report),
        subscore_sheet(report, "by_knowledge_point", "知识点得分", "知识点"),
        subscore_sheet(report, "by_item_type", "题型得分", "题型"),
    ]
