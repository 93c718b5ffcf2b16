"""petacube: an open datacube server for Earth observation."""

__version__ = "0.1.0"
