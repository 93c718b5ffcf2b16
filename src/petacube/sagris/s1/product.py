"""A Sentinel-1 SAFE product (zip or folder): its name, its type checks and its per-polarisation files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from petacube.sagris.batch.errors import BadProduct, UnknownProductType
from petacube.sagris.s2.product import SafeProduct

# S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB
NAME_RE = re.compile(
    r"^(?P<sat>S1[A-D])_(?P<mode>IW|EW|SM|WV|S[1-6])_(?P<type>GRD|SLC|RAW|OCN|ETA)(?P<res>[FHM_])_"
    r"(?P<level>[0-2])(?P<cls>[SA])(?P<pol>SH|SV|DH|DV|HH|VV|HV|VH)_(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_"
    r"(?P<orbit>\d{6})_(?P<datatake>[0-9A-F]{6})_(?P<crc>[0-9A-F]{4})$"
)


class NotSupported(BadProduct):
    """A Sentinel-1 product this processor does not handle (SLC, EW, ...)."""


@dataclass(frozen=True)
class S1Name:
    """The parts of a Sentinel-1 product name."""

    name: str
    satellite: str
    mode: str
    product_type: str
    start: str
    stop: str
    absolute_orbit: int
    datatake: str
    level: str = "GRD"  # the batch runner asks for `.level`; only L1C has special rules there

    @property
    def relative_orbit(self) -> int:
        """Relative orbit from the absolute one (S1A: offset 73, S1B: 27, S1C: 172; 175 orbits per cycle)."""
        offset = {"S1A": 73, "S1B": 27, "S1C": 172, "S1D": 0}[self.satellite]
        return (self.absolute_orbit - offset) % 175 + 1


def parse_name(path: Path | str) -> S1Name:
    """Parse a Sentinel-1 product file name; UnknownProductType if it is none."""
    base = Path(path).name
    for ext in (".zip", ".SAFE", ".safe"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    m = NAME_RE.match(base)
    if not m:
        raise UnknownProductType(f"{Path(path).name}: not a Sentinel-1 product name "
                                 "(expected S1?_IW_GRD?_1S??_<start>_<stop>_<orbit>_<datatake>_<crc>.zip/.SAFE)")
    return S1Name(base, m["sat"], m["mode"], m["type"], m["start"], m["stop"], int(m["orbit"]), m["datatake"])


def check_supported(name: S1Name) -> None:
    """NotSupported unless the product is an IW GRD (the chain's noise, LUT and geometry handling assume it)."""
    if name.product_type != "GRD" or name.mode != "IW":
        raise NotSupported(f"not supported: {name.name} is a {name.mode} {name.product_type} product; "
                           "the Sentinel-1 processor handles IW GRD products only")


class S1Safe(SafeProduct):
    """Read access to a Sentinel-1 SAFE, zipped or unpacked (file access shared with the S2 reader)."""

    parse_name = staticmethod(parse_name)

    def manifest(self) -> etree._Element:
        try:
            return etree.fromstring(self.read_bytes("manifest.safe"))
        except etree.XMLSyntaxError as exc:
            raise BadProduct(f"{self.path.name}: manifest.safe is not well-formed XML ({exc})") from exc

    def check_manifest_type(self) -> dict:
        """Product type, mode, slice, orbit and footprint from manifest.safe; NotSupported for non IW GRD."""
        m = self.manifest()

        def first(tag: str) -> str | None:
            hit = m.xpath(f".//*[local-name()='{tag}']/text()")
            return hit[0].strip() if hit else None

        ptype, mode = first("productType"), first("mode")
        if ptype and ptype != "GRD" or mode and mode != "IW":
            raise NotSupported(f"not supported: {self.path.name}: manifest.safe says {mode} {ptype}; "
                               "the Sentinel-1 processor handles IW GRD products only")
        coords = first("coordinates") or ""
        footprint = [tuple(float(v) for v in pair.split(",")[::-1]) for pair in coords.split()]  # lat,lon → lon,lat
        ipf = m.xpath(".//*[local-name()='software' and @name='Sentinel-1 IPF']/@version")
        return {"product_type": ptype, "mode": mode, "slice_number": int(first("sliceNumber") or 0),
                "datatake_id": first("missionDataTakeID"), "relative_orbit": int(first("relativeOrbitNumber") or 0),
                "pass": first("pass"), "footprint_lonlat": footprint, "ipf_version": ipf[0] if ipf else None}

    def polarisations(self) -> list[str]:
        """Polarisations that have an annotation file (upper case, e.g. ['VH', 'VV'])."""
        pols = {re.search(r"-(vv|vh|hh|hv)-", f).group(1).upper()
                for f in self.find(r"^annotation/s1[a-d]-iw-grd-(vv|vh|hh|hv)-.*\.xml$")}
        if not pols:
            raise BadProduct(f"{self.path.name}: no IW GRD annotation file in annotation/; the product is incomplete")
        return sorted(pols)

    def files_for(self, pol: str) -> dict[str, str]:
        """annotation / calibration / noise / measurement paths for one polarisation; BadProduct if one is missing."""
        p = pol.lower()
        want = {"annotation": rf"^annotation/s1[a-d]-iw-grd-{p}-[^/]*\.xml$",
                "calibration": rf"^annotation/calibration/calibration-s1[a-d]-iw-grd-{p}-[^/]*\.xml$",
                "noise": rf"^annotation/calibration/noise-s1[a-d]-iw-grd-{p}-[^/]*\.xml$",
                "measurement": rf"^measurement/s1[a-d]-iw-grd-{p}-[^/]*\.tiff?$"}
        out = {}
        for key, rx in want.items():
            hits = self.find(rx)
            if not hits:
                raise BadProduct(f"{self.path.name}: the {pol} {key} file is missing (looked for /{rx}/); "
                                 "the product is incomplete, re-download it")
            out[key] = hits[0]
        return out
