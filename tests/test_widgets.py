"""The explorer widget: every control re-simulates or moves the cursor, and redraws quickly.

The widgets are driven the way the front end drives them (setting a widget's value, clicking
a button) and through the programmatic ``Explorer.set``; each test then checks the trace, the
status line and the pictures, not only that "something happened".
"""

from __future__ import annotations

import base64
import io
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as W
import pytest
from matplotlib.figure import Figure
from PIL import Image

import tcpbook
from tcpbook import TcpbookError, widgets
from tcpbook.widgets import (
    DEFAULT_CONTROLS,
    NO_FIN_TIMEOUT,
    STATIC_WIDTH,
    Explorer,
    describe,
    explore,
    moments,
    segment_name,
)

#: Moving the time cursor must feel immediate.
REDRAW_BUDGET_MS = 100.0
#: A new run redraws the whole ladder (about 90 ms on a quiet 2-core machine); this only
#: guards against a regression such as drawing it twice.
RESIMULATE_GUARD_MS = 400.0


def _tree(widget: W.Widget) -> Iterator[W.Widget]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _tree(child)


def _toggle(ex: Explorer, number: int) -> W.ToggleButton:
    toggle = ex.drop_toggles[number - 1]
    assert toggle.description.startswith(f"#{number} ")
    return toggle


@pytest.fixture(scope="module")
def close() -> Explorer:
    return explore("close")


# --------------------------------------------------------------------------- words


def test_status_says_where_both_sides_are_and_until_when() -> None:
    trace = tcpbook.simulate("close")
    assert describe(trace, 0.9) == (
        "At 0.9 s: A is in TIME_WAIT until 60.9 s; B is in LAST_ACK until 0.95 s."
    )
    assert describe(trace, trace.end) == "At 60.9 s: A is CLOSED; B is CLOSED."
    assert describe(trace, 0.0).startswith("At 0 s: A is in SYN_SENT until 0.1 s;")


def test_status_reports_application_errors_once_they_happened() -> None:
    trace = tcpbook.simulate("no-answer")
    assert "ETIMEDOUT" not in describe(trace, 127.0)
    assert describe(trace, 131.0).endswith("A's application saw ETIMEDOUT at 131 s.")  # linux


def test_status_of_a_state_that_never_ends() -> None:
    """rfc9293 has no FIN_WAIT_2 timer: A waits to the end of the run."""
    trace = tcpbook.simulate("fin-wait-2-hang", profile="rfc9293")
    assert "A is in FIN_WAIT_2 to the end of the run" in describe(trace, trace.end)
    assert "A is ESTABLISHED to the end" in describe(tcpbook.simulate("handshake"), 0.1)


def test_segment_names_show_number_direction_and_flags() -> None:
    trace = tcpbook.simulate("close", drop=[8])
    assert segment_name(trace.segment(1)) == "#1 A→B SYN"
    assert segment_name(trace.segment(6)) == "#6 B→A PSH,ACK +200"
    assert segment_name(trace.segment(9)) == "#9 A→B FIN,ACK (rtx)"
    assert segment_name(tcpbook.simulate("close").segment(11)) == "#11 A→B ACK"


def test_moments_are_every_time_something_happens() -> None:
    trace = tcpbook.simulate("close")
    times = moments(trace)
    assert times[0] == 0.0 and times[-1] == trace.end == 60.9
    for t in (0.05, 0.1, 0.6, 0.65, 0.69, 0.74, 0.85, 0.9, 0.95):  # 0.69: B's delayed ACK
        assert t in times
    assert times == sorted(set(times))


# --------------------------------------------------------------------------- the explorer


def test_default_explorer_shows_drop_msl_and_time_controls(close: Explorer) -> None:
    assert close.controls == DEFAULT_CONTROLS
    shown = set(map(id, _tree(close)))
    for widget in (close.msl_slider, close.time_slider, close.play, close.drop_box):
        assert id(widget) in shown
    for widget in (
        close.fin_timeout_dropdown,
        close.rfc1337_checkbox,
        close.skip_time_wait_checkbox,
    ):
        assert id(widget) not in shown
    assert [t.description for t in close.drop_toggles][-1] == "#11 A→B ACK"
    assert len(close.drop_box.children) == 11
    assert close.msl_slider.value == 30.0
    assert close.play.max == len(close.time_slider.options) - 1


def test_dropping_the_final_ack_with_its_toggle_resimulates() -> None:
    ex = explore("close", msl=5)
    before = ex.ladder_image.value
    _toggle(ex, 11).value = True
    assert ex.trace.segment(11).fate == "dropped"
    assert ex.drops == (11,)
    fin_again = ex.trace.segment(12)
    assert fin_again.src == "B" and "FIN" in fin_again.flags and fin_again.retransmission
    assert ex.drop_toggles[10].button_style == "danger"
    assert len(ex.drop_box.children) == len(ex.trace.segments) == 13
    assert ex.ladder_image.value != before
    _toggle(ex, 11).value = False
    assert ex.drops == () and len(ex.trace.segments) == 11


def test_drops_are_kept_by_number_when_msl_changes() -> None:
    ex = explore("close", drop=[11])
    ex.msl_slider.value = 5.0
    assert ex.msl == 5.0 and ex.drops == (11,)
    # A re-ACKs B's FIN, resent by linux's loss probe, at 1.2 s and TIME_WAIT starts over:
    # 2MSL from there.
    assert ex.trace.time_in("A", "TIME_WAIT") == pytest.approx(10.3)
    assert ex.status == (
        "Profile linux. At 11.2 s: A is CLOSED; B is CLOSED. By the end: A closed cleanly "
        "after TIME_WAIT; B closed cleanly (its FIN was acknowledged)."
    )


def test_a_drop_beyond_the_last_segment_is_forgotten() -> None:
    ex = explore("handshake", drop=[1, 40])
    assert ex.drops == (1,)
    ex.set(drop=[1])
    assert ex.trace.to_dict() == tcpbook.simulate("handshake", drop=[1]).to_dict()


def test_msl_slider_and_presets_change_time_wait() -> None:
    ex = explore("close")
    ex.msl_slider.value = 5.0
    assert ex.trace.time_in("A", "TIME_WAIT") == pytest.approx(10.0)
    rfc = next(b for b in ex.msl_presets if b.description.startswith("RFC"))
    rfc.click()
    assert ex.msl == 120.0 and ex.msl_slider.value == 120.0
    assert ex.trace.time_in("A", "TIME_WAIT") == pytest.approx(240.0)
    assert ex.trace.time_in("B", "TIME_WAIT") == 0.0


def test_time_slider_moves_the_cursor_and_the_highlight() -> None:
    ex = explore("close", msl=5)
    image, svg = ex.ladder_image.value, ex.diagram_html.value
    ex.time_slider.value = 0.9
    assert ex.at == 0.9
    assert ex.status.startswith(
        "Profile linux. At 0.9 s: A is in TIME_WAIT until 10.9 s; B is in LAST_ACK until "
        "0.95 s. By the end:"
    )
    assert "TIME_WAIT until 10.9 s" in ex.status_html.value
    assert ex.ladder_image.value != image
    assert ex.diagram_html.value != svg
    ex.step_forward.click()
    assert ex.at == 0.95 and "B is CLOSED" in ex.status
    ex.step_back.click()
    ex.step_back.click()
    assert ex.at == 0.85  # B's close() at 0.85 s is the moment before 0.9 s
    ex.whole_run.click()
    assert ex.at is None and ex.time_slider.value == ex.trace.end


def test_programmatic_set_changes_everything_at_once() -> None:
    ex = explore("close")
    ex.set(drop=[8], msl=2, at=1.04)  # linux's loss probe resends the FIN at 0.9 s
    assert ex.drops == (8,) and ex.msl == 2.0 and ex.at == 1.04
    assert ex.msl_slider.value == 2.0 and ex.time_slider.value == 1.04
    assert _toggle(ex, 8).value is True
    assert "B is in CLOSE_WAIT" in ex.status


def test_profile_chooser_reruns_and_an_explicit_msl_wins() -> None:
    ex = explore("late-fin")
    assert ex.profile_toggle.value == "linux" and list(ex.profile_toggle.options) == [
        "linux",
        "freebsd",
        "rfc9293",
    ]
    assert id(ex.profile_toggle) in set(map(id, _tree(ex)))
    assert not any("RST" in s.flags for s in ex.trace.segments)  # linux: no late FIN meets RST
    ex.profile_toggle.value = "freebsd"
    assert ex.settings.profile == "freebsd" and ex.trace.params["profile"] == "freebsd"
    assert ex.trace.segments[-1].flags == ("RST",)  # its 64 s backoff outlasts 2MSL
    assert ex.status.startswith("Profile freebsd. ")
    assert ex.spec()["settings"]["profile"] == "freebsd"
    ex.set(profile="rfc9293")
    assert ex.profile_toggle.value == "rfc9293" and ex.msl == 120.0  # the profile's MSL
    ex.set(msl=5)
    ex.set(profile="linux")
    assert ex.msl == 5.0 and ex.msl_slider.value == 5.0  # given explicitly: it stays
    assert ex.trace.to_dict() == tcpbook.simulate("late-fin", msl=5).to_dict()
    assert explore("close", profile="freebsd").profile_toggle.value == "freebsd"
    with pytest.raises(TcpbookError, match="profile must be one of"):
        ex.set(profile="bsd")
    assert ex.settings.profile == "linux"


def test_cursor_is_clamped_to_the_run() -> None:
    ex = explore("handshake")
    ex.set(at=1000)
    assert ex.at == ex.trace.end < 1000
    ex.set(at=-3)
    assert ex.at == 0.0


def test_bad_settings_raise_one_line_errors_and_change_nothing() -> None:
    ex = explore("close", msl=5)
    with pytest.raises(TcpbookError, match="msl"):
        ex.set(msl=-1)
    assert ex.msl == 5.0 and ex.msl_slider.value == 5.0
    with pytest.raises(TcpbookError, match="segment numbers"):
        ex.set(drop=["x"])  # type: ignore[list-item]
    with pytest.raises(TcpbookError, match="unknown control 'bogus'"):
        explore("close", controls=("time", "bogus"))
    with pytest.raises(TcpbookError, match="unknown scenario"):
        explore("nope")
    with pytest.raises(TcpbookError, match=r"unknown setting\(s\) mls; .*msl"):
        explore("close", mls=5)
    with pytest.raises(TcpbookError, match="at must be"):
        ex.set(at="soon")  # type: ignore[arg-type]


def test_fin_timeout_control_ends_fin_wait_2() -> None:
    """Under rfc9293, which has no FIN_WAIT_2 timer, the control gives it one."""
    ex = explore("fin-wait-2-hang", controls=("time", "fin_timeout"), profile="rfc9293")
    assert id(ex.fin_timeout_dropdown) in set(map(id, _tree(ex)))
    assert ex.trace.final["A"] == "FIN_WAIT_2"
    ex.fin_timeout_dropdown.value = 60.0
    assert ex.trace.final["A"] == "CLOSED"
    assert ex.trace.time_in("A", "FIN_WAIT_2") == pytest.approx(60.0)
    ex.set(fin_timeout=7.5)  # a value not in the list is added to it
    assert ex.fin_timeout_dropdown.value == 7.5
    assert ex.trace.time_in("A", "FIN_WAIT_2") == pytest.approx(7.5)


def test_the_fin_timeout_choices_are_what_the_profile_can_do() -> None:
    """ "No timer" is offered only where it is true (rfc9293); Linux and FreeBSD always end an
    orphaned FIN_WAIT_2, and the list shows their own timeout, selected."""
    ex = explore("fin-wait-2-hang", controls=("time", "fin_timeout"), profile="linux")
    labels = [label for label, _ in ex.fin_timeout_dropdown.options]
    assert NO_FIN_TIMEOUT not in labels and ex.fin_timeout_dropdown.value == 60.0
    assert ex.trace.time_in("A", "FIN_WAIT_2") == pytest.approx(60.0)
    ex.set(profile="freebsd")
    assert ex.fin_timeout_dropdown.options[0] == ("600 s (freebsd)", 600.0)
    assert ex.fin_timeout_dropdown.value == 600.0
    ex.set(profile="rfc9293")
    assert ex.fin_timeout_dropdown.options[0] == (NO_FIN_TIMEOUT, None)
    assert ex.fin_timeout_dropdown.value is None and ex.trace.final["A"] == "FIN_WAIT_2"


def test_rfc1337_and_skip_time_wait_checkboxes() -> None:
    ex = explore("assassination", controls=("rfc1337", "skip_time_wait"), msl=5)
    cut_short = ex.trace.time_in("A", "TIME_WAIT")
    assert cut_short < 10.0
    ex.rfc1337_checkbox.value = True
    assert ex.trace.time_in("A", "TIME_WAIT") > cut_short
    ex.skip_time_wait_checkbox.value = True
    assert ex.trace.time_in("A", "TIME_WAIT") == 0.0
    assert "RFC 1337 on" in ex.describe_settings()


def test_display_carries_the_widget_a_static_png_and_plain_text(close: Explorer) -> None:
    bundle = close._repr_mimebundle_()
    assert bundle is not None
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == close.model_id
    assert bundle["text/plain"] == (
        "Explorer — close (profile linux): MSL 30 s, lost segments none\nProfile linux. "
        "At 60.9 s: A is CLOSED; B is CLOSED. By the end: A closed cleanly after TIME_WAIT; "
        "B closed cleanly (its FIN was acknowledged)."
    )
    png = base64.b64decode(bundle["image/png"])
    picture = Image.open(io.BytesIO(png))
    # Ladder above diagram, no wider than STATIC_WIDTH: legible in a ~900 px notebook column.
    assert picture.format == "PNG" and 700 <= picture.width <= STATIC_WIDTH < picture.height


def test_static_picture_is_the_ladder_above_the_state_diagram(close: Explorer) -> None:
    picture = Image.open(io.BytesIO(close.static())).convert("RGB")
    ladder_height = 800  # render.ladder's 8-inch figure at STATIC_DPI
    # A white gap separates the two pictures, full width, just below the ladder's height range.
    rows = [
        y
        for y in range(picture.height // 4, picture.height * 3 // 4)
        if all(picture.getpixel((x, y)) == (255, 255, 255) for x in range(0, picture.width, 7))
    ]
    assert rows, "no blank band between the ladder and the diagram"
    assert picture.height > 1.5 * ladder_height * 0.8


@pytest.mark.parametrize(
    ("scenario", "kwargs", "a_end", "b_end"),
    [
        (
            "close",
            {},
            "closed cleanly after TIME_WAIT",
            "closed cleanly (its FIN was acknowledged)",
        ),
        (
            "close",
            {"drop": [11], "skip_time_wait": True},
            "closed at once, skipping TIME_WAIT",
            "was reset",
        ),
        ("abort", {}, "aborted (sent RST)", "was reset (ECONNRESET)"),
        ("no-answer", {}, "gave up retransmitting (ETIMEDOUT)", "never opened"),
        ("refused", {}, "connection refused (ECONNREFUSED)", "never opened"),
        ("a-vanishes", {}, "host gone", "gave up retransmitting"),
        (
            "assassination",
            {},
            "TIME_WAIT cut short by a RST",
            "closed cleanly (its FIN was acknowledged)",
        ),
        ("fin-wait-2-hang", {"profile": "rfc9293"}, "still in FIN_WAIT_2", "still in CLOSE_WAIT"),
        (
            "fin-wait-2-hang",
            {},  # linux: tcp_fin_timeout 60 s
            "gave up waiting for the peer's FIN (FIN_WAIT_2 timeout)",
            "still in CLOSE_WAIT",
        ),
    ],
)
def test_ending_says_how_each_side_finished(
    scenario: str, kwargs: dict[str, Any], a_end: str, b_end: str
) -> None:
    from tcpbook.trace import ending

    trace = tcpbook.simulate(scenario, **kwargs)
    assert (ending(trace, "A"), ending(trace, "B")) == (a_end, b_end)
    ex = explore(scenario, **kwargs)
    assert ex.status.endswith(f"By the end: A {a_end}; B {b_end}.")


def test_ladder_is_svg_for_a_new_run_png_for_cursor_moves_and_diagram_an_svg(
    close: Explorer,
) -> None:
    close.set(msl=7)
    assert close.ladder_image.format == "svg+xml"
    svg = bytes(close.ladder_image.value)
    assert b"<svg" in svg and b"TIME_WAIT" in svg  # text stays text: fast, and searchable
    close.set(at=0.9)
    assert close.ladder_image.format == "png"
    assert bytes(close.ladder_image.value).startswith(b"\x89PNG")
    assert "<svg" in close.diagram_html.value


def test_moving_the_cursor_never_redraws_the_whole_ladder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ex = explore("close", msl=5)
    calls: list[float | None] = []
    real = widgets._draw_ladder

    def counting(trace: tcpbook.Trace, at: float | None, fig: Figure) -> Figure:
        calls.append(at)
        return real(trace, at, fig)

    monkeypatch.setattr(widgets, "_draw_ladder", counting)
    pictures = set()
    for t in moments(ex.trace)[:12]:
        ex.set(at=t)
        pictures.add(bytes(ex.ladder_image.value))
    assert calls == [] and len(pictures) == 12  # every moment looks different, none redrawn
    ex.set(msl=2)
    assert len(calls) == 1  # a new run: one full drawing, reused for its cursor moves
    ex.set(at=None)
    assert len(calls) == 1


def _pixels(png: bytes) -> Any:
    import numpy as np

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize(
    ("scenario", "kwargs"),
    [
        ("close", {"msl": 5}),
        ("close", {"drop": [11]}),
        ("handshake", {}),
        ("assassination", {}),
        ("old-duplicate", {}),
    ],
)
def test_a_cursor_move_draws_the_pixels_of_a_full_redraw(
    scenario: str, kwargs: dict[str, Any]
) -> None:
    """The fast path (blit the cursor onto the kept bitmap, re-deflate only the bands it touches)
    gives exactly the picture of drawing the ladder anew at that time: the label is placed as
    the full drawing places it, and the PNG is lossless, so no tolerance is needed."""
    trace = tcpbook.simulate(scenario, **kwargs)
    view = widgets.LadderView(Figure(figsize=(8.0, 8.0), dpi=widgets.LADDER_DPI))
    assert view.picture(trace, None)[0] == "svg+xml"
    times = moments(trace)
    # every moment, then back again: bands re-deflated for one cursor must not leak into the next
    for t in [*times, *times[::-3]]:
        fmt, fast = view.picture(trace, t)
        assert fmt == "png" and fast.startswith(b"\x89PNG\r\n\x1a\n")
        fig = widgets._draw_ladder(trace, t, Figure(figsize=(8.0, 8.0), dpi=widgets.LADDER_DPI))
        full = widgets._figure_png(fig, fast=True)
        assert (_pixels(fast) == _pixels(full)).all(), f"{scenario} at {t} s"
    whole = widgets._figure_png(
        widgets._draw_ladder(trace, None, Figure(figsize=(8.0, 8.0), dpi=widgets.LADDER_DPI)),
        fast=True,
    )
    assert (_pixels(view.png(trace, None)) == _pixels(whole)).all()  # no cursor: the background


def test_a_new_run_is_the_same_svg_as_savefig(close: Explorer) -> None:
    """A new run's SVG, written with text extents and font metrics remembered across runs, is
    byte for byte what a plain ``savefig`` writes for the same figure."""
    import matplotlib

    close.set(msl=3, at=None)
    canvas = close._ladder.fig.canvas
    close.set(msl=4)  # the second run measures from the remembered extents
    assert close._ladder.fig.canvas is canvas  # the figure's own canvas is back after the SVG
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tcpbook"}):
        close._ladder.fig.savefig(buf, format="svg", metadata={"Date": None})
    assert bytes(close.ladder_image.value) == buf.getvalue()


def test_a_renderer_without_cursor_tags_still_redraws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the renderer's gid="cursor" artists the explorer draws every picture in full."""

    def plain(trace: tcpbook.Trace, at: float | None, fig: Figure) -> Figure:
        fig.clear()
        ax = fig.add_subplot()
        if at is not None:
            ax.axhline(at)
        ax.set_ylim(trace.end, 0)
        return fig

    monkeypatch.setattr(widgets, "_draw_ladder", plain)
    ex = explore("close", msl=5)
    before = bytes(ex.ladder_image.value)
    ex.set(at=0.9)
    assert bytes(ex.ladder_image.value) != before
    assert "TIME_WAIT" in ex.status


def test_tagged_cursor_artists_of_another_renderer_are_redrawn_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Artists tagged "cursor" that ``render.ladder`` did not draw cannot be moved by it: the
    explorer then draws each cursor position in full rather than show a stale cursor."""
    calls: list[float | None] = []

    def tagged(trace: tcpbook.Trace, at: float | None, fig: Figure) -> Figure:
        calls.append(at)
        fig.clear()
        ax = fig.add_subplot()
        ax.axhline(at or 0.0, gid="cursor")
        ax.text(0.5, at or 0.0, f"t = {at}", gid="cursor-label")
        ax.set_ylim(trace.end, 0)
        return fig

    monkeypatch.setattr(widgets, "_draw_ladder", tagged)
    ex = explore("close", msl=5)
    ex.set(at=0.5)
    first = bytes(ex.ladder_image.value)
    ex.set(at=5.0)
    assert bytes(ex.ladder_image.value) != first
    assert calls[-2:] == [0.5, 5.0]  # each position drawn by the renderer itself


def _cpu_ms(action: Callable[[], None]) -> float:
    """Processor time of ``action``: unlike wall time, not inflated by other busy processes."""
    start = time.process_time()
    action()
    return (time.process_time() - start) * 1000.0


def test_redraws_stay_within_budget() -> None:
    ex = explore("close", msl=5)
    cursor = statistics.median(_cpu_ms(lambda t=t: ex.set(at=t)) for t in moments(ex.trace))
    resim = statistics.median(_cpu_ms(lambda m=m: ex.set(msl=m)) for m in range(1, 9))
    assert cursor < REDRAW_BUDGET_MS, f"moving the cursor takes {cursor:.0f} ms"
    assert resim < RESIMULATE_GUARD_MS, f"re-simulating and redrawing takes {resim:.0f} ms"


# -- pictures that show themselves ----------------------------------------------------------


def test_a_figure_made_outside_pyplot_shows_as_png() -> None:
    from tcpbook.render.figure import ShownFigure

    fig = ShownFigure(figsize=(2.0, 1.0))
    fig.subplots().plot([0, 1], [0, 1])
    png = fig._repr_png_()
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.width > picture.height > 20
    assert repr(fig).startswith("<Figure size 200x100")


def test_the_monte_carlo_plots_and_widget_carry_pictures() -> None:
    from tcpbook import montecarlo as mc

    res = mc.run(n=40, p=0.1, seed=1)
    fig = mc.plot_close_durations(res)
    assert Image.open(io.BytesIO(fig._repr_png_())).format == "PNG"
    box = mc.explorer(n=40)
    bundle = box._repr_mimebundle_()
    assert bundle is not None
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Monte Carlo explorer: 40 lifecycles per move")
    still = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert still.format == "PNG" and still.width > 500


def test_live_view_puts_the_ladder_above_the_state_diagram(close: Explorer) -> None:
    """One above the other: side by side, a ~900 px notebook would shrink the diagram unreadably."""
    boxes = [w for w in _tree(close) if isinstance(w, W.VBox) and w is not close]
    pictures = next(b for b in boxes if close.ladder_image in list(_tree(b)))
    order = [w for w in _tree(pictures) if w in (close.ladder_image, close.diagram_html)]
    assert order == [close.ladder_image, close.diagram_html]
    assert pictures.layout.flex_flow in (None, "", "column")


def test_static_picture_starts_with_the_status_line(close: Explorer) -> None:
    """Readers without a kernel see how each side ended, as text drawn above the ladder."""
    from tcpbook.widgets import text_png

    strip = Image.open(io.BytesIO(text_png(close.status))).convert("L")
    assert strip.width == STATIC_WIDTH and strip.height >= 2 * 14  # two lines: it wraps
    picture = Image.open(io.BytesIO(close.static())).convert("L")
    top = picture.crop((0, 0, picture.width, strip.height))
    from PIL import ImageChops

    assert ImageChops.difference(top, strip).getextrema()[1] <= 16  # 256-colour quantising
    assert top.getextrema()[0] < 64  # dark text on white


def test_status_reads_through_a_time_wait_self_loop() -> None:
    """A re-ACKed FIN restarts TIME_WAIT (a TIME_WAIT -> TIME_WAIT record): the status names
    when TIME_WAIT really ends, not the restart."""
    from tcpbook.widgets import describe

    trace = tcpbook.simulate("close", msl=5, drop=[11])
    assert any(tr.src == tr.dst == "TIME_WAIT" for tr in trace.transitions)
    closed = next(tr.t for tr in trace.transitions if tr.endpoint == "A" and tr.dst == "CLOSED")
    assert f"A is in TIME_WAIT until {closed:g} s" in describe(trace, 0.9)
