"""Sentinel-1 GRD annotation XML: image size, geolocation grid, calibration and thermal-noise LUTs.

Both noise annotation generations are read: before IPF 2.9 a ``noiseVectorList`` (range
vectors only, ``noiseLut``); from IPF 2.9 on a ``noiseRangeVectorList`` (``noiseRangeLut``)
plus a ``noiseAzimuthVectorList`` whose blocks scale the range noise per swath and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from lxml import etree

from petacube.sagris.batch.errors import BadProduct


@dataclass
class LutGrid:
    """LUT vectors at given image lines, each sampled at its own pixel positions."""

    lines: np.ndarray  # (n,) int
    pixels: list[np.ndarray]  # n × (m_i,)
    values: list[np.ndarray]  # n × (m_i,)


@dataclass
class AzimuthNoiseBlock:
    """One ``noiseAzimuthVector``: a rectangle of the image scaled by a LUT along lines."""

    first_line: int
    last_line: int
    first_sample: int
    last_sample: int
    lines: np.ndarray
    values: np.ndarray


@dataclass
class Annotation:
    """What the processor needs from one polarisation's annotation files."""

    polarisation: str
    samples: int
    lines: int
    pass_direction: str
    range_spacing: float
    azimuth_spacing: float
    gcps: np.ndarray  # (k, 5): line, pixel, lat, lon, height
    incidence: np.ndarray  # (k,) degrees at the GCPs
    start_time: str
    calibration: dict[str, LutGrid] = field(default_factory=dict)  # sigmaNought, betaNought, gamma, dn
    noise_range: LutGrid | None = None
    noise_azimuth: list[AzimuthNoiseBlock] = field(default_factory=list)
    noise_generation: str = "none"  # "range-only" (IPF < 2.9) or "range×azimuth"


def _parse(raw: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(raw)
    except etree.XMLSyntaxError as exc:
        raise BadProduct(f"{what} is not well-formed XML ({exc})") from exc


def _numbers(el: etree._Element | None, dtype=float) -> np.ndarray:
    return np.array((el.text or "").split(), dtype=dtype) if el is not None else np.array([], dtype=dtype)


def _text(root: etree._Element, path: str, what: str) -> str:
    hit = root.find(path)
    if hit is None or not (hit.text or "").strip():
        raise BadProduct(f"{what}: <{path}> missing; the annotation is incomplete")
    return hit.text.strip()


def _lut_grid(vectors: list[etree._Element], value_tag: str, what: str) -> LutGrid:
    if not vectors:
        raise BadProduct(f"{what}: no LUT vectors with <{value_tag}>")
    lines = np.array([int(v.findtext("line")) for v in vectors])
    pixels = [_numbers(v.find("pixel")) for v in vectors]
    values = [_numbers(v.find(value_tag)) for v in vectors]
    for p, val in zip(pixels, values):
        if len(p) != len(val) or len(p) == 0:
            raise BadProduct(f"{what}: a <{value_tag}> vector has {len(val)} values for {len(p)} pixels")
    order = np.argsort(lines, kind="stable")
    return LutGrid(lines[order], [pixels[i] for i in order], [values[i] for i in order])


def read_annotation(product, pol: str, files: dict[str, str]) -> Annotation:
    """Parse the annotation, calibration and noise XML of one polarisation of ``product`` (an S1Safe)."""
    name = product.path.name
    ann = _parse(product.read_bytes(files["annotation"]), f"{name}: {files['annotation']}")
    what = f"{name}: {files['annotation']}"
    gcp_nodes = ann.findall(".//geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    if len(gcp_nodes) < 4:
        raise BadProduct(f"{what}: fewer than 4 geolocation grid points; cannot geocode")
    gcps = np.array([[float(g.findtext(k)) for k in ("line", "pixel", "latitude", "longitude", "height")]
                     for g in gcp_nodes])
    incidence = np.array([float(g.findtext("incidenceAngle")) for g in gcp_nodes])
    a = Annotation(
        polarisation=pol.upper(),
        samples=int(_text(ann, "imageAnnotation/imageInformation/numberOfSamples", what)),
        lines=int(_text(ann, "imageAnnotation/imageInformation/numberOfLines", what)),
        pass_direction=_text(ann, "generalAnnotation/productInformation/pass", what),
        range_spacing=float(_text(ann, "imageAnnotation/imageInformation/rangePixelSpacing", what)),
        azimuth_spacing=float(_text(ann, "imageAnnotation/imageInformation/azimuthPixelSpacing", what)),
        gcps=gcps, incidence=incidence,
        start_time=_text(ann, "imageAnnotation/imageInformation/productFirstLineUtcTime", what),
    )
    cal_what = f"{name}: {files['calibration']}"
    cal = _parse(product.read_bytes(files["calibration"]), cal_what)
    vectors = cal.findall("calibrationVectorList/calibrationVector")
    for tag in ("sigmaNought", "betaNought", "gamma", "dn"):
        a.calibration[tag] = _lut_grid(vectors, tag, cal_what)
    noise_what = f"{name}: {files['noise']}"
    noise = _parse(product.read_bytes(files["noise"]), noise_what)
    new_style = noise.findall("noiseRangeVectorList/noiseRangeVector")
    if new_style:
        a.noise_range = _lut_grid(new_style, "noiseRangeLut", noise_what)
        a.noise_generation = "range×azimuth"
        for b in noise.findall("noiseAzimuthVectorList/noiseAzimuthVector"):
            a.noise_azimuth.append(AzimuthNoiseBlock(
                int(b.findtext("firstAzimuthLine")), int(b.findtext("lastAzimuthLine")),
                int(b.findtext("firstRangeSample")), int(b.findtext("lastRangeSample")),
                _numbers(b.find("line")), _numbers(b.find("noiseAzimuthLut"))))
    else:
        old = noise.findall("noiseVectorList/noiseVector")
        if not old:
            raise BadProduct(f"{noise_what}: neither noiseRangeVectorList nor noiseVectorList; "
                             "cannot remove thermal noise")
        a.noise_range = _lut_grid(old, "noiseLut", noise_what)
        a.noise_generation = "range-only"
    return a
