"""The synthetic region generator: layout, determinism, realism and the fault manifest.

Expected values come from the reference documents (ID check rule, 优质均衡/班额/近视 thresholds,
the fitness tables) or from hand calculation — never from the generator's own code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from edubrain.sources.generator import generate_region
from edubrain.sources.mapping import Export, builtin_mappings
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import FieldType, entities, entity
from edubrain.standard.identifiers import id_number_problem, student_number_problem

N = 2000
REFERENCE = Path("/work/shared/reference")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate_region(out, students=N, seed=11)
    return out


def _truth(region: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(region / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def _export_of(path: Path) -> Export:
    mapping = builtin_mappings()[path.parent.name]
    export = mapping.export_for(path.name)
    assert export is not None, path
    return export


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def read_export(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows as text, read the way the mapping declares the file."""
    export = _export_of(path)
    if export.format == "xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        width = len(rows[0])
        return [str(h) for h in rows[0]], [
            [_cell(c) for c in r] + [""] * (width - len(r)) for r in rows[1:]
        ]
    if export.format == "jsonl":
        lines = path.read_text("utf-8").splitlines()
        headers = [r.source for r in export.columns.values() if r.source]
        out = []
        for line in lines:
            obj = json.loads(line)
            row = []
            for h in headers:
                v: object = obj
                for part in h.split("."):
                    v = v.get(part) if isinstance(v, dict) else None
                row.append(
                    "" if v is None else (str(v).lower() if isinstance(v, bool) else _cell(v))
                )
            out.append(row)
        return headers, out
    raw = path.read_bytes()
    if export.encoding == "utf-8-sig":
        raw = raw.removeprefix(b"\xef\xbb\xbf")
    codec = "utf-8" if export.encoding == "utf-8-sig" else export.encoding
    text = raw.decode(codec, errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        generate_region(tmp_path / name, students=1200, seed=5)
        files = sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())
        digests.append(
            {
                str(p.relative_to(tmp_path / name)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in files
            }
        )
    assert digests[0] == digests[1]
    assert len(digests[0]) > 20


def test_file_names_match_their_mapping(region: Path) -> None:
    files = list((region / "exports").rglob("*.*"))
    sources = {p.parent.name for p in files}
    assert sources == set(builtin_mappings())
    for path in files:
        assert builtin_mappings()[path.parent.name].export_for(path.name) is not None, path.name
    # every export of every mapping is produced
    produced = {(p.parent.name, _export_of(p).name) for p in files}
    expected = {(m.source, e.name) for m in builtin_mappings().values() for e in m.exports}
    assert produced == expected


def test_truth_files_have_the_standard_headers(region: Path) -> None:
    for ent in entities():
        with (region / "truth" / f"{ent.name}.csv").open(encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == list(ent.field_names)
    for name in ("region", "term", "attendance"):
        with (region / "standard" / f"{name}.csv").open(encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == list(entity(name).field_names)


def test_truth_identifiers_are_valid_and_keys_unique(region: Path) -> None:
    students = _truth(region, "student")
    for frame in (students, _truth(region, "guardian"), _truth(region, "teacher")):
        ids = frame["id_number"][frame["id_number"] != ""]
        assert len(ids) > 0
        assert [v for v in ids if id_number_problem(v) is not None] == []
    assert [v for v in students["student_number"] if student_number_problem(v) is not None] == []
    prefixes = students["student_number"].str[0].value_counts(normalize=True)
    assert prefixes["G"] > 0.85 and "J" in prefixes and "L" in prefixes
    # GB 11643: the 17th digit is odd for males
    g = students[students["id_number"] != ""]
    assert ((g["id_number"].str[16].astype(int) % 2 == 1) == (g["sex"] == "1")).all()
    for ent in entities():
        frame = _truth(region, ent.name)
        assert not frame.duplicated(list(ent.natural_key)).any(), ent.name


def test_sex_ratio_and_birth_dates_fit_grades(region: Path) -> None:
    s = _truth(region, "student")
    ratio = (s["sex"] == "1").sum() / (s["sex"] == "2").sum()
    assert 0.95 < ratio < 1.3  # 出生性别比 ~1.1, with sampling noise at 2000
    # age on 1 September 2025 = 6 + years of schooling - 1 for almost everyone
    years = {"1": 0, "2": 6, "3": 9}
    index = s["grade_code"].map(lambda g: years[g[0]] + int(g[1]))
    birth = pd.to_datetime(s["birth_date"])
    age = (
        2025
        - birth.dt.year
        - ((birth.dt.month > 8) | ((birth.dt.month == 8) & (birth.dt.day > 31)))
    )
    off = (age - (5 + index)).abs()
    assert (off == 0).mean() > 0.9
    assert (off >= 4).sum() == 0  # implausible birth dates were all quarantined


def test_myopia_rises_with_stage(region: Path) -> None:
    h = _truth(region, "health_check").merge(
        _truth(region, "student")[["student_number", "grade_code"]]
    )
    vision = h[["vision_left", "vision_right"]].replace("", np.nan).astype(float).min(axis=1)
    stage = h["grade_code"].str[0]
    share = (vision < 5.0).groupby(stage).mean()  # 视力不良: 裸眼视力 < 5.0 (policy_thresholds §6)
    assert share["1"] < share["2"] < share["3"]
    assert 0.2 < share["1"] < 0.55 and 0.55 < share["2"] < 0.9 and share["3"] > 0.65
    se = h[["se_left", "se_right"]].replace("", np.nan).astype(float)
    myopic_eye = h["vision_left"].replace("", np.nan).astype(float) < 4.9
    assert (se["se_left"][myopic_eye].dropna() <= -0.5).mean() > 0.9  # myopes have negative SE
    assert se.notna().any(axis=1).mean() < 0.9  # SE present for some students only


@pytest.mark.slow
def test_city_is_the_same_with_one_or_two_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edubrain.sources.generator import plan

    monkeypatch.setattr(plan, "MAX_COUNTY_STUDENTS", 1000)
    monkeypatch.setattr(plan, "TYPICAL_COUNTY_STUDENTS", 1000)
    digests = []
    for workers in (1, 2):
        out = tmp_path / str(workers)
        summary = generate_region(out, students=2400, seed=9, workers=workers)
        assert summary.counties == 2
        files = sorted(p for p in out.rglob("*") if p.is_file())
        digests.append(
            {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        )
    assert digests[0] == digests[1]
    regions = pd.read_csv(tmp_path / "1" / "truth" / "region.csv", dtype=str)
    assert list(regions["region_code"]) == ["330000", "339900", "339901", "339902"]
    assert {p.name for p in (tmp_path / "1" / "exports" / "tijian").iterdir()} == {
        "体检_339901.xlsx",
        "体检_339902.xlsx",
    }


@pytest.mark.slow
def test_class_sizes_have_large_classes(tmp_path: Path) -> None:
    generate_region(tmp_path, students=30_000, seed=3)
    s = pd.read_csv(tmp_path / "truth" / "student.csv", dtype=str, keep_default_na=False)
    sizes = s.groupby(["school_code", "grade_code", "class_no"]).size()
    assert (sizes >= 56).sum() > 0  # 大班额 (policy_thresholds §3)
    assert (sizes >= 66).sum() > 0  # 超大班额
    assert sizes.median() < 50


def test_faults_are_one_per_row_and_small(region: Path) -> None:
    faults = _truth(region, "faults")
    assert not faults.duplicated(["file", "row"]).any()
    assert set(faults["fault"]) >= {
        "bad_check_digit",
        "impossible_date",
        "unknown_code",
        "missing_required",
        "out_of_range",
        "bad_number",
        "bad_format",
        "duplicate_row",
        "full_width_digits",
        "wrong_encoding",
        "name_homophone",
        "id_missing",
        "student_number_variant",
    }
    rows = sum(len(read_export(region / f)[1]) for f in faults["file"].unique())
    assert len(faults[faults["expected_reason"] != ""]) / rows < 0.06


def _lookup(export: Export, field: str) -> set[str]:
    rule = export.columns[field]
    f = entity(export.entity).field(field)
    table = code_tables()[f.code_table or ""]
    known = set(table.codes)
    if rule.labels:
        known |= set(table.label_lookup())
    if rule.values:
        known |= set(rule.values)
    return known


def _parse_date(value: str, formats: list[str]) -> date | None:
    for fmt in formats:
        try:
            if fmt == "excel_serial":
                return date(1899, 12, 30).fromordinal(date(1899, 12, 30).toordinal() + int(value))
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _number(value: str, export: Export, field: str) -> float:
    rule = export.columns.get(field)
    if rule is not None and rule.parse == "minsec":
        m, s = value.rstrip('"').split("'")
        return int(m) * 60 + float(s)
    v = float(value)
    return v * rule.scale if rule is not None and rule.scale else v


def test_every_fault_is_really_in_the_export(region: Path) -> None:
    faults = _truth(region, "faults")
    for file, group in faults.groupby("file"):
        path = region / file
        export = _export_of(path)
        headers, rows = read_export(path)
        header_of = {name: r.source for name, r in export.columns.items() if r.source}
        raw_lines = path.read_bytes().split(b"\r\n")[1:] if export.format == "csv" else []
        first_row = 1 if export.format == "jsonl" else 2  # rows as a spreadsheet shows them
        for _, f in group.iterrows():
            index = int(f["row"]) - first_row
            row = rows[index]
            kind, field = f["fault"], f["field"]
            if kind == "duplicate_row":
                assert row == rows[index - 1], f.to_dict()
                continue
            if kind == "wrong_encoding":
                with pytest.raises(UnicodeDecodeError):
                    raw_lines[index].decode("gbk")
                continue
            header = (
                header_of.get(field)
                if not f["item"]
                else export.unpivot.render_format.format(key=f["item"])
            )  # type: ignore[union-attr]
            value = row[headers.index(header)]
            fdef = entity(export.entity).field(field)
            if kind == "bad_check_digit":
                body = value[1:] if fdef.check and fdef.check.value == "student_number" else value
                assert id_number_problem(body) == "bad_check_digit", f.to_dict()
            elif kind == "bad_format":
                assert (fdef.pattern and not re.fullmatch(fdef.pattern, value)) or (
                    id_number_problem(value[1:] if value[:1] in "GJL" else value) == "bad_format"
                ), f.to_dict()
            elif kind == "impossible_date":
                fmts = export.columns[field].formats
                assert _parse_date(value.split("T")[0], [x.split("T")[0] for x in fmts]) is None, (
                    f.to_dict()
                )
            elif kind == "unknown_code":
                parts = value.split(";") if fdef.type is FieldType.CODE_LIST else [value]
                assert any(p not in _lookup(export, field) for p in parts), f.to_dict()
            elif kind == "missing_required":
                assert value == "" and fdef.required
            elif kind == "out_of_range":
                v = _number(value, export, field)
                assert fdef.minimum is not None and fdef.maximum is not None
                assert v < fdef.minimum or v > fdef.maximum, f.to_dict()
            elif kind == "bad_number":
                with pytest.raises(ValueError):
                    float(value)
            elif kind == "full_width_digits":
                assert re.search("[０-９]", value), f.to_dict()
            elif kind == "implausible_birth_date":
                born = _parse_date(value, export.columns[field].formats)
                grade = row[headers.index(header_of["grade_code"])]
                assert born is not None
                code = code_tables()["grade"].label_lookup().get(grade, grade)
                years = {"1": 0, "2": 6, "3": 9}[code[0]] + int(code[1])
                assert abs((2025 - born.year) - (5 + years)) >= 4, f.to_dict()
            elif kind in ("name_homophone", "name_typo"):
                old, new = f["detail"].split(" → ")
                assert value == new != old
            elif kind == "id_missing":
                assert value == ""
            elif kind == "student_number_variant":
                assert value.startswith("L") and student_number_problem(value) is None


def test_truth_counts_rows_read_minus_rejected(region: Path) -> None:
    """Nothing lost: per entity, rows written − rejected rows = truth rows (wide sheets aside)."""
    faults = _truth(region, "faults")
    rejected = faults[faults["expected_reason"] != ""].groupby("file").size()
    per_entity: dict[str, int] = {}
    for path in (region / "exports").rglob("*.*"):
        export = _export_of(path)
        if export.unpivot:
            continue
        rel = str(path.relative_to(region))
        n = len(read_export(path)[1]) - int(rejected.get(rel, 0))
        per_entity[export.entity] = per_entity.get(export.entity, 0) + n
    for name, n in per_entity.items():
        assert len(_truth(region, name)) == n, name


def test_fitness_scores_follow_the_national_standard(region: Path) -> None:
    """Totals scored with the official 2014 tables: ~25–30% 优秀/良好, ~5–10% 不及格."""
    ref = REFERENCE / "fitness_standard_2014"
    if not ref.exists():
        pytest.skip("shared reference tables not available")
    scores = pd.read_csv(ref / "item_scores.csv", dtype={"grade_code": str, "sex_code": str})
    weights = pd.read_csv(ref / "items_by_grade.csv", dtype={"grade_code": str, "sex_code": str})
    bands = pd.read_csv(ref / "bmi_bands.csv", dtype={"grade_code": str, "sex_code": str})
    ft = _truth(region, "fitness_test")
    exempt = ft["exemption"] != ""
    assert set(ft["exemption"]) <= {"", "exempt", "deferred"} and 0 < exempt.mean() < 0.02
    assert (ft.loc[exempt, "run_50m"] == "").all()  # an exempt pupil is not tested
    assert set(ft["retest"]) == {"true", "false"}
    ft = ft[~exempt].reset_index(drop=True)
    total = np.zeros(len(ft))
    for (g, sx), idx in ft.groupby(["grade_code", "sex"]).groups.items():
        rows = ft.loc[idx]
        w = weights[(weights.grade_code == g) & (weights.sex_code == sx)]
        sub = np.zeros(len(rows))
        for _, item in w.iterrows():
            if item.item_code == "bmi":
                bmi = rows.weight_kg.astype(float) / (rows.height_cm.astype(float) / 100) ** 2
                b = bands[(bands.grade_code == g) & (bands.sex_code == sx)]
                pts = np.full(len(rows), 0.0)
                for _, band in b.iterrows():
                    lo = band.bmi_min_inclusive if not pd.isna(band.bmi_min_inclusive) else -1
                    hi = band.bmi_max_inclusive if not pd.isna(band.bmi_max_inclusive) else 1e9
                    pts[(bmi.round(1) >= lo) & (bmi.round(1) <= hi)] = band.score
            else:
                t = scores[
                    (scores.grade_code == g)
                    & (scores.sex_code == sx)
                    & (scores.item_code == item.item_code)
                    & scores.threshold.notna()
                ]
                v = rows[item.item_code].astype(float).to_numpy()
                pts = np.zeros(len(rows))
                for _, level in t.sort_values("score").iterrows():
                    met = (
                        v >= level.threshold
                        if item.direction == "higher_is_better"
                        else v <= level.threshold
                    )
                    pts[met] = level.score
            sub += pts * item.weight_percent / 100
        total[ft.index.get_indexer(idx)] = sub
    good = (total >= 80).mean()
    fail = (total < 60).mean()
    assert 0.15 < good < 0.40, good
    assert 0.02 < fail < 0.15, fail


def test_bmi_overweight_shares_are_plausible(region: Path) -> None:
    path = REFERENCE / "bmi_wst586_2018.csv"
    if not path.exists():
        pytest.skip("shared reference tables not available")
    cut = pd.read_csv(path, dtype={"sex_code": str})
    h = _truth(region, "health_check").merge(
        _truth(region, "student")[["student_number", "birth_date"]]
    )
    months = (pd.to_datetime(h.check_date) - pd.to_datetime(h.birth_date)).dt.days / 30.4375
    bmi = h.weight_kg.astype(float) / (h.height_cm.astype(float) / 100) ** 2
    over = obese = 0
    counted = 0
    for i in range(len(h)):
        row = cut[
            (cut.sex_code == h.sex[i])
            & (cut.age_group_from_months <= months[i])
            & (cut.age_group_to_months_exclusive > months[i])
        ]
        if row.empty:
            continue
        counted += 1
        over += bmi[i] >= row.overweight_bmi_min.iloc[0]
        obese += bmi[i] >= row.obesity_bmi_min.iloc[0]
    assert counted > 0.9 * len(h)
    assert 0.12 < over / counted < 0.35  # 超重+肥胖 among Chinese pupils is ~20%
    assert 0.04 < obese / counted < 0.16


def test_homework_minutes_exceed_the_limits_in_some_classes(region: Path) -> None:
    a = _truth(region, "homework_assignment")
    s = _truth(region, "homework_submission").merge(
        a[["assignment_id", "grade_code", "assigned_date", "is_written", "school_code", "class_no"]]
    )
    s = s[s.is_written == "true"]
    daily = s.groupby(
        ["school_code", "grade_code", "class_no", "assigned_date", "student_number"]
    ).minutes_spent.apply(lambda m: m.astype(float).sum())
    per_class = daily.groupby(level=[0, 1, 2]).mean()
    grade = per_class.index.get_level_values(1)
    limit = np.where(grade.str[0] == "2", 90, np.where(grade.isin(["11", "12"]), 0, 60))  # 双减 §4
    over = per_class.to_numpy() > limit
    assert over.any() and not over.all()


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    """Ray casting: does a ray east from the point cross the ring an odd number of times?"""
    crossings = 0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def test_region_outline_holds_every_school(region: Path) -> None:
    outline = json.loads((region / "map" / "outline.geojson").read_text("utf-8"))
    polygons = {
        f["properties"]["region_code"]: f["geometry"]["coordinates"][0] for f in outline["features"]
    }
    with (region / "truth" / "school.csv").open(encoding="utf-8") as fh:
        schools = list(csv.DictReader(fh))
    assert schools and set(polygons) == {s["region_code"] for s in schools}
    for s in schools:
        ring = polygons[s["region_code"]]
        assert ring[0] == ring[-1], "a closed ring"
        assert _inside(float(s["longitude"]), float(s["latitude"]), ring), s["school_code"]
