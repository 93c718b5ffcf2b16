"""`petacube user ...` and `petacube access ...`, and the per-user request slots."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from click.testing import CliRunner

from petacube.cli import main
from petacube.ows.exceptions import ServerBusy
from petacube.server.limits import QuerySlots


def run(home, *args, input=None):
    return CliRunner().invoke(main, ["--home", str(home), *args], input=input)


def test_user_add_list_remove(tmp_path):
    home = tmp_path / "home"
    r = run(home, "user", "add", "alice", "--role", "writer", "--password-stdin", input="s3cret\n")
    assert r.exit_code == 0, r.output
    r = run(home, "user", "add", "bob", "--role", "reader", input="pw\npw\n")  # prompted twice
    assert r.exit_code == 0, r.output
    r = run(home, "user", "list")
    assert r.output.splitlines() == ["alice\twriter", "bob\treader"]
    assert run(home, "user", "add", "alice", "--role", "reader", "--password-stdin", input="x\n").exit_code == 2
    assert run(home, "user", "add", "bad name", "--role", "reader", "--password-stdin", input="x\n").exit_code == 2
    assert run(home, "user", "remove", "bob").exit_code == 0
    assert run(home, "user", "remove", "bob").exit_code == 2
    assert run(home, "user", "list").output.splitlines() == ["alice\twriter"]

    import petacube
    from petacube.catalog.users import Users

    with petacube.open(home) as cube:
        users = Users(cube.catalog)
        assert users.authenticate("alice", "s3cret").rights == {"reader", "writer"}
        assert users.authenticate("alice", "wrong") is None
        assert users.authenticate("carol", "s3cret") is None


def test_access_unknown_coverage(tmp_path):
    r = run(tmp_path / "home", "access", "NOPE", "--anonymous-read", "off")
    assert r.exit_code == 2 and "NoSuchCoverage" in r.output


def test_access_switch_takes_effect_on_the_running_server(server):
    query = {"service": "WCS", "request": "ProcessCoverages", "query": "for $c in (SECRET) return min($c)"}
    assert httpx.get(server.ows(), params=query, timeout=30).status_code == 401
    try:
        assert run(server.home, "access", "SECRET", "--anonymous-read", "on").exit_code == 0
        r = httpx.get(server.ows(), params=query, timeout=30)
        assert r.status_code == 200 and float(r.text) == pytest.approx(float(server.secret.min()))
    finally:
        assert run(server.home, "access", "SECRET", "--anonymous-read", "off").exit_code == 0
    assert httpx.get(server.ows(), params=query, timeout=30).status_code == 401


def test_query_slots_bound_each_user():
    async def scenario():
        slots = QuerySlots(per_user=1, timeout=0.1)
        async with slots.slot("alice"):
            async with slots.slot("bob"):  # other users are not held up
                pass
            with pytest.raises(ServerBusy):
                async with slots.slot("alice"):
                    pass
        async with slots.slot("alice"):  # free again
            pass
        assert not slots._slots  # nothing kept for idle users

    asyncio.run(scenario())
