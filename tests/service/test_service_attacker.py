"""The attacker's view (decision 0013): masking holds jointly, on every surface.

For each of the 12 roles, a user of that role collects everything it can read — student and
teacher lists and records, portraits, its export requests, the steward queue, the quarantine,
the audit trail, the cockpit's pages — and then tries to rebuild every value it sees masked:

- an ID number from the region (given to the attacker even where it is masked), the birth date
  (or every day of the year shown), the sex (the parity of the 17th digit), the characters any
  mask left visible and the GB 11643 check digit, enumerating the candidates left;
- a birth date from a 学籍号 or an ID number's visible digits;
- any masked value (ID number, 学籍号, birth date, name, address) appearing in clear anywhere
  in what the role collected, and any run of digits long enough to be an ID number.

It must fail for every role without the clearance: more than one candidate left, never the true
value determined. A deliberately weakened mask makes it succeed (the last tests), so the test
would notice a regression.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from test_service_trust import _with_planted_rows

from conftest import NOW, County, bearer_for
from edubrain.modules.roster import STUDENTS_READ
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service import masking
from edubrain.service.policy import CLEARANCE, ROLE_PERMISSIONS, Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.standard.entities import DataClass
from edubrain.standard.identifiers import id_check_char

SENSITIVE, CORE = DataClass.SENSITIVE, DataClass.CORE
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_DATE = re.compile(r"(?<!\d)(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)")
_DIGITS = re.compile(r"\d+")


class Corpus:
    """Everything one caller read, indexed for the searches the attacker makes."""

    def __init__(self, texts: list[str]) -> None:
        self.text = "\n".join(dict.fromkeys(texts))
        self.cjk: dict[str, set[str]] = defaultdict(set)
        for run in set(_CJK.findall(self.text)):
            for ch in set(run):
                self.cjk[ch].add(run)
        self.long_digits = sorted(
            {r for r in _DIGITS.findall(self.text) if len(r) >= 8}, key=len, reverse=True
        )
        self.dates = {
            (int(y), int(m), int(d)) for y, m, d in _DATE.findall(self.text) if 1 <= int(m) <= 12
        }

    def has_cjk(self, value: str) -> bool:
        """A name (all CJK) inside some run of CJK text."""
        return any(value in run for run in self.cjk.get(value[0], ()))

    def has_digits(self, value: str) -> bool:
        return any(value in run for run in self.long_digits if len(run) >= len(value))

    def has(self, value: str) -> bool:
        return value in self.text

    def has_date(self, day: date) -> bool:
        return (day.year, day.month, day.day) in self.dates or self.has_digits(
            day.strftime("%Y%m%d")
        )

    def id_like_runs(self, clear: frozenset[DataClass]) -> list[str]:
        """Runs of digits long enough to be an ID number (or a G 学籍号's body); a J/L body
        only where the role lacks 敏感 clearance."""
        pattern = r"(?<![\d.JL])\d{14,}" if SENSITIVE in clear else r"(?<![\d.])\d{14,}"
        # Hashes (hex, 32 characters or more: the audit chain's) hold long digit runs by chance.
        text = re.sub(r"[0-9a-f]{32,}", " ", self.text)
        # Each run with the text around it, so that a finding says where it was read.
        return [
            f"{m.group(0)} in …{text[max(0, m.start() - 80) : m.end() + 40]}…"
            for m in re.finditer(pattern, text)
        ]


@dataclass
class Seen:
    role: Role
    corpus: Corpus
    students: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → as shown
    teachers: dict[str, dict[str, Any]] = field(default_factory=dict)


def scope_for(role: Role, county: County) -> Scope:
    school = county.schools[0]["school_code"]
    region = county.schools[0]["region_code"]
    c = next(c for c in county.classes if c["school_code"] == school)
    klass = f"{c['school_code']}/{c['school_year']}/{c['grade_code']}/{c['class_no']}"
    if role in (Role.PARENT, Role.STUDENT):
        g = next(s for s in county.students if s["student_number"][0] == "G")
        jl = next(s for s in county.students if s["student_number"][0] in "JL")
        own = [g["student_number"]] + ([jl["student_number"]] if role is Role.PARENT else [])
        return Scope(ScopeLevel.SELF, ";".join(own))
    if role in (Role.TEACHER, Role.HEAD_TEACHER):
        return Scope(ScopeLevel.CLASS, klass)
    if role in (Role.SCHOOL_ADMIN, Role.PSYCH_TEACHER, Role.APP_VENDOR):
        return Scope(ScopeLevel.SCHOOL, school)
    return Scope(ScopeLevel.COUNTY, region)


class Attacker:
    def __init__(self, client: TestClient, county: County) -> None:
        self.client, self.county = client, county
        services = client.app.state.services  # type: ignore[attr-defined]
        self.store, self.refs = services.store, services.refs
        self.made = 0

    def become(self, role: Role) -> dict[str, str]:
        self.made += 1
        return bearer_for(
            self.store, f"a{self.made}_{role.value}", role, scope_for(role, self.county)
        )

    def collect(self, role: Role) -> Seen:
        """Everything this role can read on its own (an approved export needs a second person
        and is a disclosure by design: docs/service.md, "Export approval")."""
        headers = self.become(role)
        texts: list[str] = []
        students: dict[str, dict[str, Any]] = {}
        teachers: dict[str, dict[str, Any]] = {}

        def get(path: str, **params: Any) -> Any:
            response = self.client.get(path, params=params, headers=headers)
            assert response.status_code in (200, 403, 404), (role, path, response.text)
            if response.status_code != 200:
                return None
            if response.headers["content-type"].startswith("application/json"):
                body = response.json()
                texts.append(json.dumps(body, ensure_ascii=False))
                return body
            texts.append(response.text)
            return response.text

        def pages(path: str, into: dict[str, dict[str, Any]]) -> None:
            params: dict[str, Any] = {"limit": 500}
            while True:
                body = get(path, **params)
                if body is None:
                    return
                for item in body["items"]:
                    into[str(self.refs.open(item["ref"]))] = item  # the test's bookkeeping only
                if body["next_cursor"] is None:
                    return
                params["cursor"] = body["next_cursor"]

        get("/api/v1/me")
        pages("/api/v1/students", students)
        pages("/api/v1/teachers", teachers)
        for item in list(students.values())[:8]:
            get(f"/api/v1/students/{item['ref']}")
            get(f"/api/v1/students/{item['ref']}/portrait")
        for item in list(teachers.values())[:4]:
            get(f"/api/v1/teachers/{item['ref']}")
        for path in ("/api/v1/ingest/quarantine", "/api/v1/audit"):
            params: dict[str, Any] = {"limit": 500}
            for _ in range(4):
                body = get(path, **params)
                if body is None or body["next_cursor"] is None:
                    break
                params["cursor"] = body["next_cursor"]
        for path in ("/api/v1/steward/queue", "/api/v1/exports", "/api/v1/exports/pending"):
            get(path)
        school = self.county.schools[0]["school_code"]
        for page in ("/home", "/students", "/overview", "/map", "/warnings", f"/schools/{school}"):
            get(page)
        for tab in ("runs", "quarantine", "steward"):
            get("/data-office", tab=tab)
        get("/audit")
        for item in list(students.values())[:3]:
            get(f"/students/{item['ref']}")
        return Seen(role, Corpus(texts), students, teachers)


def _dates(shown: str | None, truth: date) -> list[date]:
    """The birth dates the attacker cannot tell apart: the one shown, or every day of the year
    shown (the mask keeps the year), or every day of the plausible years."""
    if shown and "*" not in shown:
        return [date.fromisoformat(shown)]
    years = [int(shown[:4])] if shown and shown[:4].isdigit() else list(range(1960, 2021))
    out = []
    for year in years:
        day = date(year, 1, 1)
        while day.year == year:
            out.append(day)
            day += timedelta(days=1)
    return out


def id_candidates(
    region: str, days: list[date], sex: str | None, visible: str, *, enough: int = 2
) -> list[str]:
    """ID numbers consistent with everything known, up to `enough` of them."""
    found: list[str] = []
    parities = (1,) if sex == "1" else (0,) if sex == "2" else (0, 1)
    known = [(i, c) for i, c in enumerate(visible) if c != "*"]
    for day in days:
        first14 = region + day.strftime("%Y%m%d")
        if any(i < 14 and first14[i] != c for i, c in known):
            continue
        for seq in range(1000):
            if seq % 2 not in parities:
                continue
            first17 = first14 + f"{seq:03d}"
            candidate = first17 + id_check_char(first17)
            if all(candidate[i] == c for i, c in known):
                found.append(candidate)
                if len(found) >= enough:
                    return found
    return found


def _visible_id(shown: dict[str, Any], key_field: str) -> str:
    """What the record shows of the ID number, from the field and from a G 学籍号 together."""
    visible = list(shown.get("id_number") or "*" * 18)
    if len(visible) != 18:
        visible = ["*"] * 18
    number = shown.get(key_field) or ""
    if key_field == "student_number" and len(number) == 19 and number[0] == "G":
        for i, c in enumerate(number[1:]):
            if c != "*":
                visible[i] = c
    return "".join(visible)


class _Opener:
    """Opens values sealed at rest with the tests' data key (the attacker's truth is clear)."""

    def open_text(self, text: str) -> str:
        sealer = sealer_for(Settings())
        assert sealer is not None
        return sealer.open_text(text)


_SEALER = _Opener()


def attack(seen: Seen, county: County) -> list[str]:
    """Every masked value the role rebuilt (empty: masking held)."""
    clear = CLEARANCE[seen.role]
    c = seen.corpus
    findings: list[str] = []
    teacher_names = {t["name"] for t in county.teachers}

    def named_elsewhere(name: str) -> bool:
        return any(name in t for t in teacher_names)

    if CORE not in clear:
        findings += [f"an ID-like number in clear: {run}" for run in c.id_like_runs(clear)]
    for people, key_field in (
        (county.students, "student_number"),
        (county.teachers, "staff_number"),
    ):
        listed = seen.students if key_field == "student_number" else seen.teachers
        for person in people:
            key, real = person[key_field], person.get("id_number")
            real = _SEALER.open_text(real) if real else real  # stored sealed (decision 0011)
            shown = listed.get(key)
            if CORE not in clear and real:
                if c.has_digits(real[:17]):
                    findings.append(f"{key}: the ID number appears in clear")
                if shown is not None:
                    days = _dates(shown.get("birth_date"), person["birth_date"])
                    region = shown.get("hukou_region") or ""
                    region = region if re.fullmatch(r"\d{6}", region) else real[:6]
                    found = id_candidates(
                        region, days, shown.get("sex"), _visible_id(shown, key_field)
                    )
                    if found == [real]:
                        findings.append(f"{key}: the ID number rebuilt uniquely")
            masked_key = key_field == "student_number" and not _sees_key(clear, key)
            number = _SEALER.open_text(key)  # the 学籍号 itself, as the attacker would look for it
            if masked_key and (c.has(number) or (key[0] == "G" and c.has_digits(number[1:18]))):
                findings.append(f"{key}: the 学籍号 appears in clear")
            if SENSITIVE in clear:
                continue
            born: date = person["birth_date"]
            if c.has_date(born):
                findings.append(f"{key}: the birth date {born} appears in clear")
            if shown is not None:
                number = shown.get(key_field) or ""
                if len(number) == 19 and number[0] in "JL" and "*" not in number[7:15]:
                    findings.append(f"{key}: the birth date read from the 学籍号 {number}")
                visible = _visible_id(shown, key_field)
                if "*" not in visible[6:14]:
                    findings.append(f"{key}: the birth date read from the ID number {visible}")
            name = person.get("name")
            pupil_name = key_field == "student_number" and name and _CJK.fullmatch(name)
            if pupil_name and not named_elsewhere(name) and c.has_cjk(name):
                findings.append(f"{key}: the name {name} appears in clear")
            address = person.get("address")
            if address and len(address) >= 8 and c.has(address):
                findings.append(f"{key}: the address appears in clear")
    return findings


def _sees_key(clear: frozenset[DataClass], number: str) -> bool:
    return (CORE if number[0] == "G" else SENSITIVE) in clear


# Readers of the audit trail come last: it then holds everyone else's reads.
ORDER = [r for r in Role if r is not Role.AUDITOR] + [Role.AUDITOR]


@pytest.fixture
def attacker(make_settings: Callable[..., Settings], county: County) -> Iterator[Attacker]:
    settings = make_settings("sqlite", county=county)
    _with_planted_rows(settings, county)
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield Attacker(client, county)


def _warm_the_audit(a: Attacker) -> None:
    """Reads by 核心-cleared roles by 学籍号 (the audit keeps keys in clear)."""
    officer = a.become(Role.ENROLMENT_OFFICER)
    for pupil in a.county.students[:20]:
        response = a.client.get(f"/api/v1/students/{pupil['student_number']}", headers=officer)
        assert response.status_code == 200


def test_no_role_rebuilds_a_value_it_sees_masked(attacker: Attacker) -> None:
    _warm_the_audit(attacker)
    rebuilt: dict[str, list[str]] = {}
    for role in ORDER:
        seen = attacker.collect(role)
        assert bool(seen.students) == (STUDENTS_READ in ROLE_PERMISSIONS[role]), role
        findings = attack(seen, attacker.county)
        if findings:
            rebuilt[role.value] = [*findings[:8], f"… {len(findings)} in all"]
    assert not rebuilt, json.dumps(rebuilt, ensure_ascii=False, indent=1)


def _old_id_mask(value: str) -> str:
    """The mask before decision 0013: the first three and last four digits kept."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


@pytest.mark.parametrize(
    ("weakening", "role", "expected"),
    [
        ("id keeps its last four digits", Role.TEACHER, "the ID number rebuilt uniquely"),
        ("J/L 学籍号 in clear", Role.BUREAU_LEADER, "the birth date read from the 学籍号"),
        ("G 学籍号 in clear", Role.SCHOOL_ADMIN, "the 学籍号 appears in clear"),
    ],
)
def test_a_weakened_mask_is_caught(
    attacker: Attacker,
    monkeypatch: pytest.MonkeyPatch,
    weakening: str,
    role: Role,
    expected: str,
) -> None:
    # Sealed at rest (decision 0011), an ID number is never even opened for a role without
    # 核心 clearance; a weakened mask only leaks if that guard is weakened too.
    monkeypatch.setattr(masking, "_unseal", lambda value, opener, clear: opener(value))
    if weakening.startswith("id"):
        monkeypatch.setattr(masking, "mask_id_number", _old_id_mask)
        monkeypatch.setitem(masking._BY_NAME, "id_number", _old_id_mask)
    elif weakening.startswith("J/L"):
        classes = {"G": CORE, "J": DataClass.INTERNAL, "L": DataClass.INTERNAL}
        monkeypatch.setattr(masking, "_STUDENT_NUMBER_CLASS", classes)
    else:
        classes = {"G": SENSITIVE, "J": SENSITIVE, "L": SENSITIVE}
        monkeypatch.setattr(masking, "_STUDENT_NUMBER_CLASS", classes)
    findings = attack(attacker.collect(role), attacker.county)
    assert any(expected in f for f in findings), findings[:10]


@given(
    region=st.sampled_from(["339901", "339902", "431021", "110105"]),
    day=st.dates(date(2005, 1, 1), date(2019, 12, 31)),
    seq=st.integers(0, 999),
)
def test_the_attacker_enumerates_soundly(region: str, day: date, seq: int) -> None:
    """The attacker's tool never misses the true number: with the old mask (first 3, last 4)
    and the birth date in clear it finds exactly the truth; with today's mask, hundreds."""
    first17 = region + day.strftime("%Y%m%d") + f"{seq:03d}"
    real = first17 + id_check_char(first17)
    sex = "1" if seq % 2 else "2"
    assert id_candidates(region, [day], sex, _old_id_mask(real), enough=10) == [real]
    everything = id_candidates(region, [day], sex, masking.mask_id_number(real), enough=1000)
    assert real in everything and len(everything) == 500
