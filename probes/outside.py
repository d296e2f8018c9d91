#!/usr/bin/env python3
"""An outside probe of a running edubrain: every role, every endpoint and page, as an auditor would.

It does not import edubrain. It knows only what an outsider with the synthetic region's truth
files knows (the generator's `truth/` folder: every pupil's real ID number, 学籍号 and name), and
it talks to the service over HTTP like any client:

1. Creates probe accounts with the `edubrain users add` command (as a bureau's administrator
   would): one per role inside the workspace's county, and one per role in a county, school and
   class the workspace does not hold ("foreign").
2. Logs in as each, reads the OpenAPI document, calls every GET endpoint (following cursors a
   few pages), fills path parameters with values the caller itself was shown and with values
   harvested by the home county's data officer (to try foreign objects), and crawls every
   cockpit page reachable from the caller's menu.
3. Checks every response body for:
   - an ID number (or the G 学籍号 that carries one) of a real pupil, guardian or teacher, in
     clear, shown to a role without 核心 clearance, or outside the caller's scope;
   - a masked ID number that still shows digits of its birth date or sequence (with 敏感
     fields in clear, those rebuild the number);
   - a J/L 学籍号 (it embeds the birth date) shown to a role that sees birth dates masked;
   - personal data (学籍号 or full name with birth date) of a pupil outside the caller's scope;
   - anything of the home county at all, for the foreign accounts (apart from public code
     tables).
4. Tries foreign actions: steward decisions on the home county's pairs, acknowledging and
   resolving warnings outside the caller's scope, approving exports it may not cover.

Exit status 0 when nothing was found, 1 otherwise; `--json FILE` writes every finding.

    python probes/outside.py --home edubrain-demo --serve            # starts and stops a server
    python probes/outside.py --home edubrain-demo --base-url http://127.0.0.1:8000

With --serve the server runs with the lookup-miss rate limit lifted, so that no 429 hides an
answer; against a server of your own, lift it the same way (EDUBRAIN_LOOKUP_MISS_LIMIT and
EDUBRAIN_LOOKUP_MISS_LIMIT_PER_ADDRESS) or read the 429 count in the summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx

API = "/api/v1"
ROLES = (
    "bureau_leader",
    "data_admin",
    "school_admin",
    "teacher",
    "head_teacher",
    "teaching_researcher",
    "parent",
    "student",
    "enrolment_officer",
    "psych_teacher",
    "auditor",
    "app_vendor",
)
HOME_LEVEL = {
    "bureau_leader": "county",
    "data_admin": "county",
    "school_admin": "school",
    "teacher": "class",
    "head_teacher": "class",
    "teaching_researcher": "county",
    "parent": "self",
    "student": "self",
    "enrolment_officer": "county",
    "psych_teacher": "school",
    "auditor": "county",
    "app_vendor": "school",
}
# What each role is cleared to see in clear (the product's documented policy, docs/service.md):
# 核心 = ID numbers; 敏感 = names, birth dates, addresses.
CORE_CLEARED = {"parent", "student", "enrolment_officer"}
SENSITIVE_CLEARED = CORE_CLEARED | {
    "data_admin",
    "school_admin",
    "teacher",
    "head_teacher",
    "psych_teacher",
}

ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([GJL]?)(\d{17}[\dX])(?![0-9A-Za-z])")
MASKED_ID = re.compile(r"(?<![0-9A-Za-z])[GJL]?(\d{0,6})\*{4,}(\d{1,8})(?![0-9])")
JL_NUMBER = re.compile(r"(?<![0-9A-Za-z])([JL]\d{17}[\dX])(?![0-9A-Za-z])")
HREF = re.compile(r"""href=["'](/[^"'#]*)["']""")
WEEKLY_SKIP = ("/logout", "/lang/", "/static/", "/api/")


@dataclass
class Pupil:
    student_number: str
    id_number: str
    name: str
    birth_date: str
    school_code: str
    class_key: str


@dataclass
class Truth:
    pupils: dict[str, Pupil]  # by 学籍号
    id_owner: dict[str, str]  # ID number -> what it belongs to ("pupil G…", "guardian of …")
    id_school: dict[str, str]  # ID number -> the school it belongs to
    schools: dict[str, str]  # school_code -> region code
    county: str

    @classmethod
    def read(cls, folder: Path) -> Truth:
        def rows(name: str) -> list[dict[str, str]]:
            with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))

        schools = {r["school_code"]: r["region_code"] for r in rows("school")}
        pupils: dict[str, Pupil] = {}
        id_owner: dict[str, str] = {}
        id_school: dict[str, str] = {}
        for r in rows("student"):
            key = f"{r['school_code']}/{r['school_year']}/{r['grade_code']}/{r['class_no']}"
            pupils[r["student_number"]] = Pupil(
                r["student_number"],
                r["id_number"],
                r["name"],
                r["birth_date"],
                r["school_code"],
                key,
            )
            if r["id_number"]:
                id_owner[r["id_number"]] = f"pupil {r['student_number']}"
                id_school[r["id_number"]] = r["school_code"]
        for r in rows("guardian"):
            if r["id_number"]:
                id_owner[r["id_number"]] = f"guardian of {r['student_number']}"
                pupil = pupils.get(r["student_number"])
                id_school[r["id_number"]] = pupil.school_code if pupil else ""
        for r in rows("teacher"):
            if r["id_number"]:
                id_owner[r["id_number"]] = f"teacher {r['staff_number']}"
                id_school[r["id_number"]] = r["school_code"]
        county = Counter(schools.values()).most_common(1)[0][0]
        return cls(pupils, id_owner, id_school, schools, county)


@dataclass
class Account:
    username: str
    password: str
    role: str
    level: str
    key: str
    foreign: bool

    def covers_pupil(self, pupil: Pupil, truth: Truth) -> bool:
        if self.foreign:
            return False
        if self.level in ("county", "city", "province"):
            prefix = {"county": 6, "city": 4, "province": 2}[self.level]
            return truth.schools.get(pupil.school_code, "")[:prefix] == self.key[:prefix]
        if self.level == "school":
            return pupil.school_code == self.key
        if self.level == "class":
            return pupil.class_key == self.key
        return pupil.student_number in self.key.split(";")

    def covers_school(self, school: str, truth: Truth) -> bool:
        if self.foreign:
            return False
        if self.level in ("county", "city", "province"):
            return truth.schools.get(school, "").startswith(
                self.key[: {"county": 6, "city": 4, "province": 2}[self.level]]
            )
        if self.level in ("school", "class"):
            return school == self.key[:10]
        return any(
            p.school_code == school for p in (truth.pupils.get(s) for s in self.key.split(";")) if p
        )


@dataclass
class Finding:
    account: str
    role: str
    kind: str
    where: str
    detail: str


@dataclass
class Probe:
    base: str
    truth: Truth
    findings: list[Finding] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    harvest: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    statuses: Counter[int] = field(default_factory=Counter)

    # ---- checks on what a caller was shown -------------------------------------------------
    def inspect(self, account: Account, where: str, text: str) -> None:
        def found(kind: str, detail: str) -> None:
            self.findings.append(Finding(account.username, account.role, kind, where, detail))

        for prefix, number in set(ID_IN_TEXT.findall(text)):
            owner = self.truth.id_owner.get(number)
            if prefix in ("J", "L"):
                continue  # a J/L body is not an ID number; see below
            if owner is None:
                continue
            school = self.truth.id_school.get(number, "")
            if account.role not in CORE_CLEARED:
                found("id_number_in_clear", f"{prefix}{number[:3]}… of {owner} (no 核心 clearance)")
            elif not account.covers_school(school, self.truth) or (
                account.level == "self"
                and not any(
                    (
                        self.truth.pupils.get(s) is not None
                        and self.truth.pupils[s].id_number == number
                    )
                    or owner == f"guardian of {s}"
                    for s in account.key.split(";")
                )
            ):
                found("id_number_out_of_scope", f"{prefix}{number[:3]}… of {owner}")
        if account.role not in CORE_CLEARED:
            for head, tail in MASKED_ID.findall(text):
                # The region and the last four (sequence and check digit) beside a birth date and
                # 户口所在地 in clear rebuild the number; a masked ID shows none of its digits.
                if len(tail) >= 2 or len(head) > 3:
                    found("masked_id_shows_digits", f"{head}****{tail}")
                    break
        if account.role not in SENSITIVE_CLEARED:
            for number in set(JL_NUMBER.findall(text)):
                if number in self.truth.pupils:
                    found("jl_number_shows_birth_date", f"{number[:7]}… (birth date masked)")
        for number in set(re.findall(r"(?<![0-9A-Za-z])([GJL]\d{17}[\dX])", text)):
            pupil = self.truth.pupils.get(number)
            if pupil is not None and not account.covers_pupil(pupil, self.truth):
                found("pupil_out_of_scope", f"学籍号 {number[:4]}… of school {pupil.school_code}")
        if account.foreign:
            for school in self.truth.schools:
                if school in text:
                    found("home_county_visible", f"school {school}")
                    break

    # ---- HTTP ------------------------------------------------------------------------------
    def client(self, account: Account) -> httpx.Client | None:
        client = httpx.Client(base_url=self.base, timeout=60, follow_redirects=False)
        response = client.post(
            f"{API}/auth/login", json={"username": account.username, "password": account.password}
        )
        self.requests[account.username] += 1
        if response.status_code != 200:
            self.findings.append(
                Finding(
                    account.username,
                    account.role,
                    "login_failed",
                    "/auth/login",
                    f"{response.status_code} {response.text[:200]}",
                )
            )
            client.close()
            return None
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        return client

    def get(
        self,
        client: httpx.Client,
        account: Account,
        path: str,
        params: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        try:
            response = client.get(path, params=params)
        except httpx.HTTPError as exc:
            self.findings.append(
                Finding(account.username, account.role, "transport", path, str(exc))
            )
            return None
        self.requests[account.username] += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.findings.append(
                Finding(
                    account.username, account.role, "server_error", path, str(response.status_code)
                )
            )
        text = response.text
        if response.status_code >= 400:
            # A refusal may name what the caller asked for ("no school X"): that is no leak.
            for part in path.split("/"):
                if part:
                    text = text.replace(part, "")
        self.inspect(account, path, text)
        return response

    def collect(self, data: Any, into: dict[str, set[str]]) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str) and key in (
                    "ref",
                    "student_ref",
                    "staff_ref",
                    "school_code",
                    "warning_id",
                    "export_id",
                    "indicator_id",
                    "region_code",
                    "mention_key_l",
                    "mention_key_r",
                ):
                    into[key].add(value)
                self.collect(value, into)
        elif isinstance(data, list):
            for item in data[:200]:
                self.collect(item, into)

    def crawl_api(
        self,
        client: httpx.Client,
        account: Account,
        spec: dict[str, Any],
        extra: dict[str, set[str]],
    ) -> dict[str, set[str]]:
        seen: dict[str, set[str]] = defaultdict(set)
        templated: list[str] = []
        for path, ops in spec.get("paths", {}).items():
            if "get" not in ops:
                continue
            if "{" in path:
                templated.append(path)
                continue
            cursor: str | None = None
            for _ in range(3):
                response = self.get(client, account, path, {"cursor": cursor} if cursor else None)
                if response is None or response.status_code != 200:
                    break
                try:
                    body = response.json()
                except ValueError:
                    break
                self.collect(body, seen)
                cursor = body.get("next_cursor") if isinstance(body, dict) else None
                if not cursor:
                    break
        fill = {
            "student_ref": ("ref", "student_ref"),
            "staff_ref": ("ref", "staff_ref"),
            "school_code": ("school_code",),
            "warning_id": ("warning_id",),
            "export_id": ("export_id",),
            "indicator_id": ("indicator_id",),
            "region_code": ("region_code",),
        }
        for path in templated:
            name = re.search(r"{(\w+)}", path).group(1)  # type: ignore[union-attr]
            values: list[str] = []
            for source in (seen, extra):
                for key in fill.get(name, ()):
                    values.extend(sorted(source.get(key, ()))[:8])
            for value in values[:16]:
                self.get(client, account, path.replace("{" + name + "}", value))
        return seen

    def crawl_pages(self, client: httpx.Client, account: Account, limit: int) -> int:
        queue, visited = ["/home"], set()
        while queue and len(visited) < limit:
            path = queue.pop(0)
            if path in visited or path.startswith(WEEKLY_SKIP):
                continue
            visited.add(path)
            response = self.get(client, account, path)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            for link in HREF.findall(response.text):
                target = urlparse(urljoin(self.base + path, link))
                full = target.path + (f"?{target.query}" if target.query else "")
                if full not in visited and not full.startswith(WEEKLY_SKIP):
                    queue.append(full)
        return len(visited)

    def foreign_actions(
        self,
        client: httpx.Client,
        account: Account,
        home: dict[str, set[str]],
        home_exports: list[str],
    ) -> None:
        """Actions on objects outside the caller's scope: each must be refused."""

        def refused(method: str, path: str, **kwargs: Any) -> None:
            response = client.request(method, path, **kwargs)
            self.requests[account.username] += 1
            if response.status_code < 300:
                self.findings.append(
                    Finding(
                        account.username,
                        account.role,
                        "foreign_action_accepted",
                        path,
                        f"{method} → {response.status_code}",
                    )
                )

        lefts = sorted(home.get("mention_key_l", ()))[:2]
        rights = sorted(home.get("mention_key_r", ()))[:2]
        if account.foreign:
            for left, right in zip(lefts, rights, strict=False):
                refused(
                    "POST",
                    f"{API}/steward/decisions",
                    json={"left": left, "right": right, "verdict": "different", "note": "probe"},
                )
        refused(
            "POST",
            f"{API}/steward/decisions",
            json={"left": "../../etc/passwd", "right": "x", "verdict": "same", "note": ""},
        )
        for warning in sorted(home.get("warning_id", ()))[:6]:
            detail = client.get(f"{API}/warnings/{warning}")
            if detail.status_code == 200:
                unit = detail.json()
                grain = unit.get("grain")
                code = unit.get("unit_code", "")
                inside = (not account.foreign) and (
                    (grain == "school" and account.covers_school(code, self.truth))
                    or (
                        grain != "school"
                        and account.level in ("county", "city", "province")
                        and code.startswith(account.key[:4])
                    )
                )
                if inside:
                    continue
            for step in ("acknowledge", "resolve"):
                refused("POST", f"{API}/warnings/{warning}/{step}", json={"note": "probe"})
        if account.foreign or account.level not in ("county", "city", "province"):
            for export in home_exports:
                refused("POST", f"{API}/exports/{export}/approve", json={"note": "probe"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _edubrain(args: argparse.Namespace) -> str:
    return (
        args.edubrain or shutil.which("edubrain") or str(Path(sys.executable).parent / "edubrain")
    )


def _make_accounts(args: argparse.Namespace, truth: Truth) -> list[Account]:
    home_pupil = min(truth.pupils.values(), key=lambda p: p.student_number)
    first_school = sorted(truth.schools)[0]
    first_class = min(p.class_key for p in truth.pupils.values() if p.school_code == first_school)
    self_pupil = (
        min(
            (p for p in truth.pupils.values() if p.class_key == first_class),
            key=lambda p: p.student_number,
        )
        if first_class
        else home_pupil
    )
    foreign_county = truth.county[:4] + ("02" if truth.county[4:] != "02" else "03")
    foreign_school = foreign_county[:2] + "00" + foreign_county[2:] + "99"  # 10 digits, unknown
    home_keys = {
        "county": truth.county,
        "school": first_school,
        "class": first_class,
        "self": self_pupil.student_number,
    }
    year = first_class.split("/")[1]
    foreign_keys = {
        "county": foreign_county,
        "school": foreign_school,
        "class": f"{foreign_school}/{year}/11/1",
        "self": "G" + foreign_county + "201801010017",  # not a pupil of the workspace
    }
    tag = secrets.token_hex(3)
    accounts = []
    env = dict(os.environ, EDUBRAIN_HOME=str(args.home))
    for foreign in (False, True):
        for role in ROLES:
            level = HOME_LEVEL[role]
            key = (foreign_keys if foreign else home_keys)[level]
            username = f"probe_{'x' if foreign else 'h'}_{role}_{tag}"
            password = secrets.token_urlsafe(18)
            env["EDUBRAIN_NEW_PASSWORD"] = password
            result = subprocess.run(
                [
                    _edubrain(args),
                    "users",
                    "add",
                    username,
                    "--role",
                    role,
                    "--scope-level",
                    level,
                    "--scope-key",
                    key,
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                print(f"could not add {username}: {result.stderr.strip()[-300:]}", file=sys.stderr)
                continue
            accounts.append(Account(username, password, role, level, key, foreign))
    return accounts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="the workspace (EDUBRAIN_HOME)")
    parser.add_argument("--truth", type=Path, help="truth folder (default HOME/region/truth)")
    parser.add_argument("--base-url", help="a running service; else --serve")
    parser.add_argument("--serve", action="store_true", help="start and stop a server here")
    parser.add_argument(
        "--edubrain", help="the edubrain command (default: on PATH or beside python)"
    )
    parser.add_argument("--pages", type=int, default=60, help="cockpit pages per account")
    parser.add_argument("--json", type=Path, help="write every finding here")
    args = parser.parse_args(argv)
    truth = Truth.read(args.truth or args.home / "region" / "truth")
    accounts = _make_accounts(args, truth)
    server = None
    base = args.base_url
    if args.serve or not base:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [_edubrain(args), "serve", "--port", str(port), "--workers", "1"],
            # The rate limit on misses would answer 429 to most of the probe's later lookups
            # (it tries thousands of foreign objects) and hide what they would show.
            env=dict(
                os.environ,
                EDUBRAIN_HOME=str(args.home),
                EDUBRAIN_LOOKUP_MISS_LIMIT="1000000",
                EDUBRAIN_LOOKUP_MISS_LIMIT_PER_ADDRESS="1000000",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(240):
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            server.terminate()
            print("the server did not start", file=sys.stderr)
            return 2
    assert urlparse(base).hostname in ("127.0.0.1", "localhost", "::1"), "probe only 127.0.0.1"
    probe = Probe(base, truth)
    started = time.monotonic()
    try:
        spec = httpx.get(f"{base}{API}/openapi.json", timeout=30).json()
        spec["paths"] = {
            API + p if not p.startswith(API) else p: v for p, v in spec["paths"].items()
        }
        by_role = {a.role: a for a in accounts if not a.foreign}
        home: dict[str, set[str]] = defaultdict(set)
        home_exports: list[str] = []
        # The home county's officer harvests the objects the others then try to reach.
        officer = by_role.get("data_admin")
        if officer is not None and (client := probe.client(officer)) is not None:
            home = probe.crawl_api(client, officer, spec, {})
            client.close()
        school_admin = by_role.get("school_admin")
        if school_admin is not None and (client := probe.client(school_admin)) is not None:
            made = client.post(
                f"{API}/exports",
                json={"entity": "student", "fields": ["name", "birth_date"], "purpose": "外部探测"},
            )
            if made.status_code < 300:
                home_exports.append(made.json()["export_id"])
            client.close()
        pages: dict[str, int] = {}
        for account in accounts:
            client = probe.client(account)
            if client is None:
                continue
            probe.crawl_api(client, account, spec, home)
            pages[account.username] = probe.crawl_pages(client, account, args.pages)
            probe.foreign_actions(client, account, home, home_exports)
            client.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    kinds = Counter(f.kind for f in probe.findings)
    print(
        f"probe of {base}: {len(accounts)} accounts, {sum(probe.requests.values())} requests, "
        f"{sum(pages.values())} pages, {time.monotonic() - started:.0f} s"
    )
    for account in accounts:
        mine = [f for f in probe.findings if f.account == account.username]
        status = (
            "ok"
            if not mine
            else ", ".join(f"{k}×{n}" for k, n in Counter(f.kind for f in mine).items())
        )
        where = "foreign" if account.foreign else "home"
        print(
            f"  {account.role:20s} {where:7s} {account.level}:{account.key[:24]:24s} "
            f"{probe.requests[account.username]:5d} req  {status}"
        )
    print("answers:", dict(sorted(probe.statuses.items())))
    print("findings:", dict(kinds) if kinds else "none")
    for finding in probe.findings[:40]:
        print(f"  - [{finding.kind}] {finding.role} {finding.where}: {finding.detail}")
    if args.json:
        args.json.write_text(
            json.dumps([f.__dict__ for f in probe.findings], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 1 if probe.findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
