"""What a bureau reads names documents by their Chinese titles, never by internal seed labels."""

from __future__ import annotations

import re

from edubrain.indicators.catalogue import families, indicators
from edubrain.indicators.plans import load_plans

SEED_LABEL = re.compile(r"seed\s*\d{3}", re.IGNORECASE)


def test_plans_and_sources_name_documents_by_their_titles() -> None:
    shown = [text for p in load_plans(None) for text in (p.title, p.document, p.checklist_title)]
    shown += [t.document for p in load_plans(None) for t in p.targets]
    shown += [th.source.document for i in indicators() for th in i.thresholds]
    shown += [f.description for f in families()] + [
        s.document for f in families() for s in f.sources
    ]
    assert [text for text in shown if SEED_LABEL.search(text)] == []
    assert not [text for text in shown if "浙江省智慧教育样板区" in text]
    documents = {p.id: p.document for p in load_plans(None)}
    assert documents["seed002-common-requirements"].startswith(
        "江苏省智慧教育样板区建设指南（苏教信函〔2023〕2号）"
    )
