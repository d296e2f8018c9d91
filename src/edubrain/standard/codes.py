"""Code tables of the data standard: national ones from packaged CSVs, local ones defined here.

National tables (GB/T 2261.1 sex, GB/T 3304 ethnicity, 年级编号) are copied from
`shared/reference/codes/` (see SOURCES.md there). GB/T 2260 region codes are checked by form
and province prefix, because a full division list is not shipped: a bureau's own region file
(the `region` entity) is the authority for its counties.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class CodeTable:
    """A controlled vocabulary: code → Chinese label."""

    name: str
    label: str
    source: str
    codes: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    """Common local spellings → code (七年级 → 21, 男 → 1); used with a mapping's `labels: true`."""

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def label_lookup(self) -> dict[str, str]:
        """Chinese label or alias → code."""
        lookup = {label: code for code, label in self.codes.items()}
        lookup.update(self.aliases)
        return lookup


def _packaged_csv(file_name: str) -> list[dict[str, str]]:
    text = (
        resources.files("edubrain.standard")
        .joinpath("codes")
        .joinpath(file_name)
        .read_text("utf-8")
    )
    return list(csv.DictReader(text.splitlines()))


def _national(
    name: str, label: str, source: str, file_name: str, key: str, value: str
) -> CodeTable:
    rows = _packaged_csv(file_name)
    return CodeTable(name, label, source, {r[key]: r[value] for r in rows})


# Province-level divisions of GB/T 2260 (the first two digits of every division code).
PROVINCE_CODES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip


def _local(name: str, label: str, codes: dict[str, str]) -> CodeTable:
    return CodeTable(name, label, "edubrain local vocabulary", codes)


@cache
def code_tables() -> dict[str, CodeTable]:
    """All code tables by name. Cached: the tables are immutable."""
    tables = [
        _national("sex", "性别", "GB/T 2261.1", "sex_gbt2261_1.csv", "code", "name"),
        _national("ethnicity", "民族", "GB/T 3304", "ethnicity_gbt3304.csv", "code", "name"),
        _national(
            "grade", "年级编号", "国家学生体质健康标准 上报年级编号", "grade_codes.csv",
            "grade_code", "grade_name",
        ),
        CodeTable("province", "省级行政区划", "GB/T 2260 (first two digits)", PROVINCE_CODES),
        _local("stage", "学段", {"primary": "小学", "junior": "初中", "senior": "高中"}),
        _local("urban_rural", "城乡类型", {"urban": "城区", "town": "镇区", "rural": "乡村"}),
        _local("region_level", "行政区划级别", {
            "province": "省级", "prefecture": "地级", "county": "县级"}),
        _local("student_status", "学籍状态", {
            "enrolled": "在读", "transferred_out": "转出", "suspended": "休学",
            "graduated": "毕业", "dropped_out": "辍学"}),
        _local("guardian_relation", "与学生关系", {
            "father": "父亲", "mother": "母亲", "grandparent": "祖父母/外祖父母",
            "other": "其他监护人"}),
        _local("education", "学历", {
            "postgraduate": "研究生", "bachelor": "本科", "associate": "专科",
            "secondary": "高中及以下"}),
        _local("title", "专业技术职务", {
            "senior_professor": "正高级教师", "senior": "高级教师", "first": "一级教师",
            "second": "二级教师", "third": "三级教师", "none": "未定级"}),
        _local("backbone", "骨干教师级别", {
            "none": "无", "school": "校级", "county": "县级", "city": "市级", "province": "省级"}),
        _local("post", "岗位类别", {
            "teacher": "专任教师", "admin": "行政人员", "support": "教辅人员",
            "worker": "工勤人员"}),
        _local("subject", "学科", {
            "chinese": "语文", "math": "数学", "english": "英语", "physics": "物理",
            "chemistry": "化学", "biology": "生物", "history": "历史", "geography": "地理",
            "politics": "道德与法治/思想政治", "science": "科学", "pe": "体育与健康",
            "music": "音乐", "art": "美术", "it": "信息科技", "labour": "劳动",
            "other": "其他"}),
        _local("item_type", "题型", {"objective": "客观题", "subjective": "主观题"}),
        _local("term", "学期", {"1": "第一学期", "2": "第二学期"}),
        _local("attendance_status", "考勤状态", {
            "present": "出勤", "late": "迟到", "sick_leave": "病假",
            "personal_leave": "事假", "absent": "旷课"}),
        _local("fitness_exemption", "体测免测情况", {
            "exempt": "免予执行", "deferred": "暂缓执行"}),
        _local("training_kind", "培训类别", {
            "ict2": "信息技术应用能力提升工程2.0", "ict_provincial": "省级信息技术应用能力培训",
            "digital": "数字素养培训", "subject": "学科教学培训", "ethics": "师德师风培训",
            "other": "其他培训"}),
        _local("training_level", "培训级别", {
            "national": "国家级", "province": "省级", "city": "市级", "county": "县级",
            "school": "校级"}),
        _local("training_result", "培训结果", {
            "passed": "合格", "failed": "不合格", "incomplete": "未完成"}),
        _local("literacy_level", "数字素养测评等级", {
            "excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}),
        _local("growth_domain", "综合素质评价维度", {
            "moral": "德", "intellectual": "智", "physical": "体", "aesthetic": "美",
            "labour": "劳"}),
        _local("growth_submitter", "写实记录提交方", {
            "pupil": "学生本人", "teacher": "教师", "system": "系统导入"}),
    ]  # fmt: skip
    by_name = {t.name: t for t in tables}
    for name, aliases in _ALIASES.items():
        by_name[name] = replace(by_name[name], aliases=aliases)
    return by_name


_ALIASES: dict[str, dict[str, str]] = {
    "sex": {"男": "1", "女": "2"},
    "grade": {
        "一年级": "11", "二年级": "12", "三年级": "13", "四年级": "14", "五年级": "15",
        "六年级": "16", "七年级": "21", "八年级": "22", "九年级": "23", "初一": "21",
        "初二": "22", "初三": "23", "高一": "31", "高二": "32", "高三": "33",
        "高中一年级": "31", "高中二年级": "32", "高中三年级": "33",
    },
    "education": {
        "博士研究生": "postgraduate", "硕士研究生": "postgraduate", "大学本科": "bachelor",
        "大学专科": "associate", "中专": "secondary", "高中": "secondary",
    },
    "title": {"正高级": "senior_professor", "高级": "senior", "一级": "first", "二级": "second",
              "三级": "third", "中学高级教师": "senior", "中学一级教师": "first",
              "小学高级教师": "first"},
    "term": {"上学期": "1", "下学期": "2", "秋季学期": "1", "春季学期": "2"},
    "student_status": {"在校": "enrolled"},
    "subject": {"道德与法治": "politics", "思想政治": "politics", "政治": "politics",
                "体育": "pe", "信息技术": "it", "综合实践": "other"},
    "fitness_exemption": {"免测": "exempt", "免予测试": "exempt", "免考": "exempt",
                          "缓测": "deferred", "暂缓测试": "deferred", "暂缓": "deferred"},
    "training_kind": {"提升工程2.0": "ict2", "能力提升工程2.0": "ict2",
                      "信息技术应用能力提升工程": "ict2", "数字素养": "digital"},
    "training_result": {"结业": "passed", "通过": "passed", "未通过": "failed",
                        "未结业": "incomplete"},
    "growth_domain": {"品德发展": "moral", "思想品德": "moral", "学业发展": "intellectual",
                      "学业水平": "intellectual", "身心健康": "physical", "艺术素养": "aesthetic",
                      "审美素养": "aesthetic", "劳动实践": "labour", "社会实践": "labour"},
    "growth_submitter": {"学生": "pupil", "本人": "pupil", "班主任": "teacher", "系统": "system"},
    "literacy_level": {"达标": "pass", "未达标": "fail", "及格": "pass", "不及格": "fail"},
    "guardian_relation": {"祖父": "grandparent", "祖母": "grandparent",
                          "外祖父": "grandparent", "外祖母": "grandparent"},
}  # fmt: skip


def code_table(name: str) -> CodeTable:
    return code_tables()[name]


def grade_stage(grade_code: str) -> str | None:
    """学段 of a 年级编号: 1x → primary, 2x → junior, 3x → senior."""
    return {"1": "primary", "2": "junior", "3": "senior"}.get(grade_code[:1])


def grade_year_index(grade_code: str) -> int | None:
    """Years of schooling a grade stands for: 11 → 1 … 16 → 6, 21 → 7 … 23 → 9, 31 → 10 …"""
    if len(grade_code) != 2 or not grade_code.isdigit():
        return None
    offset = {"1": 0, "2": 6, "3": 9}.get(grade_code[0])
    if offset is None:
        return None
    return offset + int(grade_code[1])
