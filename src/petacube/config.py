"""Configuration: defaults that run with zero set-up, overridable by a TOML file and
`PETACUBE_*` environment variables (environment wins)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where petacube keeps its data and how it runs."""

    model_config = SettingsConfigDict(env_prefix="PETACUBE_", extra="ignore")

    home: Path = Field(default=Path("petacube-data"), description="data directory")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home")
    tile_store: Path | None = Field(default=None, description="tile directory; default home/tiles")
    threads: int = Field(default=0, description="decode threads; 0 = one per core")
    scheduler: str | None = Field(default=None, description="dask.distributed scheduler address (tcp://host:port)")
    udf_modules: str | None = Field(default=None, description="comma-separated modules registering WCPS functions")
    query_timeout: float = Field(default=600.0, description="seconds a query may run before it is stopped")
    max_result_bytes: int = Field(default=2 * 2**30, description="largest query result (bytes) before it is refused")
    # ---- HTTP server (petacube serve) ----
    host: str = Field(default="127.0.0.1", description="address the HTTP server listens on")
    port: int = Field(default=8080, description="HTTP port")
    workers: int = Field(default=1, description="server worker processes (one Datacube each)")
    anonymous_read: bool = Field(default=True, description="allow reads without credentials (coverages can opt out)")
    max_upload_bytes: int = Field(default=512 * 2**20, description="largest request body accepted (bytes)")
    max_concurrent_queries: int = Field(default=4, description="requests one user (or one anonymous client address) may run at once")
    queue_timeout: float = Field(default=60.0, description="seconds a request waits for a free query slot before 503")
    access_log: Path | None = Field(default=None, description="file for the JSON access log (default: the petacube.access logger only)")
    wms_max_size: int = Field(default=4096, description="largest WMS GetMap WIDTH or HEIGHT (pixels)")
    wms_cache_bytes: int = Field(default=64 * 2**20, description="WMS GetMap response cache per worker process (bytes)")
    max_cells_read: int | None = Field(
        default=None, description="most cells (summed over bands) one request may read; refused up front; "
                                  "unset = no limit (rules can set one per role/user)")
    write_addresses: list[str] = Field(
        default_factory=list,
        description="client addresses/networks allowed to write (WCS-T) without credentials, as rasdaman's "
                    "allowed source addresses (JSON list in PETACUBE_WRITE_ADDRESSES); [] = credentials needed")
    public_url: str | None = Field(
        default=None,
        description="the address clients reach the server at (https://maps.example.org/datacube) when it "
                    "runs behind a reverse proxy; written into capabilities and links")
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="addresses/networks whose Forwarded / X-Forwarded-* headers are believed (JSON list in "
                    "PETACUBE_TRUSTED_PROXIES); [] = ignore such headers")
    upload_dirs: list[Path] = Field(
        default_factory=list,
        description="local folders WCS-T coverageRef / GML fileReference paths may name (JSON list in "
                    "PETACUBE_UPLOAD_DIRS); empty = local file references refused")

    @property
    def catalog_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'catalog.db').resolve()}"

    @property
    def tile_path(self) -> Path:
        return (self.tile_store or self.home / "tiles").resolve()


def load_settings(config_file: str | Path | None = None, **overrides) -> Settings:
    """Settings from an optional TOML file (or `$PETACUBE_CONFIG`), then the environment."""
    config_file = config_file or os.environ.get("PETACUBE_CONFIG")
    values: dict = {}
    if config_file:
        with open(config_file, "rb") as fh:
            values = tomllib.load(fh).get("petacube", {})
    env = Settings()  # environment only
    values.update({k: v for k, v in env.model_dump(exclude_unset=True).items()})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings.model_validate(values) if values else env
