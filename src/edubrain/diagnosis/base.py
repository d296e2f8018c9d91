"""The one small interface every knowledge-tracing model follows, and its file format.

A model is fitted on a `ResponseLog` with a numpy `Generator` passed in (no global random
state), predicts the chance each attempt is correct from the student's *earlier* attempts only,
and saves to a plain `.npz` file: named float/int/str arrays plus a JSON header with the model
kind and its settings. Nothing is pickled, so a model file can be read by any numpy and cannot
run code when loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np
import numpy.typing as npt

from edubrain.diagnosis.responses import FloatArray, ResponseLog
from edubrain.errors import DiagnosisInputError

FORMAT_VERSION = 1


class KnowledgeTracer(Protocol):
    """fit / predict / save / load; `kind` names the model in its file."""

    kind: ClassVar[str]

    def fit(self, log: ResponseLog, rng: np.random.Generator) -> Self: ...

    def predict(self, log: ResponseLog) -> FloatArray:
        """P(correct) for every row, using only the same student's earlier rows."""
        ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> Self: ...


def write_model(
    path: Path, kind: str, settings: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
) -> None:
    """Write arrays and a JSON header to `path` (an .npz file, no pickles)."""
    header = json.dumps(
        {"kind": kind, "format": FORMAT_VERSION, "settings": settings}, ensure_ascii=False
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save: Callable[..., None] = np.savez_compressed
    with path.open("wb") as out:
        save(out, __header__=np.array(header), **arrays)


def read_model(path: Path, kind: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header (kind, settings) and arrays of a model file; checks the kind when given."""
    try:
        with np.load(Path(path), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as e:
        raise DiagnosisInputError(f"{path}: not a model file ({e})") from e
    if "__header__" not in arrays:
        raise DiagnosisInputError(f"{path}: not an edubrain model file (no header)")
    header = json.loads(str(arrays.pop("__header__")))
    if header.get("format") != FORMAT_VERSION:
        raise DiagnosisInputError(f"{path}: model file format {header.get('format')} unknown")
    if kind is not None and header["kind"] != kind:
        raise DiagnosisInputError(f"{path}: holds a {header['kind']} model, not {kind}")
    return header, arrays


def load_model(path: Path) -> KnowledgeTracer:
    """Load any model file, dispatching on the kind written in its header."""
    from edubrain.diagnosis.bkt import BKT
    from edubrain.diagnosis.logistic import IRT1PL, PFA, BestLR

    header, _ = read_model(path)
    loaders: dict[str, Callable[[Path], KnowledgeTracer]] = {
        BKT.kind: BKT.load,
        IRT1PL.kind: IRT1PL.load,
        PFA.kind: PFA.load,
        BestLR.kind: BestLR.load,
    }
    if header["kind"] not in loaders:
        raise DiagnosisInputError(f"{path}: unknown model kind {header['kind']!r}")
    return loaders[header["kind"]](path)
