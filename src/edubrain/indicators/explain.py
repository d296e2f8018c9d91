"""Explain one value: the definition, the inputs of one school, the arithmetic, the threshold
with its source, and the provenance of the stored value."""

from __future__ import annotations

from typing import Any

from edubrain.errors import NotFoundError
from edubrain.indicators.catalogue import family, indicator
from edubrain.indicators.definitions import Grain, Indicator, Ratio, WeightedCV, cv_from_sums
from edubrain.indicators.engine import default_school_year
from edubrain.indicators.inputs import Inputs
from edubrain.indicators.saved_values import latest_values, run_record
from edubrain.warehouse import Warehouse

MAX_INPUT_ROWS = 30


class NothingToExplainError(NotFoundError):
    """The school to explain an indicator for is not in the warehouse."""


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def explain(
    wh: Warehouse, indicator_id: str, school_code: str, school_year: str | None = None
) -> dict[str, Any]:
    ind = indicator(indicator_id)
    year = school_year or default_school_year(wh)
    inputs = Inputs(wh, year, cache=False)
    school = inputs.schools().filter(inputs.schools().school_code == school_code)
    found = school.to_pyarrow().to_pylist()
    if not found:
        raise NothingToExplainError(f"no school {school_code!r} in the warehouse")
    info = found[0]
    out: dict[str, Any] = {
        "indicator": _definition(ind),
        "school_year": year,
        Grain.SCHOOL.value: info,  # the unit explained, under its grain's name
    }
    if isinstance(ind.formula, WeightedCV):
        out.update(_explain_cv(ind.formula, inputs, info))
    else:
        out.update(_explain_ratio(ind, ind.formula, inputs, info))
    grain = Grain.SCHOOL if Grain.SCHOOL in ind.grains else Grain.STAGE_COUNTY
    unit = school_code if grain == Grain.SCHOOL else info["county_code"]
    stored = [
        r
        for r in latest_values(
            wh, school_year=year, grain=grain.value, indicator_ids=[ind.id], unit_code=unit
        )
        if grain == Grain.SCHOOL or r["stage"] == info["stage"]
    ]
    if stored:
        row = stored[0]
        run = run_record(wh, row["run_id"])
        out["stored"] = {
            "value": row["value"],
            "grain": row["grain"],
            "run_id": row["run_id"],
            "computed_at": row["computed_at"].isoformat(),
            "definition_version": row["definition_version"],
            "matches_recomputation": _close(row["value"], out["value"]),
            "inputs": {t: run.inputs.get(t) for t in ind.inputs} if run else {},
        }
    else:
        out["stored"] = None
    th = []
    for t in ind.thresholds:
        limit = t.value_for(info["stage"], info["urban_rural"])
        if limit is None:
            continue
        th.append(
            {
                "grains": [g.value for g in t.grains],
                "label": t.label,
                "op": t.op,
                "value": limit,
                "met": t.met(out["value"], limit) if out["value"] is not None else None,
                "source": t.source.document,
                "reliability": t.source.reliability.value,
                "note": t.source.note,
            }
        )
    out["thresholds"] = th
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _definition(ind: Indicator) -> dict[str, Any]:
    return {
        "id": ind.id,
        "name_zh": ind.name_zh,
        "name_en": ind.name_en,
        "unit": ind.unit,
        "formula": ind.formula_text,
        "filters": ind.filters,
        "version": ind.version,
        "direction": ind.direction.value if ind.direction else None,
        "notes": ind.notes,
    }


def _explain_ratio(
    ind: Indicator, f: Ratio, inputs: Inputs, info: dict[str, Any]
) -> dict[str, Any]:
    base = f.base(inputs)
    rows = base.filter(base.school_code == info["school_code"])
    data = [_clean(r) for r in rows.to_pyarrow().to_pylist()]
    num = sum(r[f.numerator] or 0 for r in data if r[f.numerator] is not None)
    known = [r for r in data if r[f.numerator] is not None]
    if f.denominator is None:
        value = num * f.scale if known else None
        arithmetic = (
            f"{f.scale:g} × Σ {f.numerator} {num:g} = {value:g}" if value is not None
            else "no input rows"
        )  # fmt: skip
        den = None
    else:
        den = sum(r[f.denominator] or 0 for r in known)
        value = f.scale * num / den if den else None
        scale = f"{f.scale:g} × " if f.scale != 1 else ""
        arithmetic = (
            f"{scale}Σ {f.numerator} {num:g} ÷ Σ {f.denominator} {den:g} = {value:.6g}"
            if value is not None else f"Σ {f.denominator} is 0: no value"
        )  # fmt: skip
    shown = [f.numerator] + ([f.denominator] if f.denominator else [])
    keep = [c for c in ("grade_code", "class_no", "subject", "stage") if data and c in data[0]]
    return {
        "value": value,
        "arithmetic": arithmetic,
        "input_rows": len(data),
        "inputs": [
            {c: r.get(c) for c in [*keep, *shown, *_extra_columns(ind.family, r)]}
            for r in data[:MAX_INPUT_ROWS]
        ],
        "numerator": num,
        "denominator": den,
    }


def _extra_columns(family_id: str, row: dict[str, Any]) -> list[str]:
    """The columns the indicator's family asks `explain` to show, those the row has."""
    return [c for c in family(family_id).explain_columns if c in row]


def _explain_cv(f: WeightedCV, inputs: Inputs, info: dict[str, Any]) -> dict[str, Any]:
    base = f.base(inputs)
    group = base.filter((base.county_code == info["county_code"]) & (base.stage == info["stage"]))
    data = [_clean(r) for r in group.order_by("school_code").to_pyarrow().to_pylist()]
    schools = [r for r in data if (r[f.weight] or 0) > 0 and r[f.resource] is not None]
    p = sum(float(r[f.weight]) for r in schools)
    sx = sum(float(r[f.resource]) for r in schools)
    sxx = sum(float(r[f.resource]) ** 2 / float(r[f.weight]) for r in schools)
    value = cv_from_sums(p, sx, sxx)
    mean = sx / p if p else None
    table = []
    for r in schools:
        x = float(r[f.resource]) / float(r[f.weight])
        table.append(
            {
                "school_code": r["school_code"],
                "P_i": r[f.weight],
                "resource": r[f.resource],
                "X_i": f.scale * x,
                "P_i(X_i-X̄)²": float(r[f.weight]) * (f.scale * x - f.scale * (mean or 0)) ** 2,
                "this_school": r["school_code"] == info["school_code"],
            }
        )
    weighted_sq = sum(row["P_i(X_i-X̄)²"] for row in table)
    arithmetic = (
        f"P = {p:g}; X̄ = {f.scale:g} × {sx:g} ÷ {p:g} = {f.scale * (mean or 0):.6g}; "
        f"Σ Pᵢ(Xᵢ−X̄)² = {weighted_sq:.6g}; S = √({weighted_sq:.6g} ÷ {p:g}) = "
        f"{(weighted_sq / p) ** 0.5 if p else 0:.6g}; CV = S ÷ X̄ = "
        + (f"{value:.6g}" if value is not None else "—")
    )
    return {
        "value": value,
        "arithmetic": arithmetic,
        "input_rows": len(table),
        "inputs": table[:MAX_INPUT_ROWS],
        "group": {"county_code": info["county_code"], "stage": info["stage"]},
    }
