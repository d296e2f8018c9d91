"""Every error edubrain raises on purpose derives from EdubrainError.

Surfaces translate them once: the CLI prints one line and exits with `exit_code`.
Bad *rows* never raise: they go to quarantine with a reason code.
"""

from __future__ import annotations


class EdubrainError(Exception):
    """Root of the edubrain error tree."""

    exit_code = 1


class ConfigError(EdubrainError, ValueError):
    """Settings or a declarative file (mapping, plan) is invalid."""


class UnknownEntityError(EdubrainError, ValueError):
    """An entity name that is not in the data standard."""

    exit_code = 2


class MappingError(EdubrainError, ValueError):
    """A source mapping file is malformed or names fields the standard does not have."""


class UnreadableFileError(EdubrainError, ValueError):
    """An input file cannot be read as declared: nothing from it is loaded.

    Carries the file so the one-line message always names it.
    """

    exit_code = 2

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


class WarehouseError(EdubrainError):
    """The analytical store failed (locked file, disk full, ...)."""


class DiagnosisInputError(EdubrainError, ValueError):
    """A response log, knowledge graph or model file for 学情诊断 is malformed."""

    exit_code = 2
