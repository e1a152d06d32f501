"""Fixtures for the UI tests: a real stack (API + worker subprocess on the session Redis) and a headless
Chromium driven by Playwright. The browser is Debian's /usr/bin/chromium (tests/ui/ensure_chromium.sh
installs it); Playwright never downloads one here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stack import Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"


def _start(redis_server, **kw) -> Stack:
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()  # another test stopped the shared server
    return Stack(redis_server.url, **kw).start()


@pytest.fixture(scope="module")
def stack(redis_server):
    """The app exactly as `create_app` builds it, plus one worker."""
    s = _start(redis_server)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def events_stack(redis_server):
    """The app with service.ui.events answering /solve/async/{id}/events, plus one worker."""
    s = _start(redis_server, events_first=True)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run tests/ui/ensure_chromium.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
