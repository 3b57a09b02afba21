"""The web edition in a real browser: build/site/ served by ``python -m http.server``.

The site is built once per session (``make site``: stored outputs, nothing re-executed) and
served on a free loopback port. Every request of every page (and of its web worker) is seen:
anything not addressed to that server is blocked and counted, and there must be none.
The reader's path on the close: lose segment #11, see B's FIN retransmitted and how each side
ended; switch MSL presets and see TIME_WAIT's drawn length follow; a choice the page does not
carry is computed by the same Python model in the browser (Pyodide) and must equal
``tcpbook.simulate``. Screenshots of every page at 1280 × 800 and 390 × 844 are kept in
$TCPBOOK_SCREENSHOTS (default: a temporary folder, printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import tcpbook

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
RUNTIME = ("/_static/pyodide/", "/_static/tcpbook-py.zip")  # cached once for the whole site
PAGE_BUDGET = 3_000_000  # bytes per chapter page, runtime not counted
FIRST_ANSWER_MS = 3_000
REDRAW_MS = 100
PYODIDE_MS = 60_000  # the runtime's first start on a busy 2-core machine
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@dataclass
class Server:
    url: str
    external: list[str] = field(default_factory=list)

    def context(self, browser: Browser, width: int = 1280, height: int = 800) -> BrowserContext:
        """A browser context whose requests may only go to this server (others are counted)."""
        ctx = browser.new_context(viewport={"width": width, "height": height})

        def route(r: Any) -> None:
            if r.request.url.startswith(self.url + "/"):
                r.continue_()
            else:
                self.external.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        ctx.on("request", lambda req: self._seen(req.url))
        return ctx

    def _seen(self, url: str) -> None:
        elsewhere = not url.startswith((self.url + "/", "data:", "blob:", "about:"))
        if elsewhere and url not in self.external:
            self.external.append(url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def site() -> Iterator[Server]:
    """Build the site once (make site), serve it, stop the server at the end."""
    started = time.monotonic()
    subprocess.run(["make", "-s", "site"], cwd=ROOT, check=True)
    print(f"\nmake site: {time.monotonic() - started:.1f} s")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(SITE)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("python -m http.server did not start")
            time.sleep(0.1)
    server = Server(url)
    try:
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert server.external == [], f"requests left the site: {server.external}"


def pages() -> list[str]:
    names = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    return ["index.html" if n.startswith("00-") else n.replace(".ipynb", ".html") for n in names]


def close_page() -> str:
    """The first chapter whose close explorer lets the reader lose segments and set MSL."""
    for page in pages():
        text = (SITE / page).read_text(encoding="utf-8")
        m = re.search(r"<script[^>]*id=\"tcpbook-data\"[^>]*>(.*?)</script>", text, re.S)
        if not m:
            continue
        for ident, x in json.loads(m.group(1))["explorers"].items():
            spec = x["spec"]
            if spec["scenario"] == "close" and {"drop", "msl"} <= set(spec["controls"]):
                return f"{page}#{ident}"
    raise AssertionError("no page has a close explorer with drop and msl controls")


def open_page(page: Page, url: str) -> list[str]:
    """Go to ``url``; return the list that collects console errors and page errors."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return errors


# --------------------------------------------------------------------------- every page


def test_every_page_loads_without_errors_within_budget(
    site: Server, chromium_browser: Browser
) -> None:
    shots = Path(os.environ.get("TCPBOOK_SCREENSHOTS") or _tmp_shots())
    shots.mkdir(parents=True, exist_ok=True)
    weights: dict[str, int] = {}
    for view, (w, h) in VIEWPORTS.items():
        ctx = site.context(chromium_browser, w, h)
        page = ctx.new_page()
        sizes: dict[str, int] = {}

        def on_response(resp: Any, sizes: dict[str, int] = sizes) -> None:
            if resp.status == 200 and not any(r in resp.url for r in RUNTIME):
                with contextlib.suppress(Exception):  # a body dropped by a navigation away
                    sizes[resp.url] = len(resp.body())

        page.on("response", on_response)
        for name in [*pages(), "quickstart.html"]:
            sizes.clear()
            errors = open_page(page, f"{site.url}/{name}")
            page.wait_for_load_state("load")
            if page.locator(".explorer").count():
                page.wait_for_function("document.documentElement.dataset.explorersReady === '1'")
                assert (
                    page.locator(".explorer[data-redraws]").count()
                    == page.locator(".explorer").count()
                ), f"{name}: an explorer did not draw"
            page.screenshot(path=str(shots / f"{Path(name).stem}-{view}.png"))
            if page.locator(".explorer").count():
                page.locator(".explorer").first.scroll_into_view_if_needed()
                page.screenshot(path=str(shots / f"{Path(name).stem}-{view}-explorer.png"))
            assert errors == [], f"{name} ({view}): console errors {errors}"
            weights[name] = max(weights.get(name, 0), sum(sizes.values()), _weight_on_disk(name))
        ctx.close()
    assert site.external == [], f"requests left the site: {site.external}"
    print(f"\nscreenshots in {shots}")
    print("page weights (bytes, runtime not counted):", json.dumps(weights))
    over = {k: v for k, v in weights.items() if v > PAGE_BUDGET}
    assert not over, f"pages over {PAGE_BUDGET} bytes: {over}"


def _tmp_shots() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="tcpbook-site-shots-")


def _weight_on_disk(name: str) -> int:
    """The page and everything it refers to (images, style sheets, scripts) as files."""
    text = (SITE / name).read_text(encoding="utf-8")
    total = len(text.encode())
    for ref in set(re.findall(r'(?:src|href)="([^"#?:]+)"', text)):
        path = SITE / ref
        if path.is_file() and path.suffix != ".html":
            total += path.stat().st_size
    return total


# --------------------------------------------------------------------------- the close


def _explorer(page: Page, url: str, ident: str) -> Any:
    open_page(page, url)
    page.wait_for_function("document.documentElement.dataset.explorersReady === '1'")
    return page.locator(f'.explorer[data-explorer="{ident}"]')


def _page_run(page: Page, ident: str) -> dict[str, Any]:
    run: dict[str, Any] = page.evaluate(
        "(id) => window.tcpbookSite.explorers.find(x => x.root.dataset.explorer === id).current",
        ident,
    )
    return run


def test_lose_the_final_ack_first_answer_and_same_run(
    site: Server, chromium_browser: Browser
) -> None:
    target = close_page()
    name, ident = target.split("#")
    ctx = site.context(chromium_browser)
    page = ctx.new_page()
    x = _explorer(page, f"{site.url}/{name}", ident)
    before = int(x.get_attribute("data-redraws") or 0)
    x.locator('[data-drop="11"]').click()
    page.wait_for_function(
        "([id, n]) => "
        "+document.querySelector(`.explorer[data-explorer=${id}]`).dataset.redraws > n",
        arg=[ident, before],
    )
    answered = page.evaluate("performance.now()")
    ladder = x.locator('[data-role="ladder"]')
    rtx_fin = ladder.locator('g.seg[data-rtx="1"][data-flags*="FIN"]')
    assert rtx_fin.count() >= 1, "no retransmitted FIN on the ladder after losing #11"
    assert ladder.locator('g.seg[data-seg="11"][data-fate="dropped"]').count() == 1
    status = x.locator('[data-role="status"]').inner_text()
    assert "How it ends" in status and "closed cleanly" in status, status
    assert x.locator('[data-drop="11"]').get_attribute("aria-pressed") == "true"
    assert answered < FIRST_ANSWER_MS, f"first answer {answered:.0f} ms after navigation"
    assert float(x.get_attribute("data-redraw-ms") or 1e9) < REDRAW_MS
    # what the page drew is the run the notebook shows
    run = _page_run(page, ident)
    msl = run["settings"]["msl"]
    expected = tcpbook.simulate("close", msl=msl, drop=[11]).to_dict()
    assert run["trace"] == json.loads(json.dumps(expected))
    # the state diagram follows: over the whole run A ends in the bottom CLOSED, having
    # restarted TIME_WAIT on the retransmitted FIN
    x.locator('[data-role="whole-run"]').click()
    diagram = x.locator('[data-role="state-diagram"]')
    assert diagram.locator('[data-id="state:CLOSED_END"].cur-A').count() == 1
    assert diagram.locator('[data-id="row:TIME_WAIT:rcv_FIN:TIME_WAIT"].took-A').count() == 1
    redraw = x.get_attribute("data-redraw-ms")
    print(f"\nfirst answer {answered:.0f} ms after navigation; redraw {redraw} ms")
    ctx.close()
    assert site.external == [], f"requests left the site: {site.external}"


def test_msl_presets_change_time_wait(site: Server, chromium_browser: Browser) -> None:
    name, ident = close_page().split("#")
    ctx = site.context(chromium_browser)
    page = ctx.new_page()
    x = _explorer(page, f"{site.url}/{name}", ident)
    seen = {}
    for msl in ("1", "5", "30", "120"):
        button = x.locator(f'[data-msl="{msl}"]')
        button.click()
        page.wait_for_function(
            "([id, k]) => document.querySelector(`.explorer[data-explorer=${id}]`)"
            ".dataset.runKey.startsWith(k)",
            arg=[ident, f"msl={msl}|"],
        )
        assert button.get_attribute("aria-pressed") == "true"
        tw = x.locator('[data-role="ladder"] [data-role="time-wait"][data-endpoint="A"]')
        seconds = float(tw.get_attribute("data-seconds") or "nan")
        assert seconds == pytest.approx(2 * float(msl), abs=1e-6), (msl, seconds)
        assert f"2MSL = {2 * int(msl)} s" in tw.text_content()
        assert float(x.get_attribute("data-redraw-ms") or 1e9) < REDRAW_MS
        seen[msl] = seconds
    assert len(set(seen.values())) == 4, seen
    ctx.close()
    assert site.external == [], f"requests left the site: {site.external}"


def test_other_choices_come_from_python_in_the_browser(
    site: Server, chromium_browser: Browser
) -> None:
    """Two losses at once and an MSL no preset has: computed by Pyodide, equal to simulate()."""
    name, ident = close_page().split("#")
    ctx = site.context(chromium_browser)
    page = ctx.new_page()
    x = _explorer(page, f"{site.url}/{name}", ident)
    page.wait_for_function("window.tcpbookSite.pyReadyMs != null", timeout=PYODIDE_MS)
    ready = page.evaluate("[window.tcpbookSite.pyReadyMs, window.tcpbookSite.pyReadyAt]")
    x.locator('[data-msl="5"]').click()
    x.locator('[data-drop="11"]').click()
    x.locator('[data-drop="12"]').click()  # B's retransmitted FIN, lost too
    page.wait_for_function(
        "(id) => document.querySelector(`.explorer[data-explorer=${id}]`)"
        ".dataset.runKey.includes('drop=11,12|')",
        arg=ident,
    )
    run = _page_run(page, ident)
    expected = tcpbook.simulate("close", msl=5, drop=[11, 12]).to_dict()
    assert run["trace"] == json.loads(json.dumps(expected))
    answers = [float(x.get_attribute("data-redraw-ms") or 1e9)]
    for n in (13, 14):  # lose each next retransmitted FIN too: more runs no page carries
        before = int(x.get_attribute("data-redraws") or 0)
        x.locator(f'[data-drop="{n}"]').click()
        page.wait_for_function(
            "([id, n]) => "
            "+document.querySelector(`.explorer[data-explorer=${id}]`).dataset.redraws > n",
            arg=[ident, before],
        )
        answers.append(float(x.get_attribute("data-redraw-ms") or 1e9))
    redraw = sorted(answers)[1]
    assert redraw < REDRAW_MS, f"Python-in-the-browser answers took {answers} ms"
    x.locator('[data-role="msl-input"]').fill("7.5")
    x.locator('[data-role="msl-input"]').press("Enter")
    page.wait_for_function(
        "(id) => document.querySelector(`.explorer[data-explorer=${id}]`)"
        ".dataset.runKey.startsWith('msl=7.5|')",
        arg=ident,
    )
    tw = x.locator('[data-role="ladder"] [data-role="time-wait"][data-endpoint="A"]')
    assert "2MSL = 15 s" in tw.text_content()
    # every profile the model offers can be picked
    for button in x.locator("[data-profile]").all():
        button.click()
        profile = button.get_attribute("data-profile")
        page.wait_for_function(
            "([id, p]) => document.querySelector(`.explorer[data-explorer=${id}]`)"
            ".dataset.runKey.endsWith('profile=' + p)",
            arg=[ident, profile],
        )
        assert button.get_attribute("aria-pressed") == "true"
    print(
        f"\nPyodide ready in the worker after {ready[0]:.0f} ms ({ready[1]:.0f} ms after load); "
        f"a Python answer redrawn in {redraw:.1f} ms"
    )
    ctx.close()
    assert site.external == [], f"requests left the site: {site.external}"


def test_time_cursor_moves_the_highlight(site: Server, chromium_browser: Browser) -> None:
    name, ident = close_page().split("#")
    ctx = site.context(chromium_browser)
    page = ctx.new_page()
    x = _explorer(page, f"{site.url}/{name}", ident)
    x.locator('[data-role="whole-run"]').click()
    x.locator('[data-step="-1"]').click()
    first = x.locator('[data-role="status"]').inner_text()
    cur = x.locator('[data-role="state-diagram"] .cur-A').get_attribute("data-id")
    for _ in range(6):
        x.locator('[data-step="-1"]').click()
    assert x.locator('[data-role="status"]').inner_text() != first
    assert x.locator('[data-role="state-diagram"] .cur-A').get_attribute("data-id") != cur
    assert x.locator('[data-role="ladder"] line.cursor').count() == 1
    assert float(x.get_attribute("data-redraw-ms") or 1e9) < REDRAW_MS
    ctx.close()
    assert site.external == [], f"requests left the site: {site.external}"


def test_every_explorer_answers_each_of_its_controls(
    site: Server, chromium_browser: Browser
) -> None:
    """Each explorer of each chapter: every kind of control it shows redraws the pictures."""
    ctx = site.context(chromium_browser)
    page = ctx.new_page()
    checked = 0
    for name in pages():
        errors = open_page(page, f"{site.url}/{name}")
        page.wait_for_load_state("load")
        for root in page.locator(".explorer").all():
            ident = root.get_attribute("data-explorer")
            controls = [
                root.locator("[data-drop]").first,
                *root.locator("[data-msl]").all(),
                *root.locator("[data-profile]").all(),
                *root.locator("[data-option]").all(),
                root.locator('[data-step="-1"]'),
            ]
            for control in controls:
                if not control.count():
                    continue
                before = int(root.get_attribute("data-redraws") or 0)
                control.click()
                page.wait_for_function(
                    "([id, n]) => +document.querySelector("
                    "`.explorer[data-explorer=${id}]`).dataset.redraws > n",
                    arg=[ident, before],
                    timeout=PYODIDE_MS,
                )
                checked += 1
            select = root.locator("select")
            if select.count():
                for i in range(select.locator("option").count()):
                    before = int(root.get_attribute("data-redraws") or 0)
                    select.select_option(index=i)
                    if i:  # the first is the starting choice: nothing to redraw
                        page.wait_for_function(
                            "([id, n]) => +document.querySelector("
                            "`.explorer[data-explorer=${id}]`).dataset.redraws > n",
                            arg=[ident, before],
                            timeout=PYODIDE_MS,
                        )
                        checked += 1
            status = root.locator('[data-role="status"]').inner_text()
            assert "How it ends" in status and "Cannot run" not in status, (name, status)
            assert root.locator('[data-role="ladder"] g.seg').count() >= 1
        assert errors == [], f"{name}: console errors {errors}"
    assert checked >= 20, f"only {checked} controls found on the explorers"
    ctx.close()
    assert site.external == [], f"requests left the site: {site.external}"
