"""The names people read for the platform's codes: scopes, permissions, audit actions and
outcomes, sources and entities, and what an error page says.

The codes stay what the API and the audit chain store (`county:339901`, `login`, `denied`,
`xueji`); a page shows their names, in Chinese, or in English with the switch (`i18n.EN`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from edubrain.errors import ConfigError
from edubrain.service.policy import REGION_LEVELS, ROLE_LABELS, Role, Scope, ScopeLevel
from edubrain.sources.mapping import available_mappings
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import entities, unit_registry

if TYPE_CHECKING:
    from edubrain.service.deps import Services

# The core's permissions as "无权……" completes them; a module's own (students:read) are named
# by the records they open ("查看学生").
PERMISSION_ZH: dict[str, str] = {
    "exams:value-added": "查看增值评价",
    "psych:read": "查看心理筛查结果",
    "psych:summary": "查看心理筛查统计",
    "psych:refer": "转介学生",
    "psych:referred": "查看转介学生",
    "teachers:archive": "查看一师一档",
    "growth:records": "提交和审核写实记录",
    "me:read": "查看本人信息",
    "regions:read": "查看行政区划",
    "schools:read": "查看学校",
    "ingest:read": "查看数据导入",
    "quality:read": "查看数据质量",
    "steward:read": "查看人工审核队列",
    "learning:read": "查看学情",
    "steward:decide": "裁决人工审核",
    "audit:read": "查看审计日志",
    "exports:request": "申请导出数据",
    "exports:approve": "审批数据导出",
    "indicators:read": "查看指标",
    "warnings:read": "查看预警",
    "warnings:manage": "处理预警",
    "jobs:read": "查看任务",
    "jobs:run": "运行任务",
}

ACTION_ZH: dict[str, str] = {
    "login": "登录",
    "logout": "退出",
    "list": "查看列表",
    "read": "查看",
    "search": "搜索",
    "access": "访问",
    "enumeration_suspected": "疑似逐个试探",
    "request": "申请",
    "approve": "批准",
    "reject": "驳回",
    "download": "下载",
    "start": "启动",
    "upload": "上传",
    "acknowledge": "认领",
    "resolve": "解决",
    "decide": "裁决",
    "undo": "撤销",
    "refer": "转介",
    "withdraw": "撤销转介",
    "submit": "提交",
    "object": "提出异议",
    "uphold": "采纳异议",
    "dismiss": "驳回异议",
    "confirm": "确认",
    "publicise": "开始公示",
    "verify": "校验",
}

OUTCOME_ZH: dict[str, str] = {
    "ok": "成功",
    "denied": "拒绝",
    "failed": "失败",
    "locked": "已锁定",
    "throttled": "已限流",
    "not_found": "未找到",
    "refused": "已拒绝",
    "broken": "断裂",
    "flagged": "已标记",
}

# What the audit trail names besides an entity or a permission.
RESOURCE_ZH: dict[str, str] = {
    "session": "会话",
    "export": "数据导出",
    "job": "任务",
    "quarantine": "隔离区",
    "review_queue": "人工审核队列",
    "steward_decision": "人工审核裁决",
    "audit": "审计日志",
    "indicator_warning": "预警",
    "student_portrait": "学生画像",
    "search": "搜索",
    "standard": "标准格式",
    "exam_mastery": "考试认知诊断掌握度",
    "exam_value_added": "增值评价结果",  # the exams module's value-added table (not an entity)
    "exam_scale_score": "考试量尺分",
    "fitness_score": "体测评分结果",  # the fitness module's scores (not an entity)
    "health_status": "健康筛查结果",  # the health module's screening (not an entity)
    "psych_result": "心理筛查结果",  # the psych module's scoring (not an entity)
    "referrals": "转介记录",
    "teacher_archive": "一师一档",
    "growth_score": "综合素质评价结果",
}


def _entity_labels() -> dict[str, str]:
    return {e.name: e.label for e in entities()}


def permission_label(permission: str) -> str:
    """`warnings:read` → 查看预警; a module's `students:read` → 查看学生 (by its records)."""
    if permission in PERMISSION_ZH:
        return PERMISSION_ZH[permission]
    noun, _, verb = permission.partition(":")
    labels = _entity_labels()
    singular = noun[:-1] if noun.endswith("s") else noun
    what = labels.get(singular) or labels.get(noun) or "这些记录"
    return ("查看" if verb == "read" else "管理") + what


def resource_label(resource: str) -> str:
    """An audited resource: an entity (学生), a permission (查看预警) or one of RESOURCE_ZH."""
    if resource in RESOURCE_ZH:
        return RESOURCE_ZH[resource]
    labels = _entity_labels()
    if resource in labels:
        return labels[resource]
    if ":" in resource:
        return permission_label(resource)
    return resource


def action_label(action: str) -> str:
    return ACTION_ZH.get(action, action)


def outcome_label(outcome: str) -> str:
    return OUTCOME_ZH.get(outcome, outcome)


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def entity_label(name: str | None) -> str:
    if not name:
        return ""
    return _entity_labels().get(name, name)


def source_label(services: Services, source: str | None) -> str:
    """A source system by its mapping's name (`xueji` → 学籍系统); standard files 标准格式."""
    if not source:
        return ""
    if source in RESOURCE_ZH:
        return RESOURCE_ZH[source]
    try:
        mappings = available_mappings(services.settings.workspace.mappings)
    except ConfigError:
        return source
    found = mappings.get(source)
    return found.label if found is not None else source


def _name_of(services: Services, entity_name: str, key_field: str, key: str) -> str | None:
    reader = services.reader
    if not reader.has_table(entity_name):
        return None
    t = reader.table(entity_name)
    rows = reader.rows(t.filter(t[key_field] == key).select("name").limit(1))
    return str(rows[0]["name"]) if rows and rows[0]["name"] else None


def scope_label(services: Services, scope: Scope, role: Role) -> str:
    """What a scope covers, by name: 示范一县, 青湖镇中心小学, 青湖镇中心小学 三年级2班,
    本人 or 子女 — never the stored key (`county:339901`)."""
    units = unit_registry()
    if scope.level in REGION_LEVELS:
        name = _name_of(services, units.region_entity, "region_code", scope.key)
        return name or {"province": "全省", "city": "全市", "county": "全县"}[scope.level.value]
    if scope.level is ScopeLevel.SCHOOL:
        return _name_of(services, units.school_entity, "school_code", scope.key) or "本校"
    if scope.level is ScopeLevel.CLASS:
        school, _year, grade, class_no = scope.class_key
        name = _name_of(services, units.school_entity, "school_code", school) or "本校"
        grade_name = code_tables()["grade"].codes.get(grade, "")
        return f"{name} {grade_name}{int(class_no)}班"
    return "子女" if role is Role.PARENT else "本人"


_LATIN = re.compile(r"[A-Za-z]")


_UNITS = re.compile(r"(?<![A-Za-z])(?:KB|MB|GB)(?![A-Za-z])")


def is_chinese_message(text: str) -> bool:
    """A message written for people in Chinese (no Latin word in it but a unit of size): shown
    on a zh page as it is; an English one is replaced by the page's Chinese words for its
    kind."""
    return bool(text) and not _LATIN.search(_UNITS.sub("", text))


_ENGLISH_TAIL = re.compile(r"\s*\((?=[a-z`'])(?:[^()]|\([^()]*\))*\)\s*$")


def chinese_part(text: str | None) -> str:
    """A Chinese-first message without its English gloss at the end (`表头缺少必需列 年级编号
    (its header lacks …)` → `表头缺少必需列 年级编号`): what a zh page shows of a message written
    for both languages. A message with no such tail is returned as it is."""
    if not text:
        return ""
    shorter = _ENGLISH_TAIL.sub("", text)
    return shorter if shorter and not is_chinese_message(text) else text


# What happened to a warning (indicators.warnings events) and who did it when no person did.
WARNING_EVENT_ZH: dict[str, str] = {
    "opened": "开启",
    "reopened": "重新开启",
    "updated": "级别变化",
    "auto_resolved": "重算后自动解除",
    "acknowledged": "认领",
    "resolved": "解决",
}
_LEVEL_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色"}


def warning_event(event: str, lang: str = "zh") -> str:
    """A warning event's name on the page (an unknown one as it is)."""
    return WARNING_EVENT_ZH.get(event, event) if lang == "zh" else event.replace("_", " ")


def warning_actor(who: str, lang: str = "zh") -> str:
    """Who: a person's name as it is; the system's recomputation as 系统."""
    return ("系统" if lang == "zh" else "system") if who == "system" else who


def warning_note(note: str | None, lang: str = "zh") -> str:
    """A note as written; the system's `was <level>` as 原为红色."""
    if not note:
        return ""
    if lang == "zh" and note.startswith("was ") and note[4:] in _LEVEL_ZH:
        return f"原为{_LEVEL_ZH[note[4:]]}"
    return note


# Why record linkage asks a person (govern.linkage, govern.steward).
MATCH_REASON_ZH: dict[str, str] = {
    "doubtful": "匹配存疑",
    "ambiguous": "可能与多人匹配，未自动合并",
    "grey band: not linked": "匹配概率处于存疑区间，未自动合并",
    "different permanent identifiers": "永久标识（身份证件号、J 学籍号）不同",
    "steward decided different": "已人工裁决为不同人",
    "both answer one occasion": "两条记录属于同一场次，不应是同一人",
    "both answer one occasion, neither by its own number": "两条记录属于同一场次，且都无本人学籍号",
}
# How two records compared on one field (the linkage model's comparison levels).
MATCH_LEVEL_ZH: dict[str, str] = {
    "same 学籍号 or ID number": "学籍号或身份证件号相同",
    "no permanent identifier on one side": "一方没有永久标识",
    "same pinyin (同音字)": "拼音相同（同音字）",
    "one character differs": "相差一个字",
    "same surname pinyin": "姓的拼音相同",
    "day and month swapped": "日与月颠倒",
    "same birth year": "出生年份相同",
    "same class": "同校同班",
    "All other comparisons": "其他情况",
}
# Comparisons of the linkage model that are not one field.
COMPARISON_ZH: dict[str, str] = {"identifier": "标识", "school_class": "学校与班级"}
_EXACT = re.compile(r"^Exact match on (\w+)$")
_NULL = re.compile(r"^(\w+) is NULL$")


def comparison_label(comparison: str) -> str:
    """A comparison by the field it compares (birth_date → 出生日期), `identifier` 标识."""
    if comparison in COMPARISON_ZH:
        return COMPARISON_ZH[comparison]
    for e in entities():
        if comparison in e.field_names:
            return e.field(comparison).label
    return comparison


def match_level(level: str) -> str:
    if level in MATCH_LEVEL_ZH:
        return MATCH_LEVEL_ZH[level]
    if (m := _EXACT.match(level)) is not None:
        return f"{comparison_label(m.group(1))}完全相同"
    if (m := _NULL.match(level)) is not None:
        return f"{comparison_label(m.group(1))}缺失"
    return level


def match_reason(reason: str | None) -> str:
    return MATCH_REASON_ZH.get(reason or "", reason or "")


SEARCH_HINTS = {
    "all": "学校名称或学校标识码、学生姓名或学籍号",
    "key": "学校名称或学校标识码、学籍号",
    "schools": "学校名称或学校标识码",
}


def search_hint(pupil_fields: list[str]) -> str:
    """What the search box finds for this caller (`search.searchable_pupil_fields`)."""
    if "name" in pupil_fields:
        return SEARCH_HINTS["all"]
    return SEARCH_HINTS["key"] if pupil_fields else SEARCH_HINTS["schools"]
