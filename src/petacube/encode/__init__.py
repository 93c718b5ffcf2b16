"""Output encoders: datasets read from coverages written as files or bytes."""

from petacube.encode.files import write_dataset, write_geotiff, write_netcdf

__all__ = ["write_dataset", "write_geotiff", "write_netcdf"]
