"""The HTTP server: a Starlette app serving the OGC endpoints, the CRS resolver, a health
check and the static demo page. Protocol work happens in `petacube.ows`; this module turns
HTTP into `OwsRequest`s, authenticates, bounds the load and logs each request.

``petacube serve`` runs ``app_from_env`` under uvicorn (one `Datacube` per worker process).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import petacube
from petacube.config import Settings, load_settings
from petacube.errors import PetacubeError
from petacube.ows import crs_resolver, dispatch
from petacube.ows.exceptions import internal_error_report
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.server.access_log import SCOPE_KEY, AccessLog
from petacube.server.auth import WWW_AUTHENTICATE, Authenticator, authorizer
from petacube.catalog.rules import Rules, matching_rules
from petacube.server.forwarded import client_address, is_trusted, public_base
from petacube.server.read_guard import GuardedCube, ReadGuard
from petacube.server.limits import QuerySlots
from petacube.server.ows_request import build_request

log = logging.getLogger("petacube.server")
WEB_DIR = Path(petacube.__file__).parent / "web"


class Server:
    """Per-process state: settings, the Datacube, users, load limits."""

    def __init__(self, settings: Settings, cube=None):
        self.settings = settings
        self.cube = cube
        self.own_cube = cube is None
        self.slots = QuerySlots(settings.max_concurrent_queries, settings.queue_timeout)
        self.users = None
        self.rules = None
        self.authenticate = None

    def open(self) -> None:
        from petacube.catalog.users import Users
        from petacube.datacube import Datacube

        if self.cube is None:
            self.cube = Datacube(self.settings)
        self.users = Users(self.cube.catalog)
        self.rules = Rules(self.cube.catalog)
        self.authenticate = Authenticator(self.users)

    def close(self) -> None:
        if self.own_cube and self.cube is not None:
            self.cube.close()
            self.cube = None

    # ---- endpoints ---------------------------------------------------------------------
    async def ows(self, request: Request) -> Response:
        return await self._ows(request, dispatch.handle)

    async def wcps(self, request: Request) -> Response:
        return await self._ows(request, dispatch.handle_wcps)

    async def rasql(self, request: Request) -> Response:
        from petacube.rasql.http import handle_rasql  # protocol logic lives in petacube.rasql.http

        return await self._ows(request, handle_rasql)

    async def _ows(self, request: Request, handler) -> Response:
        info = request.scope.setdefault(SCOPE_KEY, {})
        try:
            user, roles = await run_in_threadpool(self.authenticate, request.headers.get("authorization"))
            info["user"] = user
            req = await build_request(request, self._endpoint_url(request), self.settings.max_upload_bytes)
            req.user, req.roles = user, roles
            info["client"] = client_address(request, self.settings.trusted_proxies)
            check = authorizer(self.users, self.settings.anonymous_read, user, roles,
                               write_from_address=is_trusted(info["client"], self.settings.write_addresses))

            def observe(op: dispatch.Operation) -> None:
                info["request"] = op.request
                info["coverage"] = ",".join(op.coverages) or None

            key = user or f"anonymous@{info['client']}"
            guard = self._read_guard(user, roles, key)
            async with self.slots.slot(key):
                try:
                    response = await run_in_threadpool(handler, req, GuardedCube(self.cube, guard),
                                                       authorize=check, observe=observe)
                finally:
                    info["cells"] = guard.cells
                    if guard.metered and guard.bytes:
                        await run_in_threadpool(self.rules.add_usage, key, guard.bytes)
        except PetacubeError as err:  # before the dispatcher: credentials, body limits, slots
            service = next((v for k, v in request.query_params.multi_items() if k.lower() == "service"), "")
            response = dispatch.error_report(OwsRequest(request.method, {"service": [service]}, ""), err)
        except Exception:
            log.exception("internal error on %s %s", request.method, request.url.path)
            response = internal_error_report()
        if response.coverage and not info.get("coverage"):
            info["coverage"] = response.coverage
        return _http(response)

    def _read_guard(self, user: str | None, roles: frozenset[str], subject: str) -> ReadGuard:
        """The plan checks of one request: the cells limit and the caller's read rules."""
        loaded: list = []

        def rules_for(coverage_id: str):
            if not loaded:
                loaded.append(self.rules.list())
            return matching_rules(loaded[0], user, roles, coverage_id)

        return ReadGuard(rules_for, max_cells=self.settings.max_cells_read,
                         used_today=lambda: self.rules.used_today(subject))

    async def wms_admin(self, request: Request) -> Response:
        """WMS styles and layers administration (petacube.ows.wms.admin); changes need a writer."""
        from petacube.ows.wms.admin import WRITE_ACTIONS, handle_admin
        from petacube.ows.wms.errors import exception_report as wms_exception_report

        action = request.path_params.get("action", "").strip("/").lower()
        info = request.scope.setdefault(SCOPE_KEY, {})
        info["request"] = f"WmsAdmin {action}"
        try:
            user, roles = await run_in_threadpool(self.authenticate, request.headers.get("authorization"))
            info["user"] = user
            req = await build_request(request, self._endpoint_url(request), self.settings.max_upload_bytes)
            req.user, req.roles = user, roles
            info["client"] = client_address(request, self.settings.trusted_proxies)
            check = authorizer(self.users, self.settings.anonymous_read, user, roles,
                               write_from_address=is_trusted(info["client"], self.settings.write_addresses))
            layer = req.param("layer")
            op = dispatch.Operation("WMS", f"admin {action}", (layer,) if layer else (), write=action in WRITE_ACTIONS)
            await run_in_threadpool(check, op)
            response = await run_in_threadpool(handle_admin, req, self.cube, action)
        except PetacubeError as err:
            response = wms_exception_report(err)
        except Exception:
            log.exception("internal error on %s %s", request.method, request.url.path)
            response = internal_error_report()
        return _http(response)

    async def resolver(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        prefix = request.url.path[: len(request.url.path) - len(path)].rstrip("/")
        base = self._public_base(request) + prefix
        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key.lower(), []).append(value)
        request.scope.setdefault(SCOPE_KEY, {})["request"] = "ResolveCrs"
        req = OwsRequest("GET", params, base)
        return _http(await run_in_threadpool(crs_resolver.handle_def, req, path))

    async def health(self, request: Request) -> Response:
        try:
            count = len(await run_in_threadpool(self.cube.coverage_ids))
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "error", "version": petacube.__version__}, status_code=503)
        return JSONResponse({"status": "ok", "version": petacube.__version__, "coverages": count})


    def _public_base(self, request: Request) -> str:
        return public_base(request, self.settings.public_url, self.settings.trusted_proxies)

    def _endpoint_url(self, request: Request) -> str:
        """This endpoint's URL as clients see it (behind a proxy: its public address)."""
        return self._public_base(request) + request.url.path


def _http(resp: OwsResponse) -> Response:
    headers = dict(resp.headers)
    if resp.status == 401:
        headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return Response(resp.body, status_code=resp.status, media_type=resp.media_type, headers=headers)


def create_app(settings: Settings | None = None, cube=None, *, log_to_stderr: bool = False) -> Starlette:
    """The ASGI app; ``cube`` (optional) is used instead of opening one from ``settings``."""
    settings = settings or load_settings()
    _configure_access_log(settings, log_to_stderr)
    server = Server(settings, cube)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(server.open)
        try:
            yield
        finally:
            await run_in_threadpool(server.close)

    methods = ["GET", "POST"]
    routes = [
        Route("/ows", server.ows, methods=methods),
        Route("/rasdaman/ows", server.ows, methods=methods),
        Route("/rasdaman/ows/wcps", server.wcps, methods=methods),
        Route("/rasdaman/rasql", server.rasql, methods=methods),
        Route("/def/{path:path}", server.resolver, methods=["GET"]),
        Route("/rasdaman/def/{path:path}", server.resolver, methods=["GET"]),
        Route("/health", server.health, methods=["GET"]),
        Route("/admin/wms/{action:path}", server.wms_admin, methods=methods),
        Route("/rasdaman/admin/wms/{action:path}", server.wms_admin, methods=methods),
    ]
    if WEB_DIR.is_dir():
        routes.append(Mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web"))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.server = server
    app.add_middleware(AccessLog)
    return app


def app_from_env() -> Starlette:
    """uvicorn's app factory (``petacube serve``): settings from the environment / config file."""
    return create_app(load_settings(), log_to_stderr=True)


def _configure_access_log(settings: Settings, to_stderr: bool) -> None:
    logger = logging.getLogger("petacube.access")
    logger.setLevel(logging.INFO)
    if settings.access_log is not None:
        path = Path(settings.access_log).resolve()
        if not any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
            handler = logging.FileHandler(path)
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
    elif to_stderr and not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    if to_stderr:  # the server process: our handlers only, not the root's too
        logger.propagate = False
