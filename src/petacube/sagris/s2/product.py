"""A Sentinel-2 SAFE product on disk (a .zip or a .SAFE folder): its name and its files."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from petacube.sagris.batch.errors import BadProduct, UnknownProductType

# S2A_MSIL2A_20210415T101021_N0300_R022_T33UUP_20210415T130000
NAME_RE = re.compile(
    r"^(?P<sat>S2[A-D])_MSI(?P<level>L1C|L2A)_(?P<sensing>\d{8}T\d{6})_N(?P<baseline>\d{4})_"
    r"R(?P<orbit>\d{3})_T(?P<tile>\d{2}[A-Z]{3})_(?P<discriminator>\d{8}T\d{6})$"
)


@dataclass(frozen=True)
class ProductName:
    """The parts of a Sentinel-2 product name."""

    name: str
    satellite: str
    level: str
    sensing: str
    baseline: str
    relative_orbit: int
    tile: str

    @property
    def l2b_stem(self) -> str:
        """Output stem: the product name with MSIL1C/MSIL2A replaced by MSIL2B."""
        return self.name.replace(f"_MSI{self.level}_", "_MSIL2B_", 1)

    @property
    def datatake_tile(self) -> tuple[str, str, int, str]:
        """What an L1C and the L2A made from it share: satellite, sensing start, orbit, tile."""
        return (self.satellite, self.sensing, self.relative_orbit, self.tile)


def parse_name(path: Path | str) -> ProductName:
    """Parse a product file name (with or without .zip/.SAFE); UnknownProductType if it is not one."""
    base = Path(path).name
    for ext in (".zip", ".SAFE", ".safe"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    m = NAME_RE.match(base)
    if not m:
        raise UnknownProductType(f"{Path(path).name}: not a Sentinel-2 L1C or L2A product name "
                                 "(expected S2?_MSIL1C_... or S2?_MSIL2A_... .zip/.SAFE)")
    return ProductName(base, m["sat"], m["level"], m["sensing"], m["baseline"], int(m["orbit"]), m["tile"])


class SafeProduct:
    """Read access to the files of a SAFE product, zipped or unpacked, by path inside the SAFE."""

    parse_name = staticmethod(parse_name)  # the product name's parser (Sentinel-1 uses its own)

    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = self.parse_name(self.path)
        self.is_zip = self.path.suffix.lower() == ".zip"
        if self.is_zip:
            try:
                with zipfile.ZipFile(self.path) as zf:
                    names = zf.namelist()
            except (zipfile.BadZipFile, OSError) as exc:
                raise BadProduct(f"{self.path.name}: not a readable zip ({exc}); re-download it") from exc
            root = _common_root(names)
            self._root = root
            self._members = {n[len(root):]: n for n in names if not n.endswith("/") and n.startswith(root)}
        else:
            if not self.path.is_dir():
                raise BadProduct(f"{self.path}: a .SAFE product must be a folder")
            self._root = ""
            self._members = {p.relative_to(self.path).as_posix(): p.relative_to(self.path).as_posix()
                             for p in self.path.rglob("*") if p.is_file()}

    @cached_property
    def files(self) -> list[str]:
        """All file paths inside the SAFE, relative to its root folder."""
        return sorted(self._members)

    def exists(self, rel: str) -> bool:
        return _norm(rel) in self._members

    def read_bytes(self, rel: str) -> bytes:
        """The bytes of one file; BadProduct if it is missing or unreadable."""
        key = _norm(rel)
        if key not in self._members:
            raise BadProduct(f"{self.path.name}: {rel} is missing from the product")
        try:
            if self.is_zip:
                with zipfile.ZipFile(self.path) as zf:
                    return zf.read(self._members[key])
            return (self.path / key).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BadProduct(f"{self.path.name}: cannot read {rel} ({exc})") from exc

    def hash_file(self, rel: str, hasher) -> str:
        """Hex digest of one file, streamed in 1 MiB pieces so big bands need no big buffer."""
        key = _norm(rel)
        if key not in self._members:
            raise BadProduct(f"{self.path.name}: {rel} is missing from the product")
        try:
            if self.is_zip:
                with zipfile.ZipFile(self.path) as zf, zf.open(self._members[key]) as fh:
                    while chunk := fh.read(1 << 20):
                        hasher.update(chunk)
            else:
                with open(self.path / key, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        hasher.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BadProduct(f"{self.path.name}: cannot read {rel} ({exc}); the product is damaged") from exc
        return hasher.hexdigest()

    def gdal_path(self, rel: str) -> str:
        """A path GDAL/rasterio can open (``/vsizip/`` inside zips)."""
        key = _norm(rel)
        if key not in self._members:
            raise BadProduct(f"{self.path.name}: {rel} is missing from the product")
        if self.is_zip:
            return f"/vsizip/{self.path.resolve()}/{self._members[key]}"
        return str(self.path / key)

    def find(self, pattern: str) -> list[str]:
        """Files whose SAFE-relative path matches the regular expression ``pattern``."""
        rx = re.compile(pattern)
        return [f for f in self.files if rx.search(f)]

    def find_one(self, pattern: str, what: str) -> str:
        hits = self.find(pattern)
        if not hits:
            raise BadProduct(f"{self.path.name}: no {what} in the product (looked for /{pattern}/)")
        return hits[0]


def _norm(rel: str) -> str:
    return rel.removeprefix("./")


def _common_root(names: list[str]) -> str:
    """The ``<name>.SAFE/`` folder a product zip wraps everything in (or '' if none)."""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1:
        top = tops.pop()
        return top + "/"
    return ""
