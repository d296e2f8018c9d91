"""The module's generator part: loans for about a third of the enrolled pupils in each county.

It builds on the roster's world (`CountyDraw.shared["world"]`) and draws from its own stream
(11, one no registry module uses), so the rest of a county's data stays as it was.
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, cat, zpad
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart

TITLES = ("西游记", "草房子", "昆虫记", "小王子", "骆驼祥子")
STREAM = 15  # a stream no registered module uses


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    pupils = world.students
    rng = draw.stream(STREAM)
    enrolled = np.flatnonzero(pupils["status"] == "enrolled")
    who = enrolled[rng.random(enrolled.size) < 0.3]
    n = who.size
    loaned = np.datetime64("2025-09-15") + rng.integers(0, 60, n).astype("timedelta64[D]")
    back = loaned + rng.integers(3, 30, n).astype("timedelta64[D]")
    returned = rng.random(n) < 0.8
    draw.tables["library_loan"] = {
        "loan_id": cat("JY", draw.county.code, zpad(np.arange(1, n + 1), 6)),
        "student_number": pupils["student_number"][who],
        "school_code": pupils["school_code"][who],
        "book_title": np.array(TITLES, dtype=STR)[rng.integers(0, len(TITLES), n)],
        "loan_date": loaned,
        "return_date": np.where(returned, back, np.datetime64("NaT")),
        "_school": pupils["_school"][who],
    }


PART = GeneratorPart(county, streams=(STREAM,))
