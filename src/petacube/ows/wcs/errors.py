"""WCS-specific exception codes (OGC 09-110r4 and its extensions), beside `petacube.errors`."""

from __future__ import annotations

from petacube.ows.exceptions import InvalidEncodingSyntax, OperationNotSupported  # noqa: F401  (one class each, shared)
from petacube.errors import (
    InvalidAxisLabel,
    InvalidCrs,
    InvalidParameterValue,
    PetacubeError,
)


class InvalidMediatype(PetacubeError):
    """``format`` or ``mediatype`` names an encoding the server cannot produce."""

    code = "InvalidMediatype"
    status = 415



class VersionNegotiationFailed(PetacubeError):
    code = "VersionNegotiationFailed"



class InvalidScaleFactor(PetacubeError):
    code = "InvalidScaleFactor"


class InvalidExtent(PetacubeError):
    code = "InvalidExtent"


class InterpolationMethodNotSupported(PetacubeError):
    code = "InterpolationMethodNotSupported"


class SubsettingCrsNotSupported(InvalidCrs):
    code = "SubsettingCrs-NotSupported"


class OutputCrsNotSupported(InvalidCrs):
    code = "OutputCrs-NotSupported"


class InvalidRangeSubset(InvalidParameterValue):
    """A ``rangesubset`` that is malformed (empty item, reversed interval, repeated band)."""


class ScaleAxisUndefined(InvalidAxisLabel):
    """A scaling axis the (subset) coverage does not have: an InvalidAxisLabel with the
    scaling extension's code."""

    code = "ScaleAxisUndefined"
