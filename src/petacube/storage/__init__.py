"""Tile storage: Zarr v3 arrays in an Icechunk repository, and registered (in-situ) files.

One group per coverage, one array per band, chunk = tile; pyramid levels as sibling
arrays; every write is a transaction that becomes visible when it commits.
"""

from petacube.storage.registered import FileReference, read_registered
from petacube.storage.tile_store import TileStore
from petacube.storage.tiling import default_tile_shape, parse_tiling
from petacube.storage.transaction import Transaction

__all__ = [
    "FileReference", "TileStore", "Transaction", "default_tile_shape", "parse_tiling", "read_registered",
]
