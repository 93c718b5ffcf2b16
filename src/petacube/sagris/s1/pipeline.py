"""One Sentinel-1 IW GRD product through the chain, in a work folder (the batch runner publishes the files).

Per product: (``-z``) zip and manifest checks → per polarisation thermal-noise removal and
calibration → geocoding to the EPSG:4326 master copy (BEAM-DIMAP, zipped) → derived
products for ``-p EPSG``. With a DEM the master is terrain-corrected, gamma-flattened
gamma0_T on the DEM grid (sarsen) and named ``_TC``; without one it is ellipsoid-geocoded
sigma0 through the geolocation-grid GCPs and named ``_EC`` ("ellipsoid corrected").
If the master zip is already in the output folder it is reused and only the derived
products are made.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from petacube.sagris.batch.errors import BadProduct, SagrisError
from petacube.sagris.s1.annotation import read_annotation
from petacube.sagris.s1.calibrate import gcps_of, write_radar_backscatter
from petacube.sagris.s1.derived import derive
from petacube.sagris.s1.dimap import DimapWriter, read_dimap_bands
from petacube.sagris.s1.geocode_gcp import geocode_gcp, lonlat_grid
from petacube.sagris.s1.product import S1Safe, check_supported
from petacube.sagris.s2.integrity import check_integrity
from petacube.sagris.s2.reproject import target_crs


@dataclass
class S1Options:
    """What the user chose for a Sentinel-1 run."""

    out_dir: Path
    epsg: int | None = None
    check: bool = False  # -z
    dem: Path | None = None
    water_threshold: float | str = "otsu"
    tile_size: float | None = None
    flattening: str = "gamma_bilinear"  # or gamma_nearest (faster)
    resolution: float = 10.0  # derived products' pixel size (metres)

    @property
    def tag(self) -> str:
        return "TC" if self.dem is not None else "EC"


def master_name(stem: str, options: S1Options) -> str:
    return f"{stem}_{options.tag}4326"


def done_markers(name, options: S1Options) -> list[str]:
    """Outputs whose presence means the product is done."""
    marks = [f"{master_name(name.name, options)}.zip"]
    if options.epsg is not None:
        marks.append(f"{name.name}_{options.tag}{options.epsg}.zip")
    return marks


def process_product(path: Path, work: Path, options: S1Options) -> list[Path]:
    """Process one product into ``work``; return the finished files (master zip unless reused, derived ones)."""
    product = S1Safe(path)
    check_supported(product.name)
    info = product.check_manifest_type()
    if options.check:
        check_integrity(product)
    stem = product.name.name
    mname = master_name(stem, options)
    existing = Path(options.out_dir) / f"{mname}.zip"
    outputs: list[Path] = []
    if existing.exists():  # heavy steps done before: unpack the master and derive only
        with zipfile.ZipFile(existing) as zf:
            zf.extractall(work / "master")
        dim = work / "master" / f"{mname}.dim"
        if not dim.exists():
            raise BadProduct(f"{existing}: the master zip has no {mname}.dim; delete it to re-process the product")
        meta = {"product": stem, "geocoding": "reused master " + existing.name}
    else:
        dim, meta = _make_master(product, info, work, mname, options)
        outputs.append(_zip_master(dim, work / f"{mname}.zip"))
    if options.epsg is not None:
        bands = read_dimap_bands(dim)
        outputs += derive(bands, f"{stem}_{options.tag}{options.epsg}", target_crs(options.epsg), work, meta=meta,
                          water_threshold=options.water_threshold, tile_size=options.tile_size,
                          resolution=options.resolution)
    return outputs


def _make_master(product: S1Safe, info: dict, work: Path, mname: str, options: S1Options):
    pols = {}
    for pol in product.polarisations():
        files = product.files_for(pol)
        pols[pol] = (read_annotation(product, pol, files), files["measurement"])
    ann = next(iter(pols.values()))[0]
    meta = {"product": product.name.name, "satellite": product.name.satellite, "start_time": ann.start_time,
            "pass": ann.pass_direction, "relative_orbit": info["relative_orbit"], "slice_number": info["slice_number"],
            "datatake_id": info["datatake_id"], "ipf_version": info["ipf_version"],
            "noise_annotation": ann.noise_generation, "thermal_noise_removed": "yes", "product_type": "GRD"}
    mdir = work / "master"
    mdir.mkdir(parents=True, exist_ok=True)
    if options.dem is not None:  # sarsen's range-Doppler correction + gamma flattening: not wired in yet
        raise SagrisError("--dem: terrain correction and flattening are not implemented yet in petacube's "
                          "Sentinel-1 processor; run without --dem for ellipsoid (GCP) geocoding")
    radar = write_radar_backscatter(product, pols, work / "radar_sigma0.tif", "sigma0")
    grid = lonlat_grid(gcps_of(ann), ann.range_spacing)
    meta.update(quantity="sigma0", geocoding="ellipsoid: geolocation-grid GCPs (thin-plate spline), no DEM, "
                "no terrain flattening", dem="none")
    writer = DimapWriter(mdir, mname, grid, list(pols), meta)
    names = list(pols)
    geocode_gcp(radar, grid, lambda b, w, a: writer.write(names[b - 1], w, a))
    dim = writer.close()
    radar.unlink()
    return dim, meta


def _zip_master(dim: Path, zpath: Path) -> Path:
    tmp = zpath.with_name(zpath.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.write(dim, dim.name)
        for f in sorted((dim.parent / f"{dim.stem}.data").iterdir()):
            zf.write(f, f"{dim.stem}.data/{f.name}")
    tmp.rename(zpath)
    return zpath
