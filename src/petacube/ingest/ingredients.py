"""Ingredients files: wcst_import's JSON import descriptions, parsed and checked.

Attribute names are the JSON keys, spelled as rasdaman spells them (``service_url``,
``gridOrder``, ``directPositions`` ...); the only exception is ``global`` (a Python
keyword), read as ``Metadata.global_``. Keys starting with ``__comment`` are ignored
anywhere. Booleans also accept rasdaman's strings ("true", "false"). Every problem found
is reported at once, each on its own line with its JSON path (``recipe.options.coverage.
slicer.axes.Lat.resolution``) and what is accepted there.
"""

from __future__ import annotations

import difflib
import glob
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import PlainValidator
from pydantic_core import PydanticCustomError

from petacube.errors import IngredientsError, PetacubeError

SUPPORTED_RECIPES = ("map_mosaic", "time_series_regular", "time_series_irregular", "general_coverage")
# recipes wcst_import has that petacube does not (a clearer message than "unknown")
RASDAMAN_ONLY_RECIPES = ("wcs_extract", "sentinel1", "sentinel2", "virtual_coverage", "inspire")
TILING_SCHEMES = ("ALIGNED", "REGULAR", "DIRECTIONAL", "AREA OF INTEREST", "STATISTIC")


# ---- value types --------------------------------------------------------------------


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    text = json.dumps(value) if isinstance(value, (str, bool, int, float)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise PydanticCustomError("flag", "expected true or false, got {got}", {"got": _got(value)})


def _sentence(value: Any) -> str | int | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PydanticCustomError(
            "sentence", "expected a number or a text (a value or a {example} sentence), got {got}",
            {"got": _got(value), "example": "${...}"},
        )
    return value


def _dict_or_auto(value: Any) -> dict | str:
    if value == "auto" or isinstance(value, dict):
        return value
    raise PydanticCustomError("dict_or_auto", 'expected an object or "auto", got {got}', {"got": _got(value)})


def _null_value(value: Any) -> str | int | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PydanticCustomError("null_value", "expected a number or a text such as \"-9999\" or \"-10:0\", got {got}", {"got": _got(value)})
    if isinstance(value, str) and "${" not in value:
        from petacube.model import NilValue

        for part in value.split(","):
            if part.strip() == "":
                continue
            try:
                NilValue.parse(part)
            except PetacubeError:
                raise PydanticCustomError(
                    "null_value", "{got} is not a null value: give numbers (\"-9999\"), intervals (\"-10:0\") or nan, comma-separated",
                    {"got": _got(value)},
                ) from None
    return value


Flag = Annotated[bool, PlainValidator(_flag)]
Sentence = Annotated[Union[str, int, float], PlainValidator(_sentence)]
DictOrAuto = Annotated[Union[dict, str], PlainValidator(_dict_or_auto)]
NullValue = Annotated[Union[str, int, float], PlainValidator(_null_value)]


def _as_field_error(kind: str, check, value):
    try:
        return check(value)
    except IngredientsError as exc:
        raise PydanticCustomError(kind, "{msg}", {"msg": exc.message}) from None


class _UnknownKey:
    """Put in place of an unknown key's value so the error report knows what was allowed."""

    def __init__(self, key: str, allowed: list[str]):
        self.key, self.allowed = key, allowed


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=False)

    @model_validator(mode="before")
    @classmethod
    def _mark_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            unknown = [k for k in data if k not in allowed]
            if unknown:
                data = dict(data)
                for k in unknown:
                    data[k] = _UnknownKey(k, allowed)
        return data


# ---- config and input ---------------------------------------------------------------


class Config(_Model):
    """The ``config`` section; defaults as wcst_import's."""

    service_url: str | None = None
    tmp_directory: str = "/tmp/rasdaman_wcst_import/"
    crs_resolver: str | None = None
    default_crs: str | None = None
    mock: Flag = False
    automated: Flag = False
    blocking: Flag = True
    default_null_values: list[NullValue] = Field(default_factory=list)
    url_root: str | None = None
    root_url: str = "file://"
    skip: Flag = False
    retry: Flag = False
    retries: int = Field(5, ge=0)
    retry_sleep: float = Field(1.0, ge=0)
    track_files: Flag = True
    resumer_dir_path: str | None = None
    slice_restriction: list[Any] | None = None
    description_max_no_slices: int = Field(5, ge=0)
    insitu: Flag = False
    black_listed: Flag = False
    subset_correction: Flag = False


class Inspire(_Model):
    metadata_url: str | None = None


_COVERAGE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


class Input(_Model):
    """The ``input`` section: the coverage and the files (globs relative to the ingredients file)."""

    coverage_id: str
    paths: list[str] = Field(default_factory=list)
    inspire: Inspire | None = None

    @field_validator("coverage_id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _COVERAGE_ID.fullmatch(v):
            raise PydanticCustomError(
                "coverage_id",
                "{got} is not a valid coverage id: start with a letter or _, then letters, digits, _ . -",
                {"got": _got(v)},
            )
        return v


# ---- recipe options shared by all recipes ---------------------------------------------


class ScaleFactor(_Model):
    coverage_id: str
    factors: list[float]


class MetadataFile(_Model):
    root_element: str
    path: str


class Metadata(_Model):
    """``coverage.metadata``: extra metadata, evaluated per file (global) or per slice (local)."""

    type: Literal["xml", "json"]
    global_: DictOrAuto | None = Field(None, alias="global")
    local: dict[str, Any] | None = None
    bands: DictOrAuto | None = None
    axes: DictOrAuto | None = None
    colorPaletteTable: str | None = None

    @field_validator("local")
    @classmethod
    def _check_local(cls, v):
        if v and isinstance(v.get("metadata_file"), dict):
            MetadataFile.model_validate(v["metadata_file"])
        return v


class CoverageExtras(_Model):
    """``options.coverage`` of the GDAL-only recipes (metadata only)."""

    metadata: Metadata | None = None
    grid_coverage: Flag = False


class _Options(_Model):
    tiling: str | None = None
    wms_import: Flag = False
    scale_levels: list[float] | None = None
    scale_factors: list[ScaleFactor] | None = None
    import_order: Literal["ascending", "descending"] | None = None
    import_overviews: list[int] | None = None
    import_all_overviews: Flag = False
    import_overviews_only: Flag = False
    pyramid_members: list[str] | None = None
    pyramid_bases: list[str] | None = None
    pyramid_harvesting: Flag = False
    band_names: list[str] | None = None

    @field_validator("tiling")
    @classmethod
    def _check_tiling(cls, v):
        if v is not None:
            _as_field_error("tiling", parse_tiling, v)
        return v

    @field_validator("scale_levels")
    @classmethod
    def _check_levels(cls, v):
        for level in v or []:
            if level < 1:
                raise PydanticCustomError("scale_levels", "scale levels are factors ≥ 1, got {got}", {"got": _got(level)})
        return v

    @model_validator(mode="after")
    def _levels_or_factors(self):
        if self.scale_levels is not None and self.scale_factors is not None:
            raise PydanticCustomError("scale", "give scale_levels or scale_factors, not both")
        return self


class MapMosaicOptions(_Options):
    coverage: CoverageExtras | None = None


class TimeSeriesRegularOptions(_Options):
    time_start: str
    time_format: str = "auto"
    time_crs: str
    time_step: str
    coverage: CoverageExtras | None = None

    @field_validator("time_step")
    @classmethod
    def _check_step(cls, v):
        _as_field_error("time_step", parse_time_step, v)
        return v


class MetadataTag(_Model):
    tag_name: str = "TIFFTAG_DATETIME"


class FilenameTime(_Model):
    regex: str
    group: int | str

    @model_validator(mode="after")
    def _check_regex(self):
        try:
            pattern = re.compile(self.regex)
        except re.error as exc:
            raise PydanticCustomError("regex", "regex {got} is not a valid regular expression: {why}", {"got": _got(self.regex), "why": str(exc)}) from None
        group = int(self.group) if isinstance(self.group, str) and self.group.isdigit() else self.group
        ok = (isinstance(group, int) and 0 <= group <= pattern.groups) or (isinstance(group, str) and group in pattern.groupindex)
        if not ok:
            raise PydanticCustomError(
                "group", "group {got} is not a group of the regex (it has {n} group(s))", {"got": _got(self.group), "n": pattern.groups}
            )
        return self


class TimeParameter(_Model):
    metadata_tag: MetadataTag | None = None
    filename: FilenameTime | None = None
    datetime_format: str = "auto"

    @model_validator(mode="after")
    def _one_source(self):
        if self.metadata_tag is None and self.filename is None:
            raise PydanticCustomError("time_parameter", "give {a} or {b}", {"a": "metadata_tag {tag_name}", "b": "filename {regex, group}"})
        return self


class TimeSeriesIrregularOptions(_Options):
    time_parameter: TimeParameter
    time_crs: str
    coverage: CoverageExtras | None = None


# ---- general_coverage -----------------------------------------------------------------


class Band(_Model):
    """A band of ``slicer.bands``."""

    name: str
    identifier: str | int | None = None
    variable: str | None = None
    description: str | None = None
    definition: str | None = None
    nilReason: str | None = None
    nilValue: NullValue | None = None
    nilValues: list[NullValue] | None = None
    uomCode: str | None = None
    filterMessagesMatching: dict[str, Sentence] | None = None
    observationType: Literal["numeric", "categorial"] = "numeric"


class Axis(_Model):
    """An axis of ``slicer.axes``: sentences for its extent and options for its grid."""

    min: Sentence
    max: Sentence | None = None
    resolution: Sentence | None = None
    gridOrder: int | None = Field(None, ge=0)
    crsOrder: int | None = Field(None, ge=0)
    type: Literal["date", "number", "ansidate"] | None = None
    irregular: Flag = False
    regular: Flag | None = None
    statements: str | list[str] | None = None
    directPositions: Sentence | list[Sentence] | None = None
    dataBound: Flag = True
    sliceGroupSize: float | None = Field(None, gt=0)
    crs_origin: str | None = None

    @field_validator("type")
    @classmethod
    def _ansidate_is_date(cls, v):
        return "date" if v == "ansidate" else v  # wcst_import's old spelling

    @model_validator(mode="after")
    def _check(self):
        if self.sliceGroupSize is not None and (not self.irregular or self.dataBound):
            raise PydanticCustomError("slice_group", "sliceGroupSize needs an irregular axis with \"dataBound\": false")
        if self.irregular and isinstance(self.resolution, (int, float)) and self.resolution not in (1, -1):
            raise PydanticCustomError("resolution", "an irregular axis has no resolution other than 1, got {got}", {"got": _got(self.resolution)})
        return self


class Slicer(_Model):
    type: Literal["gdal", "netcdf", "grib"]
    pixelIsPoint: Flag = False
    bands: list[Band] | None = None
    axes: dict[str, Axis]
    subtype: str | None = None

    @field_validator("bands", mode="before")
    @classmethod
    def _bands_from_file(cls, v):
        # wcst_import's old `"bands": "${gdal:bands}"`: the bands of the file, as when absent
        if isinstance(v, str) and v.replace(" ", "") == "${gdal:bands}":
            return None
        return v

    @model_validator(mode="after")
    def _check(self):
        if self.type in ("netcdf", "grib") and not self.bands:
            raise PydanticCustomError("bands", "the {t} slicer needs a \"bands\" list", {"t": self.type})
        if self.type == "netcdf":
            for b in self.bands:
                if b.identifier in (None, "") and not b.variable:
                    raise PydanticCustomError("bands", "band {name}: a netcdf band needs an \"identifier\" (the variable name)", {"name": b.name})
        if self.type != "grib":
            for b in self.bands or []:
                if b.filterMessagesMatching is not None:
                    raise PydanticCustomError("bands", "band {name}: filterMessagesMatching is for the grib slicer only", {"name": b.name})
        if not self.axes:
            raise PydanticCustomError("axes", "give at least one axis")
        orders = [a.gridOrder for a in self.axes.values() if a.gridOrder is not None]
        if len(orders) != len(set(orders)):
            raise PydanticCustomError("grid_order", "gridOrder values repeat: {orders}", {"orders": str(sorted(orders))})
        names = [b.name for b in self.bands or []]
        if len(names) != len(set(names)):
            raise PydanticCustomError("bands", "band names repeat: {names}", {"names": ", ".join(names)})
        return self


class GeneralCoverage(_Model):
    crs: str
    metadata: Metadata | None = None
    slicer: Slicer
    grid_coverage: Flag = False

    @field_validator("crs")
    @classmethod
    def _non_empty(cls, v):
        if not v.strip():
            raise PydanticCustomError("crs", "the coverage needs a CRS, e.g. EPSG/0/4326@OGC/0/AnsiDate")
        return v


class GeneralCoverageOptions(_Options):
    coverage: GeneralCoverage


class MapMosaicRecipe(_Model):
    name: Literal["map_mosaic"]
    options: MapMosaicOptions = Field(default_factory=MapMosaicOptions)


class TimeSeriesRegularRecipe(_Model):
    name: Literal["time_series_regular"]
    options: TimeSeriesRegularOptions


class TimeSeriesIrregularRecipe(_Model):
    name: Literal["time_series_irregular"]
    options: TimeSeriesIrregularOptions


class GeneralCoverageRecipe(_Model):
    name: Literal["general_coverage"]
    options: GeneralCoverageOptions


Recipe = Annotated[
    Union[MapMosaicRecipe, TimeSeriesRegularRecipe, TimeSeriesIrregularRecipe, GeneralCoverageRecipe],
    Field(discriminator="name"),
]


# ---- hooks and the whole file ---------------------------------------------------------


class Hook(_Model):
    """A command run before or after importing each file."""

    description: str | None = None
    when: Literal["before_ingestion", "after_ingestion"]
    cmd: str | None = None
    python_cmd: str | None = None
    abort_on_error: Flag = False
    replace_path: list[str] | None = None

    @model_validator(mode="after")
    def _has_command(self):
        if not self.cmd and not self.python_cmd:
            raise PydanticCustomError("hook", "a hook needs a \"cmd\"")
        return self


_GLOB_MAGIC = re.compile(r"[*?[]")


class Ingredients(_Model):
    """A parsed ingredients file."""

    config: Config = Field(default_factory=Config)
    input: Input
    recipe: Recipe
    hooks: list[Hook] = Field(default_factory=list)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path:
        """The directory relative paths are resolved against (the ingredients file's)."""
        return self._base_dir

    @property
    def source(self) -> Path | None:
        """The ingredients file, when loaded from one."""
        return self._source

    @property
    def slicer_type(self) -> str:
        """gdal, netcdf or grib: how the input files are read."""
        if isinstance(self.recipe, GeneralCoverageRecipe):
            return self.recipe.options.coverage.slicer.type
        return "gdal"

    def resolve_paths(self) -> tuple[list[Path], list[str]]:
        """The input files (sorted, without duplicates) and warnings.

        A pattern matching no file is an error naming it, or a warning when config.skip is
        true. A directory stands for the files in it; GDAL virtual paths (/vsi...) pass."""
        found: set[Path] = set()
        virtual: list[Path] = []
        warnings: list[str] = []
        missing: list[str] = []
        for pattern in self.input.paths:
            text = pattern.strip()
            if "/vsi" in text:
                virtual.append(Path(text))
                continue
            full = Path(text).expanduser()
            if _GLOB_MAGIC.search(str(full)):
                if full.is_absolute():
                    matches = [Path(p) for p in glob.glob(str(full), recursive=True)]
                else:  # root_dir: the ingredients directory's own name is no pattern
                    matches = [self._base_dir / p for p in glob.glob(str(full), root_dir=self._base_dir, recursive=True)]
            else:
                full = full if full.is_absolute() else self._base_dir / full
                matches = [full] if full.exists() else []
            files: list[Path] = []
            for m in matches:
                if m.is_dir():
                    files.extend(p for p in m.iterdir() if p.is_file())
                elif m.exists():
                    files.append(m)
            if not files:
                missing.append(pattern)
            found.update(p.absolute() for p in files)
        for pattern in missing:
            msg = f"input.paths: {pattern!r} matches no file (looked in {self._base_dir})"
            if not self.config.skip:
                raise IngredientsError(msg + "; fix the path or set config.skip to true to ignore it")
            warnings.append(msg)
        return sorted(found) + virtual, warnings


# ---- tiling and time step ---------------------------------------------------------------

_TILING = re.compile(
    r"\s*(?P<scheme>ALIGNED|REGULAR|DIRECTIONAL|AREA\s+OF\s+INTEREST|STATISTIC)\b\s*(?P<dom>\[[^\]]*\])?"
    r"(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_TILE_SIZE = re.compile(r"TILE\s+SIZE\s+(\d+)", re.IGNORECASE)


class TilingSpec(BaseModel):
    """A rasdaman tiling clause, e.g. ``ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304``."""

    scheme: str  # lower case: aligned, regular, directional, area of interest, statistic
    extents: tuple[tuple[int | None, int | None], ...] | None = None  # per rasdaman grid axis; None = *
    tile_size: int | None = None
    text: str


def parse_tiling(text: str) -> TilingSpec:
    """Read a tiling clause (for aligned/regular schemes: the per-axis tile extents)."""
    m = _TILING.fullmatch(text)
    if not m:
        raise IngredientsError(
            f"{_got(text)} is not a rasdaman tiling, e.g. \"ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304\" "
            f"(schemes: {', '.join(TILING_SCHEMES)})"
        )
    scheme = " ".join(m.group("scheme").lower().split())
    extents = None
    if m.group("dom"):
        extents = []
        for part in m.group("dom")[1:-1].split(","):
            bounds = part.strip().split(":")
            if len(bounds) != 2:
                raise IngredientsError(f"tiling extent {_got(part.strip())} is not lo:hi")
            pair = []
            for b in bounds:
                b = b.strip()
                if b == "*":
                    pair.append(None)
                elif re.fullmatch(r"-?\d+", b):
                    pair.append(int(b))
                else:
                    raise IngredientsError(f"tiling extent {_got(part.strip())} is not lo:hi with integers or *")
            extents.append(tuple(pair))
        extents = tuple(extents)
    size = _TILE_SIZE.search(m.group("rest"))
    if scheme in ("aligned", "regular") and extents is None:
        raise IngredientsError(f"{_got(text)}: an {scheme} tiling needs a tile domain like [0:1023, 0:1023]")
    return TilingSpec(scheme=scheme, extents=extents, tile_size=int(size.group(1)) if size else None, text=text)


_STEP_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(days?|hours?|minutes?|seconds?)", re.IGNORECASE)


def parse_time_step(text: str):
    """wcst_import's time_step ``"2 days 10 minutes 3 seconds"`` as a timedelta."""
    from datetime import timedelta

    parts = _STEP_PART.findall(text)
    if not parts or _STEP_PART.sub("", text).strip():
        raise IngredientsError(
            f"{_got(text)} is not a time step like \"2 days 10 minutes 3 seconds\" (units: days, hours, minutes, seconds)"
        )
    total = timedelta()
    for n, unit in parts:
        total += timedelta(**{unit.lower().rstrip("s") + "s": float(n)})
    if total.total_seconds() <= 0:
        raise IngredientsError(f"the time step must be positive, got {_got(text)}")
    return total


# ---- loading and error reports ----------------------------------------------------------


def load_ingredients(path: str | Path) -> Ingredients:
    """Read, parse and check an ingredients file (relative paths are relative to it)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IngredientsError(f"ingredients file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IngredientsError(f"ingredients file {path} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngredientsError(
            f"ingredients file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return parse_ingredients(data, path.parent.absolute(), source=path)


def parse_ingredients(data: dict, base_dir: Path, *, source: Path | None = None) -> Ingredients:
    """Check an ingredients document already read from JSON."""
    where = f"ingredients file {source}" if source else "ingredients"
    if not isinstance(data, dict):
        raise IngredientsError(f"{where}: expected a JSON object with config, input and recipe; got {_got(data)}")
    data = _strip_comments(data)
    problems = _recipe_name_problems(data)
    if problems:  # still report what else is wrong, with a recipe that has no options to check
        probe = {**data, "recipe": {"name": "map_mosaic"}}
        try:
            Ingredients.model_validate(probe)
        except ValidationError as exc:
            problems += [p for p in _problems(exc, probe) if not p.startswith("recipe")]
        raise _report(where, problems)
    try:
        ing = Ingredients.model_validate(data)
    except ValidationError as exc:
        raise _report(where, _problems(exc, data)) from None
    ing._base_dir = Path(base_dir).expanduser().absolute()
    ing._source = source
    return ing


def _strip_comments(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_comments(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("__comment"))}
    if isinstance(value, list):
        return [_strip_comments(v) for v in value]
    return value


def _recipe_name_problems(data: dict) -> list[str]:
    recipe = data.get("recipe")
    if not isinstance(recipe, dict) or "name" not in recipe:
        return []  # the model reports the missing section/key
    name = recipe["name"]
    if name in SUPPORTED_RECIPES:
        return []
    supported = ", ".join(SUPPORTED_RECIPES)
    if name in RASDAMAN_ONLY_RECIPES:
        return [f"recipe.name: rasdaman's {name!r} recipe is not supported by petacube; supported: {supported}"]
    close = difflib.get_close_matches(str(name), SUPPORTED_RECIPES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return [f"recipe.name: unknown recipe {_got(name)}{hint} (supported: {supported})"]


def _report(where: str, problems: list[str]) -> IngredientsError:
    if len(problems) == 1:
        return IngredientsError(f"{where}: {problems[0]}")
    lines = "\n".join(f"  - {p}" for p in problems)
    return IngredientsError(f"{where} has {len(problems)} problems:\n{lines}")


_TYPE_ERRORS = {"string_type", "list_type", "dict_type", "model_type", "int_type", "float_type", "bool_type",
                "int_parsing", "float_parsing", "model_attributes_type", "literal_error", "sentence"}


def _problems(exc: ValidationError, data: Any) -> list[str]:
    entries = []
    for err in exc.errors():
        path = _json_path(err["loc"], data, err["type"] == "missing")
        entries.append((path, err))
    # a union reports every branch; drop a branch's type complaint when another branch got further
    paths = [p for p, _ in entries]
    kept = []
    for path, err in entries:
        deeper = any(len(q) > len(path) and q[: len(path)] == path for q in paths)
        if deeper and err["type"] in _TYPE_ERRORS:
            continue
        kept.append((path, err))
    out: dict[str, list[str]] = {}
    for path, err in kept:
        out.setdefault(_format_path(path), [])
        msg = _message(err)
        if msg not in out[_format_path(path)]:
            out[_format_path(path)].append(msg)
    return [f"{p}: {' or '.join(msgs)}" if p else " or ".join(msgs) for p, msgs in out.items()]


def _json_path(loc: tuple, data: Any, missing: bool) -> tuple:
    """The error location as keys/indices of the document, without pydantic's union labels."""
    path, node = [], data
    for i, part in enumerate(loc):
        part = _ALIASES.get(part, part)
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif missing and i == len(loc) - 1:
            path.append(part)
    return tuple(path)


_ALIASES = {"global_": "global"}


def _format_path(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(err: dict) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden" and isinstance(value, _UnknownKey):
        close = difflib.get_close_matches(value.key, value.allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key{hint} (allowed keys: {', '.join(value.allowed)})"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"needs a \"name\": one of {', '.join(SUPPORTED_RECIPES)}"
    msg = err["msg"]
    if kind == "model_type":
        return f"expected an object, got {_got(value)}"
    if kind.endswith(("_type", "_parsing")) or kind in _SHOW_INPUT:
        return f"{msg} (got {_got(value)})"
    return msg


_SHOW_INPUT = {"literal_error", "greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_from_float", "enum"}


__all__ = [
    "Axis", "Band", "Config", "CoverageExtras", "GeneralCoverage", "GeneralCoverageOptions", "GeneralCoverageRecipe",
    "Hook", "Ingredients", "Input", "MapMosaicOptions", "MapMosaicRecipe", "Metadata", "Slicer", "TilingSpec",
    "TimeParameter", "TimeSeriesIrregularOptions", "TimeSeriesIrregularRecipe", "TimeSeriesRegularOptions",
    "TimeSeriesRegularRecipe", "SUPPORTED_RECIPES", "load_ingredients", "parse_ingredients", "parse_tiling",
    "parse_time_step",
]
