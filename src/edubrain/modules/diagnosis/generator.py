"""The diagnosis part of the synthetic region: a knowledge graph, item bank and practice log.

It writes the junior-middle mathematics knowledge graph, a practice item bank and the pupils'
practice responses (OUT/knowledge/), and the learner model's hidden state (OUT/truth/).

The graph follows the 人教版 junior-middle mathematics chapters (七/八/九年级, six chapters a
grade, eight knowledge points a chapter) and uses the codes the exam papers already carry
(`M7.3.2` = 七年级, chapter 3, point 2), so exam items and practice items share one graph.
Prerequisites: inside a chapter points 1→2→3→4→5 form a chain, point 6 builds on 3 and 5,
7 on 6, 8 on 4 and 7; a chapter's first point also needs the core point (5) of the chapters
listed in `CHAPTER_PREREQUISITES`.

Responses come from a known learner model (the truth the diagnosis is checked against):

- each pupil has an ability `a` (N(0,1) plus a school effect; rural schools sit 0.2 lower);
  each knowledge point a difficulty `d`;
- at the start of term a point is mastered with probability σ(a − d − 1.5), times 0.3 when a
  prerequisite practised this term is not mastered;
- pupils of the junior schools on the homework platform practise the first three chapters of
  their grade in curriculum order, each point until three answers in a row are right (at
  least 3, at most 8 items); an item is answered correctly with
  probability 1 − slip if every point it is tagged with is mastered, else with its guess rate;
- after each attempt an unmastered point is learned with probability σ(a − d)·0.35 when its
  prerequisites are mastered (·0.08 when not); nothing is forgotten.

The item bank and graph are the same in every region (a fixed seed: they are reference
content); the pupils' responses come from the county's own random stream.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table, cat, zpad
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart, RegionDraw
from edubrain.sources.generator.plan import HOMEWORK_DAYS
from edubrain.sources.generator.render import csv_lines

# Files of the knowledge-graph standard format (docs/diagnosis.md), written to OUT/knowledge/.
POINT_COLUMNS = (
    "kp_code",
    "subject",
    "grade_code",
    "chapter_no",
    "point_no",
    "chapter_name",
    "name",
)
PREREQUISITE_COLUMNS = ("kp_code", "prerequisite_code")
ITEM_COLUMNS = ("item_id", "subject", "grade_code", "knowledge_points")
RESPONSE_COLUMNS = ("student_number", "item_id", "answered_at", "correct")
# The standard entities of these files (the diagnosis module's), each written as <name>.csv.
KNOWLEDGE_ENTITIES = (
    "knowledge_point",
    "knowledge_prerequisite",
    "practice_item",
    "practice_response",
)
# Truth (OUT/truth/): the learner model's hidden state and item parameters.
MASTERY_COLUMNS = ("student_number", "kp_code", "mastered_start", "mastered_end")
ITEM_TRUTH_COLUMNS = ("item_id", "guess", "slip")

ITEM_BANK_SEED = 7_2025  # the bank is reference content, not part of a region's randomness
ITEMS_PER_POINT = 8
PRACTISED_CHAPTERS = (1, 2, 3)  # this term's chapters of each grade
GRADE_OF = {"M7": "21", "M8": "22", "M9": "23"}
RURAL_ABILITY_SHIFT = -0.2
# A point is practised until three answers in a row are right (as in a skill builder), at
# least MIN_ATTEMPTS and at most MAX_ATTEMPTS times.
STREAK_TO_PASS, MIN_ATTEMPTS, MAX_ATTEMPTS = 3, 3, 8

CHAPTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "M7.1": ("有理数", ("正数和负数", "有理数的概念", "数轴", "相反数", "绝对值",
                        "有理数的加减法", "有理数的乘除法", "有理数的乘方与混合运算")),
    "M7.2": ("整式的加减", ("用字母表示数", "代数式求值", "单项式", "多项式", "同类项",
                            "合并同类项", "去括号", "整式的加减运算")),
    "M7.3": ("一元一次方程", ("方程的概念", "等式的性质", "一元一次方程的概念", "移项",
                              "去括号与去分母", "解一元一次方程", "方程的检验",
                              "实际问题与一元一次方程")),
    "M7.4": ("几何图形初步", ("立体图形与平面图形", "展开图", "直线、射线、线段",
                              "线段的比较", "角的概念", "角的比较与运算", "余角和补角",
                              "方位角")),
    "M7.5": ("相交线与平行线", ("相交线", "对顶角", "垂线", "同位角、内错角、同旁内角",
                                "平行线的判定", "平行线的性质", "命题与定理", "平移")),
    "M7.6": ("实数", ("算术平方根", "平方根", "立方根", "无理数", "实数的概念",
                      "实数与数轴", "实数的运算", "估算")),
    "M8.1": ("三角形", ("三角形的边", "高、中线与角平分线", "三角形的稳定性",
                        "三角形的内角和", "三角形的外角", "多边形", "多边形的内角和",
                        "平面镶嵌")),
    "M8.2": ("全等三角形", ("全等形", "全等三角形的性质", "边边边", "边角边",
                            "角边角与角角边", "斜边直角边", "角平分线的性质",
                            "全等证明综合")),
    "M8.3": ("轴对称", ("轴对称图形", "线段的垂直平分线", "画轴对称图形",
                        "坐标中的轴对称", "等腰三角形的性质", "等腰三角形的判定",
                        "等边三角形", "最短路径问题")),
    "M8.4": ("整式的乘法与因式分解", ("同底数幂的乘法", "幂的乘方与积的乘方",
                                      "单项式乘法", "多项式乘法", "平方差公式",
                                      "完全平方公式", "提公因式法", "公式法分解因式")),
    "M8.5": ("分式", ("分式的概念", "分式的基本性质", "约分与通分", "分式的乘除",
                      "分式的加减", "整数指数幂", "分式方程", "分式方程的应用")),
    "M8.6": ("二次根式", ("二次根式的概念", "二次根式的性质", "二次根式的乘法",
                          "二次根式的除法", "最简二次根式", "二次根式的加减",
                          "二次根式的混合运算", "二次根式的应用")),
    "M9.1": ("一元二次方程", ("一元二次方程的概念", "直接开平方法", "配方法", "公式法",
                              "因式分解法", "根的判别式", "根与系数的关系",
                              "实际问题与一元二次方程")),
    "M9.2": ("二次函数", ("二次函数的概念", "y=ax²的图象", "顶点式的图象",
                          "一般式与配方", "二次函数的性质", "待定系数法",
                          "二次函数与一元二次方程", "实际问题与二次函数")),
    "M9.3": ("旋转", ("旋转的概念", "旋转的性质", "中心对称", "中心对称图形",
                      "关于原点对称的点", "旋转作图", "图案设计", "旋转综合")),
    "M9.4": ("圆", ("圆的有关概念", "垂径定理", "弧、弦、圆心角", "圆周角",
                    "点与圆的位置关系", "直线与圆的位置关系", "切线的性质与判定",
                    "弧长和扇形面积")),
    "M9.5": ("概率初步", ("随机事件", "概率的意义", "列举法求概率", "列表法", "树状图法",
                          "用频率估计概率", "概率的应用", "统计与概率综合")),
    "M9.6": ("相似", ("图形的相似", "比例线段", "相似三角形的判定", "相似三角形的性质",
                      "相似的应用", "位似", "位似作图", "相似综合")),
}  # fmt: skip
CHAPTER_PREREQUISITES: dict[str, tuple[str, ...]] = {
    "M7.2": ("M7.1",),
    "M7.3": ("M7.2",),
    "M7.5": ("M7.4",),
    "M7.6": ("M7.1",),
    "M8.1": ("M7.5",),
    "M8.2": ("M8.1",),
    "M8.3": ("M8.2",),
    "M8.4": ("M7.2",),
    "M8.5": ("M8.4", "M7.3"),
    "M8.6": ("M7.6", "M8.4"),
    "M9.1": ("M8.4", "M8.6"),
    "M9.2": ("M9.1",),
    "M9.3": ("M8.3",),
    "M9.4": ("M9.3", "M8.2"),
    "M9.5": ("M7.1",),
    "M9.6": ("M8.2", "M8.5"),
}
_WITHIN_CHAPTER = {2: (1,), 3: (2,), 4: (3,), 5: (4,), 6: (3, 5), 7: (6,), 8: (4, 7)}


@dataclass(frozen=True)
class ItemBank:
    points: Table  # kp_code, subject, grade_code, chapter_no, point_no, chapter_name, name
    prerequisites: Table  # kp_code, prerequisite_code
    items: Table  # item_id, subject, grade_code, knowledge_points (+ hidden _guess, _slip, _kp)
    difficulty: Array  # per point (points order)


def knowledge_graph() -> tuple[Table, Table]:
    """The junior-middle mathematics graph: points and prerequisite edges."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for chapter, (chapter_name, names) in CHAPTERS.items():
        for p, name in enumerate(names, start=1):
            rows.append((f"{chapter}.{p}", GRADE_OF[chapter[:2]], chapter[3:], str(p),
                         chapter_name, name))  # fmt: skip
    edges: list[tuple[str, str]] = []
    for chapter in CHAPTERS:
        for p, needs in _WITHIN_CHAPTER.items():
            edges += [(f"{chapter}.{p}", f"{chapter}.{q}") for q in needs]
        edges += [(f"{chapter}.1", f"{pre}.5") for pre in CHAPTER_PREREQUISITES.get(chapter, ())]
    points: Table = {
        "kp_code": np.array([r[0] for r in rows], dtype=STR),
        "subject": np.full(len(rows), "math", dtype=STR),
        "grade_code": np.array([r[1] for r in rows], dtype=STR),
        "chapter_no": np.array([r[2] for r in rows], dtype=STR),
        "point_no": np.array([r[3] for r in rows], dtype=STR),
        "chapter_name": np.array([r[4] for r in rows], dtype=STR),
        "name": np.array([r[5] for r in rows], dtype=STR),
    }
    prerequisites: Table = {
        "kp_code": np.array([e[0] for e in edges], dtype=STR),
        "prerequisite_code": np.array([e[1] for e in edges], dtype=STR),
    }
    return points, prerequisites


def item_bank() -> ItemBank:
    """Eight practice items per point; two of them also exercise one prerequisite."""
    rng = np.random.default_rng(ITEM_BANK_SEED)
    points, prerequisites = knowledge_graph()
    codes = points["kp_code"]
    n = codes.size
    point_no = points["point_no"].astype(np.int64)
    difficulty = -0.6 + 0.15 * point_no + rng.normal(0, 0.3, n)
    index = {str(c): i for i, c in enumerate(codes)}
    pre_of: dict[int, list[int]] = {}
    for k, p in zip(prerequisites["kp_code"], prerequisites["prerequisite_code"], strict=True):
        pre_of.setdefault(index[str(k)], []).append(index[str(p)])
    kp = np.repeat(np.arange(n), ITEMS_PER_POINT)
    j = np.tile(np.arange(1, ITEMS_PER_POINT + 1), n)
    tags = codes[kp].astype(STR)
    second = np.full(kp.size, -1)
    for i in np.flatnonzero(j > ITEMS_PER_POINT - 2):
        pres = pre_of.get(int(kp[i]), [])
        if pres:
            second[i] = pres[int(rng.integers(0, len(pres)))]
    has = second >= 0
    tags[has] = cat(tags[has], ";", codes[second[has]])
    items: Table = {
        "item_id": cat("SX-", codes[kp], "-", zpad(j, 2)),
        "subject": np.full(kp.size, "math", dtype=STR),
        "grade_code": points["grade_code"][kp],
        "knowledge_points": tags,
        "_kp": kp,
        "_kp2": second,
        "_guess": rng.uniform(0.08, 0.25, kp.size),
        "_slip": rng.uniform(0.04, 0.15, kp.size),
    }
    return ItemBank(points, prerequisites, items, difficulty)


def practice(
    bank: ItemBank,
    students: Table,
    schools: Table,
    platform_schools: Array,
    rng: np.random.Generator,
) -> tuple[Table, Table]:
    """Practice responses of the platform's junior pupils, and their true mastery.

    Returns (responses: student_number, item_id, answered_at, correct;
    mastery: student_number, kp_code, mastered_start, mastered_end).
    """
    n_all = len(students["sex"])
    school_effect = rng.normal(0, 0.3, len(schools["school_code"]))
    school_effect += np.where(schools["urban_rural"] == "rural", RURAL_ABILITY_SHIFT, 0.0)
    ability = rng.standard_normal(n_all) + school_effect[students["_school"]]
    on_platform = np.isin(students["_school"], platform_schools)
    chapter = bank.points["chapter_no"].astype(np.int64)
    resp_parts: list[Table] = []
    mastery_parts: list[Table] = []
    for grade in ("21", "22", "23"):
        who = np.flatnonzero(
            on_platform & (students["status"] == "enrolled") & (students["grade_code"] == grade)
        )
        if who.size == 0:
            continue
        kps = np.flatnonzero(
            (bank.points["grade_code"] == grade) & np.isin(chapter, PRACTISED_CHAPTERS)
        )
        r, m = _practise_grade(bank, kps, who, ability[who], students, rng)
        resp_parts.append(r)
        mastery_parts.append(m)
    empty_r: Table = {
        k: np.zeros(0, dtype=STR) for k in ("student_number", "item_id", "answered_at", "correct")
    }
    empty_m: Table = {
        k: np.zeros(0, dtype=STR)
        for k in ("student_number", "kp_code", "mastered_start", "mastered_end")
    }
    return _concat(resp_parts, empty_r), _concat(mastery_parts, empty_m)


def _concat(parts: list[Table], empty: Table) -> Table:
    if not parts:
        return empty
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _practise_grade(
    bank: ItemBank,
    kps: Array,
    who: Array,
    ability: Array,
    students: Table,
    rng: np.random.Generator,
) -> tuple[Table, Table]:
    n = who.size
    local = {int(k): j for j, k in enumerate(kps)}
    pre_local: list[list[int]] = [[] for _ in kps]
    index = {str(c): i for i, c in enumerate(bank.points["kp_code"])}
    for k, p in zip(
        bank.prerequisites["kp_code"], bank.prerequisites["prerequisite_code"], strict=True
    ):
        kk, pp = index[str(k)], index[str(p)]
        if kk in local and pp in local:
            pre_local[local[kk]].append(local[pp])
    d = bank.difficulty[kps]
    start = np.zeros((n, kps.size), dtype=bool)
    for j in range(kps.size):  # points are in curriculum (topological) order
        p0 = 1 / (1 + np.exp(-(ability - d[j] - 1.5)))
        if pre_local[j]:
            p0 = np.where(start[:, pre_local[j]].all(axis=1), p0, 0.3 * p0)
        start[:, j] = rng.random(n) < p0
    state = start.copy()
    items = bank.items
    item_of_kp = [np.flatnonzero(items["_kp"] == k) for k in kps]
    stu_l: list[Array] = []
    item_l: list[Array] = []
    correct_l: list[Array] = []
    step_l: list[Array] = []
    step = 0
    for j in range(kps.size):
        streak = np.zeros(n, dtype=np.int64)
        for t in range(MAX_ATTEMPTS):
            act = np.flatnonzero(streak < STREAK_TO_PASS) if t >= MIN_ATTEMPTS else np.arange(n)
            if act.size == 0:
                break
            choice = item_of_kp[j][rng.integers(0, item_of_kp[j].size, act.size)]
            k2 = items["_kp2"][choice]
            both = state[act, j].copy()
            in_grade = np.array([local.get(int(x), -1) for x in k2], dtype=np.int64)
            has2 = in_grade >= 0
            both[has2] &= state[act[has2], in_grade[has2]]
            p = np.where(both, 1 - items["_slip"][choice], items["_guess"][choice])
            correct = rng.random(act.size) < p
            streak[act] = np.where(correct, streak[act] + 1, 0)
            stu_l.append(act)
            item_l.append(choice)
            correct_l.append(correct.astype(np.int64))
            step_l.append(np.full(act.size, step))
            step += 1
            ready = (
                state[act][:, pre_local[j]].all(axis=1) if pre_local[j] else np.ones(act.size, bool)
            )
            p_learn = np.where(ready, 0.35, 0.08) / (1 + np.exp(-(ability[act] - d[j])))
            learn = ~state[act, j] & (rng.random(act.size) < p_learn)
            state[act[learn], j] = True
    stu = np.concatenate(stu_l)
    item = np.concatenate(item_l)
    order = np.lexsort((np.concatenate(step_l), stu))
    stu, item, correct = stu[order], item[order], np.concatenate(correct_l)[order]
    seq = np.arange(stu.size) - np.searchsorted(stu, stu, "left")
    per_day = max(1, int(np.ceil((seq.max() + 1) / HOMEWORK_DAYS.size)))
    day = HOMEWORK_DAYS[np.minimum(seq // per_day, HOMEWORK_DAYS.size - 1)]
    seconds = 19 * 3600 + (seq % per_day) * 90
    answered = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    responses: Table = {
        "student_number": students["student_number"][who[stu]],
        "item_id": items["item_id"][item],
        "answered_at": np.datetime_as_string(answered).astype(STR),
        "correct": correct.astype(STR),
    }
    s_idx, k_idx = np.meshgrid(np.arange(n), np.arange(kps.size), indexing="ij")
    mastery: Table = {
        "student_number": students["student_number"][who[s_idx.ravel()]],
        "kp_code": bank.points["kp_code"][kps[k_idx.ravel()]],
        "mastered_start": start.ravel().astype(np.int64).astype(STR),
        "mastered_end": state.ravel().astype(np.int64).astype(STR),
    }
    return responses, mastery


def _write_csv(path: Path, header: tuple[str, ...], table: Table, with_header: bool = True) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [np.asarray(table[c]).astype(STR) for c in header]
    n = int(cols[0].size) if cols else 0
    with path.open("wb") as fh:
        if with_header:
            fh.write((",".join(header) + "\n").encode("utf-8"))
        for lo in range(0, n, 1_000_000):
            lines = csv_lines([c[lo : lo + 1_000_000] for c in cols])
            fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    return n


def write_county_parts(out: Path, county_code: str, responses: Table, mastery: Table) -> None:
    """One county's responses and true mastery, as header-less parts merged later."""
    parts = out / "knowledge" / ".parts"
    _write_csv(parts / "practice_response" / f"{county_code}.csv", RESPONSE_COLUMNS, responses,
               with_header=False)  # fmt: skip
    _write_csv(parts / "knowledge_mastery" / f"{county_code}.csv", MASTERY_COLUMNS, mastery,
               with_header=False)  # fmt: skip


def write_region_files(out: Path, county_codes: list[str]) -> dict[str, int]:
    """The graph, the item bank, merged responses (knowledge/) and truth; rows per file."""
    bank = item_bank()
    k = out / "knowledge"
    files = {
        "knowledge/knowledge_point.csv": _write_csv(
            k / "knowledge_point.csv", POINT_COLUMNS, bank.points
        ),
        "knowledge/knowledge_prerequisite.csv": _write_csv(
            k / "knowledge_prerequisite.csv", PREREQUISITE_COLUMNS, bank.prerequisites
        ),
        "knowledge/practice_item.csv": _write_csv(
            k / "practice_item.csv", ITEM_COLUMNS, bank.items
        ),
    }
    truth_items: Table = {
        "item_id": bank.items["item_id"],
        "guess": np.round(bank.items["_guess"], 4),
        "slip": np.round(bank.items["_slip"], 4),
    }
    _write_csv(out / "truth" / "practice_item_parameters.csv", ITEM_TRUTH_COLUMNS, truth_items)
    for name, header, target in (
        ("practice_response", RESPONSE_COLUMNS, k / "practice_response.csv"),
        ("knowledge_mastery", MASTERY_COLUMNS, out / "truth" / "knowledge_mastery.csv"),
    ):
        rows = 0
        with target.open("wb") as fh:
            fh.write((",".join(header) + "\n").encode("utf-8"))
            for code in county_codes:
                part = k / ".parts" / name / f"{code}.csv"
                if part.exists():
                    data = part.read_bytes()
                    rows += data.count(b"\n")
                    fh.write(data)
        if name == "practice_response":
            files["knowledge/practice_response.csv"] = rows
    shutil.rmtree(k / ".parts", ignore_errors=True)
    # The knowledge folder carries no injected faults: it is also the truth of its entities.
    for name in KNOWLEDGE_ENTITIES:
        _link_or_copy(k / f"{name}.csv", out / "truth" / f"{name}.csv")
    return files


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    # The pupils on the homework platform practise; without the homework module, every school.
    platform = draw.shared.get(PLATFORM_SCHOOLS)
    if platform is None:
        platform = np.arange(len(world.schools["school_code"]))
    responses, mastery = practice(
        item_bank(), world.students, world.schools, platform, draw.stream(10)
    )
    write_county_parts(draw.out, draw.county.code, responses, mastery)


def region(draw: RegionDraw) -> None:
    files = write_region_files(draw.out, [c.code for c in draw.counties])
    draw.files.update(files)
    for name in KNOWLEDGE_ENTITIES:  # their truth is the knowledge folder
        draw.entities[name] = files[f"knowledge/{name}.csv"]


PLATFORM_SCHOOLS = "homework platform schools"  # what the homework part leaves, if installed
README = """\
* `knowledge/` — the junior-middle mathematics knowledge graph, its practice item bank and the
  platform pupils' practice responses in the knowledge-folder format of docs/diagnosis.md: the
  standard files of the entities knowledge_point, knowledge_prerequisite, practice_item and
  practice_response (no injected faults, so they are also their truth files);
  `truth/knowledge_mastery.csv` (each pupil's true mastery of every practised
  point at the start and end of term) and `truth/practice_item_parameters.csv` (each item's
  guess and slip) are the learner model's hidden state.
"""
PART = GeneratorPart(
    county,
    region,
    streams=(10,),
    after=("homework",),
    own_truth=KNOWLEDGE_ENTITIES,
    folders=("knowledge",),
    readme=README,
)
