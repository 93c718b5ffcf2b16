"""User-defined functions: Python callables an administrator registers under a namespace,
called from queries as ``ns.fn(args)``.

Registration: a module named in the ``udf_modules`` setting (``PETACUBE_UDF_MODULES``,
comma-separated) or a package entry point in the ``petacube.udf`` group; the module
registers its functions with `register`. Arguments arrive as `xarray.DataArray` (one band)
or `xarray.Dataset` (several bands) and plain scalars; a function returns either.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from difflib import get_close_matches

import xarray as xr

from petacube.engine.values import CoverageValue, is_coverage, scalar_of
from petacube.errors import WcpsError

_REGISTRY: dict[str, Callable] = {}
_LOADED: set[str] = set()


def register(namespace: str, name: str | None = None):
    """Decorator: ``@register("ndx") def ndvi(nir, red): ...`` makes ``ndx.ndvi(...)``."""

    def deco(fn: Callable) -> Callable:
        _REGISTRY[f"{namespace}.{name or fn.__name__}"] = fn
        return fn

    return deco


def load(modules: str | None) -> None:
    """Import the configured UDF modules and the ``petacube.udf`` entry points (once each)."""
    for mod in [m.strip() for m in (modules or "").split(",") if m.strip()]:
        if mod not in _LOADED:
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                raise WcpsError(f"UDF module {mod} (setting udf_modules) cannot be imported: {exc}") from None
            _LOADED.add(mod)
    for ep in importlib.metadata.entry_points(group="petacube.udf"):
        if ep.name not in _LOADED:
            ep.load()
            _LOADED.add(ep.name)


def call(ev, e) -> object:
    load(getattr(ev.cube.settings, "udf_modules", None))
    key = f"{e.namespace}.{e.name}"
    fn = _REGISTRY.get(key)
    if fn is None:
        near = get_close_matches(key, _REGISTRY, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else f"; registered: {', '.join(sorted(_REGISTRY)) or 'none'}"
        raise WcpsError(f"unknown function {key}{hint}")
    args = [ev.eval(a) for a in e.args]
    template = next((a for a in args if is_coverage(a)), None)
    plain = [_arg(a) for a in args]
    try:
        out = fn(*plain)
    except WcpsError:
        raise
    except Exception as exc:  # noqa: BLE001 - a failing UDF is the query's error, not a server crash
        raise WcpsError(f"function {key} failed: {type(exc).__name__}: {exc}") from None
    if isinstance(out, (xr.DataArray, xr.Dataset)):
        if template is None:
            raise WcpsError(f"function {key} returned a coverage but got no coverage argument to take its domain from")
        ds = out.to_dataset(name=out.name or e.name) if isinstance(out, xr.DataArray) else out
        return CoverageValue(ds, template.coverage, template.sliced)
    return scalar_of(out)


def _arg(a):
    if is_coverage(a):
        return a.single() if len(a.band_names) == 1 else a.data
    return scalar_of(a)
