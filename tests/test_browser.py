"""Use the book the way a reader does: JupyterLab in headless Chromium, run a chapter, click.

The notebooks are copied to a temporary folder first (JupyterLab autosaves, and would
otherwise rewrite the committed outputs). A JupyterLab server is started on 127.0.0.1 with a
random free port and a token, with its settings, workspaces and runtime files kept in that
temporary folder too; Playwright drives the system Chromium (``chromium_browser`` fixture).

The reader's path: open the chapter with the explorer, Run → Run All Cells, wait for the
kernel to be idle, lose the final ACK (segment #11) in the explorer, drag the MSL slider,
step the time cursor, and check that the ladder picture, the status line and the state
diagram's highlight all changed. On failure a screenshot is saved in build/browser (or
$TCPBOOK_ARTIFACTS).
Set ``TCPBOOK_SCREENSHOTS=DIR`` to also keep a screenshot of every chapter, stored and run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import CHANGE_MS

if TYPE_CHECKING:
    from playwright.sync_api import ElementHandle, Locator, Page

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # pragma: no cover - playwright is a test dependency
    PlaywrightTimeout = TimeoutError  # type: ignore[assignment,misc]

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: The chapter whose explorer the reader plays with (chapter 2 stands in until 3 exists).
CHAPTER = next(
    name
    for name in ("03-why-2msl.ipynb", "02-four-way-close.ipynb")
    if (NOTEBOOKS / name).is_file()
)
SERVER_START_S = 60
KERNEL_IDLE_MS = 60_000
RUN_ALL_MS = 90_000
STEPS = 5  # time-cursor steps the reader takes (each one timed)

#: JupyterLab user settings: no news or update toasts, every cell kept in the page, and the
#: notebook's own kernel started without asking.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
}


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        # ?reset: a fresh workspace, so tabs opened by an earlier test do not come back
        return f"{self.url}/lab/tree/notebooks/{name}?reset&token={self.token}"

    def shut_down_kernels(self) -> None:
        """End every kernel the earlier pages started (the REST API, as JupyterLab does)."""
        with urllib.request.urlopen(f"{self.url}/api/sessions?token={self.token}", timeout=10) as r:
            sessions = json.load(r)
        for session in sessions:
            request = urllib.request.Request(
                f"{self.url}/api/sessions/{session['id']}?token={self.token}", method="DELETE"
            )
            urllib.request.urlopen(request, timeout=10).close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _artifacts() -> Path:
    folder = Path(os.environ.get("TCPBOOK_ARTIFACTS", ROOT / "build" / "browser"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A JupyterLab server serving a copy of the book; stopped (kernels too) at the end."""
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(NOTEBOOKS, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_*"))
    settings = root / ".lab-settings"
    for name, values in LAB_SETTINGS.items():
        plugin, _, file = name.rpartition("/")
        (settings / plugin).mkdir(parents=True, exist_ok=True)
        (settings / plugin / file).write_text(json.dumps(values), encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(root / ".lab-workspaces"),
        JUPYTER_RUNTIME_DIR=str(root / ".jupyter-runtime"),
        PYTHONHASHSEED="0",
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (root / "server.log").open("w")
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}: {_tail(root)}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s")
                time.sleep(0.3)
        yield Lab(url, token, root)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started: server and kernels
            proc.wait(timeout=5)
        log.close()


def _tail(root: Path, lines: int = 15) -> str:
    text = (root / "server.log").read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def screenshot_on_failure(page: Page, name: str) -> Iterator[None]:
    """Save a screenshot of the page when the block fails, and say where."""
    try:
        yield
    except BaseException:
        shot = _artifacts() / f"{name}.png"
        try:
            page.screenshot(path=str(shot))
            print(f"screenshot of the failure: {shot}")
        except Exception as exc:  # the page may be gone; the test's own error matters more
            print(f"no screenshot: {exc}")
        raise


def _open(page: Page, lab: Lab, name: str) -> None:
    lab.shut_down_kernels()
    page.goto(lab.notebook_url(name), wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible", timeout=60_000)
    # Older JupyterLab versions may still ask which kernel to start: take the preferred one.
    select = page.locator(".jp-Dialog button.jp-mod-accept", has_text="Select")
    try:
        select.wait_for(state="visible", timeout=3000)
        select.click()
    except PlaywrightTimeout:
        pass
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(
        state="attached", timeout=KERNEL_IDLE_MS
    )


def _run_all(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    # Every code cell gets an execution count "[n]:" once it has run; "[*]:" while queued.
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const done = prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            const idle = document.querySelector(
                '.jp-Notebook-ExecutionIndicator[data-status="idle"]');
            return done && idle !== null;
        }""",
        timeout=RUN_ALL_MS,
    )
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, errors.first.inner_text()


def _explorer(page: Page) -> Locator:
    explorer = page.locator(".tcpbook-explorer").first
    explorer.wait_for(state="visible")
    explorer.scroll_into_view_if_needed()
    return explorer


def _status(explorer: Locator) -> str:
    return explorer.locator(".widget-html").first.inner_text()


def _status_handle(explorer: Locator) -> ElementHandle:
    return explorer.locator(".widget-html").first.element_handle()


def _ladder_src(explorer: Locator) -> str:
    return explorer.locator("img").first.get_attribute("src") or ""


def _diagram(explorer: Locator) -> str:
    return explorer.locator("svg").first.inner_html()


def _wait_for_change(page: Page, explorer: Locator, status: str, src: str) -> None:
    """Bounded wait until both the status line and the ladder image differ from before."""
    deadline = time.monotonic() + CHANGE_MS / 1000
    while _status(explorer) == status or _ladder_src(explorer) == src:
        if time.monotonic() > deadline:
            raise AssertionError(f"the explorer did not redraw (status still {status!r})")
        page.wait_for_timeout(100)


def test_reader_loses_the_final_ack_and_changes_msl(page: Page, lab: Lab) -> None:
    with screenshot_on_failure(page, "reader-loses-the-final-ack"):
        _play_with_the_explorer(page, lab)


def _play_with_the_explorer(page: Page, lab: Lab) -> None:
    _open(page, lab, CHAPTER)
    _run_all(page)
    explorer = _explorer(page)
    page.wait_for_function(
        "el => el.querySelector('img') && el.querySelector('img').naturalWidth > 0",
        arg=explorer.element_handle(),
    )
    status, src = _status(explorer), _ladder_src(explorer)
    assert status.startswith("Profile linux. At ") and "A is" in status and "B is" in status

    # Lose the final ACK: B must retransmit its FIN, so every time after it shifts.
    toggle = explorer.locator("button.widget-toggle-button", has_text="#11 A→B ACK")
    toggle.click()
    _wait_for_change(page, explorer, status, src)
    assert "mod-active" in (toggle.get_attribute("class") or "")
    assert explorer.locator("button.widget-toggle-button", has_text="#12 B→A FIN,ACK").count()

    # Drag the MSL slider to its low end: TIME_WAIT (and the status line's times) shrink.
    status, src = _status(explorer), _ladder_src(explorer)
    slider = explorer.locator(".widget-slider", has=page.locator("label", has_text="MSL"))
    readout = slider.locator(".widget-readout").first
    before_msl = readout.inner_text()
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-target").first.bounding_box()
    box = handle.bounding_box()
    assert track is not None and box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * 0.03, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    _wait_for_change(page, explorer, status, src)
    assert readout.inner_text() != before_msl

    # Step the time cursor back: the state diagram's highlight moves with it. The time from
    # click to new picture (kernel round trip included) is printed for the record.
    latencies = []
    first_diagram = _diagram(explorer)
    for _ in range(STEPS):
        status, src = _status(explorer), _ladder_src(explorer)
        start = time.monotonic()
        explorer.locator("button", has_text="◀ step").first.click()
        page.wait_for_function(
            """([el, status, src]) => el.querySelector('.widget-html').innerText !== status
                && el.querySelector('img').getAttribute('src') !== src""",
            arg=[explorer.element_handle(), status, src],
            timeout=CHANGE_MS,
        )
        latencies.append(time.monotonic() - start)
    assert _diagram(explorer) != first_diagram, "stepping did not move the state highlight"
    latencies.sort()
    print(f"step click to redrawn explorer: median {latencies[len(latencies) // 2] * 1000:.0f} ms")

    # Play: the browser moves the time slider by itself (a jslink, no kernel code), and every
    # move redraws. Two different status lines in a row show it playing; then stop it.
    play = explorer.locator(".jupyter-widget-play button, .widget-play button")
    explorer.locator("button", has_text="whole run").first.click()
    page.wait_for_function("el => el.innerText.includes(' At ')", arg=_status_handle(explorer))
    seen = {_status(explorer)}
    play.first.click()
    deadline = time.monotonic() + CHANGE_MS / 1000
    while len(seen) < 3:
        assert time.monotonic() < deadline, f"play did not move the cursor: {seen}"
        page.wait_for_timeout(100)
        seen.add(_status(explorer))
    play.nth(1).click()  # stop

    if os.environ.get("TCPBOOK_SCREENSHOTS"):
        explorer.screenshot(path=str(Path(os.environ["TCPBOOK_SCREENSHOTS"]) / "explorer.png"))


def _chapters() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _screens(page: Page, prefix: Path, limit: int = 14) -> None:
    """Screenshots down the whole notebook, one viewport at a time."""
    panel = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
    panel.evaluate("el => el.scrollTo(0, 0)")
    for index in range(limit):
        page.wait_for_timeout(300)
        page.screenshot(path=f"{prefix}.{index:02d}.png")
        moved = panel.evaluate(
            "el => { const y = el.scrollTop; el.scrollBy(0, el.clientHeight - 80);"
            " return el.scrollTop !== y; }"
        )
        if not moved:
            break


@pytest.mark.parametrize("name", _chapters())
def test_every_chapter_runs_in_the_browser_without_an_error(
    page: Page, lab: Lab, name: str, tmp_path: Path
) -> None:
    """Run each chapter as a reader would: no error output, and screenshots of what they see.

    The screenshots go to ``TCPBOOK_SCREENSHOTS=DIR`` when it is set (every viewport of the
    stored and the run chapter), otherwise one of the run chapter goes to a temporary folder.
    """
    wanted = os.environ.get("TCPBOOK_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    with screenshot_on_failure(page, f"screenshot-{name}"):
        _open(page, lab, name)
        page.wait_for_timeout(1500)  # let stored images and widgets settle
        if wanted:
            _screens(page, folder / f"{name}.stored")
        _run_all(page)
        page.wait_for_timeout(1500)
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'],"
            " .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        assert errors.count() == 0, errors.first.inner_text()[:500]
        if wanted:
            _screens(page, folder / f"{name}.run")
        else:
            shot = folder / f"{name}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
