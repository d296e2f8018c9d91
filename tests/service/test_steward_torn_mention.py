"""Questions about one torn mention hang together (decision 0017, "Bulk and undo").

A 作业 row that fits two pupils about equally is left alone by the clustering and asked twice:
once against each pupil. A steward's "different" on one of the two leaves the row to the other
pupil, and the clustering then places it there itself (its own rule: a mention is in doubt only
while the evidence for another person is about as strong as for its own), so the other question
leaves the queue as answered by the data. Withdrawing the decision makes the row torn again:
both questions are asked again. The generated county (2,000 pupils, seed 11) has such rows.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from conftest import County
from edubrain.govern.identity import PERSON_MENTION_TABLE
from edubrain.govern.linkage import Verdict
from edubrain.govern.run import govern
from edubrain.govern.steward import APPLIED_TABLE, REVIEW_TABLE
from edubrain.govern.steward_apply import apply_decisions
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse


@pytest.fixture(scope="module")
def governed(county: County, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("torn") / "home"
    shutil.copytree(Path(county.warehouse).parent, home)
    settings = Settings(home=home, progress=False)
    govern(settings)
    return settings


def _state(settings: Settings) -> tuple[list[dict], set[str], dict[str, str]]:
    with open_warehouse(settings, read_only=True) as wh:
        review = wh.to_arrow(REVIEW_TABLE).to_pylist()
        applied = {r["review_id"] for r in wh.to_arrow(APPLIED_TABLE).to_pylist()}
        links = wh.to_arrow(PERSON_MENTION_TABLE).select(["mention_key", "person_id"])
    return review, applied, {r["mention_key"]: r["person_id"] for r in links.to_pylist()}


def test_deciding_one_side_of_a_torn_mention_answers_the_other(governed: Settings) -> None:
    review, _, person_of = _state(governed)
    asked = Counter(k for r in review for k in (r["mention_key_l"], r["mention_key_r"]))
    torn = sorted(k for k, n in asked.items() if n == 2 and not k.startswith("student|"))
    assert torn, "the county has a mention asked about against two pupils"
    mention = torn[0]
    first, second = (r for r in review if mention in (r["mention_key_l"], r["mention_key_r"]))
    other = (
        second["mention_key_r"] if second["mention_key_l"] == mention else second["mention_key_l"]
    )
    assert person_of[mention] != person_of[other]

    apply_decisions(governed, [Verdict(first["mention_key_l"], first["mention_key_r"], False)])
    review, applied, person_of = _state(governed)
    ids = {r["review_id"] for r in review}
    assert first["review_id"] in applied and first["review_id"] not in ids
    assert second["review_id"] not in ids and second["review_id"] not in applied
    assert person_of[mention] == person_of[other]  # the row went to the pupil left

    apply_decisions(governed, [])  # the decision withdrawn
    review, applied, person_of = _state(governed)
    ids = {r["review_id"] for r in review}
    assert {first["review_id"], second["review_id"]} <= ids
    assert not applied
    assert person_of[mention] != person_of[other]
