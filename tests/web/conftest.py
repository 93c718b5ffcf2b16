"""Fixtures of the demo-page tests: the real server with a small Sentinel-2-like cube, and
Debian's Chromium driven by Playwright (never a browser downloaded by `playwright install`)."""

from __future__ import annotations

import pytest
from web_server import WebServer, start_web_server

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def web(tmp_path_factory) -> WebServer:
    running = start_web_server(tmp_path_factory.mktemp("web"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_page(browser, url: str):
    """A new tab on the demo page, loaded; page errors are collected in ``tab.errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda err: tab.errors.append(str(err)))
    tab.goto(f"{url}/")
    tab.wait_for_selector("body[data-ready=true]", timeout=20_000)
    return context, tab


@pytest.fixture
def page(browser, web):
    """A fresh tab on the demo page for each test (the map tests change its state)."""
    context, tab = open_page(browser, web.url)
    yield tab
    context.close()


@pytest.fixture(scope="module")
def console_page(browser, web):
    """One tab shared by a module's tests (the console tests each run a query in it)."""
    context, tab = open_page(browser, web.url)
    yield tab
    context.close()
