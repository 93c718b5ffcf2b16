"""Synthetic Sentinel-2 SAFE products with the real file layout and the real XML metadata.

The templates are real products' metadata in ../shared/data/s2_safe_metadata_stactools:
every file their manifest.safe lists is written (real XML where the sample has it, known
pixels for rasters, a placeholder otherwise), the tile grid in MTD_TL.xml is scaled down to
``size10`` pixels at 10 m, and the manifest checksums are recomputed with the algorithm the
real manifest uses (MD5 or SHA3-256), so ``-z`` passes on an untouched product.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from lxml import etree
from rasterio.transform import from_origin
from shared_data import SHARED_DATA

DATA = SHARED_DATA
META = DATA / "s2_safe_metadata_stactools"
FILELISTS = DATA / "s2_safe_filelists_sentinelhub"

L2A_0509 = "S2A_MSIL2A_20230625T234621_N0509_R073_T01WCP_20230626T022157"
L2A_0400 = "S2B_MSIL2A_20220413T150759_N0400_R025_T33XWJ_20220414T082126"
L2A_0212 = "S2A_MSIL2A_20190212T192651_N0212_R013_T07HFE_20201007T160857"
L1C_0301 = "S2A_MSIL1C_20210908T042701_N0301_R133_T46RER_20210908T070248"
HASH = {"MD5": hashlib.md5, "SHA3-256": hashlib.sha3_256}
NATIVE = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20, "B08": 10,
          "B8A": 20, "B09": 60, "B10": 60, "B11": 20, "B12": 20}


def default_band(band: str, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Known DNs: a smooth ramp plus a band-specific level, never 0 (0 is nodata); uint16 throughout
    so a full 10980² granule costs a few hundred MB, not gigabytes."""
    rng = np.random.default_rng(seed + sum(map(ord, band)))
    base = 1200 + 40 * int(band[1:3] if band[1:3].isdigit() else 8)
    rows = (np.arange(shape[0], dtype=np.uint32) * 3 % 20000).astype(np.uint16)
    cols = (np.arange(shape[1], dtype=np.uint32) * 2 % 20000).astype(np.uint16)
    out = rng.integers(0, 50, shape, dtype=np.uint16)
    out += np.uint16(base)
    out += rows[:, None]
    out += cols[None, :]
    return out


def _ns_all(root, tag):
    return root.xpath(f".//*[local-name()='{tag}']")


def make_safe(out_dir: Path, template: str = L2A_0509, *, name: str | None = None, size10: int = 120,
              bands: dict[str, np.ndarray] | None = None, scl: np.ndarray | None = None,
              cldprb: np.ndarray | None = None, as_zip: bool = True, seed: int = 0,
              sun: tuple[float, float] | None = None) -> Path:
    """Write a synthetic product; ``bands`` maps band → DN array at any resolution the file needs.

    ``bands`` keys are "B02" (used for every resolution, block-averaged from the given
    array when a coarser file is needed) or "B02_20m" (that exact file). ``scl``/``cldprb``
    are 20 m arrays (60 m versions are subsampled). ``sun`` = (zenith, azimuth) overrides
    Mean_Sun_Angle.
    """
    src = META / f"{template}.SAFE"
    name = name or template
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = out_dir / f".gen-{name}"
    if stage.exists():
        shutil.rmtree(stage)
    safe = stage / f"{name}.SAFE"
    safe.mkdir(parents=True)
    manifest = etree.parse(str(src / "manifest.safe"))
    tl_src = next(src.glob("GRANULE/*/MTD_TL.xml"))
    tl = etree.parse(str(tl_src))
    sizes = {10: size10, 20: size10 // 2, 60: size10 // 6}
    for el in _ns_all(tl, "Size"):
        n = sizes[int(el.get("resolution"))]
        _ns_all(el, "NROWS")[0].text = _ns_all(el, "NCOLS")[0].text = str(n)
    if sun is not None:
        ms = _ns_all(tl, "Mean_Sun_Angle")[0]
        _ns_all(ms, "ZENITH_ANGLE")[0].text, _ns_all(ms, "AZIMUTH_ANGLE")[0].text = str(sun[0]), str(sun[1])
    epsg = int(re.search(r"(\d+)$", _ns_all(tl, "HORIZONTAL_CS_CODE")[0].text).group(1))
    geo = _ns_all(tl, "Geoposition")[0]
    ulx, uly = float(_ns_all(geo, "ULX")[0].text), float(_ns_all(geo, "ULY")[0].text)
    bands = dict(bands or {})

    for stream in _ns_all(manifest, "byteStream"):
        href = stream.xpath("./*[local-name()='fileLocation']/@href")[0]
        rel = href.removeprefix("./")
        dest = safe / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        real = src / rel
        if rel.endswith("MTD_TL.xml"):
            tl.write(str(dest), xml_declaration=True, encoding="UTF-8")
        elif real.exists():
            shutil.copyfile(real, dest)
        elif "/IMG_DATA/" in rel or "MSK_CLDPRB" in rel:
            _write_image(dest, rel, sizes, epsg, ulx, uly, bands, scl, cldprb, seed)
        else:
            dest.write_bytes(f"placeholder for {rel}\n".encode())
        algo = stream.xpath("./*[local-name()='checksum']")[0]
        algo.text = HASH[algo.get("checksumName").upper()](dest.read_bytes()).hexdigest()
        stream.set("size", str(dest.stat().st_size))
    manifest.write(str(safe / "manifest.safe"), xml_declaration=True, encoding="UTF-8")
    if not as_zip:
        final = out_dir / f"{name}.SAFE"
        safe.rename(final)
        shutil.rmtree(stage)
        return final
    zpath = out_dir / f"{name}.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted(safe.rglob("*")):
            if p.is_file():
                zf.write(p, arcname=p.relative_to(stage).as_posix())
    shutil.rmtree(stage)
    return zpath


def band_array(bands: dict, band: str, res: int, sizes: dict, seed: int = 0) -> np.ndarray:
    """The DN array a synthetic product holds for ``band`` at ``res`` (what a test compares against)."""
    shape = (sizes[res], sizes[res])
    if f"{band}_{res}m" in bands:
        return bands[f"{band}_{res}m"]
    if band in bands:
        a = bands[band]
        f = a.shape[0] // shape[0]
        if f <= 1:
            return a[: shape[0], : shape[1]]
        return np.rint(a[: shape[0] * f, : shape[1] * f].reshape(shape[0], f, shape[1], f).astype(np.float64)
                       .mean(axis=(1, 3))).astype(np.uint16)
    return default_band(band, shape, seed)


def _write_image(dest, rel, sizes, epsg, ulx, uly, bands, scl, cldprb, seed):
    m = re.search(r"_(B\d[\dA]|SCL|AOT|WVP|TCI)(?:_(\d\d)m)?\.(jp2|tif)$", rel)
    if "MSK_CLDPRB" in rel:
        res = int(re.search(r"_(\d\d)m", rel).group(1))
        base = cldprb if cldprb is not None else np.zeros((sizes[20], sizes[20]), np.uint8)
        data, count = _resample_class(base, res, sizes), 1
    elif m is None:
        return dest.write_bytes(b"placeholder raster\n")
    else:
        kind = m.group(1)
        res = int(m.group(2)) if m.group(2) else NATIVE.get(kind, 10)
        shape = (sizes[res], sizes[res])
        if kind == "TCI":
            data, count = np.full((3, *shape), 100, np.uint8), 3
        elif kind == "SCL":
            base = scl if scl is not None else np.full((sizes[20], sizes[20]), 4, np.uint8)
            data, count = _resample_class(base, res, sizes), 1
        elif kind in ("AOT", "WVP"):
            data, count = np.full(shape, 150, np.uint16), 1
        else:
            data, count = band_array(bands, kind, res, sizes, seed), 1
    data = data if data.ndim == 3 else data[None]
    driver = "JP2OpenJPEG" if dest.suffix == ".jp2" else "GTiff"
    opts = {"QUALITY": "100", "REVERSIBLE": "YES"} if driver == "JP2OpenJPEG" else {"compress": "deflate", "tiled": True}
    with rasterio.open(dest, "w", driver=driver, width=data.shape[2], height=data.shape[1], count=count,
                       dtype=data.dtype, crs=f"EPSG:{epsg}", transform=from_origin(ulx, uly, res, res), **opts) as ds:
        ds.write(data)


def _resample_class(a20: np.ndarray, res: int, sizes: dict) -> np.ndarray:
    if res == 20:
        return a20
    if res == 10:
        return np.repeat(np.repeat(a20, 2, axis=0), 2, axis=1)
    return a20[1::3, 1::3][: sizes[60], : sizes[60]]
