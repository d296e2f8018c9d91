"""Every test seals with one data key in a temporary folder, never the user's own key file."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _data_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("EDUBRAIN_KEY_FILE")
    os.environ["EDUBRAIN_KEY_FILE"] = str(tmp_path_factory.mktemp("keys") / "data.key")
    yield
    if before is None:
        os.environ.pop("EDUBRAIN_KEY_FILE", None)
    else:
        os.environ["EDUBRAIN_KEY_FILE"] = before
