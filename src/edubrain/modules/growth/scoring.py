"""A pupil's 综合素质评价 for one term, by the scheme: each domain's score and level, the weighted
total, and 成长预警 where a domain fell from the previous term (rules in `scheme`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edubrain.modules.growth.scheme import Scheme

TOTAL = "total"
"""The domain column's value on a pupil-term's total row."""


@dataclass(frozen=True)
class TermScores:
    """One pupil's term: each domain's score (None: 无记录), the total (None unless every
    domain is scored), and the records each domain counted."""

    domains: dict[str, float | None]
    total: float | None
    records: dict[str, int]


def score_term(scheme: Scheme, records: Iterable[Mapping[str, Any]]) -> TermScores:
    """Score one pupil's records of one term (each with `kind`, `value`, `level`)."""
    by_kind: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        by_kind[str(record["kind"])].append(record)
    scores: dict[str, float | None] = {}
    counted: dict[str, int] = {}
    for domain in scheme.domains:
        mine = [rule for rule in domain.rules if rule.kind in by_kind]
        counted[domain.domain] = sum(len(by_kind[rule.kind]) for rule in mine)
        if not mine:
            scores[domain.domain] = None
            continue
        points = sum(
            rule.points(
                [_number(r.get("value")) for r in by_kind[rule.kind]],
                [_text(r.get("level")) for r in by_kind[rule.kind]],
            )
            for rule in mine
        )
        scores[domain.domain] = min(100.0, max(0.0, domain.base + points))
    total: float | None = None
    if all(s is not None for s in scores.values()):
        total = sum(d.weight * float(scores[d.domain] or 0.0) for d in scheme.domains)
    return TermScores(scores, total, counted)


def declines(
    scheme: Scheme, terms: Sequence[tuple[str, TermScores]]
) -> list[dict[str, tuple[float | None, bool]]]:
    """For one pupil's terms in order (each `(term key, scores)`): per domain, the previous
    scored term's score and whether this term fell by the scheme's `decline` or more."""
    out: list[dict[str, tuple[float | None, bool]]] = []
    last: dict[str, float] = {}
    for _, scores in terms:
        found: dict[str, tuple[float | None, bool]] = {}
        for domain in [*scheme.domains, None]:
            key = domain.domain if domain is not None else TOTAL
            now = scores.domains.get(key) if domain is not None else scores.total
            before = last.get(key)
            fell = (
                scheme.decline is not None
                and now is not None
                and before is not None
                and before - now >= scheme.decline - 1e-9
            )
            found[key] = (before, bool(fell))
            if now is not None:
                last[key] = now
        out.append(found)
    return out


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if found == found else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None
