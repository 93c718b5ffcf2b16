"""The HTTP server (Starlette under uvicorn): `create_app(settings)` builds the ASGI app."""

from petacube.server.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
