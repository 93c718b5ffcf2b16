"""GetCoverage: the request translated into an engine query, as petascope translates it
into WCPS: ``encode(crsTransform(scale(clip({bands}(c[subsets]), wkt), ...), crs), fmt)``.

* subsets are checked against the coverage first (model arithmetic only, no reads), so
  errors name the ``subset=`` value; bounds in another CRS (``subset=E,EPSG:4326(..)`` or
  ``subsettingCrs``) are left to the engine, which transforms the horizontal box;
* scaling follows the WCS Scaling Extension: ``scalefactor=2`` halves the cells (the IR's
  factor multiplies them, so it gets 1/2); ``scaleextent=E(lo:hi)`` is a target *grid*
  extent (``hi - lo + 1`` cells);
* ``mediatype=multipart/related`` returns the GML description of the result (its domain
  computed by the engine's ``describe``) and the encoded data as two parts.
"""

from __future__ import annotations

import uuid

from lxml import etree

from petacube.datacube import coordinate_number
from petacube.engine import ir
from petacube.engine.run import run_query
from petacube.errors import (
    InvalidAxisLabel,
    InvalidCrs,
    InvalidParameterValue,
    InvalidSubsetting,
    NoSuchField,
    PetacubeError,
)
from petacube.model import Band, Coverage, Crs, IrregularAxis, RegularAxis
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wcs.describe import add_domain, add_range_type
from petacube.ows.wcs.errors import (
    InterpolationMethodNotSupported,
    InvalidExtent,
    InvalidMediatype,
    InvalidRangeSubset,
    InvalidScaleFactor,
    OutputCrsNotSupported,
    ScaleAxisUndefined,
    SubsettingCrsNotSupported,
)
from petacube.ows.wcs.gml import (
    GML,
    GMLCOV,
    NSMAP,
    XLINK,
    coverage_subtype,
    q,
    sub,
    to_bytes,
)
from petacube.ows.wcs.kvp import GetCoverageParams, SubsetParam, parse_get_coverage

DEFAULT_FORMAT = "application/gml+xml"
MULTIPART = "multipart/related"
SUPPORTED_FORMATS = (
    "application/gml+xml, image/tiff (also image/tiff;application=geotiff;profile=cloud-optimized), image/png, "
    "image/jpeg, application/netcdf, application/json, text/csv"
)
EXTENSIONS = {"geotiff": "tif", "png": "png", "jpeg": "jpg", "netcdf": "nc", "json": "json", "csv": "csv", "gml": "gml"}

INTERPOLATIONS = {
    "nearest-neighbor": "near", "nearest-neighbour": "near", "nearest": "near", "near": "near",
    "linear": "bilinear", "bilinear": "bilinear", "cubic": "cubic", "cubic-spline": "cubicspline",
    "cubicspline": "cubicspline", "average": "average", "mode": "mode", "lanczos": "lanczos",
    "min": "min", "max": "max", "med": "med", "median": "med", "q1": "q1", "q3": "q3",
}
_INTERPOLATION_PREFIX = "http://www.opengis.net/def/interpolation/ogc/1/"


def get_coverage(req: OwsRequest, cube, resolver: str) -> OwsResponse:
    p = parse_get_coverage(req)
    return run_get_coverage(p, cube, resolver)


def run_get_coverage(p: GetCoverageParams, cube, resolver: str) -> OwsResponse:
    cov = cube.describe(p.coverage_id)  # NoSuchCoverage
    fmt = _format(p.format)
    multipart = _multipart(p.mediatype)
    method = _interpolation(p.interpolation)

    plan = _Plan(cov, p)
    expr = plan.subset()
    expr, bands = plan.range_subset(expr)
    if p.clip:
        expr = plan.clip(expr)
    expr = plan.scale(expr, method)
    if p.output_crs:
        expr = plan.crs_transform(expr, method)
    if fmt.kind in ("png", "jpeg") and plan.result_dims != 2:
        raise InvalidParameterValue(
            f"format={p.format}: {fmt.kind.upper()} holds 2-D images, but this request gives a "
            f"{plan.result_dims}-D result ({', '.join(plan.remaining)}); slice the other axes, e.g. "
            + ", ".join(f"subset={a}({_example(cov, a)})" for a in plan.remaining[:-2])
            + ", or ask for image/tiff or application/netcdf", locator="format")

    # GML names CRSs by URL: this server's resolver, as DescribeCoverage does
    encoded = ir.Encode(expr, fmt.mime, {"crsResolver": resolver} if fmt.kind == "gml" else {})
    results = (encoded, ir.Metadata("describe", expr)) if multipart else (encoded,)
    out = run_query(ir.Query(results), cube, uploads=None, scheduler=cube.settings.scheduler)
    data, media = out[0].data, out[0].media_type
    filename = f"{cov.id}.{EXTENSIONS.get(fmt.kind, 'bin')}"
    if multipart:
        import json

        description = json.loads(out[1].value) if isinstance(out[1].value, str) else out[1].value
        return _multipart_response(cov, bands, description, data, media, filename, resolver, plan.cells)
    return OwsResponse(200, media, data, headers={"Content-Disposition": f'inline; filename="{filename}"'},
                       coverage=cov.id, cells=plan.cells)


# ---- formats --------------------------------------------------------------------------------
def _format(name: str | None):
    from petacube.encode.formats import resolve_format

    try:
        return resolve_format(name or DEFAULT_FORMAT)
    except InvalidParameterValue:
        raise InvalidMediatype(
            f"format={name} is not an output format of this server; supported: {SUPPORTED_FORMATS}", locator="format"
        ) from None


def _multipart(mediatype: str | None) -> bool:
    if mediatype is None or not mediatype.strip():
        return False
    if mediatype.strip().lower() == MULTIPART:
        return True
    raise InvalidMediatype(f"mediatype={mediatype}: only multipart/related is supported (or leave it out)",
                           locator="mediatype")


def _interpolation(text: str | None) -> str:
    if text is None or not text.strip():
        return "near"
    key = text.strip().lower()
    key = key.removeprefix(_INTERPOLATION_PREFIX)
    if key not in INTERPOLATIONS:
        raise InterpolationMethodNotSupported(
            f"interpolation={text} is not supported; use http://www.opengis.net/def/interpolation/OGC/1/<method> "
            f"or a short name, with method one of {', '.join(sorted(set(INTERPOLATIONS) - {'near', 'median'}))}",
            locator="interpolation")
    return INTERPOLATIONS[key]


def _example(cov: Coverage, label: str) -> str:
    axis = cov.axis(label)
    if axis.is_time:
        from petacube.ows.wcs.gml import coordinate

        return coordinate(cov, axis, axis.lower)
    return f"{axis.lower:g}"


# ---- translation ----------------------------------------------------------------------------
class _Plan:
    """Translates one GetCoverage into IR while tracking the result's axes."""

    def __init__(self, cov: Coverage, p: GetCoverageParams):
        self.cov, self.p = cov, p
        self.sliced: set[str] = set()
        self.counts = {a.label: a.size for a in cov.axes}
        self.band_count = len(cov.bands)
        self.horizontal_changed = False

    @property
    def remaining(self) -> list[str]:
        return [a.label for a in self.cov.axes if a.label not in self.sliced]

    @property
    def result_dims(self) -> int:
        return len(self.remaining)

    @property
    def cells(self) -> int:
        n = self.band_count
        for label in self.remaining:
            n *= self.counts[label]
        return n

    # ---- subsets ------------------------------------------------------------------------------
    def subset(self) -> ir.Expr:
        ref = ir.CoverageRef(self.cov.id)
        axes: list[ir.AxisSubset] = []
        seen: dict[str, str] = {}
        for s in self.p.subsets:
            axis = self._axis(s)
            if axis.label in seen:
                raise InvalidSubsetting(
                    f"subset={s.raw}: axis {axis.label} is already subset by subset={seen[axis.label]}; give each axis once",
                    locator="subset")
            seen[axis.label] = s.raw
            axes.append(self._axis_subset(s, axis))
            if s.is_slice:
                self.sliced.add(axis.label)
        return ir.Subset(ref, tuple(axes)) if axes else ref

    def _axis(self, s: SubsetParam):
        cov = self.cov
        if s.axis in cov.dims:
            return cov.axis(s.axis)
        crs_text = s.crs or self.p.subsetting_crs
        if crs_text:  # an axis label of the subsetting CRS (Lat, Long) names the horizontal axis of that kind
            try:
                other = Crs.parse(crs_text)
                kind = other.axis(s.axis).kind
            except (InvalidCrs, KeyError):
                kind = None
            if kind in ("x", "y"):
                for a in cov.axes:
                    if a.crs_axis.kind == kind:
                        return a
        raise InvalidAxisLabel(
            f"subset={s.raw}: coverage {cov.id} has no axis '{s.axis}'; its axes are {', '.join(cov.dims)}",
            locator=s.axis)

    def _axis_crs(self, s: SubsetParam, axis) -> str | None:
        """None for the coverage's own CRS, "CRS:1" for grid indices, else "EPSG:<code>"."""
        text = s.crs or (self.p.subsetting_crs if axis.crs_axis.kind in ("x", "y") else None)
        if not text:
            return None
        upper = text.strip().upper()
        if upper in ("CRS:1", "OGC:CRS1") or upper.endswith("/CRS1") or "INDEX" in upper:
            return "CRS:1"
        try:
            crs = Crs.parse(text)
        except InvalidCrs as exc:
            raise SubsettingCrsNotSupported(f"subset={s.raw}: {exc}", locator="subsettingCrs") from None
        mine = self.cov.crs.component_of(axis.label)
        if any((c.authority, c.code) == (mine.authority, mine.code) for c in crs.components):
            return None
        comps = [c for c in crs.components if c.pyproj_crs is not None]
        if axis.crs_axis.kind not in ("x", "y") or not comps:
            raise SubsettingCrsNotSupported(
                f"subset={s.raw}: axis {axis.label} can only be subset in its own CRS {mine.identifier} "
                "(other CRSs apply to the horizontal axes)", locator="subsettingCrs")
        return f"EPSG:{comps[0].code}"

    def _axis_subset(self, s: SubsetParam, axis) -> ir.AxisSubset:
        crs = self._axis_crs(s, axis)
        if crs == "CRS:1":
            return self._grid_subset(s, axis)
        if crs is not None:  # another CRS: the engine transforms the horizontal box
            vals = [self._float(s, b) for b in ((s.at,) if s.is_slice else (s.lo, s.hi))]
            if not s.is_slice and None not in vals and vals[0] > vals[1]:
                raise InvalidSubsetting(f"subset={s.raw}: the lower bound is above the upper bound", locator="subset")
            if s.is_slice:
                return ir.AxisSubset(axis.label, at=ir.Scalar(vals[0]), crs=crs)
            return ir.AxisSubset(axis.label, lo=_scalar(vals[0]), hi=_scalar(vals[1]), crs=crs)
        if s.is_slice:
            value, num = self._geo(s, axis, s.at)
            self._check(s, lambda: axis.slice_index(num))
            return ir.AxisSubset(axis.label, at=value)
        (lo, lo_n), (hi, hi_n) = self._geo(s, axis, s.lo), self._geo(s, axis, s.hi)
        lo_n = axis.lower if lo_n is None else lo_n
        hi_n = axis.upper if hi_n is None else hi_n
        if lo_n > hi_n:
            raise InvalidSubsetting(
                f"subset={s.raw}: the lower bound {s.lo} is above the upper bound {s.hi}", locator="subset")
        a, b = self._check(s, lambda: axis.trim_indices(lo_n, hi_n))
        self.counts[axis.label] = b - a + 1
        return ir.AxisSubset(axis.label, lo=lo, hi=hi)

    def _check(self, s: SubsetParam, fn):
        try:
            return fn()
        except InvalidSubsetting as exc:
            raise InvalidSubsetting(f"subset={s.raw}: {exc}", locator="subset") from None

    def _geo(self, s: SubsetParam, axis, text: str) -> tuple[ir.Expr, float | None]:
        if text == "*":
            return ir.Scalar(ir.STAR), None
        bare = text.strip().strip('"').strip("'")
        if axis.is_time:
            try:
                value = bare if not _is_number(bare) else float(bare)
                return ir.Scalar(value), coordinate_number(self.cov, axis, value)
            except PetacubeError:
                raise InvalidSubsetting(
                    f"subset={s.raw}: '{text}' is not a time: write an ISO 8601 instant such as \"2021-05-01\" "
                    f"or \"2021-05-01T10:00:00Z\", or a number of {axis.crs_axis.unit} in the axis' CRS",
                    locator="subset") from None
        if not _is_number(bare):
            raise InvalidSubsetting(f"subset={s.raw}: '{text}' is not a number", locator="subset")
        return ir.Scalar(float(bare)), float(bare)

    def _float(self, s: SubsetParam, text: str) -> float | None:
        if text == "*":
            return None
        bare = text.strip().strip('"')
        if not _is_number(bare):
            raise InvalidSubsetting(f"subset={s.raw}: '{text}' is not a number", locator="subset")
        return float(bare)

    def _grid_subset(self, s: SubsetParam, axis) -> ir.AxisSubset:
        def index(text: str | None, default: int) -> int:
            if text == "*":
                return default
            try:
                return int(text.strip())
            except ValueError:
                raise InvalidSubsetting(f"subset={s.raw}: grid index '{text}' is not a whole number", locator="subset") from None

        if s.is_slice:
            k = index(s.at, 0)
            if not 0 <= k < axis.size:
                raise InvalidSubsetting(f"subset={s.raw}: grid index {k} is outside 0:{axis.size - 1}", locator="subset")
            return ir.AxisSubset(axis.label, at=ir.Scalar(k), crs="CRS:1")
        a, b = index(s.lo, 0), index(s.hi, axis.size - 1)
        if a > b:
            raise InvalidSubsetting(f"subset={s.raw}: the lower bound {a} is above the upper bound {b}", locator="subset")
        if b < 0 or a > axis.size - 1:
            raise InvalidSubsetting(f"subset={s.raw}: grid interval {a}:{b} is outside 0:{axis.size - 1}", locator="subset")
        a, b = max(a, 0), min(b, axis.size - 1)
        self.counts[axis.label] = b - a + 1
        return ir.AxisSubset(axis.label, lo=ir.Scalar(a), hi=ir.Scalar(b), crs="CRS:1")

    # ---- bands --------------------------------------------------------------------------------
    def range_subset(self, expr: ir.Expr) -> tuple[ir.Expr, list[Band]]:
        names = [b.name for b in self.cov.bands]
        if not self.p.range_items:
            return expr, list(self.cov.bands)
        raw = self.p.range_raw
        picked: list[str] = []
        for start, end in self.p.range_items:
            i = self._band_index(start, raw)
            if end is None:
                picked.append(names[i])
                continue
            j = self._band_index(end, raw)
            if i > j:
                raise InvalidRangeSubset(
                    f"rangesubset={raw}: the interval {start}:{end} runs backwards (band order: {', '.join(names)})",
                    locator="rangesubset")
            picked.extend(names[i : j + 1])
        dupes = sorted({n for n in picked if picked.count(n) > 1})
        if dupes:
            raise InvalidRangeSubset(f"rangesubset={raw}: band(s) {', '.join(dupes)} asked for more than once",
                                     locator="rangesubset")
        self.band_count = len(picked)
        bands = [self.cov.band(n) for n in picked]
        if picked == names:
            return expr, bands
        if len(picked) == 1:
            return ir.Field(expr, picked[0]), bands
        return ir.RangeConstructor(tuple((n, ir.Field(expr, n)) for n in picked)), bands

    def _band_index(self, name: str, raw: str | None) -> int:
        names = [b.name for b in self.cov.bands]
        if name in names:
            return names.index(name)
        lower = [n.lower() for n in names]
        if name.lower() in lower:
            return lower.index(name.lower())
        raise NoSuchField(
            f"rangesubset={raw}: coverage {self.cov.id} has no band '{name}'; its bands are {', '.join(names)}",
            locator=name)

    # ---- clip, scale, crs ---------------------------------------------------------------------
    def clip(self, expr: ir.Expr) -> ir.Expr:
        wkt = self.p.clip.strip()
        kind = wkt.split("(", 1)[0].strip().upper()
        if kind not in ("POLYGON", "MULTIPOLYGON", "LINESTRING"):
            raise InvalidParameterValue(
                f"clip={self.p.clip[:80]}: give a WKT POLYGON, MULTIPOLYGON or LINESTRING in the coverage's CRS "
                "axis order (or in subsettingCrs), e.g. clip=POLYGON((500100 4999400, 500500 4999400, 500300 4999800, 500100 4999400))",
                locator="clip")
        try:
            import shapely.wkt

            shapely.wkt.loads(wkt)
        except Exception as exc:  # noqa: BLE001 - shapely raises its own error types
            raise InvalidParameterValue(f"clip={self.p.clip[:80]}: not valid WKT ({exc})", locator="clip") from None
        if kind == "LINESTRING":
            horizontal = [a.label for a in self.cov.axes if a.crs_axis.kind in ("x", "y")]
            self.sliced.update(horizontal[:1])  # the pair becomes one axis along the line
        crs = None
        if self.p.subsetting_crs:
            try:
                crs = Crs.parse(self.p.subsetting_crs).identifier.replace("EPSG/0/", "EPSG:")
            except InvalidCrs as exc:
                raise SubsettingCrsNotSupported(f"subsettingCrs={self.p.subsetting_crs}: {exc}",
                                                locator="subsettingCrs") from None
        return ir.Clip(expr, wkt, crs)

    def _scale_axis(self, label: str, what: str):
        if label not in self.cov.dims:
            raise ScaleAxisUndefined(
                f"{what}: coverage {self.cov.id} has no axis '{label}'; its axes are {', '.join(self.cov.dims)}",
                locator=label)
        if label in self.sliced:
            raise ScaleAxisUndefined(f"{what}: axis {label} is sliced by a subset, so it cannot be scaled",
                                     locator=label)
        return self.cov.axis(label)

    def scale(self, expr: ir.Expr, method: str) -> ir.Expr:
        p = self.p
        if p.scale_factor is not None:
            raw, f = p.scale_factor
            if f == 1:
                return expr
            for a in self.cov.axes:
                if a.label not in self.sliced and not a.irregular and not a.points:
                    self.counts[a.label] = max(1, round(self.counts[a.label] / f))
            return ir.Scale(expr, factor=ir.Scalar(1.0 / f), method=method)
        if p.scale_axes:
            items = []
            for label, f, raw in p.scale_axes:
                axis = self._scale_axis(label, f"scaleaxes={raw}")
                if axis.irregular and f != 1:
                    raise InvalidScaleFactor(
                        f"scaleaxes={raw}: axis {label} is irregular; its cells cannot be resampled (use factor 1)",
                        locator="scaleaxes")
                self.counts[label] = max(1, round(self.counts[label] / f))
                items.append((label, ir.Scalar(1.0 / f)))
            return ir.Scale(expr, axis_factors=tuple(items), method=method)
        sizes = []
        for label, n, raw in p.scale_size:
            axis = self._scale_axis(label, f"scalesize={raw}")
            if axis.irregular and n != self.counts[label]:
                raise InvalidParameterValue(
                    f"scalesize={raw}: axis {label} is irregular and keeps its {self.counts[label]} slices",
                    locator="scalesize")
            sizes.append((label, n))
        for label, lo, hi, raw in p.scale_extent:
            axis = self._scale_axis(label, f"scaleextent={raw}")
            try:
                a, b = int(lo), int(hi)
            except ValueError:
                raise InvalidExtent(
                    f"scaleextent={raw}: the extent of {label} is a grid interval of whole numbers low:high, got {lo}:{hi}",
                    locator="scaleextent") from None
            if a > b:
                raise InvalidExtent(f"scaleextent={raw}: the extent {lo}:{hi} of {label} runs backwards",
                                    locator="scaleextent")
            if axis.irregular and b - a + 1 != self.counts[label]:
                raise InvalidExtent(f"scaleextent={raw}: axis {label} is irregular and keeps its slices",
                                    locator="scaleextent")
            sizes.append((label, b - a + 1))
        if not sizes:
            return expr
        for label, n in sizes:
            self.counts[label] = n
        return ir.Scale(expr, sizes=tuple((label, ir.Scalar(n)) for label, n in sizes), method=method)

    def crs_transform(self, expr: ir.Expr, method: str) -> ir.Expr:
        text = self.p.output_crs
        try:
            crs = Crs.parse(text)
        except InvalidCrs as exc:
            raise OutputCrsNotSupported(f"outputCrs={text}: {exc}", locator="outputCrs") from None
        comps = [c for c in crs.components if c.pyproj_crs is not None]
        if len(comps) != 1:
            raise OutputCrsNotSupported(
                f"outputCrs={text}: give one geographic or projected CRS, e.g. EPSG:4326", locator="outputCrs")
        horizontal = [a for a in self.cov.axes if a.crs_axis.kind in ("x", "y")]
        if len(horizontal) != 2 or any(a.label in self.sliced for a in horizontal):
            raise InvalidParameterValue(
                f"outputCrs={text}: reprojection needs both horizontal axes of the result; do not slice "
                f"{' or '.join(a.label for a in horizontal) or 'them'}", locator="outputCrs")
        mine = self.cov.crs.component_of(horizontal[0].label)
        if (mine.authority, mine.code) == (comps[0].authority, comps[0].code):
            return expr
        return ir.CrsTransform(expr, f"EPSG:{comps[0].code}", method=method)


def _scalar(v: float | None) -> ir.Expr:
    return ir.Scalar(ir.STAR) if v is None else ir.Scalar(v)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "infinity", "+inf", "-infinity")


# ---- multipart ------------------------------------------------------------------------------
def _result_coverage(cov: Coverage, bands: list[Band], d: dict) -> Coverage:
    """A `Coverage` for the result's domain from the engine's describe() of it."""
    crs = Crs.parse(d["crs"])
    entries = {a["axisLabel"]: a for a in d["axes"]}
    axes = []
    for label in crs.labels:
        a = entries[label]
        crs_axis = crs.axis(label)
        if "coefficients" in a:
            axes.append(IrregularAxis(label, crs_axis, tuple(float(c) for c in a["coefficients"])))
        else:
            points = cov.axis(label).points if label in cov.dims else False
            axes.append(RegularAxis(label, crs_axis, float(a["lowerBound"]), float(a["resolution"]), int(a["size"]),
                                    points=points))
    types = {r["name"]: r["dataType"] for r in d.get("rangeType", [])}
    out_bands = []
    for b in bands:
        dtype = types.get(b.name, b.dtype)
        out_bands.append(Band(b.name, dtype, b.nil_values, b.uom, b.description, b.definition))
    return Coverage(cov.id, crs, tuple(axes), tuple(out_bands))


def _multipart_response(cov, bands, description, data, media, filename, resolver, cells) -> OwsResponse:
    result = _result_coverage(cov, bands, description)
    root = etree.Element(q(GMLCOV, coverage_subtype(result)), {q(GML, "id"): cov.id}, nsmap=NSMAP)
    add_domain(root, result, resolver)
    rfile = sub(sub(root, GML, "rangeSet"), GML, "File")
    params = sub(rfile, GML, "rangeParameters", href=f"cid:{filename}")
    params.set(q(XLINK, "arcrole"), "fileReference")
    params.set(q(XLINK, "role"), media)
    sub(rfile, GML, "fileReference", f"cid:{filename}")
    sub(rfile, GML, "fileStructure", "")
    sub(rfile, GML, "mimeType", media)
    add_range_type(root, result)
    xml = to_bytes(root)
    boundary = f"wcs-{uuid.uuid4().hex}"
    body = b"".join([
        f"--{boundary}\r\nContent-Type: application/gml+xml\r\nContent-ID: <description>\r\n\r\n".encode(), xml,
        f"\r\n--{boundary}\r\nContent-Type: {media}\r\nContent-ID: <{filename}>\r\n"
        f'Content-Disposition: inline; filename="{filename}"\r\n\r\n'.encode(), data,
        f"\r\n--{boundary}--\r\n".encode(),
    ])
    media_type = f'multipart/related; boundary="{boundary}"; type="application/gml+xml"; start="<description>"'
    return OwsResponse(200, media_type, body, coverage=cov.id, cells=cells)
