"""Ingredients hooks: shell commands before/after each file, as wcst_import runs them.

A command may use ``${file:path}``, ``${file:name}``, ``${file:dir_path}``,
``${file:original_path}`` ... ; a before-hook with ``replace_path`` hands the importer the
file(s) the command produced instead of the original (e.g. a reprojected copy).
"""

from __future__ import annotations

import logging
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from petacube.errors import IngredientsError

log = logging.getLogger("petacube.ingest.hooks")

_FILE_KEY = re.compile(r"\$\{file:(\w+)\}")


def file_keys(path: Path, original: Path | None = None) -> dict[str, str]:
    """The ``${file:...}`` values of a path, as wcst_import defines them."""
    original = original or path
    return {
        "path": str(path),
        "name": path.name,
        "dir_path": str(path.parent),
        "original_path": str(original),
        "original_dir_path": str(original.parent),
    }


def substitute_file_keys(text: str, path: Path, original: Path | None = None) -> str:
    keys = file_keys(path, original)

    def repl(m: re.Match) -> str:
        if m.group(1) not in keys:
            raise IngredientsError(
                f"hook: unknown sentence ${{file:{m.group(1)}}}; hooks know {', '.join('file:' + k for k in keys)}"
            )
        return keys[m.group(1)]

    return _FILE_KEY.sub(repl, text)


class HookRunner:
    """Runs the ingredients' hooks around each file."""

    def __init__(self, hooks, *, run: bool = True, echo: Callable[[str], None] = print):
        self.hooks = list(hooks or [])
        self.run = run
        self.echo = echo

    def _when(self, hook) -> str:
        when = str(hook.when).lower()
        return "before" if when.startswith("before") else "after"

    def before(self, path: Path) -> list[Path]:
        """Run before-hooks for ``path``; the file(s) to import instead (default: itself)."""
        paths = [path]
        for hook in self.hooks:
            if self._when(hook) != "before":
                continue
            self._execute(hook, path)
            if hook.replace_path:
                paths = [Path(substitute_file_keys(str(p), path)) for p in hook.replace_path]
                if self.run:
                    missing = [str(p) for p in paths if not p.exists()]
                    if missing:
                        raise IngredientsError(
                            f"hook '{hook.description or hook.cmd}': replace_path names {', '.join(missing)}, "
                            "which the command did not create"
                        )
        return paths

    def after(self, sl) -> None:
        for hook in self.hooks:
            if self._when(hook) == "after":
                self._execute(hook, sl.path, sl.original_path)

    def _execute(self, hook, path: Path, original: Path | None = None) -> None:
        cmd = substitute_file_keys(hook.cmd, path, original)
        if not self.run:
            self.echo(f"hook (not run in mock mode): {cmd}")
            return
        log.info("hook: %s", cmd)
        proc = subprocess.run(cmd, shell=True, capture_output=True, text=True)
        if proc.returncode != 0:
            msg = (
                f"hook '{hook.description or shlex.split(cmd)[0]}' failed for {path} "
                f"(exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-500:]}"
            )
            if hook.abort_on_error:
                raise IngredientsError(msg + "; the import stopped (abort_on_error is true)")
            log.warning("%s; going on (abort_on_error is false)", msg)
