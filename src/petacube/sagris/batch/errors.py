"""Errors of the SAGRIS pre-processors: one bad product, one clear message."""

from __future__ import annotations

from petacube.errors import PetacubeError


class SagrisError(PetacubeError):
    """A problem with one input product or with the batch's folders."""

    code = "InvalidParameterValue"


class BadProduct(SagrisError):
    """An input product is broken (truncated zip, checksum, missing band/metadata, no valid pixel)."""


class UnknownProductType(SagrisError):
    """A file name that is not a Sentinel product this processor handles."""


class OutputExists(SagrisError):
    """Publishing would overwrite an output that is already in the output folder."""

    code = "NoApplicableCode"
    status = 409
