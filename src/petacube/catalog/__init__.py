"""The catalog: coverage descriptions, slices and import tracking in SQLite or PostgreSQL."""

from petacube.catalog.catalog import Catalog
from petacube.catalog.records import CatalogConflict, ImportRecord, Region, SliceRecord
from petacube.catalog.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Catalog", "CatalogConflict", "ImportRecord", "Region", "SliceRecord"]

