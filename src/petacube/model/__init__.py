"""Coverage model: CRSs, axes, bands, coverages, and the geo <-> grid arithmetic."""

from petacube.model.axis import Axis, IrregularAxis, RegularAxis, storage_size
from petacube.model.coverage import Band, Coverage, NilValue, regular_axes_from_transform
from petacube.model.crs import (
    Crs,
    CrsAxis,
    CrsComponent,
    datetime_to_number,
    number_to_datetime64,
    parse_time,
)

__all__ = [
    "Axis", "Band", "Coverage", "Crs", "CrsAxis", "CrsComponent", "IrregularAxis", "NilValue",
    "RegularAxis", "datetime_to_number", "number_to_datetime64", "parse_time",
    "regular_axes_from_transform", "storage_size",
]
