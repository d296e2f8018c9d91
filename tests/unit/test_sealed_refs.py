"""Record refs: sealed 学籍号s that reveal nothing and cannot be forged."""

from __future__ import annotations

import stat

import pytest

from edubrain.service.sealed_refs import SealedRefs, ServiceKeyError
from edubrain.workspace import Workspace

NUMBER = "G110101200801011234"


def test_a_ref_opens_to_its_key_and_is_stable() -> None:
    refs = SealedRefs(b"k" * 32)
    ref = refs.seal(NUMBER)
    assert refs.open(ref) == NUMBER
    assert refs.seal(NUMBER) == ref  # the same record keeps its ref
    assert "110101" not in ref and "1234" not in ref
    assert refs.seal("G110101200801011235") != ref


def test_a_changed_forged_or_foreign_ref_opens_to_nothing() -> None:
    refs = SealedRefs(b"k" * 32)
    ref = refs.seal(NUMBER)
    flipped = ref[:10] + ("A" if ref[10] != "A" else "B") + ref[11:]
    assert refs.open(flipped) is None
    assert refs.open(NUMBER) is None
    assert refs.open("") is None
    assert refs.open("!!not base64!!") is None
    assert SealedRefs(b"other key, also 32 bytes long!!!").open(ref) is None


def test_the_service_key_is_made_once_and_private(tmp_path) -> None:
    first = SealedRefs.for_workspace(Workspace(tmp_path))
    key = tmp_path / "service.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert SealedRefs.for_workspace(Workspace(tmp_path)).open(first.seal(NUMBER)) == NUMBER
    key.write_bytes(b"short")
    with pytest.raises(ServiceKeyError, match="not a service key"):
        SealedRefs.for_workspace(Workspace(tmp_path))
