"""Shared set-up for tcpbook's tests.

* matplotlib draws with the Agg backend (no display needed). It is selected with
  ``matplotlib.use`` rather than the MPLBACKEND variable so that a Jupyter kernel
  started by a test still gets its usual inline backend.
* Hypothesis runs with the "ci" profile: no deadline, derandomized (the same
  examples on every run), no example database. Set TCPBOOK_HYPOTHESIS_PROFILE=explore
  to search with fresh random examples instead.
* ``chromium_executable`` / ``chromium_args`` / ``chromium_browser`` fixtures for
  tests marked ``browser``: Playwright drives the system Chromium (installed by
  ``make test``; Playwright's own browser downloads are not used).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

matplotlib.use("Agg")

settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile(
    "explore",
    deadline=None,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
HYPOTHESIS_PROFILE = os.environ.get("TCPBOOK_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(HYPOTHESIS_PROFILE)


# --------------------------------------------------------------------------- browser

#: Flags for headless Chromium on a machine without a display or outside network.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary: $TCPBOOK_CHROMIUM, else the first one on PATH."""
    explicit = os.environ.get("TCPBOOK_CHROMIUM")
    if explicit:
        return shutil.which(explicit)
    for name in _CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium binary for browser tests.

    Skips the test when there is none, with the reason; under CI (CI set) a missing
    Chromium is an error instead, since ``make test`` installs it there.
    """
    path = find_chromium()
    if path is None:
        reason = (
            "no Chromium found: install it (sudo apt-get install chromium) "
            "or set TCPBOOK_CHROMIUM=/path/to/chromium"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def chromium_args() -> list[str]:
    """Command-line flags to launch Chromium with (pass as ``args=`` to Playwright)."""
    return list(CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def chromium_browser(chromium_executable: str, chromium_args: list[str]) -> Iterator[Browser]:
    """A headless Playwright ``Browser`` running the system Chromium, shared by the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_executable, headless=True, args=chromium_args
        )
        try:
            yield browser
        finally:
            browser.close()


#: The browser window of the page tests, and how long a reader's click may take to show.
VIEWPORT = {"width": 1400, "height": 1000}
CHANGE_MS = 20_000


@pytest.fixture()
def page(chromium_browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page for one test."""
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(CHANGE_MS)
    try:
        yield page
    finally:
        context.close()


def pytest_report_header(config: Any) -> list[str]:
    return [
        f"hypothesis profile: {HYPOTHESIS_PROFILE}",
        f"chromium: {find_chromium() or 'not found'}",
    ]
