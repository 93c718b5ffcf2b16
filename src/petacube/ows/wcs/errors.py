"""WCS-specific exception codes (OGC 09-110r4 and its extensions), beside `petacube.errors`."""

from __future__ import annotations

from petacube.errors import PetacubeError


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


class ScaleAxisUndefined(PetacubeError):
    code = "ScaleAxisUndefined"


class InterpolationMethodNotSupported(PetacubeError):
    code = "InterpolationMethodNotSupported"


class SubsettingCrsNotSupported(PetacubeError):
    code = "SubsettingCrs-NotSupported"


class OutputCrsNotSupported(PetacubeError):
    code = "OutputCrs-NotSupported"


class InvalidRangeSubset(PetacubeError):
    """A ``rangesubset`` that is malformed (empty item, reversed interval)."""

    code = "InvalidParameterValue"
