"""publish(): all-or-nothing, never overwriting, crash recovery; claim(): one owner, kernel-released."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from petacube.errors import PetacubeError
from petacube.sagris.batch.errors import OutputExists
from petacube.sagris.batch.publish import (
    JOURNAL_NAME,
    STAGING_PREFIX,
    claim,
    locked,
    publish,
)


def _files(work: Path, names: list[str]) -> list[Path]:
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for n in names:
        p = work / n
        p.write_bytes(n.encode() * 100)
        out.append(p)
    return out


def visible(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if not p.name.startswith("."))


def test_publish_moves_the_set(tmp_path):
    files = _files(tmp_path / "w", ["a_10m.zip", "a_20m.zip", "a.jpg"])
    got = publish(files, tmp_path / "out")
    assert sorted(p.name for p in got) == ["a.jpg", "a_10m.zip", "a_20m.zip"]
    assert visible(tmp_path / "out") == ["a.jpg", "a_10m.zip", "a_20m.zip"]
    assert (tmp_path / "out" / "a_10m.zip").read_bytes() == b"a_10m.zip" * 100
    assert not any((tmp_path / "w").iterdir())


def test_publish_never_overwrites(tmp_path):
    out = tmp_path / "out"
    publish(_files(tmp_path / "w1", ["a.zip"]), out)
    files = _files(tmp_path / "w2", ["a.zip", "b.zip"])
    (tmp_path / "w2" / "a.zip").write_bytes(b"new")
    with pytest.raises(OutputExists) as err:
        publish(files, out)
    assert isinstance(err.value, PetacubeError) and "a.zip" in str(err.value)
    assert visible(out) == ["a.zip"]  # nothing of the set moved
    assert (out / "a.zip").read_bytes() == b"a.zip" * 100
    got = publish(files, out, exists="skip")
    assert [p.name for p in got] == ["b.zip"]
    assert (out / "a.zip").read_bytes() == b"a.zip" * 100
    assert (tmp_path / "w2" / "a.zip").exists()  # the skipped one stays in the work folder


def test_interrupted_publish_is_rolled_forward_or_cleaned(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # killed after writing the journal: the next lock holder finishes the renames
    (out / f"{STAGING_PREFIX}h-1-x_10m.zip").write_bytes(b"x10")
    (out / f"{STAGING_PREFIX}h-1-x_20m.zip").write_bytes(b"x20")
    (out / JOURNAL_NAME).write_text(json.dumps([[f"{STAGING_PREFIX}h-1-x_10m.zip", "x_10m.zip"],
                                                [f"{STAGING_PREFIX}h-1-x_20m.zip", "x_20m.zip"]]))
    # killed while staging (no journal entry): debris to remove
    (out / f"{STAGING_PREFIX}h-2-y_10m.zip").write_bytes(b"partial")
    with locked(out):
        pass
    assert visible(out) == ["x_10m.zip", "x_20m.zip"]
    assert (out / "x_20m.zip").read_bytes() == b"x20"
    assert not list(out.glob(STAGING_PREFIX + "*")) and not (out / JOURNAL_NAME).exists()


HOLD = """
import sys, time
from pathlib import Path
from petacube.sagris.batch.publish import claim
with claim(sys.argv[1], Path(sys.argv[2])) as mine:
    print("owned" if mine else "busy", flush=True)
    time.sleep(60)
"""


def test_claim_is_exclusive_across_processes_and_released_by_sigkill(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, "S2A_key", str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "owned"
        with claim("S2A_key", tmp_path) as mine:
            assert mine is False
        with claim("other_key", tmp_path) as mine:
            assert mine is True
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # the claim file is still on disk, but the dead owner's lock is gone: not stale
        assert (tmp_path / ".sagris-claims" / "S2A_key.claim").exists()
        deadline = time.time() + 5
        while True:
            with claim("S2A_key", tmp_path) as mine:
                if mine or time.time() > deadline:
                    break
            time.sleep(0.05)
        assert mine is True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
