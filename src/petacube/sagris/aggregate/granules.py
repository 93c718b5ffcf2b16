"""Projected L2B granules (the pre-processor's ``<stem>_<res>m_<EPSG>.zip``) and their grouping into passes.

A *pass* is what one satellite saw in one datatake along one relative orbit: granules
sharing satellite, datatake sensing time and relative orbit. The aggregator mosaics the
granules of one pass, one resolution and one EPSG into one L2C scene.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from petacube.sagris.batch.errors import BadProduct

# S2A_MSIL2B_20210415T101021_N0300_R022_T33UUP_20210415T130000_20m_3035.zip
L2B_ZIP_RE = re.compile(
    r"^(?P<stem>(?P<sat>S2[A-D])_MSIL2B_(?P<sensing>\d{8}T\d{6})_N(?P<baseline>\d{4})_"
    r"R(?P<orbit>\d{3})_T(?P<tile>\d{2}[A-Z]{3})_(?P<discriminator>\d{8}T\d{6}))"
    r"_(?P<res>10|20|60)m_(?P<epsg>\d{4,5})\.zip$"
)
RESOLUTIONS = (10, 20, 60)


@dataclass(frozen=True, order=True)
class PassKey:
    """One pass of one satellite: what the granules of one L2C scene share."""

    satellite: str
    sensing: str  # datatake sensing start, YYYYMMDDTHHMMSS
    relative_orbit: int

    @property
    def label(self) -> str:
        return f"{self.satellite}_MSIL2C_{self.sensing}_R{self.relative_orbit:03d}"


@dataclass(frozen=True)
class L2BGranule:
    """One projected L2B zip, described by its name (nothing read yet)."""

    path: Path
    stem: str
    satellite: str
    sensing: str
    baseline: str
    relative_orbit: int
    tile: str
    discriminator: str
    resolution: int
    epsg: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def pass_key(self) -> PassKey:
        return PassKey(self.satellite, self.sensing, self.relative_orbit)

    @property
    def member(self) -> str:
        """The zip's base name, which names the files inside it."""
        return self.path.name[: -len(".zip")]

    def vsi(self, suffix: str = "") -> str:
        """GDAL path of a raster inside the zip (``suffix`` "" for the bands, "_CLOUDMASK" ...)."""
        return f"/vsizip/{self.path.absolute()}/{self.member}{suffix}.tif"


@dataclass
class GranuleInfo:
    """What the aggregator needs to know about a granule after reading its json and headers."""

    granule: L2BGranule
    bands: tuple[str, ...]
    acquisition_time: str
    bounds: tuple[float, float, float, float]
    origin: tuple[float, float]  # upper-left corner
    metadata: dict = field(repr=False, default_factory=dict)


def parse_l2b_name(path: Path | str) -> L2BGranule | None:
    """The descriptor of a projected L2B zip, or None for any other file name (native-UTM zips too)."""
    path = Path(path)
    m = L2B_ZIP_RE.match(path.name)
    if not m:
        return None
    return L2BGranule(path, m["stem"], m["sat"], m["sensing"], m["baseline"], int(m["orbit"]), m["tile"],
                      m["discriminator"], int(m["res"]), int(m["epsg"]))


def scan_l2b(folder: Path, resolutions: tuple[int, ...] = RESOLUTIONS) -> list[L2BGranule]:
    """The projected L2B zips in ``folder`` at the given resolutions, sorted by name."""
    found = []
    for p in sorted(Path(folder).iterdir()):
        g = parse_l2b_name(p)
        if g is not None and p.is_file() and g.resolution in resolutions:
            found.append(g)
    return found


def newest_per_tile(granules: list[L2BGranule]) -> tuple[list[L2BGranule], list[L2BGranule]]:
    """Keep one granule per (pass, tile, resolution, EPSG): the newest processing.

    The same acquisition processed twice (another baseline, a reprocessing) must not be
    mosaicked with itself; the highest baseline, then the latest product discriminator,
    wins. Returns (kept, superseded)."""
    best: dict[tuple, L2BGranule] = {}
    for g in granules:
        key = (g.pass_key, g.tile, g.resolution, g.epsg)
        cur = best.get(key)
        if cur is None or (g.baseline, g.discriminator) > (cur.baseline, cur.discriminator):
            best[key] = g
    kept = set(best.values())
    return sorted(kept, key=lambda g: g.name), sorted((g for g in granules if g not in kept), key=lambda g: g.name)


def group_passes(granules: list[L2BGranule]) -> dict[tuple[PassKey, int, int], list[L2BGranule]]:
    """Granules by (pass, resolution, EPSG), each list sorted by MGRS tile (the mosaic's tie-break order)."""
    groups: dict[tuple[PassKey, int, int], list[L2BGranule]] = {}
    for g in granules:
        groups.setdefault((g.pass_key, g.resolution, g.epsg), []).append(g)
    return {k: sorted(v, key=lambda g: (g.tile, g.name)) for k, v in sorted(groups.items())}


def read_granule(g: L2BGranule) -> GranuleInfo:
    """Open a granule's zip, read its json and raster headers and check they fit its name.

    Raises BadProduct naming the granule and what is wrong (truncated zip, missing json or
    raster, EPSG or resolution not the one its name states, band list mismatch)."""
    import rasterio

    try:
        with zipfile.ZipFile(g.path) as zf:
            names = set(zf.namelist())
            jname = f"{g.member}.json"
            if jname not in names:
                raise BadProduct(f"{g.name}: no {jname} inside; the zip is incomplete, re-run the pre-processor for it")
            try:
                meta = json.loads(zf.read(jname))
            except ValueError as exc:
                raise BadProduct(f"{g.name}: {jname} is not valid JSON ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadProduct(f"{g.name}: not a readable zip ({exc}); it may be truncated, re-run the pre-processor for it") from None
    for suffix in ("", "_CLOUDMASK"):
        if f"{g.member}{suffix}.tif" not in names:
            raise BadProduct(f"{g.name}: no {g.member}{suffix}.tif inside; re-run the pre-processor for it")
    if not isinstance(meta, dict):
        raise BadProduct(f"{g.name}: {g.member}.json is not a JSON object")
    _check_meta(g, meta)
    try:
        with rasterio.open(g.vsi()) as ds:
            epsg = ds.crs.to_epsg() if ds.crs else None
            res = ds.res
            bounds = tuple(ds.bounds)
            origin = (ds.transform.c, ds.transform.f)
            bands = tuple(ds.descriptions)
            dtype = ds.dtypes[0]
            rotated = ds.transform.b != 0 or ds.transform.d != 0
        with rasterio.open(g.vsi("_CLOUDMASK")) as cm:
            cm_grid = (cm.width, cm.height, cm.transform)
            grid = (ds.width, ds.height, ds.transform)
    except rasterio.errors.RasterioIOError as exc:
        raise BadProduct(f"{g.name}: a raster inside is unreadable ({exc})") from None
    if epsg != g.epsg:
        raise BadProduct(f"{g.name}: its raster is in {ds.crs} but its name says EPSG:{g.epsg}; "
                         "mismatched EPSG within the pass, re-project it again")
    if rotated or abs(res[0] - g.resolution) > 1e-6 or abs(res[1] - g.resolution) > 1e-6:
        raise BadProduct(f"{g.name}: pixel size {res[0]:g} x {res[1]:g} (or a rotated grid), expected {g.resolution} m")
    if dtype != "uint16":
        raise BadProduct(f"{g.name}: bands are {dtype}, expected uint16 reflectance x 10000")
    if not all(bands) or len(set(bands)) != len(bands):
        raise BadProduct(f"{g.name}: its GeoTIFF does not name every band (band descriptions {list(bands)})")
    if meta.get("bands") and list(meta["bands"]) != list(bands):
        raise BadProduct(f"{g.name}: json bands {meta['bands']} differ from the GeoTIFF's {list(bands)}")
    if cm_grid != grid:
        raise BadProduct(f"{g.name}: the cloud mask's grid differs from the bands' grid")
    acq = str(meta.get("acquisition_time") or meta.get("datatake_sensing_time"))
    return GranuleInfo(g, bands, acq, bounds, origin, meta)


def _check_meta(g: L2BGranule, meta: dict) -> None:
    missing = [k for k in ("satellite", "datatake_sensing_time", "relative_orbit", "epsg") if k not in meta]
    if missing:
        raise BadProduct(f"{g.name}: {g.member}.json lacks {', '.join(missing)}")
    try:
        epsg = int(meta["epsg"])
        orbit = int(meta["relative_orbit"])
        dt = datetime.fromisoformat(str(meta["datatake_sensing_time"]))
    except (TypeError, ValueError) as exc:
        raise BadProduct(f"{g.name}: bad value in {g.member}.json ({exc})") from None
    if epsg != g.epsg:
        raise BadProduct(f"{g.name}: json says EPSG:{epsg} but the name says EPSG:{g.epsg}; "
                         "mismatched EPSG within the pass")
    if orbit != g.relative_orbit or dt.strftime("%Y%m%dT%H%M%S") != g.sensing:
        raise BadProduct(f"{g.name}: json datatake ({meta['datatake_sensing_time']}, orbit {orbit}) does not match the name")
    if "resolution" in meta and int(float(meta["resolution"])) != g.resolution:
        raise BadProduct(f"{g.name}: json resolution {meta['resolution']} but the name says {g.resolution} m")


__all__ = [
    "GranuleInfo",
    "L2BGranule",
    "PassKey",
    "group_passes",
    "newest_per_tile",
    "parse_l2b_name",
    "read_granule",
    "scan_l2b",
]
