"""One product through the pre-processor: SAFE → L2B zips (native + projected) and previews in a work folder.

Nothing here touches the output folder: `process_product` returns the finished files and
the batch runner publishes them atomically (see `petacube.sagris.batch.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.windows import Window

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s2.bands import BAND_SETS, RESOLUTIONS, L2ABandReader
from petacube.sagris.s2.cloudmask import (
    NODATA,
    CloudMaskOptions,
    cloud_mask,
    mask_to_resolution,
)
from petacube.sagris.s2.geotiff import (
    STRIP_ROWS,
    describe,
    profile,
    write_json,
    write_preview,
    zip_outputs,
)
from petacube.sagris.s2.integrity import check_integrity
from petacube.sagris.s2.l1c import L1CDosReader, find_sen2cor, run_sen2cor
from petacube.sagris.s2.metadata import ProductMetadata, read_metadata
from petacube.sagris.s2.product import SafeProduct
from petacube.sagris.s2.reproject import target_crs, target_grid, warp_file


@dataclass
class S2Options:
    """What the user chose for a pre-processor run."""

    epsg: int | None = None
    check: bool = False  # -z
    sen2cor: str | None = None  # path of L2A_Process; None: $PETACUBE_SEN2COR or PATH
    use_sen2cor: bool = True
    mask: CloudMaskOptions = field(default_factory=CloudMaskOptions)
    tile_size: float | None = None  # align projected outputs to this grid (target CRS units)
    clip_bounds: tuple[float, float, float, float] | None = None  # processing tiles' bounds, target CRS
    resolutions: tuple[int, ...] = RESOLUTIONS


def output_names(stem: str, epsg: int | None, resolutions=RESOLUTIONS) -> list[str]:
    """The file names a product yields in the output folder (the re-run / skip check uses them)."""
    names = [f"{stem}_{r}m.zip" for r in resolutions] + [f"{stem}_L2A_preview.jpg"]
    if epsg is not None:
        names += [f"{stem}_{r}m_{epsg}.zip" for r in resolutions] + [f"{stem}_{epsg}_preview.jpg"]
    return names


def process_product(path: Path, work: Path, options: S2Options) -> list[Path]:
    """Pre-process one L1C/L2A product into ``work``; return the finished output files."""
    product = SafeProduct(path)
    if options.check:
        check_integrity(product)
    meta = read_metadata(product)
    stem = product.name.l2b_stem
    reader, correction, scaling_meta = _reader(product, meta, work, options)
    try:
        return _write_all(reader, meta, scaling_meta, stem, correction, work, options)
    finally:
        reader.close()


def _reader(product: SafeProduct, meta: ProductMetadata, work: Path, options: S2Options):
    if meta.level == "L2A":
        return L2ABandReader(product, meta), "l2a-input", meta
    exe = find_sen2cor(options.sen2cor) if options.use_sen2cor else None
    if exe:
        l2a = run_sen2cor(product, work, exe)
        l2a_meta = read_metadata(l2a)
        return L2ABandReader(l2a, l2a_meta), "sen2cor", l2a_meta
    return L1CDosReader(product, meta), "builtin-dos", meta


def _native_transform(meta: ProductMetadata, res: int):
    return from_origin(meta.ulx, meta.uly, res, res)


def _write_all(reader, meta, scaling_meta, stem, correction, work, options) -> list[Path]:
    crs = rasterio.crs.CRS.from_epsg(meta.epsg)
    rows20, cols20 = meta.sizes[20]
    # The mask needs the whole scene (shadow projection, buffer): computed once at 20 m (30 MB for a granule).
    scl20 = reader.read_scl(20)
    nir20 = reader.read("B8A", 20, Window(0, 0, cols20, rows20))
    valid20 = (scl20 != 0) if scl20 is not None else (nir20 != 0)
    if not valid20.any():
        raise BadProduct(f"{meta.product}: the granule has no valid pixel (all nodata); nothing to process")
    mask20 = cloud_mask(scl20, valid20, res=20, sun_zenith=meta.sun_zenith, sun_azimuth=meta.sun_azimuth,
                        cloud_probability=reader.read_cloud_probability(),
                        nir_reflectance=nir20.astype(np.float32) / 10000.0, options=options.mask)
    del nir20
    base = {
        "product": meta.product, "satellite": meta.satellite, "datatake_sensing_time": meta.datatake_sensing_time,
        "relative_orbit": meta.relative_orbit, "tile": meta.tile,
        "processing_baseline": scaling_meta.processing_baseline, "acquisition_time": meta.acquisition_time,
        "sun_azimuth": meta.sun_azimuth, "sun_zenith": meta.sun_zenith, "correction": correction,
        "boa_add_offset": dict(sorted(scaling_meta.add_offset.items())), "quantification": scaling_meta.quantification,
    }
    target = target_crs(options.epsg) if options.epsg is not None else None
    outputs: list[Path] = []
    native_tifs: dict[int, Path] = {}
    for res in options.resolutions:
        bands = BAND_SETS[res]
        missing = [b for b in bands if not reader.has_band(b, res)]
        if missing:
            raise BadProduct(f"{meta.product}: band(s) {', '.join(missing)} missing for the {res} m output")
        name = f"{stem}_{res}m"
        d = work / name
        d.mkdir(parents=True, exist_ok=True)
        rows, cols = meta.sizes[res]
        transform = _native_transform(meta, res)
        tif = d / f"{name}.tif"
        with rasterio.open(tif, "w", **profile(cols, rows, len(bands), "uint16", crs, transform, 0)) as ds:
            describe(ds, bands, meta.acquisition_time)
            for row in range(0, rows, STRIP_ROWS):
                w = Window(0, row, cols, min(STRIP_ROWS, rows - row))
                ds.write(np.stack([reader.read(b, res, w) for b in bands]), window=w)
        scl = reader.read_scl(res)
        if scl is None:  # L2A without SCL: the mask still marks nodata; SCL stays all nodata
            scl = np.zeros((rows, cols), np.uint8)
        scl = _fit(scl, rows, cols, 0)
        mask = _fit(mask_to_resolution(mask20, factor_up=20 // res if res < 20 else 1,
                                       factor_down=res // 20 if res > 20 else 1), rows, cols, NODATA)
        scl_tif = _write_single(d / f"{name}_SCL.tif", scl, crs, transform, 0, "SCL", meta.acquisition_time)
        mask_tif = _write_single(d / f"{name}_CLOUDMASK.tif", mask, crs, transform, NODATA, "CLOUDMASK",
                                 meta.acquisition_time)
        del scl, mask
        js = write_json(d / f"{name}.json", {**base, "epsg": meta.epsg, "resolution": res, "bands": bands})
        outputs.append(zip_outputs(work / f"{name}.zip", [tif, scl_tif, mask_tif, js]))
        native_tifs[res] = tif
        if target is not None:
            outputs.extend(_project(d, name, tif, scl_tif, mask_tif, base, res, bands, crs, target, options, work))
    prev_res = max(native_tifs)
    outputs.append(write_preview(native_tifs[prev_res], work / f"{stem}_L2A_preview.jpg", BAND_SETS[prev_res]))
    if target is not None:
        ptif = work / f"{stem}_{prev_res}m_{options.epsg}" / f"{stem}_{prev_res}m_{options.epsg}.tif"
        if ptif.exists():
            outputs.append(write_preview(ptif, work / f"{stem}_{options.epsg}_preview.jpg", BAND_SETS[prev_res]))
    return outputs


def _project(d, name, tif, scl_tif, mask_tif, base, res, bands, src_crs, target, options, work) -> list[Path]:
    with rasterio.open(tif) as s:
        bounds = s.bounds
    grid = target_grid(src_crs, bounds, res, target, align=options.tile_size, clip_bounds=options.clip_bounds)
    if grid is None:  # the granule lies outside every processing tile: native outputs only
        return []
    pname = f"{name}_{options.epsg}"
    pd = work / pname
    pd.mkdir(parents=True, exist_ok=True)
    files = [warp_file(tif, pd / f"{pname}.tif", grid, Resampling.bilinear),
             warp_file(scl_tif, pd / f"{pname}_SCL.tif", grid, Resampling.nearest),
             warp_file(mask_tif, pd / f"{pname}_CLOUDMASK.tif", grid, Resampling.nearest)]
    files.append(write_json(pd / f"{pname}.json", {**base, "epsg": int(options.epsg), "resolution": res,
                                                    "bands": bands}))
    return [zip_outputs(work / f"{pname}.zip", files)]


def _fit(a: np.ndarray, rows: int, cols: int, fill) -> np.ndarray:
    """Crop or pad a raster to the grid size (1830 is not a multiple of 3 × 5490/… in every product)."""
    out = np.full((rows, cols), fill, a.dtype)
    r, c = min(rows, a.shape[0]), min(cols, a.shape[1])
    out[:r, :c] = a[:r, :c]
    return out


def _write_single(path: Path, a: np.ndarray, crs, transform, nodata, band: str, acq: str) -> Path:
    rows, cols = a.shape
    with rasterio.open(path, "w", **profile(cols, rows, 1, "uint8", crs, transform, nodata)) as ds:
        describe(ds, [band], acq)
        ds.write(a, 1)
    return path


def done_markers(name, options: S2Options) -> list[str]:
    """Outputs whose presence means "this product is done" (all of a product's files are published together)."""
    stem = name.l2b_stem
    marks = [f"{stem}_{options.resolutions[0]}m.zip"]
    if options.epsg is not None and options.clip_bounds is None:  # a clipped granule may have no projected file
        marks.append(f"{stem}_{options.resolutions[0]}m_{options.epsg}.zip")
    return marks
