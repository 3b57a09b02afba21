"""The explorer outside JupyterLab: Jupyter Notebook 7 and Voilà, in headless Chromium.

Both serve a copy of chapter 03; the test loses segment #11 and checks the ladder redraws.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import CHANGE_MS
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_browser import NOTEBOOKS, _free_port, screenshot_on_failure

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CHAPTER = "03-why-2msl.ipynb"
START_S = 90


def _serve(command: list[str], root: Path, probe: str) -> Iterator[str]:
    """Start a server, wait until ``probe`` answers, yield its base URL, stop it (and kernels)."""
    log = (root / "server.log").open("w")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(root / ".runtime"), PYTHONHASHSEED="0")
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{command[2]} exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{command[2]} did not answer within {START_S} s")
                time.sleep(0.3)
        yield probe
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


def _copy_book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_*"))
    return root


def _root_flag() -> list[str]:
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _lose_final_ack_and_see_the_ladder_change(page: Page) -> None:
    button = page.locator("button", has_text="#11 A→B ACK").first
    button.wait_for(state="attached", timeout=120_000)
    button.scroll_into_view_if_needed()  # Notebook 7 may have scrolled to the last cell
    ladder = page.locator(".widget-image").first
    before = ladder.get_attribute("src")
    button.click()
    page.wait_for_function(
        "src => { const i = document.querySelector('.widget-image');"
        " return i && i.getAttribute('src') !== src && i.naturalWidth > 0; }",
        arg=before,
        timeout=CHANGE_MS,
    )
    page.locator("button", has_text="#12 B→A FIN,ACK").first.wait_for(timeout=CHANGE_MS)


def test_voila_renders_chapter_03_and_the_explorer_answers(page: Page, tmp_path: Path) -> None:
    root = _copy_book(tmp_path)
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "voila",
        CHAPTER,
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.tornado_settings={'xsrf_cookies': False}",
    ]
    for url in _serve(command, root, f"http://127.0.0.1:{port}/"):
        page.goto(url, timeout=180_000)
        _lose_final_ack_and_see_the_ladder_change(page)


def test_notebook_7_runs_chapter_03_and_the_explorer_answers(page: Page, tmp_path: Path) -> None:
    root = _copy_book(tmp_path)
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "notebook",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *_root_flag(),
    ]
    for url in _serve(command, root, f"http://127.0.0.1:{port}/api/status?token={token}"):
        with screenshot_on_failure(page, "notebook-7"):
            _run_in_notebook_7(page, url.replace("api/status", f"notebooks/{CHAPTER}"))


def _take_the_offered_kernel(page: Page) -> bool:
    """Answer Notebook 7's "Select Kernel" dialog, if it is up, with the notebook's own kernel.

    On a fresh machine's first run the dialog can appear at any moment while the page loads
    (and again on Run All), and it blocks every click behind it. The answer ticks "Always start
    the preferred kernel", so it is asked once; dialogs may be stacked, so answer each in turn.
    """
    answered = False
    for _ in range(5):
        dialogs = page.locator(".jp-Dialog")
        if not dialogs.count() or not dialogs.last.is_visible():
            break
        dialog = dialogs.last
        select = dialog.locator("select")
        if select.count():
            labels = select.first.locator("option").all_inner_texts()
            wanted = [label for label in labels if "Python 3" in label]
            if wanted:
                select.first.select_option(label=wanted[0])
        always = dialog.locator("input[type=checkbox]")
        if always.count() and not always.first.is_checked():
            always.first.check()
        dialog.locator("button.jp-mod-accept").first.click()
        page.wait_for_timeout(500)
        answered = True
    return answered


def _run_in_notebook_7(page: Page, url: str) -> None:
    page.goto(url, timeout=60_000)
    page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=60_000)
    idle = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first
    # The kernel is up (Run All will run), or Notebook 7 asks which kernel to start.
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"], .jp-Dialog').first.wait_for(
        state="attached", timeout=60_000
    )
    if _take_the_offered_kernel(page):
        idle.wait_for(state="attached", timeout=60_000)
    button = page.locator("button", has_text="#11 A→B ACK").first
    for _ in range(3):  # a kernel still starting on a new machine can miss the first Run All
        _take_the_offered_kernel(page)
        try:
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=10_000)
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click(timeout=10_000)
            button.wait_for(state="attached", timeout=40_000)
            break
        except PlaywrightTimeout:
            if not _take_the_offered_kernel(page):
                page.keyboard.press("Escape")  # close a menu left open
    _lose_final_ack_and_see_the_ladder_change(page)
