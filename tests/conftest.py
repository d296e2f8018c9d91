"""Every test seals with one data key in a temporary folder, never the user's own key file,
and reads the command line in English unless it asks for Chinese."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _data_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("EDUBRAIN_KEY_FILE")
    os.environ["EDUBRAIN_KEY_FILE"] = str(tmp_path_factory.mktemp("keys") / "data.key")
    # The CLI's language follows the locale: tests say which one they read.
    lang_before = os.environ.get("EDUBRAIN_LANG")
    os.environ["EDUBRAIN_LANG"] = "en"
    yield
    if lang_before is None:
        os.environ.pop("EDUBRAIN_LANG", None)
    else:
        os.environ["EDUBRAIN_LANG"] = lang_before
    if before is None:
        os.environ.pop("EDUBRAIN_KEY_FILE", None)
    else:
        os.environ["EDUBRAIN_KEY_FILE"] = before
