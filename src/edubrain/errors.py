"""Every error edubrain raises on purpose derives from EdubrainError, through exactly one *kind*.

A kind says what went wrong from the caller's side, not where: the thing asked for is not
there, the input is invalid, it conflicts with the current state, the caller may not, or the
service cannot do it now. Concrete errors stay next to the code that raises them (an
`UnknownIndicatorError` in the indicator catalogue) and derive from one kind; routes raise a
kind directly. Surfaces translate kinds, never concrete classes, each in one place:

| kind                 | HTTP | title (`service/problems.py`) | CLI exit (`cli/main.py`) |
|----------------------|------|-------------------------------|--------------------------|
| InvalidInputError    | 400  | 输入无效                      | 2                        |
| UnauthenticatedError | 401  | 未登录                        | 4                        |
| ForbiddenError       | 403  | 没有权限                      | 4                        |
| NotFoundError        | 404  | 未找到                        | 2                        |
| ConflictError        | 409  | 冲突                          | 2                        |
| GoneError            | 410  | 已失效                        | 2                        |
| LockedError          | 423  | 已锁定                        | 3                        |
| TooManyRequestsError | 429  | 请求过于频繁                  | 3                        |
| UnavailableError     | 503  | 暂不可用                      | 3                        |
| (no kind)            | 500  | 内部错误                      | 1                        |

A 401 also says `WWW-Authenticate: Bearer`, a 429 `Retry-After`. Exit code 2 means "the
command is wrong: fix what was asked" (click's usage errors exit 2 too), 3 "try again later, or
once an operator has fixed the store, warehouse or key", 4 "not allowed".
A 5xx answer never carries the error's own message (it may name files or SQL); it is logged.

An error with no kind is a 500 and exit 1 on purpose only where it means a bug or an engine
failure the caller cannot change (`IndicatorError`, `AccessNotDeclaredError`);
`tests/unit/test_error_kinds.py` lists them and fails for any other class without a kind.

Bad *rows* never raise: they go to quarantine with a reason code.
"""

from __future__ import annotations


class EdubrainError(Exception):
    """Root of the edubrain error tree."""


# ---- kinds ---------------------------------------------------------------------------------------


class InvalidInputError(EdubrainError, ValueError):
    """The input (an argument, a file, a setting, a request body) is not valid."""


class NotFoundError(EdubrainError, LookupError):
    """What was asked for does not exist, or not where the caller may see it."""


class ConflictError(EdubrainError):
    """The request conflicts with the current state (already decided, already taken)."""


class GoneError(EdubrainError):
    """It existed and is no longer available (a one-time download taken, expired)."""


class UnauthenticatedError(EdubrainError):
    """Nobody is logged in, the session expired, or a login failed."""


class ForbiddenError(EdubrainError):
    """The caller is known, and its role or scope does not allow this."""


class LockedError(EdubrainError):
    """Locked for a while (too many failed logins); the same request works later."""


class TooManyRequestsError(EdubrainError):
    """Too many requests of this sort; `retry_after` seconds until the next one is answered."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class UnavailableError(EdubrainError):
    """The service cannot do it now: a store, the warehouse or a key is unavailable or broken."""


KINDS: tuple[type[EdubrainError], ...] = (
    InvalidInputError,
    NotFoundError,
    ConflictError,
    GoneError,
    UnauthenticatedError,
    ForbiddenError,
    LockedError,
    TooManyRequestsError,
    UnavailableError,
)


def kinds_of(cls: type[BaseException]) -> list[type[EdubrainError]]:
    """The kinds a class derives from (exactly one for every error raised on purpose)."""
    return [kind for kind in KINDS if issubclass(cls, kind)]


def kind_of(exc: BaseException) -> type[EdubrainError] | None:
    """The kind of an error, or None (a bug or an engine failure: a 500, exit 1)."""
    found = kinds_of(type(exc))
    return found[0] if found else None


# ---- errors shared by several packages -----------------------------------------------------------


class ConfigError(InvalidInputError):
    """Settings or a declarative file (mapping, plan) is invalid."""


class UnknownEntityError(NotFoundError):
    """An entity name that is not in the data standard."""


class MappingError(InvalidInputError):
    """A source mapping file is malformed or names fields the standard does not have."""


class UnreadableFileError(InvalidInputError):
    """An input file cannot be read as declared: nothing from it is loaded.

    Carries the file so the one-line message always names it.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class UnrecognisedFileError(UnreadableFileError):
    """A file matches no source export and no standard entity."""


class FileBoundError(UnreadableFileError):
    """A file goes over one of ingest's bounds (size, inflated size, rows, columns, field).

    Refused whole before its memory can follow it; the problem names the setting to raise.
    """


class EmptyWorkspaceError(NotFoundError):
    """The workspace (`EDUBRAIN_HOME`) holds no data yet: nothing was ingested.

    The message says, Chinese first and in one line, what to run first.
    """

    def __init__(
        self,
        home: object,
        first: str = "edubrain ingest 文件夹",
        missing: str = "工作区还没有数据",
        missing_en: str = "no data yet",
    ) -> None:
        self.home = str(home)
        super().__init__(
            f"{missing}：请先运行 {first}（或 edubrain demo 生成示例县）"
            f" — the workspace {self.home} holds {missing_en}; run {first} first"
        )


class WarehouseError(UnavailableError):
    """The analytical store failed (locked file, disk full, ...)."""


class DiagnosisInputError(InvalidInputError):
    """A response log, knowledge graph or model file for 学情诊断 is malformed."""


class IrtInputError(InvalidInputError):
    """Responses, item parameters or anchors an IRT calibration or scale linking cannot use:
    an item every pupil got right (or wrong), a score that is not a category, too few anchors."""


class IrtNotConvergedError(IrtInputError):
    """An IRT calibration or a linking criterion did not converge (iterations, largest change)."""


class ValueAddedInputError(InvalidInputError):
    """Arrays handed to a value-added model are unusable (lengths differ, values missing,
    too few groups, a covariate with no variation, ...)."""
