"""rasql's type system: base (cell) types, struct types, marray and set types.

Predefined types are rasdaman's (``GreyImage``, ``RGBSet``, ``ULongSet``, ``FloatSet3`` ...),
generated here; user types come from the catalog (`petacube.catalog.rasql_types`).
A set type resolves to a `CollectionType`: the bands of its cells (name and dtype), its
dimensionality (None: any) and null values, which is what a collection's coverage needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from petacube.model import Coverage, NilValue

# rasdaman base type name -> numpy dtype (char is unsigned in rasdaman, octet signed)
BASE_TYPES = {
    "bool": "bool", "boolean": "bool", "char": "uint8", "octet": "int8", "short": "int16",
    "ushort": "uint16", "unsigned short": "uint16", "long": "int32", "ulong": "uint32",
    "unsigned long": "uint32", "float": "float32", "double": "float64", "complex": "complex64",
    "complexd": "complex128", "int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16",
    "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64", "float32": "float32",
    "float64": "float64", "unsigned char": "uint8",
}
# dtype -> rasdaman's name for printing types
DTYPE_NAMES = {"bool": "bool", "uint8": "char", "int8": "octet", "int16": "short", "uint16": "ushort",
               "int32": "long", "uint32": "ulong", "float32": "float", "float64": "double",
               "complex64": "complex", "complex128": "complexd", "int64": "int64", "uint64": "uint64"}
# rasql cast/suffix name -> the engine's cast type name (engine.evaluate.CAST_TYPES keys)
ENGINE_CASTS = {"uint8": "unsigned char", "int8": "char", "int16": "short", "uint16": "unsigned short",
                "int32": "int", "uint32": "unsigned int", "int64": "long", "uint64": "unsigned long",
                "float32": "float", "float64": "double", "bool": "boolean", "complex64": "complex",
                "complex128": "complex2"}
SUFFIXES = {"c": "char", "o": "octet", "s": "short", "us": "ushort", "l": "long", "ul": "ulong",
            "f": "float", "d": "double"}

_STRUCTS = {"RGBPixel": [["red", "char"], ["green", "char"], ["blue", "char"]]}
_PREFIXES = {"Grey": "char", "Bool": "bool", "Octet": "octet", "Short": "short", "UShort": "ushort",
             "Long": "long", "ULong": "ulong", "Float": "float", "Double": "double", "RGB": "RGBPixel",
             "Complex": "complex", "ComplexD": "complexd"}
_SHAPES = {1: "String", 2: "Image", 3: "Cube", 4: "Array4"}


def _predefined() -> tuple[dict, dict]:
    marrays, sets = {}, {}
    for prefix, cell in _PREFIXES.items():
        for n, word in _SHAPES.items():
            marrays[prefix + word] = {"cell": cell, "dims": n}
            sets[prefix + ("Set" if n == 2 else f"Set{n}")] = {"marray": prefix + word, "nulls": []}
    return marrays, sets


PREDEFINED_MARRAYS, PREDEFINED_SETS = _predefined()


@dataclass(frozen=True)
class CollectionType:
    """What a set type asks of a collection's arrays."""

    set_name: str
    marray_name: str
    bands: tuple[tuple[str, str], ...]  # (band name, dtype)
    dims: int | None
    nulls: tuple[NilValue, ...] = ()

    def describe(self) -> str:
        cells = ", ".join(f"{n} {DTYPE_NAMES.get(d, d)}" for n, d in self.bands)
        return f"{self.set_name} (cells {{{cells}}}, {self.dims if self.dims else 'any number of'} dimension(s))"


def base_dtype(name: str) -> str | None:
    return BASE_TYPES.get(" ".join(name.lower().split()))


class TypeSystem:
    """Predefined types plus the catalog's user types."""

    def __init__(self, registry):
        self.registry = registry  # RasqlTypes

    # ---- lookups ----------------------------------------------------------------------
    def struct(self, name: str):
        return _STRUCTS.get(name) or (self.registry.get("struct", name) or {}).get("fields")

    def marray(self, name: str):
        return PREDEFINED_MARRAYS.get(name) or self.registry.get("marray", name)

    def set(self, name: str):
        return PREDEFINED_SETS.get(name) or self.registry.get("set", name)

    def exists(self, name: str) -> str | None:
        """The kind of type ``name`` is, or None."""
        if base_dtype(name) or self.struct(name):
            return "struct" if self.struct(name) else "base"
        if self.marray(name):
            return "marray"
        if self.set(name):
            return "set"
        return None

    def is_predefined(self, name: str) -> bool:
        return name in _STRUCTS or name in PREDEFINED_MARRAYS or name in PREDEFINED_SETS or base_dtype(name) is not None

    def cell_bands(self, cell) -> tuple[tuple[str, str], ...] | None:
        """Bands of a cell type: a base type name, a struct name or an inline field list."""
        if isinstance(cell, list):
            return tuple((str(n), self._field_dtype(t)) for n, t in cell)
        dtype = base_dtype(cell)
        if dtype:
            return (("value", dtype),)
        fields = self.struct(cell)
        if fields:
            return tuple((str(n), self._field_dtype(t)) for n, t in fields)
        return None

    def _field_dtype(self, t) -> str:
        dtype = base_dtype(t) if isinstance(t, str) else None
        if dtype is None:
            raise ValueError(f"field type {t!r} is not a base type")
        return dtype

    def collection_type(self, set_name: str) -> CollectionType | None:
        s = self.set(set_name)
        if s is None:
            return None
        m = self.marray(s["marray"])
        if m is None:
            return None
        bands = self.cell_bands(m["cell"])
        if bands is None:
            return None
        nulls = tuple(NilValue(float(lo), None if hi is None else float(hi)) for lo, hi in s.get("nulls", []))
        return CollectionType(set_name, s["marray"], bands, m.get("dims"), nulls)

    def users_of(self, name: str) -> list[str]:
        """User types and collections that refer to type ``name`` (a drop must not break them)."""
        out = []
        for n, d in self.registry.all("marray").items():
            if d.get("cell") == name:
                out.append(n)
        for n, d in self.registry.all("set").items():
            if d.get("marray") == name:
                out.append(n)
        for n, d in self.registry.all("collection").items():
            if d.get("set") == name:
                out.append(n)
        return out


def type_of_coverage(cov: Coverage) -> CollectionType:
    """The set type a coverage made outside rasql (ingest, WCS-T) is seen with."""
    bands = tuple((b.name, b.dtype) for b in cov.bands)
    nulls = tuple(n for b in cov.bands[:1] for n in b.nil_values)
    if len(bands) == 3 and all(d == "uint8" for _, d in bands):
        prefix = "RGB"
    elif len(bands) == 1:
        prefix = next((p for p, c in _PREFIXES.items() if base_dtype(c) == bands[0][1] and p != "RGB"), "")
    else:
        prefix = ""
    n = len(cov.axes)
    if prefix:
        return CollectionType(prefix + ("Set" if n == 2 else f"Set{n}"), prefix + _SHAPES.get(n, f"Array{n}"),
                              bands, n, nulls)
    return CollectionType(f"{cov.id}_set", f"{cov.id}_marray", bands, n, nulls)
