"""Synthetic Sentinel-1 IW GRD products in the real products' geometry, decimated.

The real annotation, calibration and noise XML of a sample product are copied with every
image position (line, pixel, first/last line and sample, image size) divided by ``factor``
and the pixel spacings / azimuth time interval multiplied by it, so the LUTs, the
geolocation grid and the orbit still describe one consistent, smaller image. Measurement
TIFFs are written with the DNs a test asks for; manifest.safe's MD5s are recomputed.
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
from shared_data import SHARED_DATA

ROME = next((SHARED_DATA / "s1_grd_iw_vv_rome_sarsen").glob("S1B_*.SAFE"))
ROME_DEM = SHARED_DATA / "s1_grd_iw_vv_rome_sarsen" / "dem" / "Rome-30m-DEM.tif"
PYROSAR_ZIPS = sorted((SHARED_DATA / "s1_grd_iw_safe_zips_pyrosar").glob("*.zip"))
OLD_NOISE_ZIP = PYROSAR_ZIPS[0]  # IPF 002.36: noiseVectorList
NEW_NOISE_ZIP = PYROSAR_ZIPS[2]  # IPF 3.x: noiseRangeVectorList + noiseAzimuthVectorList

DIVIDE = {"numberOfSamples", "numberOfLines", "line", "pixel", "firstAzimuthLine", "lastAzimuthLine",
          "firstRangeSample", "lastRangeSample"}
MULTIPLY = {"rangePixelSpacing", "azimuthPixelSpacing", "azimuthTimeInterval"}


def _scale_xml(raw: bytes, factor: int, pol_from: str | None = None, pol_to: str | None = None) -> bytes:
    root = etree.fromstring(raw)
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.text or not el.text.strip():
            continue
        if el.tag in DIVIDE and el.getparent() is not None:
            vals = np.array(el.text.split(), dtype=float)
            el.text = " ".join(str(round(v / factor)) for v in vals)
        elif el.tag in MULTIPLY:
            el.text = repr(float(el.text) * factor)
        elif el.tag == "polarisation" and pol_to and el.text.strip() == pol_from:
            el.text = pol_to
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _source_files(source: Path) -> dict[str, bytes]:
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as zf:
            root = zf.namelist()[0].split("/")[0] + "/"
            return {n[len(root):]: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    return {p.relative_to(source).as_posix(): p.read_bytes() for p in source.rglob("*") if p.is_file()}


def make_grd(dest: Path, dn_fn, *, source: Path = ROME, factor: int = 20, pols=("VV", "VH"), zipped: bool = True,
             name: str | None = None) -> Path:
    """Write a decimated product into ``dest``; ``dn_fn(pol, shape) -> uint16 array``; return its path."""
    files = _source_files(source)
    name = name or source.name.removesuffix(".zip").removesuffix(".SAFE")
    out: dict[str, bytes] = {k: v for k, v in files.items()
                             if k == "manifest.safe" or k.startswith(("preview/", "support/"))}
    sat = name[:3].lower()
    for pol in pols:
        p = pol.lower()
        for kind in ("", "calibration/calibration-", "calibration/noise-"):
            rx = re.compile(rf"^annotation/{kind}{sat}-iw-grd-(vv|vh)-[^/]*\.xml$")
            cands = sorted(k for k in files if rx.match(k))
            src = next((k for k in cands if f"-{p}-" in k), cands[0])
            src_pol = rx.match(src).group(1)
            dst = src.replace(f"-{src_pol}-", f"-{p}-")
            out[dst] = _scale_xml(files[src], factor, src_pol.upper(), pol)
    ann = etree.fromstring(next(v for k, v in out.items() if re.match(r"^annotation/s1.-iw-grd-", k)))
    width = int(ann.findtext("imageAnnotation/imageInformation/numberOfSamples"))
    height = int(ann.findtext("imageAnnotation/imageInformation/numberOfLines"))
    work = dest / f"{name}.SAFE"
    if work.exists():
        shutil.rmtree(work)
    for rel, data in out.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes(data)
    mdir = work / "measurement"
    mdir.mkdir(exist_ok=True)
    for pol in pols:
        stem = next(k for k in out if re.match(rf"^annotation/s1.-iw-grd-{pol.lower()}-", k)).split("/")[-1][:-4]
        dn = np.asarray(dn_fn(pol, (height, width)), dtype=np.uint16)
        with rasterio.open(mdir / f"{stem}.tiff", "w", driver="GTiff", width=width, height=height, count=1,
                           dtype="uint16", compress="deflate", tiled=True) as ds:
            ds.write(dn, 1)
    _rewrite_manifest(work)
    if not zipped:
        return work
    zpath = dest / f"{name}.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(work.rglob("*")):
            if p.is_file():
                zf.write(p, f"{name}.SAFE/{p.relative_to(work).as_posix()}")
    shutil.rmtree(work)
    return zpath


def _rewrite_manifest(safe: Path) -> None:
    """MD5s of the files present; data objects whose file is absent are dropped (as in a consistent product)."""
    mpath = safe / "manifest.safe"
    root = etree.fromstring(mpath.read_bytes())
    present = {p.relative_to(safe).as_posix(): p for p in safe.rglob("*") if p.is_file()}
    listed = set()
    for obj in root.xpath(".//*[local-name()='dataObject']"):
        loc = obj.xpath(".//*[local-name()='fileLocation']/@href")[0].removeprefix("./")
        if loc not in present:
            obj.getparent().remove(obj)
            continue
        listed.add(loc)
        obj.xpath(".//*[local-name()='checksum']")[0].text = hashlib.md5(present[loc].read_bytes()).hexdigest()
    # files we renamed (VH copies of VV annotation) are listed under the name the real manifest used
    mpath.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def ramp_dn(value: int = 300):
    """A DN function: constant ``value`` inside, 0 (GRD fill) on a 3-pixel border, like a real swath edge."""
    def fn(pol, shape):
        dn = np.full(shape, value if pol == "VV" else value // 3, np.uint16)
        dn[:3, :] = 0
        dn[-3:, :] = 0
        dn[:, :3] = 0
        dn[:, -3:] = 0
        return dn
    return fn
