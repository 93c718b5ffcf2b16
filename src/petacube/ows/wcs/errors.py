"""WCS-specific exception codes (OGC 09-110r4 and its extensions), beside `petacube.errors`."""

from __future__ import annotations

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


class OperationNotSupported(PetacubeError):
    code = "OperationNotSupported"
    status = 501


class VersionNegotiationFailed(PetacubeError):
    code = "VersionNegotiationFailed"


class InvalidEncodingSyntax(PetacubeError):
    """An XML POST request that does not parse or is not a WCS 2.0 request."""

    code = "InvalidEncodingSyntax"


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
