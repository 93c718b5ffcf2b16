"""Derived products of a master copy for one EPSG: UInt16 ×1000 GeoTIFFs, boundary, false colour, preview, water.

Everything is read from the master's float bands through GDAL's warper (WarpedVRT) in
strips of output rows, so memory is bounded whatever the scene size.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio.raw
import rasterio
import rasterio.features
import shapely
from PIL import Image
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_geom
from rasterio.windows import Window
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s1.scaling import U16_NODATA, decode_u16, encode_u16, false_colour
from petacube.sagris.s1.water import NODATA as WATER_NODATA
from petacube.sagris.s1.water import otsu_threshold, to_db, water_mask
from petacube.sagris.s2.geotiff import profile, zip_outputs
from petacube.sagris.s2.reproject import target_grid

STRIP_ROWS = 1024
RESOLUTION_M = 10.0
FOOTPRINT_DECIMATION = 8  # the boundary is traced on an 80 m version of the valid mask


def derive(bands: dict[str, Path], stem: str, epsg_crs, work: Path, *, meta: dict, water_threshold="otsu",
           resolution: float = RESOLUTION_M, tile_size: float | None = None) -> list[Path]:
    """Make ``<stem>.zip`` (GeoTIFF per polarisation + boundary), ``<stem>_pct.tif``, ``<stem>_preview.png``
    and ``<stem>_WATER.tif`` from master float bands; return them."""
    d = work / stem
    d.mkdir(parents=True, exist_ok=True)
    first = next(iter(bands.values()))
    with rasterio.open(first) as m:
        grid = target_grid(m.crs, m.bounds, resolution, epsg_crs, align=tile_size)
    pols = sorted(bands)
    tifs = {p: d / f"{stem}_{p}.tif" for p in pols}
    outs = {p: rasterio.open(tifs[p], "w", **profile(grid.width, grid.height, 1, "uint16", grid.crs, grid.transform,
                                                     U16_NODATA)) for p in pols}
    pct_path = work / f"{stem}_pct.tif"
    pct = rasterio.open(pct_path, "w", **profile(grid.width, grid.height, 3, "uint8", grid.crs, grid.transform, 0))
    sources = {p: rasterio.open(bands[p]) for p in pols}
    vrts = {p: WarpedVRT(sources[p], crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                         resampling=Resampling.bilinear, src_nodata=np.nan, nodata=np.nan, warp_mem_limit=256)
            for p in pols}
    try:
        for p in pols:
            outs[p].update_tags(SCALE="0.001", ENCODING="linear backscatter x 1000, 65535 nodata, 65534 saturated",
                                POLARISATION=p, **{k.upper(): str(v) for k, v in meta.items()})
            outs[p].set_band_description(1, p)
        for row in range(0, grid.height, STRIP_ROWS):
            w = Window(0, row, grid.width, min(STRIP_ROWS, grid.height - row))
            lin = {p: vrts[p].read(1, window=w) for p in pols}
            for p in pols:
                outs[p].write(encode_u16(lin[p]), 1, window=w)
            vv = lin.get("VV", lin[pols[0]])
            vh = lin.get("VH", vv)
            pct.write(false_colour(vv, vh), window=w)
    finally:
        for x in (*vrts.values(), *sources.values(), *outs.values(), pct):
            x.close()
    main = "VV" if "VV" in tifs else pols[0]
    boundary = _boundary(tifs[main], d, stem)
    if boundary is None:
        raise BadProduct(f"{meta.get('product', stem)}: no valid backscatter pixel in EPSG:{epsg_crs.to_epsg()} output")
    (d / f"{stem}.json").write_text(json.dumps({**meta, "epsg": epsg_crs.to_epsg(), "resolution": resolution,
                                                "polarisations": pols, "scale": 0.001, "nodata": U16_NODATA},
                                               indent=1, sort_keys=True))
    zpath = work / f"{stem}.zip"
    zip_outputs(zpath, [*tifs.values(), *boundary, d / f"{stem}.json"])
    preview = _preview(pct_path, work / f"{stem}_preview.png")
    water = _water(tifs[main], work / f"{stem}_WATER.tif", water_threshold)
    return [zpath, pct_path, preview, water]


def _boundary(tif: Path, d: Path, stem: str) -> list[Path] | None:
    """Valid-data footprint polygon(s) as Shapefile (target CRS) and GeoJSON (WGS84, RFC 7946)."""
    with rasterio.open(tif) as ds:
        f = FOOTPRINT_DECIMATION
        shape_ = (max(1, ds.height // f), max(1, ds.width // f))
        valid = ds.read(1, out_shape=shape_, resampling=Resampling.nearest) != U16_NODATA
        t = ds.transform * rasterio.Affine.scale(ds.width / shape_[1], ds.height / shape_[0])
        crs = ds.crs
        res = abs(t.a)
    polys = [shape(g) for g, v in rasterio.features.shapes(valid.astype(np.uint8), mask=valid, transform=t) if v == 1]
    if not polys:
        return None
    geom = shapely.make_valid(unary_union(polys)).simplify(res, preserve_topology=True)
    shp = d / f"{stem}_boundary.shp"
    pyogrio.raw.write(shp, np.array([shapely.to_wkb(geom)], dtype=object), field_data=[np.array([stem], dtype=object)],
                      fields=["product"], driver="ESRI Shapefile", crs=crs.to_wkt(), geometry_type="MultiPolygon"
                      if geom.geom_type == "MultiPolygon" else "Polygon")
    gj = d / f"{stem}_boundary.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"product": stem},
         "geometry": transform_geom(crs, "EPSG:4326", mapping(geom))}]}))
    return sorted(p for p in d.iterdir() if p.stem == f"{stem}_boundary")


def _preview(pct: Path, out: Path, max_size: int = 1024) -> Path:
    with rasterio.open(pct) as ds:
        s = min(1.0, max_size / max(ds.width, ds.height))
        shape_ = (max(1, int(ds.height * s)), max(1, int(ds.width * s)))
        rgb = ds.read(out_shape=(3, *shape_), resampling=Resampling.nearest)
    alpha = np.where((rgb == 0).all(axis=0), 0, 255).astype(np.uint8)
    Image.fromarray(np.dstack([*rgb, alpha]), "RGBA").save(out, "PNG", optimize=True)
    return out


def _water(tif: Path, out: Path, threshold) -> Path:
    """uint8 water mask on the derived grid; Otsu's threshold is computed on a decimated copy of VV."""
    with rasterio.open(tif) as ds:
        if threshold == "otsu":
            s = min(1.0, 2048 / max(ds.width, ds.height))
            small = ds.read(1, out_shape=(max(1, int(ds.height * s)), max(1, int(ds.width * s))),
                            resampling=Resampling.nearest)
            threshold = otsu_threshold(to_db(decode_u16(small)))
        p = profile(ds.width, ds.height, 1, "uint8", ds.crs, ds.transform, WATER_NODATA)
        with rasterio.open(out, "w", **p) as dst:
            dst.update_tags(WATER_THRESHOLD_DB=f"{threshold:.3f}", CODES="1 water, 0 not water, 255 nodata",
                            SOURCE="VV")
            for row in range(0, ds.height, STRIP_ROWS):
                w = Window(0, row, ds.width, min(STRIP_ROWS, ds.height - row))
                dst.write(water_mask(to_db(decode_u16(ds.read(1, window=w))), threshold), 1, window=w)
    return out


