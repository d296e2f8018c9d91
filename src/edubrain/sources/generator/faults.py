"""Fault injection into rendered exports, and the manifest of every fault injected.

Two families:
* identity variants (同音字, typos, swapped day/month, a missing optional ID, an old 学籍号 in a
  secondary system) are applied to the standard rows *before* rendering: ingestion must accept
  them, so the truth holds the value as the source wrote it;
* reject faults (and full-width digits, which ingestion must normalise and accept) are applied
  to the rendered cells; a rejected row leaves the truth.
At most one fault touches a source row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from edubrain.sources.generator import people
from edubrain.sources.generator.columns import Array, Table, date_parts, full_width, length
from edubrain.sources.generator.render import Sheet, format_dates, format_ymd, minsec, number_text
from edubrain.sources.mapping import Export
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import Check, Field, FieldType, RowCheck, entity
from edubrain.standard.identifiers import ID_CHECK_CHARS


@dataclass(frozen=True)
class FaultRates:
    """Share of eligible source rows that get each fault kind."""

    bad_check_digit: float = 0.003
    impossible_date: float = 0.003
    unknown_code: float = 0.003
    missing_required: float = 0.003
    out_of_range: float = 0.003
    bad_number: float = 0.003
    bad_format: float = 0.003
    implausible_birth_date: float = 0.004
    wrong_encoding: float = 0.002
    duplicate_row: float = 0.002
    full_width_digits: float = 0.003
    name_homophone: float = 0.01
    name_typo: float = 0.004
    birth_date_day_month_swapped: float = 0.005
    id_missing: float = 0.02
    student_number_variant: float = 0.004

    def scaled(self, factor: float) -> FaultRates:
        return FaultRates(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


# Fault kind → the reason code ingestion must give ("" = the row must be accepted).
EXPECTED_REASON: dict[str, str] = {
    "bad_check_digit": "bad_check_digit",
    "impossible_date": "bad_date",
    "unknown_code": "unknown_code",
    "missing_required": "missing_required",
    "out_of_range": "out_of_range",
    "bad_number": "bad_number",
    "bad_format": "bad_format",
    "implausible_birth_date": "implausible_birth_date",
    "wrong_encoding": "encoding_error",
    "duplicate_row": "duplicate_row",
    "full_width_digits": "",
    "name_homophone": "",
    "name_typo": "",
    "birth_date_day_month_swapped": "",
    "id_missing": "",
    "student_number_variant": "",
}
REJECT_KINDS = (*(k for k, v in EXPECTED_REASON.items() if v), "full_width_digits")


@dataclass(frozen=True)
class EntityFaults:
    """Which faults an entity's exports get, besides the reject faults every export gets.

    A module's generator part declares one for each of its entities that differs from the
    default (reject faults only).
    """

    entity: str
    # No faults at all: a dimension export (a lost school or exam would orphan thousands of
    # rows, and such files are small enough that a real bureau fixes them by hand).
    clean: bool = False
    name_variants: bool = False  # student_name written with a homophone or a typo
    swapped_birth_dates: bool = False  # birth_date with day and month swapped
    missing_ids: bool = False  # the optional id_number left empty
    # A secondary system: some rows carry the pupil's old temporary L number.
    old_numbers: bool = False


PHONE_PATTERN = r"1\d{10}"
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII only: \d matches ０-９

# Typos that no code table or alias knows (a typed label with one wrong character).
UNKNOWN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "sex": ("南", "汝"),
    "ethnicity": ("汗族", "穿青族"),
    "grade": ("七年纪", "十年级"),
    "student_status": ("在渎", "借渎"),
    "subject": ("数孝", "英浯"),
    "guardian_relation": ("父新", "毋亲"),
    "education": ("本枓", "硕土"),
    "title": ("一级教帅", "高级教帅"),
    "backbone": ("县圾", "市圾"),
    "post": ("专任教帅",),
    "term": ("第三学期",),
}


@dataclass
class Fault:
    row: int  # 0-based source row before duplicates are inserted
    field: str
    item: str
    kind: str
    detail: str
    duplicate: bool = False  # the fault is the inserted copy after `row`
    true_student_number: str = ""


@dataclass
class Injected:
    faults: list[Fault] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    rejected_cells: set[tuple[int, str]] = field(default_factory=set)  # (row, item)
    duplicates: list[int] = field(default_factory=list)


def _count(rng: np.random.Generator, n: int, rate: float) -> int:
    return int(rng.binomial(n, min(rate, 1.0))) if n and rate > 0 else 0


def _pick(rng: np.random.Generator, eligible: Array, k: int) -> Array:
    rows = np.flatnonzero(eligible)
    if k <= 0 or rows.size == 0:
        return rows[:0]
    return np.sort(rng.choice(rows, size=min(k, rows.size), replace=False))


# ---- identity variants: on the standard rows, before rendering --------------------------


def apply_variants(
    export: Export,
    table: Table,
    rng: np.random.Generator,
    rates: FaultRates,
    used: Array,
    county_code: str,
    profile: EntityFaults | None = None,
) -> list[Fault]:
    profile = profile or EntityFaults(export.entity)
    if profile.clean:
        return []
    n = length(table)
    out: list[Fault] = []
    names = table.get("student_name")
    if names is not None and profile.name_variants:
        k = _count(rng, n, rates.name_homophone)
        for i in _pick_where(rng, ~used, k, lambda i: _has_any(str(names[i]), people.HOMOPHONE_OF)):
            old = str(names[i])
            new = _replace_last(old, people.HOMOPHONE_OF)
            names[i] = new
            used[i] = True
            out.append(Fault(int(i), "student_name", "", "name_homophone", f"{old} → {new}"))
        for i in _pick(rng, (names != "") & ~used, _count(rng, n, rates.name_typo)):
            old = str(names[i])
            new = _typo(old, rng)
            names[i] = new
            used[i] = True
            out.append(Fault(int(i), "student_name", "", "name_typo", f"{old} → {new}"))
    birth = table.get("birth_date")
    if birth is not None and profile.swapped_birth_dates:
        _, m, d = date_parts(birth)
        ok = ~np.isnat(birth) & (d <= 12) & (d != m)
        for i in _pick(rng, ok & ~used, _count(rng, n, rates.birth_date_day_month_swapped)):
            y, mm, dd = (int(x) for x in (date_parts(birth[i : i + 1])[k][0] for k in range(3)))
            old = str(birth[i])
            birth[i] = np.datetime64(f"{y:04d}-{dd:02d}-{mm:02d}")
            used[i] = True
            out.append(
                Fault(
                    int(i), "birth_date", "", "birth_date_day_month_swapped", f"{old} → {birth[i]}"
                )
            )
    ids = table.get("id_number")
    if ids is not None and profile.missing_ids:
        for i in _pick(rng, (ids != "") & ~used, _count(rng, n, rates.id_missing)):
            used[i] = True
            out.append(
                Fault(int(i), "id_number", "", "id_missing", "optional 身份证件号 left empty")
            )
            ids[i] = ""
    sn = table.get("student_number")
    if sn is not None and profile.old_numbers:
        ok = np.strings.startswith(sn, "G") & ~used
        for i in _pick(rng, ok, _count(rng, n, rates.student_number_variant)):
            old = str(sn[i])
            new = f"L{county_code}{old[7:15]}{int(rng.integers(0, 10000)):04d}"
            sn[i] = new
            used[i] = True
            out.append(
                Fault(
                    int(i),
                    "student_number",
                    "",
                    "student_number_variant",
                    f"temporary L number {new} instead of {old}",
                    true_student_number=old,
                )
            )
    return out


def _has_any(name: str, mapping: dict[str, str]) -> bool:
    return any(c in mapping for c in name[1:])  # not the surname's first character


def _pick_where(
    rng: np.random.Generator, free: Array, k: int, ok: Callable[[int], bool]
) -> list[int]:
    """Up to k random free rows for which `ok` holds (tested on a random sample only)."""
    if k <= 0:
        return []
    cands = np.flatnonzero(free)
    cands = rng.permutation(cands)[: 30 * k]
    out: list[int] = []
    for i in cands:
        if ok(int(i)):
            out.append(int(i))
            if len(out) == k:
                break
    return sorted(out)


def _replace_last(name: str, mapping: dict[str, str]) -> str:
    for pos in range(len(name) - 1, 0, -1):
        if name[pos] in mapping:
            return name[:pos] + mapping[name[pos]] + name[pos + 1 :]
    return name


def _typo(name: str, rng: np.random.Generator) -> str:
    for pos, c in enumerate(name):
        if c in people.LOOKALIKES:
            return name[:pos] + people.LOOKALIKES[c] + name[pos + 1 :]
    pool = "明华文军平志红玲杰丹凤英"
    pos = len(name) - 1
    options = [c for c in pool if c != name[pos]]
    return name[:pos] + options[int(rng.integers(0, len(options)))]


# ---- reject faults: on the rendered cells ------------------------------------------------


def apply_rejects(
    export: Export,
    sheet: Sheet,
    rng: np.random.Generator,
    rates: FaultRates,
    used: Array,
    profile: EntityFaults | None = None,
) -> Injected:
    result = Injected()
    if profile is not None and profile.clean:
        return result
    n = sheet.rows
    ent = entity(export.entity)
    for kind in REJECT_KINDS:
        k = _count(rng, n, getattr(rates, kind))
        if k == 0:
            continue
        if kind == "duplicate_row":
            for i in _pick(rng, ~used, k):
                used[i] = True
                result.duplicates.append(int(i))
                result.faults.append(
                    Fault(int(i), "", "", kind, "exact copy of the row above", duplicate=True)
                )
            continue
        if kind == "wrong_encoding":
            if export.encoding.lower() not in ("gbk", "gb2312", "gb18030"):
                continue
            for i in _encoding_rows(sheet, rng, ~used, k):
                used[i] = True
                sheet.utf8_rows.add(int(i))
                result.rejected_rows.add(int(i))
                result.faults.append(
                    Fault(int(i), "", "", kind, "row written as UTF-8 in a GBK file")
                )
            continue
        cols = [j for j in range(len(sheet.headers)) if _eligible(kind, sheet, j, ent.row_checks)]
        if not cols:
            continue
        elig = np.stack([(sheet.cells[j] != "") for j in cols], axis=1)
        if kind == "bad_check_digit":
            for c, j in enumerate(cols):
                f = sheet.fields[j]
                if f is not None and f.check is Check.STUDENT_NUMBER:
                    elig[:, c] &= np.strings.startswith(sheet.cells[j], "G")
        for i in _pick(rng, elig.any(axis=1) & ~used, k):
            options = np.flatnonzero(elig[i])
            j = cols[int(options[int(rng.integers(0, options.size))])]
            f = sheet.fields[j]
            assert f is not None
            old = str(sheet.cells[j][i])
            if kind == "full_width_digits" and not any(c.isdigit() for c in old):
                continue
            new = _corrupt(kind, sheet, j, int(i), f, rng)
            if new is None or new == old:
                continue
            sheet.cells[j][i] = new
            if sheet.kinds[j] != "text" and new and not _PLAIN_NUMBER.fullmatch(new):
                sheet.forced_text[j][i] = True  # e.g. JSON "12..5" must be a string
            used[i] = True
            item = sheet.items[j]
            if kind != "full_width_digits":
                if item:
                    result.rejected_cells.add((int(i), item))
                else:
                    result.rejected_rows.add(int(i))
            result.faults.append(
                Fault(int(i), f.name, item, kind, f"{sheet.headers[j]}: {old!r} → {new!r}")
            )
    return result


def _eligible(kind: str, sheet: Sheet, j: int, row_checks: tuple[RowCheck, ...]) -> bool:
    f, rule = sheet.fields[j], sheet.rules[j]
    if f is None:
        return False
    numeric = f.type in (FieldType.INTEGER, FieldType.DECIMAL)
    parse = rule.parse if rule is not None else None
    if kind == "bad_check_digit":
        return f.check in (Check.ID_NUMBER, Check.STUDENT_NUMBER)
    if kind == "impossible_date":
        return parse in ("date", "datetime")
    if kind == "unknown_code":
        return f.type in (FieldType.CODE, FieldType.CODE_LIST) and f.code_table is not None
    if kind == "missing_required":
        return f.required
    if kind == "out_of_range":
        return numeric and f.minimum is not None and f.maximum is not None and parse != "date"
    if kind == "bad_number":
        return numeric and parse is None
    if kind == "bad_format":
        return f.check in (Check.ID_NUMBER, Check.STUDENT_NUMBER) or f.pattern in (
            PHONE_PATTERN,
            r"\d{10}",
        )
    if kind == "implausible_birth_date":
        return f.name == "birth_date" and RowCheck.BIRTH_DATE_FITS_GRADE in row_checks
    if kind == "full_width_digits":
        return (
            f.check in (Check.ID_NUMBER, Check.STUDENT_NUMBER)
            or f.pattern == PHONE_PATTERN
            or (numeric and parse is None)
        )
    return False


def _corrupt(
    kind: str, sheet: Sheet, j: int, i: int, f: Field, rng: np.random.Generator
) -> str | None:
    old = str(sheet.cells[j][i])
    rule = sheet.rules[j]
    if kind == "bad_check_digit":
        others = [c for c in ID_CHECK_CHARS if c != old[-1]]
        return old[:-1] + others[int(rng.integers(0, len(others)))]
    if kind == "missing_required":
        return ""
    if kind == "full_width_digits":
        return full_width(old)
    if kind == "bad_format":
        pos = int(rng.integers(2, len(old) - 1)) if len(old) > 3 else 0
        return old[:pos] + old[pos + 1 :]
    if kind == "bad_number":
        if "." in old:
            return old.replace(".", "..", 1)
        return old[:1] + "O" + old[1:] if len(old) > 1 else old + "O"
    if kind == "unknown_code":
        return _unknown_code(f, old, rule is not None and (rule.labels or bool(rule.values)), rng)
    if kind == "out_of_range":
        return _out_of_range(f, sheet, j, rng)
    if kind in ("impossible_date", "implausible_birth_date"):
        fmts = sheet.formats[j]
        fmt = str(fmts[i]) if fmts is not None else "%Y-%m-%d"
        if fmt == "excel_serial":
            fmt = "%Y-%m-%d"
        return _date_fault(kind, old, fmt, sheet, j, i, rng)
    return None


def _unknown_code(f: Field, old: str, labelled: bool, rng: np.random.Generator) -> str:
    assert f.code_table is not None
    table = code_tables()[f.code_table]
    known = set(table.codes) | set(table.label_lookup())
    if labelled or not all(c.isdigit() for c in table.codes):
        options = [s for s in UNKNOWN_SPELLINGS.get(f.code_table, ()) if s not in known]
        bad = options[int(rng.integers(0, len(options)))] if options else old + "类"
    else:
        width = max(len(c) for c in table.codes)
        numbers = [
            str(x).zfill(width) for x in range(1, 10**width) if str(x).zfill(width) not in known
        ]
        bad = numbers[int(rng.integers(0, min(len(numbers), 40)))]
    if f.type is FieldType.CODE_LIST and ";" in old:
        return old.split(";")[0] + ";" + bad
    return bad


def _out_of_range(f: Field, sheet: Sheet, j: int, rng: np.random.Generator) -> str:
    assert f.minimum is not None and f.maximum is not None
    lo, hi = f.minimum, f.maximum
    span = hi - lo
    rule = sheet.rules[j]
    if rule is not None and rule.parse == "minsec":
        above = True  # a negative time cannot be written as m'ss"
    else:
        above = bool(rng.random() < (0.5 if lo <= 0 else 0.6))
    if above:
        value = hi + span * float(rng.uniform(0.3, 1.0))
    else:
        value = lo - max(span * float(rng.uniform(0.2, 0.5)), 1.0)
    value = float(np.round(value)) if f.type is FieldType.INTEGER or span > 50 else round(value, 1)
    arr = np.array([value])
    if rule is not None and rule.parse == "minsec":
        return str(minsec(arr)[0])
    scale = rule.scale if rule is not None else None
    return str(number_text(f, arr, scale, sheet.keep_decimal)[0])


def _date_fault(
    kind: str, old: str, fmt: str, sheet: Sheet, j: int, i: int, rng: np.random.Generator
) -> str:
    # Recover the true date from the cell itself: all formats hold year, month and day.
    fmts = sheet.formats[j]
    true = _parse_cell_date(old, str(fmts[i]) if fmts is not None else fmt)
    y, m, d = true
    if kind == "implausible_birth_date":
        shift = int(rng.choice([-6, -5, 5, 6]))
        d2 = min(d, 28) if m == 2 else d
        value = np.array([np.datetime64(f"{y + shift:04d}-{m:02d}-{d2:02d}")])
        return str(format_dates(value, fmt)[0])
    bad = [(y, 2, 30), (y, 2, 31), (y, 4, 31), (y, 13, d), (y, 6, 31), (y, 11, 31), (y, 0, d)]
    by, bm, bd = bad[int(rng.integers(0, len(bad)))]
    hms = None
    if "%H" in fmt:
        t = old.split("T")[1].split(":")
        hms = tuple(np.array([int(x)]) for x in t)
    return str(format_ymd(np.array([by]), np.array([bm]), np.array([bd]), fmt, hms)[0])  # type: ignore[arg-type]


def _parse_cell_date(cell: str, fmt: str) -> tuple[int, int, int]:
    if fmt == "excel_serial":
        day = np.datetime64("1899-12-30") + np.timedelta64(int(cell), "D")
        y, m, d = (int(x[0]) for x in date_parts(np.array([day])))
        return y, m, d
    if fmt == "%Y%m%d":
        return int(cell[:4]), int(cell[4:6]), int(cell[6:8])
    head = cell.split("T")[0]
    for sep in "-/.":
        if sep in head:
            ys, ms, ds = head.split(sep)
            return int(ys), int(ms), int(ds)
    raise ValueError(f"cannot read the date {cell!r} written as {fmt}")


def _encoding_rows(sheet: Sheet, rng: np.random.Generator, free: Array, k: int) -> list[int]:
    """Rows whose UTF-8 bytes are not valid GBK and read as GB18030 (ingest's reader of GBK
    files) hold bad bytes or user-defined characters, so ingest sees replacement characters."""

    def not_gbk(i: int) -> bool:
        line = ",".join(str(c[i]) for c in sheet.cells).encode("utf-8")
        try:
            line.decode("gbk")
        except UnicodeDecodeError:
            text = line.decode("gb18030", errors="replace")
            return "\ufffd" in text or any("\ue000" <= c <= "\uefff" for c in text)
        return False

    return _pick_where(rng, free, k, not_gbk)
