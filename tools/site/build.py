#!/usr/bin/env python3
"""Build the static web edition of the book: ``python tools/site/build.py [--out build/site]``.

Every chapter in ``notebooks/`` becomes one HTML page (``00-contents`` is ``index.html``), with
the outputs stored in the notebook (nothing is re-executed), previous / contents / next links,
a "Run it live" Binder link, and a quick-start page from the README. Pages are written by
nbconvert with this folder's template (``templates/tcpbook``).

Explorers (``tcpbook.widgets.explore``) work in the page without a kernel. A page carries, as
JSON, the model's runs for the explorer's starting settings and for every single change from
each preset (lose one segment, an MSL preset, a profile, an option): the first answers are
instant. Any other choice is computed by the same Python model in the reader's browser
(Pyodide, in a web worker, loaded once for the whole site). ``payload.py`` makes both. The
page's script only draws.

Everything a page loads comes from this folder or from installed packages (``pyodide`` from
npm, Pygments' style sheet): no request leaves the site's own server.
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import hashlib
import itertools
import json
import re
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import mypy_extensions  # noqa: E402
import nbformat  # noqa: E402
import payload  # noqa: E402
from nbconvert import HTMLExporter  # noqa: E402
from pygments.formatters import HtmlFormatter  # noqa: E402
from traitlets.config import Config  # noqa: E402

from tcpbook.widgets import EXPLORER_MIME  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
PYODIDE = ROOT / "node_modules" / "pyodide"
PYODIDE_FILES = (
    "pyodide.js",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
CHAPTER_FILE = re.compile(r"^(\d\d)-[a-z0-9-]+\.ipynb$")
NAV_CELL_IDS = {"nav-top", "nav-bottom"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
KERNEL_ONLY_MIME = "application/vnd.tcpbook.kernel-only+json"
BINDER = "https://mybinder.org/v2/gh/tcpbook/tcpbook/HEAD?urlpath=lab/tree/notebooks/{name}"
SITE_URL = "https://tcpbook.github.io/tcpbook/"


@dataclass
class Chapter:
    number: str
    path: Path
    title: str

    @property
    def page(self) -> str:
        return "index.html" if self.number == "00" else self.path.stem + ".html"


@dataclass
class Explorer:
    """One explorer of a page: its settings, controls and precomputed runs."""

    ident: str
    spec: dict[str, Any]
    png: str | None
    runs: dict[str, Any] = field(default_factory=dict)
    initial: str = ""


# --------------------------------------------------------------------------- chapters


def chapters() -> list[Chapter]:
    out = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        m = CHAPTER_FILE.match(path.name)
        if not m:
            continue
        nb = nbformat.read(path, as_version=4)
        title = path.stem
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                h = re.search(r"^#\s+(.+)$", cell.source, re.M)
                if h:
                    title = h.group(1).strip()
                    break
        out.append(Chapter(m.group(1), path, title))
    return out


def page_of(name: str, chapters_: list[Chapter]) -> str | None:
    for ch in chapters_:
        if ch.path.name == name:
            return ch.page
    return None


def rewrite_links(text: str, chapters_: list[Chapter]) -> str:
    """Links between notebooks point at their pages; other relative links at the repository."""

    def repl(m: re.Match[str]) -> str:
        target, anchor = m.group(2), m.group(3) or ""
        if "://" in target:  # a link to elsewhere (Binder, GitHub) stays as it is
            return m.group(0)
        page = page_of(Path(target).name, chapters_)
        if page is not None:
            return f"{m.group(1)}({page}{anchor})"
        return m.group(0)

    text = re.sub(r"(\]\s*)\(([^)\s#]+\.ipynb)(#[^)\s]*)?\)", repl, text)
    return re.sub(r"!\[([^\]]*)\]\((https?://[^)\s]+)\)", _remote_image, text)


def _remote_image(m: re.Match[str]) -> str:
    """An image from another server (a badge) becomes its words: pages load only their own."""
    alt = m.group(1).strip()
    return "Run it live on Binder" if alt.lower() == "binder" else (alt or "image")


# --------------------------------------------------------------------------- explorers


def spec_from_source(source: str) -> dict[str, Any] | None:
    """The explorer a cell creates, read from its ``explore(...)`` call (literals only).

    Used for notebooks executed before explorers stored their settings as
    ``application/vnd.tcpbook.explorer+json``; nothing is executed.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "explore")
            or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "explore"
                and isinstance(node.func.value, ast.Attribute | ast.Name)
                and ast.unparse(node.func.value).endswith("widgets")
            )
        )
    ]
    if len(calls) != 1:
        return None
    call = calls[0]
    try:
        scenario = ast.literal_eval(call.args[0]) if call.args else "close"
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except ValueError:
        return None
    from tcpbook.widgets import DEFAULT_CONTROLS

    controls = kwargs.pop("controls", DEFAULT_CONTROLS)
    if isinstance(controls, str):
        controls = (controls,)
    at = kwargs.pop("at", None)
    settings = {name: kwargs.pop(name, None) for name in payload.SETTING_NAMES}
    if isinstance(settings["drop"], int):
        settings["drop"] = [settings["drop"]]
    return {
        "scenario": scenario,
        "controls": list(controls),
        "at": at,
        "settings": settings,
        "fixed": kwargs,
    }


def normal_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec from the mime item or from the source, in one form (JSON-able, fixed dict keys)."""
    settings = dict(spec.get("settings", {}))
    fixed = copy.deepcopy(dict(spec.get("fixed", {})))
    # a setting no control changes (a future explorer keyword) stays fixed for every run
    fixed.update({k: v for k, v in settings.items() if k not in payload.SETTING_NAMES})
    for name in ("delay", "duplicate"):
        if name in fixed and fixed[name] is not None:
            fixed[name] = {str(k): float(v) for k, v in dict(fixed[name]).items()}
    return {
        "scenario": str(spec["scenario"]),
        "controls": list(spec.get("controls", [])),
        "at": spec.get("at"),
        "settings": payload.normalise(settings),
        "fixed": fixed,
    }


def _fin_own(profile: str) -> float | None:
    """The FIN_WAIT_2 timeout a run with no explicit one gets under ``profile``."""
    from tcpbook.profiles import PROFILES

    return PROFILES[profile].fin_timeout


def _fin_values() -> list[float | None]:
    """Every FIN_WAIT_2 choice of any profile, once each, in order."""
    from tcpbook.widgets import fin_timeout_choices

    values: list[float | None] = []
    for name in payload.profiles()[0]:
        values += [v for _, v in fin_timeout_choices(name) if v not in values]
    return values


def precompute(spec: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The runs a page carries: the start, each preset grid point and one change from each.

    Grid: every MSL preset (with the msl control), every profile, every FIN_WAIT_2 choice
    (fin_timeout control), both values of each switch shown. At each point, the start's lost
    segments; at the points of the starting profile also every single lose/keep toggle of a
    segment (drop control).
    """
    from tcpbook.widgets import MSL_PRESETS

    controls = spec["controls"]
    start = spec["settings"]
    scenario, fixed = spec["scenario"], spec["fixed"]
    axes: dict[str, list[Any]] = {
        "profile": payload.profiles()[0],
        "msl": [start["msl"]]
        + ([v for _, v in MSL_PRESETS if v != start["msl"]] if "msl" in controls else []),
        "fin_timeout": [start["fin_timeout"]]
        + (
            [v for v in _fin_values() if v != start["fin_timeout"]]
            if "fin_timeout" in controls
            else []
        ),
        "rfc1337": [start["rfc1337"]] + ([not start["rfc1337"]] if "rfc1337" in controls else []),
        "skip_time_wait": [start["skip_time_wait"]]
        + ([not start["skip_time_wait"]] if "skip_time_wait" in controls else []),
    }
    runs: dict[str, Any] = {}

    def add(settings: dict[str, Any]) -> dict[str, Any]:
        k = payload.key(settings)
        if k not in runs:
            runs[k] = payload.run(scenario, settings, fixed)
        return runs[k]

    names = list(axes)
    for values in itertools.product(*(axes[n] for n in names)):
        point = dict(start, **dict(zip(names, values, strict=True)))
        base = add(point)
        # one lost segment more or less: for the default profile (other profiles' second
        # changes come from Python in the browser, ready by then)
        if "drop" in controls and point["profile"] == start["profile"]:
            lost = {s["id"] for s in base["trace"]["segments"] if s["fate"] == "dropped"}
            for seg in base["trace"]["segments"]:
                add(dict(point, drop=sorted(lost ^ {seg["id"]})))
    return runs, payload.key(start)


# --------------------------------------------------------------------------- notebook → page


def prepare(nb: Any, chapter: Chapter, chapters_: list[Chapter], img_dir: Path) -> list[Explorer]:
    """Drop navigation cells, rewrite links, extract images, turn explorer outputs into specs."""
    explorers: list[Explorer] = []
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.get("id") in NAV_CELL_IDS:
            continue
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, chapters_)
        for j, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {})
            png_name = None
            if "image/png" in data:
                raw = base64.b64decode(data["image/png"])
                png_name = f"img/{chapter.path.stem}-{i}-{j}.png"
                (img_dir.parent / png_name).write_bytes(raw)
                out.setdefault("metadata", {})["filenames"] = {"image/png": png_name}
                data["image/png"] = ""  # the file replaces the inline copy
            if WIDGET_MIME in data or EXPLORER_MIME in data:
                spec = data.get(EXPLORER_MIME) or spec_from_source(cell.source)
                if spec is not None:
                    ident = f"x{len(explorers) + 1}"
                    explorers.append(Explorer(ident, normal_spec(spec), png_name))
                    out["data"] = {EXPLORER_MIME: {"id": ident}}
                    if png_name:
                        out["data"]["image/png"] = ""
                else:
                    kept = {k: v for k, v in data.items() if k in ("image/png",)}
                    out["data"] = {KERNEL_ONLY_MIME: {}, **kept}
        cells.append(cell)
    nb.cells = cells
    return explorers


def render_page(
    nb: Any,
    chapter: Chapter,
    chapters_: list[Chapter],
    explorers: list[Explorer],
    diagram_svg: str,
    page_data: dict[str, Any],
) -> str:
    if chapter in chapters_:
        index = chapters_.index(chapter)
        prev_ = chapters_[index - 1] if index > 0 else None
        next_ = chapters_[index + 1] if index + 1 < len(chapters_) else None
    else:  # the quick start: before the contents
        prev_, next_ = None, chapters_[0]
    config = Config()
    config.NbConvertBase.display_data_priority = [
        EXPLORER_MIME,
        KERNEL_ONLY_MIME,
        "text/html",
        "image/svg+xml",
        "image/png",
        "image/jpeg",
        "text/markdown",
        "text/plain",
    ]
    exporter = HTMLExporter(
        config=config,
        extra_template_basedirs=[str(HERE / "templates")],
        template_name="tcpbook",
    )
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    site = {
        "title": chapter.title,
        "chapter": chapter,
        "chapters": chapters_,
        "prev": prev_,
        "next": next_,
        "binder": BINDER.format(
            name=chapter.path.name if chapter in chapters_ else chapters_[0].path.name
        ),
        "explorers": {x.ident: x for x in explorers},
        "diagram_svg": diagram_svg,
        "page_data": page_data,
        "explorer_mime": EXPLORER_MIME,
        "kernel_only_mime": KERNEL_ONLY_MIME,
        "has_math": "$" in "".join(c.source for c in nb.cells if c.cell_type == "markdown"),
    }
    body, _ = exporter.from_notebook_node(nb, resources={"site": site})
    return body


def diagram_for_page() -> str:
    """The package's state diagram (Graphviz SVG), ids as data-ids so copies can coexist."""
    from tcpbook.render import statediagram

    svg = statediagram.base_svg()
    svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'\sid="([^"]*)"', r' data-id="\1"', svg)
    svg = re.sub(r'<svg width="[0-9.]+pt" height="[0-9.]+pt"', "<svg", svg, count=1)
    return svg.strip()


# --------------------------------------------------------------------------- quick start


def quickstart_markdown() -> str:
    """The README's "Quick start" section (up to the next second-level heading)."""
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^## Quick start\s*$(.*?)(?=^## )", text, re.M | re.S)
    body = m.group(1) if m else text
    return "# Quick start\n" + body


def quickstart_notebook(chapters_: list[Chapter]) -> Any:
    nb = nbformat.v4.new_notebook()
    md = quickstart_markdown().replace("the badge above", "the “Run it live” link on any page")
    nb.cells = [nbformat.v4.new_markdown_cell(rewrite_links(md, chapters_))]
    return nb


# --------------------------------------------------------------------------- static files


def copy_static(out: Path) -> None:
    static = out / "_static"
    static.mkdir(parents=True, exist_ok=True)
    for name in ("site.css", "explorer.js", "worker.js", "math.js"):
        shutil.copy2(HERE / "static" / name, static / name)
    (static / "pygments.css").write_text(
        HtmlFormatter(style="default").get_style_defs(".highlight"), encoding="utf-8"
    )
    # the Python the worker runs: tcpbook's package (its sources: the compiled core is for this
    # machine's interpreter, not Pyodide's), the one-file mypy_extensions it imports, payload.py
    with zipfile.ZipFile(static / "tcpbook-py.zip", "w", zipfile.ZIP_DEFLATED) as z:
        pkg = ROOT / "tcpbook"
        for path in sorted(pkg.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".json", ".typed"):
                if "__pycache__" in path.parts or "_native" in path.parts:
                    continue
                z.write(path, path.relative_to(ROOT).as_posix())
        z.write(mypy_extensions.__file__, "mypy_extensions.py")
        z.write(HERE / "payload.py", "payload.py")
    katex = ROOT / "node_modules" / "katex" / "dist"
    if not (katex / "katex.min.js").is_file():
        sys.exit("error: node_modules/katex not found; run `npm ci` (make site does)")
    (static / "katex").mkdir(exist_ok=True)
    for name in ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js"):
        shutil.copy2(katex / name, static / "katex" / Path(name).name)
    shutil.copytree(katex / "fonts", static / "katex" / "fonts", dirs_exist_ok=True)
    runtime = static / "pyodide"
    runtime.mkdir(exist_ok=True)
    missing = [n for n in PYODIDE_FILES if not (PYODIDE / n).is_file()]
    if missing:
        sys.exit(
            f"error: {', '.join(missing)} not found in {PYODIDE.relative_to(ROOT)}; "
            "run `npm ci` (make site does)"
        )
    for name in PYODIDE_FILES:
        shutil.copy2(PYODIDE / name, runtime / name)
    version = json.loads((PYODIDE / "package.json").read_text())["version"]
    (runtime / "VERSION").write_text(version + "\n")


def fingerprint(out: Path) -> str:
    """A short hash of the worker's Python, so a new build is not served from a stale cache."""
    h = hashlib.sha256((out / "_static" / "tcpbook-py.zip").read_bytes())
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------- main


def build(out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    (out / "img").mkdir(parents=True)
    copy_static(out)
    chapters_ = chapters()
    if not chapters_:
        sys.exit("error: no chapters (NN-name.ipynb) in notebooks/")
    svg = diagram_for_page()
    names, default_profile, real = payload.profiles()
    from tcpbook.widgets import MSL_PRESETS, fin_timeout_choices

    common = {
        "mslPresets": [[label, v] for label, v in MSL_PRESETS],
        # per profile, as the notebook's dropdown: "no timer" only where there is none
        "finChoices": {name: [list(c) for c in fin_timeout_choices(name)] for name in names},
        "finOwn": {name: _fin_own(name) for name in names},
        "profiles": names,
        "defaultProfile": default_profile,
        "profilesReal": real,
        "pyVersion": fingerprint(out),
    }
    report: dict[str, Any] = {"pages": {}}
    for chapter in chapters_:
        nb = nbformat.read(chapter.path, as_version=4)
        explorers = prepare(nb, chapter, chapters_, out / "img")
        for x in explorers:
            x.runs, x.initial = precompute(x.spec)
        page_data = {
            **common,
            "explorers": {
                x.ident: {"spec": x.spec, "runs": x.runs, "initial": x.initial} for x in explorers
            },
        }
        text = render_page(nb, chapter, chapters_, explorers, svg, page_data)
        (out / chapter.page).write_text(text, encoding="utf-8")
        report["pages"][chapter.page] = {
            "explorers": len(explorers),
            "runs": sum(len(x.runs) for x in explorers),
            "bytes": len(text.encode()),
        }
    qs = Chapter("qs", ROOT / "quickstart.ipynb", "Quick start")
    text = render_page(quickstart_notebook(chapters_), qs, chapters_, [], svg, {})
    (out / "quickstart.html").write_text(text, encoding="utf-8")
    (out / ".nojekyll").write_text("")
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "site"), help="output folder")
    args = parser.parse_args(argv)
    report = build(Path(args.out))
    for page, info in report["pages"].items():
        print(
            f"  {page:40s} {info['bytes'] / 1e6:5.2f} MB  "
            f"{info['explorers']} explorer(s), {info['runs']} runs"
        )
    print(f"site written to {args.out} in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
