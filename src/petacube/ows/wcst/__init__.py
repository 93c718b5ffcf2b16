"""WCS-T (transactions): InsertCoverage, UpdateCoverage, DeleteCoverage, as rasdaman's
petascope takes them (KVP or multipart form; the input coverage uploaded, or named by
``coverageRef``). The dispatcher has checked write rights before this runs."""

from __future__ import annotations

from petacube.errors import InvalidParameterValue, MissingParameterValue
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wcst import transact
from petacube.ows.wcst.inputs import read_input


def _ids(req: OwsRequest) -> list[str]:
    return [v.strip() for value in req.all("coverageId") for v in value.split(",") if v.strip()]


def _ok(text: str, cov_id: str | None) -> OwsResponse:
    return OwsResponse(200, "text/plain", text.encode("utf-8"), coverage=cov_id)


def handle_wcst(req: OwsRequest, cube) -> OwsResponse:
    request = (req.param("request") or "").strip().lower()
    if request == "deletecoverage":
        ids = _ids(req)
        transact.delete(cube, ids)
        return _ok(", ".join(ids), ",".join(ids))
    subsets = transact.parse_subsets(req.all("subset"))
    if request == "insertcoverage":
        use_id = (req.param("useId") or "new").strip().lower()
        if use_id not in ("new", "existing"):
            raise InvalidParameterValue(f"useId={use_id}: use new or existing", locator="useId")
        ids = _ids(req)
        if use_id == "existing" and not ids:
            raise MissingParameterValue("useId=existing needs coverageId=...", locator="coverageId")
        ds = read_input(req, cube)
        cov_id = ids[0] if ids else _new_id(cube)
        cov = transact.insert(cube, ds, cov_id, tiling=req.param("tiling"), dtype=req.param("pixelDataType"),
                              subsets=subsets, crs=req.param("crs"))
        return _ok(cov.id, cov.id)
    if request == "updatecoverage":
        ids = _ids(req)
        if len(ids) != 1:
            raise MissingParameterValue("UpdateCoverage needs exactly one coverageId=...", locator="coverageId")
        cube.catalog.get(ids[0])  # NoSuchCoverage before reading the input
        ds = read_input(req, cube)
        cov = transact.update(cube, ds, ids[0], subsets=subsets)
        return _ok(cov.id, cov.id)
    raise InvalidParameterValue(f"request={req.param('request')} is not a WCS-T operation", locator="request")


def _new_id(cube) -> str:
    import uuid

    while True:
        cov_id = "cov_" + uuid.uuid4().hex[:12]
        if not cube.catalog.exists(cov_id):
            return cov_id


__all__ = ["handle_wcst"]
