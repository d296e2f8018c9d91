"""Sealing core fields (edubrain.sealing): tokens, keys, the key file, rotation."""

from __future__ import annotations

import json
import stat
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from edubrain.cli.main import build_app
from edubrain.errors import ConfigError
from edubrain.govern.identity import PERSON_MENTION_TABLE
from edubrain.govern.run import govern
from edubrain.ingest import ingest_paths
from edubrain.sealing import (
    FileKeyProvider,
    Sealer,
    SealingError,
    check_key,
    is_token,
    key_provider,
    sealer_for,
)
from edubrain.service.auth import create_user
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import AuditEntry, open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse


def _id(birth: str, serial: int) -> str:
    body = f"330102{birth}{serial:03d}"
    return body + id_check_char(body)


@pytest.fixture
def sealer(tmp_path: Path) -> Sealer:
    return Sealer(FileKeyProvider(tmp_path / "keys" / "data.key"))


def test_sealing_round_trips_and_is_deterministic(sealer: Sealer) -> None:
    number = _id("20150307", 12)
    token = sealer.seal_id(number)
    assert is_token(token) and number not in token
    assert token.startswith("~1" + sealer.key_id) and len(token) == 38
    assert sealer.seal_id(number) == token  # the same number, the same token: joins work
    assert sealer.open_id(token) == number
    assert sealer.seal_id(token) == token  # sealing twice changes nothing
    g = sealer.seal_student_number("G" + number)
    assert g == "G" + token  # a G 学籍号's ID number equals the pupil's id_number token
    assert sealer.open_student_number(g) == "G" + number
    temporary = "L330102201503071234"
    assert sealer.seal_student_number(temporary) == temporary  # no ID number inside


def test_columns_seal_each_distinct_value_once(sealer: Sealer) -> None:
    number = _id("20141230", 7)
    values = pa.array(["G" + number, None, "J330102201412301234", "G" + number, "bad"])
    sealed = sealer.seal_student_number_column(values).to_pylist()
    assert sealed[0] == sealed[3] == "G" + sealer.seal_id(number)
    assert sealed[1:3] == [None, "J330102201412301234"] and sealed[4] == "bad"
    assert sealer.open_column(pa.array(sealed)).to_pylist() == values.to_pylist()
    text = f'{{"学籍号": "G{number}", "身份证": "{number}", "hash": "ab{"1" * 18}c"}}'
    sealed_text = sealer.seal_text(text)
    assert number not in sealed_text and "1" * 18 in sealed_text  # a hash is not an ID
    assert sealer.open_text(sealed_text) == text


def test_a_wrong_key_is_refused_clearly(sealer: Sealer, tmp_path: Path) -> None:
    token = sealer.seal_id(_id("20150101", 1))
    other = Sealer(FileKeyProvider(tmp_path / "other" / "data.key"))
    with pytest.raises(SealingError, match=f"sealed under key {sealer.key_id}.*wrong key file"):
        other.open_id(token)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(SealingError, match="does not open"):
        sealer.open_id(tampered)
    settings = Settings(home=tmp_path / "home")
    with open_warehouse(settings) as wh:
        check_key(wh, sealer)
        check_key(wh, sealer)  # the same key passes
        with pytest.raises(SealingError, match="another key"):
            check_key(wh, other)


def test_the_key_file_is_created_0600_outside_the_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", key_file=tmp_path / "config" / "data.key")
    sealer = sealer_for(settings)
    assert sealer is not None
    path = settings.data_key_path
    assert path.exists() and not path.is_relative_to(settings.home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(ConfigError, match="inside EDUBRAIN_HOME"):
        key_provider(settings.home / "data.key", settings.home)
    default = Settings(home=tmp_path / "home", key_file=None).data_key_path
    assert default.name == "data.key" and not default.is_relative_to(tmp_path / "home")
    (tmp_path / "junk.key").write_text("not a key")
    with pytest.raises(SealingError, match="not an edubrain data key file"):
        FileKeyProvider(tmp_path / "junk.key")
    assert sealer_for(Settings(home=tmp_path, seal_core_fields=False)) is None


def _partition(settings: Settings, sealer: Sealer) -> Counter[frozenset[str]]:
    with open_warehouse(settings) as wh:
        rows = wh.to_arrow(PERSON_MENTION_TABLE).to_pylist()
    members: dict[str, set[str]] = {}
    for r in rows:
        members.setdefault(r["person_id"], set()).add(sealer.open_text(r["mention_key"]))
    return Counter(frozenset(m) for m in members.values())


def test_rotation_reseals_everything_under_the_new_key_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = tmp_path / "region"
    generate_region(region, students=600, seed=3)
    key_file = tmp_path / "keys" / "data.key"
    monkeypatch.setenv("EDUBRAIN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EDUBRAIN_KEY_FILE", str(key_file))
    monkeypatch.setenv("EDUBRAIN_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("EDUBRAIN_PASSWORD_HASH_MEMORY_KIB", "64")
    settings = Settings(progress=False)
    ingest_paths([region / "standard", region / "exports"], settings)
    before = govern(settings, truth=region / "truth")
    old = sealer_for(settings)
    assert old is not None
    with open_warehouse(settings) as wh:
        student = wh.to_arrow("student").to_pylist()[0]
    with open_store(settings) as store:
        create_user(
            store,
            settings,
            username="parent.one",
            password="Long-enough-Pass-42",
            role=Role.PARENT,
            scope=Scope(ScopeLevel.SELF, old.open_text(student["student_number"])),
            display_name="家长",
            now=datetime.now(UTC),
        )
        store.record_steward_decision(
            "student|" + student["student_number"],
            "fitness_test|" + student["student_number"] + "|2025-2026",
            "different",
            by="t",
            note="",
            at=datetime(2026, 1, 1),
        )
        store.append_audit(
            AuditEntry(
                occurred_at="2026-01-01T00:00:00+00:00",
                actor="parent.one",
                role="parent",
                scope="self:" + student["student_number"],
                action="read",
                resource="student",
                record_ids=json.dumps([student["student_number"]]),
                query="{}",
                purpose="",
                outcome="ok",
                request_id="r1",
                client_ip="-",
            )
        )
    partition = _partition(settings, old)

    result = CliRunner().invoke(build_app(), ["keys", "rotate", "--by", "test"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "rotated to key" in result.output and f"key {old.key_id} removed" in result.output

    new = sealer_for(settings)
    assert new is not None and new.key_id != old.key_id
    assert FileKeyProvider(key_file).lookup(old.key_id) is None  # the old key is gone
    marker = f"~1{old.key_id}"
    with open_warehouse(settings) as wh:
        for table in ("student", "item_score", "person_mention", "golden_student", "quarantine"):
            for column in wh.to_arrow(table).columns:
                if pa.types.is_string(column.type):
                    assert not any(marker in (v or "") for v in column.to_pylist()), table
        rotated = wh.to_arrow("student").to_pylist()[0]
        check_key(wh, new, write=False)
        with pytest.raises(SealingError):
            check_key(wh, old, write=False)  # the old key opens nothing any more
    assert new.open_text(rotated["student_number"]) == old.open_text(student["student_number"])
    with pytest.raises(SealingError):
        old.open_text(rotated["student_number"])
    with open_store(settings) as store:
        assert store.verify_audit_chain().ok
        read = store.audit_records(record_id=rotated["student_number"])
        assert [r.entry.actor for r in read] == ["parent.one"]  # re-sealed and re-chained
        rotation = store.audit_records(action="rotate")
        assert len(rotation) == 1 and old.key_id in rotation[0].entry.record_ids
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(sa.text("UPDATE audit_log SET actor = 'x'"))  # the guard is back
        user = next(u for u in store.list_users() if u.username == "parent.one")
        assert user.scope_key == rotated["student_number"]  # the scope still matches the key
        assert marker not in repr(store.steward_decisions())
    # Joins and linkage agree: the same people, the same quality.
    after = govern(settings, truth=region / "truth")
    assert _partition(settings, new) == partition
    assert after.evaluation == before.evaluation


def test_a_warehouse_written_in_clear_is_refused_until_rotation_seals_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = tmp_path / "region"
    generate_region(region, students=300, seed=4)
    monkeypatch.setenv("EDUBRAIN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EDUBRAIN_KEY_FILE", str(tmp_path / "keys" / "data.key"))
    clear = Settings(progress=False, seal_core_fields=False)  # as an older version wrote it
    ingest_paths([region / "exports" / "xueji"], clear)
    settings = Settings(progress=False)
    with pytest.raises(SealingError, match="written without sealing"):
        ingest_paths([region / "exports" / "tice"], settings)
    with open_warehouse(settings) as wh:
        with pytest.raises(SealingError, match=r"written without sealing.*keys rotate"):
            check_key(wh, sealer_for(settings))
        numbers = wh.to_arrow("student").column("student_number").to_pylist()
    assert any(n.startswith("G3") for n in numbers)  # in clear

    result = CliRunner().invoke(build_app(), ["keys", "rotate"])
    assert result.exit_code == 0, (result.output, result.exception)
    sealer = sealer_for(settings)
    assert sealer is not None
    with open_warehouse(settings) as wh:
        check_key(wh, sealer)
        sealed = wh.to_arrow("student").column("student_number").to_pylist()
    assert not any(n.startswith("G3") for n in sealed)
    assert sorted(map(sealer.open_student_number, sealed)) == sorted(numbers)
    reports = ingest_paths([region / "exports" / "tice"], settings)
    assert all(r.status == "loaded" for r in reports), reports


def test_remembered_tokens_are_the_tokens_and_the_memory_is_bounded(tmp_path: Path) -> None:
    """A sealer reuses the token of a number it sealed before (sealing is deterministic), and
    forgets rather than grows past its bound: the tokens are the same either way."""
    provider = FileKeyProvider(tmp_path / "keys" / "data.key")
    remembering = Sealer(provider, remember=2)
    forgetting = Sealer(provider, remember=0)
    numbers = ["11010519491231002X", "110105194912310029", "440524188001010014"] * 2
    tokens = [remembering.seal_id(n) for n in numbers]
    assert tokens == [forgetting.seal_id(n) for n in numbers]
    assert tokens[:3] == tokens[3:]
    assert [remembering.open_id(t) for t in tokens] == numbers
    assert len(remembering._tokens) <= 2
