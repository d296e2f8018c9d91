"""An exam's pupils × items score matrix, pivoted in Arrow and NumPy (no row-by-row Python).

The warehouse hands an exam's item scores over as one Arrow table (`student_number`,
`item_no`, `score`): the pupils are the table's distinct numbers in sorted order, found by a
hash in Arrow (`pc.unique`, then `pc.index_in` gives each row its pupil), the item numbers map
to columns through a lookup array, and the scores are scattered into the matrix in one NumPy
assignment. A paper of 1,000,000 pupils × 40 items (40 M rows) is pivoted in a few seconds
(docs/performance.md). An item score without a value, and an item the paper does not list,
are left out (0), as the score report has always done.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray


def pivot_scores(
    item_nos: Sequence[int], scores: pa.Table
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """The sorted pupils and the matrix `scores[i, j]` of pupil i on item `item_nos[j]`."""
    numbers = scores.column("student_number")
    pupils = pc.unique(numbers)
    if len(pupils) == 0:
        return (), np.zeros((0, len(item_nos)))
    pupils = pupils.take(pc.sort_indices(pupils))
    row = _integers(pc.index_in(numbers, value_set=pupils))
    item = _integers(scores.column("item_no"))
    value = _floats(pc.cast(scores.column("score"), pa.float64()))
    largest = max(int(item.max(initial=0)), max(item_nos, default=0))
    column = np.full(largest + 1, -1, dtype=np.int64)
    column[np.asarray(item_nos, dtype=np.int64)] = np.arange(len(item_nos))
    j = column[np.clip(item, 0, largest)]
    keep = (j >= 0) & (item >= 0) & ~np.isnan(value)
    matrix = np.zeros((len(pupils), len(item_nos)))
    matrix[row[keep], j[keep]] = value[keep]
    return tuple(pupils.to_pylist()), matrix


def _one(values: pa.ChunkedArray | pa.Array, fill: float) -> pa.Array:
    """A column as one Arrow array, nulls as `fill`."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if values.null_count:
        values = pc.fill_null(values, fill)
    return values


def _integers(values: pa.ChunkedArray | pa.Array) -> NDArray[np.int64]:
    return np.asarray(_one(values, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _floats(values: pa.ChunkedArray | pa.Array) -> NDArray[np.float64]:
    return np.asarray(_one(values, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
