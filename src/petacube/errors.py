"""Errors a user can cause. Each carries an OGC exception code and an HTTP status.

The server turns them into OGC ExceptionReports, the CLI into one-line messages.
Anything else escaping to the user is a bug.
"""

from __future__ import annotations


class PetacubeError(Exception):
    """Base class: a failure the user can act on."""

    code = "NoApplicableCode"
    status = 400

    def __init__(self, message: str, *, locator: str | None = None):
        super().__init__(message)
        self.message = message
        self.locator = locator

    def __str__(self) -> str:
        return self.message


class NoSuchCoverage(PetacubeError):
    code = "NoSuchCoverage"
    status = 404


class CoverageExists(PetacubeError):
    code = "DuplicatedCoverageId"  # WCS-T code for an id already in use
    status = 409


class InvalidSubsetting(PetacubeError):
    code = "InvalidSubsetting"


class InvalidAxisLabel(PetacubeError):
    code = "InvalidAxisLabel"


class InvalidParameterValue(PetacubeError):
    code = "InvalidParameterValue"


class MissingParameterValue(PetacubeError):
    code = "MissingParameterValue"


class InvalidCrs(PetacubeError):
    code = "NotACrs"


class IngredientsError(PetacubeError):
    """The ingredients file is malformed: unknown key, bad value, missing path."""

    code = "InvalidParameterValue"


class SourceFileError(PetacubeError):
    """An input file is unreadable or does not fit the coverage."""

    code = "InvalidParameterValue"


class StorageError(PetacubeError):
    code = "NoApplicableCode"
    status = 500


class NoSuchField(PetacubeError):
    """A band (range field) that the coverage does not have."""

    code = "NoSuchField"


class WcpsError(PetacubeError):
    """A WCPS query that is well-formed but cannot be evaluated (types, domains ...)."""

    code = "WcpsError"


class WcpsSyntaxError(PetacubeError):
    """A WCPS query that does not parse; carries line and column (1-based)."""

    code = "WcpsSyntaxError"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None, token: str | None = None):
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where, locator=f"{line}:{column}" if line is not None else None)
        self.line, self.column, self.token = line, column, token


class ResultTooLarge(PetacubeError):
    """A query whose result would exceed the configured limit (refused before reading)."""

    code = "ResultTooLarge"
    status = 413


class QueryCancelled(PetacubeError):
    """A query stopped by its time limit or by a cancel request."""

    code = "QueryCancelled"
    status = 408
