"""The knowledge graph (学科知识图谱) and the practice files, in their standard format.

A knowledge folder holds UTF-8 CSV files with a header row (docs/diagnosis.md):

    knowledge_point.csv         kp_code, subject, grade_code, chapter_no, point_no,
                                chapter_name, name
    knowledge_prerequisite.csv  kp_code, prerequisite_code   (an edge: learn the second first)
    practice_item.csv           item_id, subject, grade_code, knowledge_points (';'-joined
                                codes, as exam_item.knowledge_points, the item's main point
                                first) — the Q-matrix
    practice_response.csv       student_number, item_id, answered_at (ISO), correct (0/1)

The four files are the standard entities of the same names (the `diagnosis` module declares
them), so `edubrain ingest FOLDER` loads a knowledge folder into the warehouse, where it is
quality-checked like any other data; `read_knowledge` and `read_practice` read it back from
there (the fit's input). `load_knowledge` and `load_practice` read a folder directly.

Loading checks every reference (unknown codes, items without points, cycles) and reports all
problems of a file at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from edubrain.diagnosis.responses import IntArray, ResponseLog
from edubrain.errors import DiagnosisInputError
from edubrain.warehouse.api import Tables

StrArray = npt.NDArray[np.str_]
# The warehouse tables (standard entities) and the files of a knowledge folder named after them.
POINT_TABLE = "knowledge_point"
PREREQUISITE_TABLE = "knowledge_prerequisite"
ITEM_TABLE = "practice_item"
RESPONSE_TABLE = "practice_response"
POINT_FILE = f"{POINT_TABLE}.csv"
PREREQUISITE_FILE = f"{PREREQUISITE_TABLE}.csv"
ITEM_FILE = f"{ITEM_TABLE}.csv"
RESPONSE_FILE = f"{RESPONSE_TABLE}.csv"
UNKNOWN_GRADE = "unknown"
REQUIRED = {
    POINT_FILE: ("kp_code", "subject", "grade_code", "name"),
    PREREQUISITE_FILE: ("kp_code", "prerequisite_code"),
    ITEM_FILE: ("item_id", "knowledge_points"),
    RESPONSE_FILE: ("student_number", "item_id", "answered_at", "correct"),
}


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """Knowledge points (in a topological order of the prerequisite edges) and the edges."""

    codes: StrArray
    names: StrArray
    subject: StrArray
    grade_code: StrArray
    prerequisites: tuple[IntArray, ...]  # per point, indices of its direct prerequisites

    @property
    def size(self) -> int:
        return int(self.codes.size)

    def index(self, codes: npt.ArrayLike) -> IntArray:
        """Index of each code (−1 for an unknown code)."""
        lookup = {str(c): i for i, c in enumerate(self.codes)}
        return np.array([lookup.get(str(c), -1) for c in np.atleast_1d(codes)], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class ItemBank:
    item_ids: StrArray
    q_matrix: sparse.csr_array  # items × knowledge points
    primary: IntArray  # per item, its main point: the first code listed

    def points_of(self, item: int) -> IntArray:
        q = self.q_matrix
        out: IntArray = q.indices[q.indptr[item] : q.indptr[item + 1]].astype(np.int64)
        return out


@dataclass(frozen=True, eq=False)
class Practice:
    """Responses as a model-ready log, with the student numbers behind its indices."""

    log: ResponseLog
    student_numbers: StrArray  # log.student indexes this
    answered_at: npt.NDArray[np.datetime64]
    skipped: int = 0  # responses left out: their item is not in the item bank


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.exists():
        raise DiagnosisInputError(f"{path}: missing (a knowledge folder needs {name})")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DiagnosisInputError(f"{path}: not a UTF-8 CSV file ({e})") from e
    missing = [c for c in REQUIRED[name] if c not in frame.columns]
    if missing:
        raise DiagnosisInputError(f"{path}: missing columns {', '.join(missing)}")
    return frame


def build_graph(points: pd.DataFrame, edges: pd.DataFrame, where: str = "") -> KnowledgeGraph:
    """Graph from point and edge tables; points are reordered topologically (stable)."""
    problems: list[str] = []
    codes = points["kp_code"].str.strip().to_numpy(dtype=np.str_)
    uniq, counts = np.unique(codes, return_counts=True)
    problems += [
        f"kp_code {c} appears {n} times" for c, n in zip(uniq, counts, strict=True) if n > 1
    ]
    position = {str(c): i for i, c in enumerate(codes)}
    pre: list[set[int]] = [set() for _ in codes]
    for row, (k, p) in enumerate(
        zip(edges["kp_code"].str.strip(), edges["prerequisite_code"].str.strip(), strict=True),
        start=2,
    ):
        if k not in position or p not in position:
            unknown = k if k not in position else p
            problems.append(f"{PREREQUISITE_FILE} row {row}: unknown kp_code {unknown}")
        elif k == p:
            problems.append(f"{PREREQUISITE_FILE} row {row}: {k} is its own prerequisite")
        else:
            pre[position[k]].add(position[p])
    order = _topological(pre)
    if order is None:
        problems.append("the prerequisite edges contain a cycle")
    if problems:
        raise DiagnosisInputError(f"{where}knowledge graph: " + "; ".join(problems[:10]))
    assert order is not None
    new_index = np.empty(len(order), dtype=np.int64)
    new_index[order] = np.arange(len(order))
    return KnowledgeGraph(
        codes=codes[order],
        names=points["name"].to_numpy(dtype=np.str_)[order],
        subject=points["subject"].to_numpy(dtype=np.str_)[order],
        grade_code=points["grade_code"].to_numpy(dtype=np.str_)[order],
        prerequisites=tuple(np.sort(new_index[sorted(pre[i])]).astype(np.int64) for i in order),
    )


def _topological(pre: list[set[int]]) -> list[int] | None:
    """Kahn's algorithm, taking the lowest original index first (stable); None on a cycle."""
    import heapq

    n = len(pre)
    remaining = [len(p) for p in pre]
    dependants: list[list[int]] = [[] for _ in range(n)]
    for k, ps in enumerate(pre):
        for p in ps:
            dependants[p].append(k)
    ready = [k for k in range(n) if remaining[k] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for d in dependants[k]:
            remaining[d] -= 1
            if remaining[d] == 0:
                heapq.heappush(ready, d)
    return order if len(order) == n else None


def build_items(items: pd.DataFrame, graph: KnowledgeGraph, where: str = "") -> ItemBank:
    problems: list[str] = []
    rows: list[int] = []
    cols: list[int] = []
    primary = np.full(len(items), -1, dtype=np.int64)
    ids = items["item_id"].str.strip().to_numpy(dtype=np.str_)
    for i, tags in enumerate(items["knowledge_points"]):
        codes = [t.strip() for t in str(tags).split(";") if t.strip()]
        if not codes:
            problems.append(f"{ITEM_FILE} row {i + 2}: item {ids[i]} has no knowledge point")
        for code, k in zip(codes, graph.index(codes), strict=True):
            if k < 0:
                problems.append(f"{ITEM_FILE} row {i + 2}: unknown knowledge point {code}")
            else:
                rows.append(i)
                cols.append(int(k))
                if primary[i] < 0:
                    primary[i] = int(k)
    if np.unique(ids).size != ids.size:
        problems.append(f"{ITEM_FILE}: duplicate item_id")
    if problems:
        raise DiagnosisInputError(f"{where}items: " + "; ".join(problems[:10]))
    q = sparse.csr_array(
        (np.ones(len(rows)), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
        shape=(ids.size, graph.size),
    )
    q.sum_duplicates()
    q.data[:] = 1.0
    return ItemBank(ids, q, primary)


def load_knowledge(folder: Path) -> tuple[KnowledgeGraph, ItemBank]:
    """Read and check the graph and the item bank of a knowledge folder."""
    folder = Path(folder)
    graph = build_graph(
        _read(folder, POINT_FILE), _read(folder, PREREQUISITE_FILE), where=f"{folder}: "
    )
    return graph, build_items(_read(folder, ITEM_FILE), graph, where=f"{folder}: ")


def load_practice(folder: Path, items: ItemBank) -> Practice:
    """Read the responses; rows with an unknown item or a correct value not 0/1 are refused."""
    path = Path(folder) / RESPONSE_FILE
    frame = _read(Path(folder), RESPONSE_FILE)
    lookup = {str(c): i for i, c in enumerate(items.item_ids)}
    item = np.array([lookup.get(x, -1) for x in frame["item_id"].str.strip()], dtype=np.int64)
    correct = frame["correct"].str.strip()
    bad_item = np.flatnonzero(item < 0)
    bad_correct = np.flatnonzero(~correct.isin(["0", "1"]).to_numpy())
    answered = pd.to_datetime(frame["answered_at"], errors="coerce")
    bad_time = np.flatnonzero(answered.isna().to_numpy())
    problems = [f"row {r + 2}: unknown item_id" for r in bad_item[:3]]
    problems += [f"row {r + 2}: correct must be 0 or 1" for r in bad_correct[:3]]
    problems += [f"row {r + 2}: answered_at is not a date-time" for r in bad_time[:3]]
    if problems:
        raise DiagnosisInputError(f"{path}: " + "; ".join(problems))
    numbers, student = np.unique(frame["student_number"].str.strip().to_numpy(dtype=np.str_),
                                 return_inverse=True)  # fmt: skip
    when = answered.to_numpy(dtype="datetime64[s]")
    order = np.lexsort((np.arange(item.size), when, student))
    log = ResponseLog(
        student[order].astype(np.int64),
        item[order],
        correct.to_numpy(dtype=np.int64)[order],
        items.q_matrix,
    )
    return Practice(log, numbers.astype(np.str_), when[order])


# ---- from the warehouse ----------------------------------------------------------------------


def _text_frame(
    wh: Tables, name: str, columns: Sequence[str], order: Sequence[str]
) -> pd.DataFrame:
    """Columns of a warehouse table as text (empty for null), in a fixed order."""
    t = wh.table(name)
    data = t.select(*dict.fromkeys([*columns, *order])).order_by(list(order)).to_pyarrow()
    return pd.DataFrame(
        {
            c: pc.fill_null(pc.cast(data.column(c), pa.string()), "").to_numpy(zero_copy_only=False)
            for c in columns
        },
        dtype=object,
    )


def read_knowledge(wh: Tables) -> tuple[KnowledgeGraph, ItemBank, StrArray]:
    """The graph, the item bank and each item's grade (UNKNOWN_GRADE where not given), from the
    warehouse's knowledge tables. Points are taken in curriculum order (grade, chapter, point)
    before the topological sort, as a knowledge folder lists them."""
    curriculum = ("grade_code", "chapter_no", "point_no", "kp_code")
    points = _text_frame(wh, POINT_TABLE, ("kp_code", "subject", "grade_code", "name"), curriculum)
    if points.empty:
        raise DiagnosisInputError(
            "工作区还没有知识图谱：请先运行 edubrain diagnose fit 知识文件夹（或 edubrain ingest "
            "知识文件夹） — the warehouse holds no knowledge graph: ingest a knowledge folder first"
        )
    edges = _text_frame(
        wh, PREREQUISITE_TABLE, ("kp_code", "prerequisite_code"), ("kp_code", "prerequisite_code")
    )
    graph = build_graph(points, edges, where="warehouse: ")
    items = _text_frame(wh, ITEM_TABLE, ("item_id", "grade_code", "knowledge_points"), ("item_id",))
    bank = build_items(items, graph, where="warehouse: ")
    grade = items["grade_code"].replace("", UNKNOWN_GRADE).to_numpy(dtype=np.str_)
    return graph, bank, grade


def read_practice(wh: Tables, items: ItemBank) -> Practice:
    """The practice responses in the warehouse, by student and time; a response whose item is
    not in the bank is left out (and counted: the quality rules list it)."""
    data = (
        wh.table(RESPONSE_TABLE)
        .select("student_number", "item_id", "answered_at", "correct")
        .order_by(["student_number", "answered_at", "item_id"])
        .to_pyarrow()
    )
    if data.num_rows == 0:
        raise DiagnosisInputError(
            "工作区还没有练习作答：请先运行 edubrain diagnose fit 知识文件夹（或 edubrain ingest "
            "知识文件夹） — the warehouse holds no practice responses: "
            "ingest a knowledge folder first"
        )
    ids = data.column("item_id").to_numpy(zero_copy_only=False).astype(np.str_)
    item = pd.Index(items.item_ids.astype(str)).get_indexer(ids).astype(np.int64)
    known = item >= 0
    numbers_all = data.column("student_number").to_numpy(zero_copy_only=False).astype(np.str_)
    correct = pc.cast(data.column("correct"), pa.int64()).to_numpy(zero_copy_only=False)
    when = data.column("answered_at").to_numpy(zero_copy_only=False).astype("datetime64[s]")
    numbers, student = np.unique(numbers_all[known], return_inverse=True)
    item, correct, when = item[known], correct[known].astype(np.int64), when[known]
    order = np.lexsort((np.arange(item.size), when, student))
    log = ResponseLog(student[order].astype(np.int64), item[order], correct[order], items.q_matrix)
    return Practice(log, numbers.astype(np.str_), when[order], int((~known).sum()))
