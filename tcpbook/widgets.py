"""The book's interactive explorer: lose segments, change MSL, scrub through time.

``explore("close")`` simulates a scenario and shows its ladder diagram next to the state
diagram, with controls that re-run the simulation (drop a segment, change MSL, turn on
Linux's FIN_WAIT_2 timeout or RFC 1337) or move a time cursor (scrubber, play and step
buttons) while the state diagram highlights where A and B are at that moment. A status line
says the same in words. Notebooks only create explorers; all logic lives here, so the
exercises and tests can drive the same object through :meth:`Explorer.set`.

Plain ipywidgets 8 (no custom JavaScript), so it works in JupyterLab 4, Notebook 7 and
Voilà. Pictures are shown as PNG bytes in an ``Image`` widget (the ladder, drawn into one
reused matplotlib figure) and SVG in an ``HTML`` widget (the state diagram), never with
``clear_output``. The explorer's display also carries a static PNG of its first picture, so
the stored notebook still shows it where no kernel runs (GitHub, nbviewer).
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as W
from matplotlib.figure import Figure

from .errors import TcpbookError
from .profiles import PROFILES
from .settings import PROFILE_FIELDS, Settings, segment_numbers
from .trace import ENDPOINTS, SegmentRecord, Trace, ending

#: Control names ``explore(controls=...)`` accepts, in the order they are laid out.
CONTROLS: tuple[str, ...] = ("time", "msl", "fin_timeout", "rfc1337", "skip_time_wait", "drop")
DEFAULT_CONTROLS: tuple[str, ...] = ("drop", "msl", "time")

#: MSL presets: the RFC's value, Linux's effective one, and short ones that make TIME_WAIT
#: fit on a ladder a reader can take in at a glance.
MSL_PRESETS: tuple[tuple[str, float], ...] = (
    ("RFC 9293: 120 s", 120.0),  # RFC 9293 section 3.4.2
    ("Linux: 30 s", 30.0),  # TCP_TIMEWAIT_LEN = 60 s = 2MSL
    ("teaching: 5 s", 5.0),
    ("teaching: 1 s", 1.0),
)
MSL_MIN, MSL_MAX, MSL_STEP = 0.5, 120.0, 0.5

#: FIN_WAIT_2 timeouts to choose from (see :func:`fin_timeout_choices`): Linux's
#: tcp_fin_timeout is 60 s; RFC 9293 has no such timer.
FIN_TIMEOUT_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("60 s (Linux tcp_fin_timeout)", 60.0),
    ("10 s", 10.0),
    ("3 s", 3.0),
)
NO_FIN_TIMEOUT = "none: wait for the peer's FIN (RFC 9293)"


def fin_timeout_choices(profile: str) -> list[tuple[str, float | None]]:
    """The dropdown's choices under ``profile``. "No timer" is offered only by a profile that
    has none (rfc9293): Linux and FreeBSD always end an orphaned FIN_WAIT_2, so their own
    timeout is listed instead, named for its kernel."""
    own = PROFILES[profile].fin_timeout
    if own is None:
        return [(NO_FIN_TIMEOUT, None), *FIN_TIMEOUT_CHOICES]
    choices = list(FIN_TIMEOUT_CHOICES)
    if all(value != own for _, value in choices):
        choices.insert(0, (f"{fmt_seconds(own)} s ({profile})", own))
    return choices


PLAY_INTERVAL_MS = 800  # one moment per 0.8 s of wall clock: slow enough to read the status
LADDER_DPI = 100  # 800 px for the 8-inch ladder: sharp when the browser scales it down
STATIC_DPI = 100
STATIC_COLOURS = 256
STATIC_WIDTH = 800  # px: the stored picture, ladder (800 px) above diagram (shrunk to fit)
LADDER_MAX_PX = 800  # the live ladder's largest width (its own pixel size at LADDER_DPI)
FAST_PNG_LEVEL = 1  # zlib level for the live ladder: speed over size (the bytes stay local)
SIM_KEYS = ("drop", "msl", "fin_timeout", "rfc1337", "skip_time_wait", "profile")
#: The explorer's settings as JSON in its display, for pages without a kernel.
EXPLORER_MIME = "application/vnd.tcpbook.explorer+json"

_UNSET: Any = object()


# --------------------------------------------------------------------------- words


def fmt_seconds(t: float) -> str:
    """``0.95``, ``60.9``, ``127``: at most millisecond precision, no trailing zeros."""
    return f"{round(t, 3):g}"


def segment_name(seg: SegmentRecord) -> str:
    """The drop toggle's text, e.g. ``#11 A→B ACK`` or ``#9 A→B FIN,ACK (rtx)``."""
    text = f"#{seg.id} {seg.src}→{seg.dst} {','.join(seg.flags)}"
    if seg.len:
        text += f" +{seg.len}"
    if seg.retransmission:
        text += " (rtx)"
    if seg.duplicate_of is not None:
        text += f" (copy of #{seg.duplicate_of})"
    return text


def _next_change(trace: Trace, endpoint: str, t: float) -> float | None:
    """When ``endpoint`` next leaves its state after ``t`` (a self-loop, TIME_WAIT re-ACKing a
    FIN and restarting 2MSL, does not leave it)."""
    for tr in trace.transitions:
        if tr.endpoint == endpoint and tr.t > t and tr.src != tr.dst:
            return tr.t
    return None


_ADJECTIVES = ("CLOSED", "ESTABLISHED")  # "A is ESTABLISHED", but "A is in TIME_WAIT"


def describe(trace: Trace, t: float) -> str:
    """Where A and B are at time ``t``, in words.

    E.g. ``At 0.9 s: A is in TIME_WAIT until 60.9 s; B is in LAST_ACK until 0.95 s.``
    """
    parts: list[str] = []
    for endpoint in ENDPOINTS:
        state = trace.state_at(endpoint, t)
        until = _next_change(trace, endpoint, t)
        where = f"{endpoint} is {state}" if state in _ADJECTIVES else f"{endpoint} is in {state}"
        if until is not None:
            parts.append(f"{where} until {fmt_seconds(until)} s")
        elif state == "CLOSED":
            parts.append(where)
        else:
            parts.append(f"{where} to the end of the run")
    text = f"At {fmt_seconds(t)} s: " + "; ".join(parts) + "."
    seen = [e for e in trace.errors if e.t <= t]
    if seen:
        text += " " + " ".join(
            f"{e.endpoint}'s application saw {e.error} at {fmt_seconds(e.t)} s." for e in seen
        )
    return text


def moments(trace: Trace) -> list[float]:
    """Every time something happens: a send, an arrival, a state change, a timer, an error."""
    times = {0.0, trace.end}
    for seg in trace.segments:
        times.add(seg.sent)
        if seg.arrived is not None:
            times.add(seg.arrived)
    times.update(tr.t for tr in trace.transitions)
    times.update(tm.t for tm in trace.timers if tm.action == "fire")
    times.update(e.t for e in trace.errors)
    return sorted({round(x, 9) for x in times})


def _simulate_keywords() -> list[str]:
    return list(Settings.names())


def _check_controls(controls: Iterable[str]) -> tuple[str, ...]:
    if isinstance(controls, str):
        controls = (controls,)
    names = tuple(controls)
    for name in names:
        if name not in CONTROLS:
            raise TcpbookError(
                f"unknown control {name!r}; choose from: {', '.join(sorted(CONTROLS))}"
            )
    return names


def _as_drop_set(drop: Iterable[int] | int | None) -> set[int] | None:
    drops = segment_numbers("drop", drop)  # checked as every run's settings are
    return None if drops is None else set(drops)


# --------------------------------------------------------------------------- drawing


def _draw_ladder(trace: Trace, at: float | None, fig: Figure) -> Figure:
    from . import render

    return render.ladder(trace, at=at, fig=fig)


_SVG_SIZE = re.compile(r'<svg([^>]*?) width="([0-9.]+)pt" height="[0-9.]+pt"')


STATE_SVG_CACHE = 128  # restyled diagrams kept: a run has a few dozen distinct moments
_state_svgs: dict[Hashable, str] = {}


def _state_svg(trace: Trace, at: float | None) -> str:
    """The diagram's SVG, made to shrink with its box (Graphviz writes a fixed size in pt).

    The SVG depends only on the highlight (where A and B are, the rows they took), which stays
    the same for most cursor moves and for most re-runs: each one is restyled once.
    """
    from . import render

    diagram = render.state_diagram(trace, at=at)
    hl = diagram.highlight
    key = (
        tuple(hl.current.items()),
        tuple((e, tuple((r, tuple(n)) for r, n in rows.items())) for e, rows in hl.steps.items()),
        hl.cells,
    )
    svg = _state_svgs.pop(key, None)
    if svg is None:
        svg = _SVG_SIZE.sub(
            r'<svg\1 width="100%" style="max-width: \2pt; height: auto"', diagram.svg(), count=1
        )
        if len(_state_svgs) >= STATE_SVG_CACHE:
            del _state_svgs[next(iter(_state_svgs))]  # the least recently used
    _state_svgs[key] = svg
    return svg


def _state_png(trace: Trace, at: float | None) -> bytes:
    """The state diagram as PNG (for the static picture; Graphviz draws it directly)."""
    import graphviz

    from . import render

    diagram = render.state_diagram(trace, at=at)
    source = getattr(diagram, "source", None)
    if isinstance(source, str):
        png: bytes = graphviz.Source(source).pipe(format="png")
        return png
    png_method = getattr(diagram, "png", None)
    if callable(png_method):
        data = png_method()
        if isinstance(data, bytes):
            return data
    raise TcpbookError("the state diagram cannot be drawn as PNG")


def _figure_png(fig: Figure, dpi: int | None = None, *, fast: bool = False) -> bytes:
    """PNG bytes of ``fig``. ``fast``: draw once at the figure's own dpi and let Pillow
    compress lightly (about 3x faster than ``savefig``'s full compression; PNG stays exact)."""
    if fast:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()  # type: ignore[no-untyped-call]
        return _canvas_png(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _canvas_png(fig: Figure) -> bytes:
    """What is on the (already drawn) Agg canvas, as PNG."""
    from PIL import Image as PILImage

    canvas = fig.canvas
    width, height = canvas.get_width_height()
    rgba = canvas.buffer_rgba()  # type: ignore[attr-defined]
    image = PILImage.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="png", compress_level=FAST_PNG_LEVEL)
    return buf.getvalue()


def stacked(*pngs: bytes, width: int = STATIC_WIDTH, gap: int = 16) -> bytes:
    """PNGs one above the other on white, left-aligned: the explorer's static picture.

    Each keeps its own size unless wider than ``width``, which shrinks it to fit: shown at a
    notebook's width (about 900 px in JupyterLab with the file browser open) the state
    diagram then keeps most of its size, where side by side it shrank to about 40 %.
    """
    from PIL import Image as PILImage

    parts = []
    for data in pngs:
        image = PILImage.open(io.BytesIO(data)).convert("RGB")
        if image.width > width:
            size = (width, round(image.height * width / image.width))
            image = image.resize(size, PILImage.Resampling.LANCZOS)
        parts.append(image)
    height = sum(p.height for p in parts) + gap * (len(parts) - 1)
    canvas = PILImage.new("RGB", (max(p.width for p in parts), height), "white")
    y = 0
    for part in parts:
        canvas.paste(part, (0, y))
        y += part.height + gap
    buf = io.BytesIO()
    # 256 colours look the same here (flat fills, anti-aliased lines) at a third of the size:
    # this picture is stored in every notebook that shows an explorer.
    canvas.quantize(colors=STATIC_COLOURS).save(buf, format="png", optimize=True)
    return buf.getvalue()


def text_png(text: str, *, width: int = STATIC_WIDTH, size: int = 14) -> bytes:
    """``text`` wrapped to ``width`` pixels, in bold DejaVu Sans (matplotlib's own font), as PNG:
    the status line at the top of the static picture, for readers without a kernel."""
    import textwrap

    from matplotlib import font_manager
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans:bold"), size)
    per_line = max(20, int(width / (0.6 * size)))
    lines = textwrap.wrap(text, per_line)
    while per_line > 20 and any(font.getlength(line) > width - 8 for line in lines):
        per_line -= 4
        lines = textwrap.wrap(text, per_line)
    step = round(size * 1.35)
    image = PILImage.new("RGB", (width, step * len(lines) + 8), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((4, 4 + i * step), line, fill="black", font=font)
    buf = io.BytesIO()
    image.save(buf, format="png")
    return buf.getvalue()


class LadderView:
    """The live ladder as PNG bytes, with a fast path for moving the time cursor.

    A new trace is drawn in full by ``render.ladder`` into one reused figure. When only the
    cursor moves, the picture without the cursor is kept as a bitmap and just the cursor's
    two artists (the renderer tags them ``gid="cursor"`` and ``"cursor-label"``) are moved
    by ``render.ladder.move_cursor`` (which places the label as a full drawing would) and
    blitted onto it; the PNG re-deflates only the rows they touch. A few milliseconds instead
    of a full redraw, and the same pixels. If the renderer draws no such artists, or cannot
    move them, every change falls back to the full redraw.
    """

    CURSOR_GIDS = ("cursor", "cursor-label")

    def __init__(self, fig: Figure) -> None:
        from .render.live import LiveCanvas

        LiveCanvas(fig)  # an Agg canvas that keeps font metrics between drawings
        self.fig = fig
        self._trace: Trace | None = None
        self._background: Any = None
        self._encoder: Any = None  # BandedPNG of the background
        self._cursor: dict[str, Any] = {}

    def picture(self, trace: Trace, at: float | None) -> tuple[str, bytes]:
        """``(format, data)`` for an ``ipywidgets.Image``: SVG for a new run, PNG for a cursor.

        A new run is drawn once and sent as SVG with text left as text (no glyph rendering:
        about half the time of a PNG). Later cursor moves on the same run blit onto a bitmap
        of that drawing, made the first time the cursor moves.
        """
        if trace is not self._trace:
            self._draw(trace, at)
            return "svg+xml", self._svg(at is not None)
        if self._cursor and self._background is None:
            self._keep_background()
        if at is not None and self._cursor:
            self._move_cursor(trace, at)
        return "png", self._blit(at is not None)

    def png(self, trace: Trace, at: float | None) -> bytes:
        """The picture as PNG, whatever changed (for callers that need one format)."""
        if trace is not self._trace:
            self._draw(trace, at)
        if self._cursor and self._background is None:
            self._keep_background()
        if at is not None and self._cursor:
            self._move_cursor(trace, at)
        return self._blit(at is not None)

    def _draw(self, trace: Trace, at: float | None) -> None:
        """Draw ``trace`` in full, with a cursor so its artists exist (hidden when at is None)."""
        self.fig = _draw_ladder(trace, 0.0 if at is None else at, self.fig)
        self._trace, self._background = trace, None
        self._cursor = {
            str(a.get_gid()): a
            for ax in self.fig.axes
            for a in ax.get_children()
            if a.get_gid() in self.CURSOR_GIDS
        }
        if len(self._cursor) != len(self.CURSOR_GIDS):  # unknown renderer: no fast path
            self.fig = _draw_ladder(trace, at, self.fig)
            self._trace, self._cursor = None, {}  # so every change draws in full

    def _svg(self, with_cursor: bool) -> bytes:
        from .render.live import svg_bytes

        for artist in self._cursor.values():
            artist.set_visible(with_cursor)
        return svg_bytes(self.fig)

    def _keep_background(self) -> None:
        """Rasterise the drawing without its cursor, once, for cursor moves to blit onto, and
        keep it deflated in bands: a cursor move re-deflates only the bands it touches."""
        from .render.live import BandedPNG

        for artist in self._cursor.values():
            artist.set_visible(False)
        canvas = self.fig.canvas
        canvas.draw()
        self._background = canvas.copy_from_bbox(self.fig.bbox)  # type: ignore[attr-defined]
        self._encoder = BandedPNG(canvas.buffer_rgba())  # type: ignore[attr-defined]

    def _move_cursor(self, trace: Trace, at: float) -> None:
        from .render.ladder import move_cursor

        if not move_cursor(self.fig, trace, at):  # not a ladder it knows: draw in full
            self.fig = _draw_ladder(trace, at, self.fig)
            self._trace, self._cursor, self._background = None, {}, None

    def _blit(self, with_cursor: bool) -> bytes:
        if self._background is None:  # no fast path: the figure is drawn as it is
            return _figure_png(self.fig, fast=True)
        self.fig.canvas.restore_region(self._background)  # type: ignore[attr-defined]
        if with_cursor:
            for artist in self._cursor.values():
                artist.set_visible(True)
                artist.axes.draw_artist(artist)
                artist.set_visible(False)
        png: bytes = self._encoder.encode(self.fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
        return png


# --------------------------------------------------------------------------- the explorer


class Explorer(W.VBox):  # type: ignore[misc]
    """A scenario with its ladder, its state diagram and the controls that change them.

    Attributes a test or exercise may use: :attr:`trace` (the current run), :attr:`at`
    (the cursor time, ``None`` = the whole run), :attr:`status` (the status line's text),
    :attr:`redraw_ms` (milliseconds each change took, simulation and drawing) and the
    widgets ``drop_toggles``, ``msl_slider``, ``msl_presets``, ``time_slider``, ``play``,
    ``step_back``, ``step_forward``, ``profile_toggle``, ``fin_timeout_dropdown``,
    ``rfc1337_checkbox``, ``skip_time_wait_checkbox``, ``ladder_image``, ``diagram_html``,
    ``status_html``.
    """

    def __init__(
        self,
        scenario: str,
        *,
        controls: Iterable[str] = DEFAULT_CONTROLS,
        at: float | None = None,
        **simulate_kwargs: Any,
    ) -> None:
        from . import simulate

        self.controls = _check_controls(controls)
        self.scenario = scenario
        kwargs = dict(simulate_kwargs)
        self._drops = _as_drop_set(kwargs.pop("drop", None))
        if kwargs.get("msl", 0) is None:
            del kwargs["msl"]  # None: the default
        unknown = sorted(set(kwargs) - set(_simulate_keywords()))
        if unknown:
            raise TcpbookError(
                f"explore() got unknown setting(s) {', '.join(unknown)}; it takes controls=, "
                f"at= and the settings of tcpbook.simulate: {', '.join(_simulate_keywords())}"
            )
        self.settings = Settings.build(**kwargs)  # latency, rto, ... stay as given
        self._simulate = simulate
        self.trace: Trace = self._run()
        self.at: float | None = None if at is None else self._clamp(at)
        self.redraw_ms: list[float] = []
        self._syncing = False
        self._ladder = LadderView(Figure(figsize=(8.0, 8.0), dpi=LADDER_DPI))

        self._build_widgets()
        super().__init__(children=self._layout())
        self.add_class("tcpbook-explorer")
        self._sync_widgets()
        self._redraw()

    # -- simulation -------------------------------------------------------------------------

    def _run(self) -> Trace:
        drop = None if self._drops is None else sorted(self._drops)
        trace = self._simulate(self.scenario, self.settings, drop=drop)
        if self._drops is not None and max(self._drops, default=0) > len(trace.segments):
            # A drop beyond the last segment changed nothing; forget it so the toggles, the
            # trace and its recorded parameters all agree.
            self._drops = {n for n in self._drops if n <= len(trace.segments)}
            return self._run()
        return trace

    def _clamp(self, t: float) -> float:
        if isinstance(t, bool) or not isinstance(t, int | float) or t != t:
            raise TcpbookError(f"at must be a time in seconds, got {t!r}")
        return min(max(float(t), 0.0), self.trace.end)

    @property
    def drops(self) -> tuple[int, ...]:
        """The segment numbers lost in the current run (the scenario's own losses included)."""
        return tuple(s.id for s in self.trace.segments if s.fate == "dropped")

    @property
    def msl(self) -> float:
        return self.settings.msl

    @property
    def status(self) -> str:
        """The profile the run follows, where A and B are at the cursor, how each side ends."""
        now = describe(self.trace, self.trace.end if self.at is None else self.at)
        ends = "; ".join(f"{e} {ending(self.trace, e)}" for e in ENDPOINTS)
        return f"Profile {self.settings.profile}. {now} By the end: {ends}."

    def set(
        self,
        *,
        drop: Iterable[int] | int | None = _UNSET,
        msl: float = _UNSET,
        at: float | None = _UNSET,
        fin_timeout: float | None = _UNSET,
        rfc1337: bool = _UNSET,
        skip_time_wait: bool = _UNSET,
        profile: str = _UNSET,
    ) -> None:
        """Change any of the settings at once, re-simulate if needed, redraw once.

        ``drop`` replaces the set of lost segments (``None`` = the scenario's own losses,
        ``()`` = none); ``at`` moves the cursor (``None`` shows the whole run). ``profile``
        picks the kernel (:mod:`tcpbook.profiles`): its MSL, FIN_WAIT_2 timeout and RFC 1337
        choice replace the old profile's, while values set explicitly (an MSL preset, ...) stay.
        """
        start = time.perf_counter()
        old_settings, old_drops = self.settings, self._drops
        changes = {
            key: value
            for key, value in (
                ("msl", msl),
                ("fin_timeout", fin_timeout),
                ("rfc1337", rfc1337),
                ("skip_time_wait", skip_time_wait),
                ("profile", profile),
            )
            if value is not _UNSET
        }
        try:
            if drop is not _UNSET:
                self._drops = _as_drop_set(drop)
            self.settings = Settings.build(self.settings, **changes)
            if self.settings != old_settings or self._drops != old_drops:
                self.trace = self._run()
        except TcpbookError:
            self.settings, self._drops = old_settings, old_drops
            self._sync_widgets()
            raise
        if at is not _UNSET:
            self.at = None if at is None else self._clamp(at)
        elif self.at is not None:
            self.at = self._clamp(self.at)
        self._sync_widgets()
        self._redraw()
        self.redraw_ms.append((time.perf_counter() - start) * 1000.0)

    # -- widgets --------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        wide = W.Layout(width="auto")
        self.status_html = W.HTML(layout=W.Layout(margin="0 0 4px 0"))
        self.ladder_image = W.Image(
            format="png", layout=W.Layout(max_width="100%", height="auto", object_fit="contain")
        )
        self.diagram_html = W.HTML(layout=W.Layout(width="100%", overflow="auto"))

        self.time_slider = W.SelectionSlider(
            options=[("0 s", 0.0)],
            description="time",
            continuous_update=True,
            readout=True,
            layout=W.Layout(width="420px"),
        )
        self.play = W.Play(min=0, max=0, step=1, interval=PLAY_INTERVAL_MS, description="play")
        W.jslink((self.play, "value"), (self.time_slider, "index"))
        self.step_back = W.Button(description="◀ step", tooltip="previous moment", layout=wide)
        self.step_forward = W.Button(description="step ▶", tooltip="next moment", layout=wide)
        self.whole_run = W.Button(
            description="whole run", tooltip="show the whole run, no cursor", layout=wide
        )
        self.time_slider.observe(self._on_time, names="index")
        self.step_back.on_click(lambda _: self._step(-1))
        self.step_forward.on_click(lambda _: self._step(+1))
        self.whole_run.on_click(lambda _: self.set(at=None))

        self.msl_slider = W.FloatSlider(
            value=self.msl,
            min=MSL_MIN,
            max=MSL_MAX,
            step=MSL_STEP,
            description="MSL (s)",
            continuous_update=False,
            readout_format=".1f",
            layout=W.Layout(width="420px"),
        )
        self.msl_slider.observe(self._on_msl, names="value")
        self.msl_presets: list[W.Button] = []
        for label, value in MSL_PRESETS:
            button = W.Button(description=label, tooltip=f"MSL = {value:g} s", layout=wide)
            button.on_click(lambda _, v=value: self.set(msl=v))
            self.msl_presets.append(button)

        self.fin_timeout_dropdown = W.Dropdown(
            options=fin_timeout_choices(self.settings.profile),
            description="FIN_WAIT_2 timeout",
            style={"description_width": "initial"},
            layout=wide,
        )
        self.fin_timeout_dropdown.observe(self._on_option, names="value")
        self.rfc1337_checkbox = W.Checkbox(
            description="RFC 1337: ignore a RST in TIME_WAIT",
            indent=False,
            layout=wide,
        )
        self.rfc1337_checkbox.observe(self._on_option, names="value")
        self.skip_time_wait_checkbox = W.Checkbox(
            description="skip TIME_WAIT (unsafe: close at once)",
            indent=False,
            layout=wide,
        )
        self.skip_time_wait_checkbox.observe(self._on_option, names="value")

        self.profile_toggle = W.ToggleButtons(
            options=list(PROFILES),
            value=self.settings.profile,
            description="kernel",
            tooltips=[f"run it as {name} would" for name in PROFILES],
            style={"button_width": "auto"},
        )
        self.profile_toggle.observe(self._on_profile, names="value")

        self.drop_toggles: list[W.ToggleButton] = []
        self.drop_box = W.GridBox(
            layout=W.Layout(
                grid_template_columns="repeat(auto-fill, minmax(190px, 1fr))",
                grid_gap="2px 6px",
                max_height="260px",
                overflow="auto",
            )
        )

    def _layout(self) -> list[W.Widget]:
        # One above the other, each as wide as the notebook allows: side by side, at a
        # notebook's ~900 px, the state diagram's labels would be too small to read.
        pictures = W.VBox(
            [
                W.Box([self.ladder_image], layout=W.Layout(max_width=f"{LADDER_MAX_PX}px")),
                W.Box([self.diagram_html], layout=W.Layout(width="100%", min_width="0")),
            ],
            layout=W.Layout(align_items="flex-start", width="100%"),
        )
        rows: list[W.Widget] = [self.status_html, pictures, self.profile_toggle]
        for name in CONTROLS:
            if name not in self.controls:
                continue
            if name == "time":
                rows.append(
                    W.HBox(
                        [
                            self.play,
                            self.step_back,
                            self.time_slider,
                            self.step_forward,
                            self.whole_run,
                        ],
                        layout=W.Layout(flex_flow="row wrap", align_items="center"),
                    )
                )
            elif name == "msl":
                rows.append(
                    W.HBox(
                        [self.msl_slider, *self.msl_presets],
                        layout=W.Layout(flex_flow="row wrap", align_items="center"),
                    )
                )
            elif name == "fin_timeout":
                rows.append(self.fin_timeout_dropdown)
            elif name == "rfc1337":
                rows.append(self.rfc1337_checkbox)
            elif name == "skip_time_wait":
                rows.append(self.skip_time_wait_checkbox)
            elif name == "drop":
                rows.append(
                    W.HTML(
                        "<b>Lose a segment</b> (click a segment to drop it in the network; "
                        "numbers count every segment sent, retransmissions too):"
                    )
                )
                rows.append(self.drop_box)
        return rows

    def _sync_widgets(self) -> None:
        """Make every control show the current settings without triggering its handler."""
        self._syncing = True
        try:
            trace = self.trace
            options = [(f"{fmt_seconds(t)} s", t) for t in moments(trace)]
            if list(self.time_slider.options) != options:
                self.time_slider.options = options
            self.play.max = len(options) - 1
            cursor = trace.end if self.at is None else self.at
            index = max(i for i, (_, t) in enumerate(options) if t <= cursor + 1e-9)
            if self.time_slider.index != index:
                self.time_slider.index = index

            self.profile_toggle.value = self.settings.profile
            self.msl_slider.value = min(max(self.msl, MSL_MIN), MSL_MAX)
            fin_timeout = self.settings.fin_timeout
            choices = fin_timeout_choices(self.settings.profile)
            if fin_timeout is not None and all(value != fin_timeout for _, value in choices):
                choices.append((f"{fmt_seconds(fin_timeout)} s", fin_timeout))
            if list(self.fin_timeout_dropdown.options) != choices:
                self.fin_timeout_dropdown.options = choices
            self.fin_timeout_dropdown.value = fin_timeout
            self.rfc1337_checkbox.value = self.settings.rfc1337
            self.skip_time_wait_checkbox.value = self.settings.skip_time_wait

            toggles = self.drop_toggles
            while len(toggles) < len(trace.segments):
                toggle = W.ToggleButton(layout=W.Layout(width="auto"))
                toggle.observe(self._on_drop, names="value")
                toggles.append(toggle)
            for toggle, seg in zip(toggles, trace.segments, strict=False):
                toggle.description = segment_name(seg)
                toggle.tooltip = f"{seg.label}; sent at {fmt_seconds(seg.sent)} s"
                toggle.value = seg.fate == "dropped"
                toggle.icon = "times" if toggle.value else ""
                toggle.button_style = "danger" if toggle.value else ""
            shown = toggles[: len(trace.segments)]
            if tuple(self.drop_box.children) != tuple(shown):
                self.drop_box.children = shown
        finally:
            self._syncing = False

    # -- handlers ---------------------------------------------------------------------------

    def _on_time(self, change: Mapping[str, Any]) -> None:
        if self._syncing or change["new"] is None:
            return
        self.set(at=self.time_slider.options[change["new"]][1])

    def _step(self, direction: int) -> None:
        options = self.time_slider.options
        index = min(max(self.time_slider.index + direction, 0), len(options) - 1)
        self.set(at=options[index][1])

    def _on_msl(self, change: Mapping[str, Any]) -> None:
        if not self._syncing:
            self.set(msl=float(change["new"]))

    def _on_profile(self, change: Mapping[str, Any]) -> None:
        if not self._syncing:
            self.set(profile=str(change["new"]))

    def _on_option(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        # only the control that changed: the others keep what the profile supplies
        owner = id(change.get("owner"))
        if owner == id(self.fin_timeout_dropdown):
            self.set(fin_timeout=self.fin_timeout_dropdown.value)
        elif owner == id(self.rfc1337_checkbox):
            self.set(rfc1337=bool(self.rfc1337_checkbox.value))
        elif owner == id(self.skip_time_wait_checkbox):
            self.set(skip_time_wait=bool(self.skip_time_wait_checkbox.value))
        else:
            self.set(
                fin_timeout=self.fin_timeout_dropdown.value,
                rfc1337=bool(self.rfc1337_checkbox.value),
                skip_time_wait=bool(self.skip_time_wait_checkbox.value),
            )

    def _on_drop(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        drops = set(self.drops)
        number = self.drop_toggles.index(change["owner"]) + 1
        if change["new"]:
            drops.add(number)
        else:
            drops.discard(number)
        self.set(drop=sorted(drops))

    # -- drawing ----------------------------------------------------------------------------

    def _redraw(self) -> None:
        fmt, data = self._ladder.picture(self.trace, self.at)
        self.ladder_image.format = fmt
        self.ladder_image.value = data
        self.diagram_html.value = _state_svg(self.trace, self.at)
        self.status_html.value = f"<b>{self.status}</b>"

    def static(self) -> bytes:
        """A PNG of the status line, the ladder and the state diagram as they are now (no widgets
        needed): what the stored notebook shows where no kernel runs."""
        fig = _draw_ladder(self.trace, self.at, Figure(figsize=(8.0, 8.0), dpi=STATIC_DPI))
        return stacked(
            text_png(self.status), _figure_png(fig, STATIC_DPI), _state_png(self.trace, self.at)
        )

    def describe_settings(self) -> str:
        """One deterministic line naming the run: what the plain-text display shows."""
        drops = ", ".join(f"#{n}" for n in self.drops) or "none"
        text = (
            f"{self.scenario} (profile {self.settings.profile}): MSL {fmt_seconds(self.msl)} s, "
            f"lost segments {drops}"
        )
        if self.settings.fin_timeout is not None and "fin_timeout" in self.settings.changed():
            text += f", FIN_WAIT_2 timeout {fmt_seconds(float(self.settings.fin_timeout))} s"
        if self.settings.rfc1337:
            text += ", RFC 1337 on"
        if self.settings.skip_time_wait:
            text += ", TIME_WAIT skipped"
        return text

    def __repr__(self) -> str:
        return f"<Explorer {self.describe_settings()}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The live widget, plus a static PNG and a text line for readers without a kernel."""
        data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        if data is None:
            return None
        data["text/plain"] = f"Explorer — {self.describe_settings()}\n{self.status}"
        data["image/png"] = base64.b64encode(self.static()).decode("ascii")
        data[EXPLORER_MIME] = self.spec()
        return data

    def spec(self) -> dict[str, Any]:
        """Scenario, settings and controls as JSON: what a page without a kernel re-creates
        (the web edition draws the same runs from it)."""
        drop = None if self._drops is None else sorted(self._drops)
        settings = self.settings
        fixed = {
            k: ({str(n): v for n, v in val.items()} if isinstance(val, Mapping) else val)
            for k, val in settings.changed().items()
            if k not in SIM_KEYS  # latency, rto, ...: what no control changes
        }
        # a value the profile supplies is left out (None): another profile chosen in the page
        # supplies its own, as set(profile=...) does here
        given = settings.changed()
        controlled = {
            k: getattr(settings, k) if k in given or k not in PROFILE_FIELDS else None
            for k in SIM_KEYS
            if k != "drop"
        }
        return {
            "scenario": self.scenario,
            "controls": list(self.controls),
            "at": self.at,
            "settings": {**controlled, "drop": drop},
            "fixed": fixed,
        }


def explore(
    scenario: str = "close",
    *,
    controls: Sequence[str] = DEFAULT_CONTROLS,
    at: float | None = None,
    **simulate_kwargs: Any,
) -> Explorer:
    """Simulate ``scenario`` and return an :class:`Explorer` for it (display it in Jupyter).

    ``controls`` picks the controls to show from ``"drop"``, ``"msl"``, ``"time"``,
    ``"fin_timeout"``, ``"rfc1337"`` and ``"skip_time_wait"`` (the kernel profile chooser is
    always there); ``at`` starts with the cursor at that time; other keywords go to
    :func:`tcpbook.simulate` (``drop=[11]``, ``msl=5``, ``profile="freebsd"``...).
    """
    return Explorer(scenario, controls=controls, at=at, **simulate_kwargs)


__all__ = [
    "CONTROLS",
    "DEFAULT_CONTROLS",
    "FIN_TIMEOUT_CHOICES",
    "MSL_PRESETS",
    "NO_FIN_TIMEOUT",
    "Explorer",
    "describe",
    "explore",
    "fin_timeout_choices",
    "fmt_seconds",
    "moments",
    "segment_name",
    "stacked",
    "text_png",
]
