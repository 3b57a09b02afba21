"""The state diagram: generated from the transition table, laid out once, restyled per highlight."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import tcpbook
from tcpbook.render import state_diagram
from tcpbook.render.statediagram import (
    BOTTOM,
    TOP,
    base_svg,
    build_dot,
    edge_label,
    highlight_for,
    row_id,
)
from tcpbook.states import TRANSITIONS, State

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
SVG = "{http://www.w3.org/2000/svg}"


def _node_lines(dot: str, cls: str) -> list[str]:
    """Node names whose attribute list carries ``cls`` in its class attribute."""
    names = []
    for line in dot.splitlines():
        m = re.match(r'\s+"([A-Z_0-9]+)" \[.*class="([^"]*)"', line)
        if m and cls in m.group(2).split():
            names.append(m.group(1))
    return names


def test_every_state_and_every_table_row_is_in_the_dot() -> None:
    dot = build_dot()
    for state in State:
        assert f'id="state:{state.value}"' in dot
    assert f'id="state:{BOTTOM}"' in dot  # the second CLOSED at the bottom
    for row in TRANSITIONS:
        assert dot.count(f'"{row_id(row)}"') == 1, row


def test_main_rows_are_labelled_event_slash_action_like_the_rfc() -> None:
    dot = build_dot()
    assert 'label="rcv FIN / snd ACK"' in dot
    assert 'label="CLOSE / snd FIN"' in dot
    assert 'label="timeout 2MSL"' in dot
    close = next(t for t in TRANSITIONS if t.src is State.ESTABLISHED and t.event == "CLOSE")
    assert edge_label(close) == "CLOSE / snd FIN"


def test_at_highlights_exactly_the_states_each_endpoint_is_in() -> None:
    trace = tcpbook.simulate("close")
    dot = state_diagram(trace, at=0.8).source
    assert trace.state_at("A", 0.8) == "FIN_WAIT_2"
    assert trace.state_at("B", 0.8) == "CLOSE_WAIT"
    assert _node_lines(dot, "current-A") == ["FIN_WAIT_2"]
    assert _node_lines(dot, "current-B") == ["CLOSE_WAIT"]


def test_one_endpoint_only_highlights_that_endpoint() -> None:
    trace = tcpbook.simulate("close")
    dot = state_diagram(trace, at=30.0, endpoint="A").source
    assert _node_lines(dot, "current-A") == ["TIME_WAIT"]
    assert _node_lines(dot, "current-B") == []
    assert "path-B" not in dot


def test_closed_after_a_close_is_the_bottom_node_and_before_is_the_top() -> None:
    trace = tcpbook.simulate("close")
    assert highlight_for(trace, 100.0, "both").current == {"A": BOTTOM, "B": BOTTOM}
    refused = tcpbook.simulate("handshake")
    assert highlight_for(refused, None, "both").current == {
        "A": "ESTABLISHED",
        "B": "ESTABLISHED",
    }
    assert highlight_for(trace, -1.0, "A").current == {"A": TOP}


def test_path_is_numbered_in_order_and_includes_the_time_wait_restart() -> None:
    trace = tcpbook.simulate("close", drop=[11])
    hl = highlight_for(trace, None, "A")
    loop = row_id(
        next(t for t in TRANSITIONS if t.src is t.dst is State.TIME_WAIT and t.event == "rcv FIN")
    )
    steps = hl.steps["A"]
    assert steps[loop] == [6]  # after CLOSED->SYN_SENT->...->FIN_WAIT_2->TIME_WAIT (5 steps)
    assert sorted(n for ns in steps.values() for n in ns) == list(range(1, 8))


def test_light_rows_used_by_a_run_are_marked_in_the_table() -> None:
    trace = tcpbook.simulate("abort")
    hl = highlight_for(trace, None, "both")
    abort = next(
        t for t in TRANSITIONS if t.src is State.ESTABLISHED and t.event == "ABORT" and not t.main
    )
    assert row_id(abort) in hl.cells
    assert 'BGCOLOR="#CCE3F0"' in state_diagram(trace).source  # A's tint on that cell


def test_bad_endpoint_and_at_without_trace_are_one_line_errors() -> None:
    with pytest.raises(tcpbook.TcpbookError, match="endpoint must be"):
        state_diagram(tcpbook.simulate("close"), endpoint="C")
    with pytest.raises(tcpbook.TcpbookError, match="needs a trace"):
        state_diagram(at=1.0)


# --------------------------------------------------------------------------- SVG (needs dot)


def _root(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _ids(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("id", ""): g for g in root.iter(SVG + "g")}


@needs_dot
def test_svg_has_every_state_label_and_an_element_per_table_row() -> None:
    root = _root(state_diagram().svg())
    texts = {t.text for t in root.iter(SVG + "text")}
    for state in State:
        assert state.value in texts
    ids = _ids(root)
    for row in TRANSITIONS:
        rid = row_id(row)
        assert rid in ids or f"a_{rid}" in ids, rid


@needs_dot
def test_highlight_keeps_every_position_and_marks_the_current_states() -> None:
    trace = tcpbook.simulate("close")
    plain = _ids(_root(base_svg()))
    lit_root = _root(state_diagram(trace, at=0.8).svg())
    lit = _ids(lit_root)
    for state in State:
        key = f"state:{state.value}"
        before = plain[key].find(f".//{SVG}polygon")
        after = lit[key].find(f".//{SVG}polygon")
        assert before is not None and after is not None
        assert before.get("points") == after.get("points")
    current_a = [k for k, g in lit.items() if "current-A" in (g.get("class") or "")]
    current_b = [k for k, g in lit.items() if "current-B" in (g.get("class") or "")]
    assert current_a == ["state:FIN_WAIT_2"]
    assert current_b == ["state:CLOSE_WAIT"]
    badges = [g for g in lit_root.iter(SVG + "g") if "badge-A" in (g.get("class") or "")]
    # one badge on the state, one number per edge A took up to 0.8 s (4 steps)
    assert len(badges) == 1 + 4


@needs_dot
def test_both_endpoints_on_one_edge_are_drawn_twice_solid_and_dashed() -> None:
    trace = tcpbook.simulate("simultaneous-close")
    root = _root(state_diagram(trace).svg())
    close = next(t for t in TRANSITIONS if t.src is State.ESTABLISHED and t.event == "CLOSE")
    edge = _ids(root)[row_id(close)]
    paths = list(edge.iter(SVG + "path"))
    assert len(paths) == 2
    assert paths[0].get("stroke") == "#0072B2" and paths[0].get("stroke-dasharray") is None
    assert paths[1].get("stroke") == "#D55E00" and paths[1].get("stroke-dasharray")


@needs_dot
def test_svg_is_deterministic_and_free_of_addresses() -> None:
    trace = tcpbook.simulate("close", drop=[11])
    one = state_diagram(trace, at=2.0).svg()
    two = state_diagram(tcpbook.simulate("close", drop=[11]), at=2.0).svg()
    assert one == two
    assert "0x" not in one


@needs_dot
def test_save_and_mimebundle(tmp_path: pytest.TempPathFactory) -> None:
    diagram = state_diagram(tcpbook.simulate("close"), at=0.8)
    out = tmp_path / "s"  # type: ignore[operator]
    assert diagram.save(f"{out}.png").read_bytes().startswith(b"\x89PNG")
    assert diagram.save(f"{out}.pdf").read_bytes().startswith(b"%PDF")
    assert diagram.save(f"{out}.svg").read_text().startswith("<svg")
    with pytest.raises(tcpbook.TcpbookError, match=r"\.svg, \.png or \.pdf"):
        diagram.save(f"{out}.gif")
    bundle = diagram._repr_mimebundle_(include=["image/svg+xml"])
    assert list(bundle) == ["image/svg+xml"]
    assert "image/svg+xml" not in diagram._repr_mimebundle_(exclude=["image/svg+xml"])
    # in a notebook the diagram scales down to the output's width (about 1,370 px otherwise)
    shown = diagram._repr_svg_()
    assert shown.startswith('<svg style="max-width:100%;height:auto" ')
    assert shown.replace('style="max-width:100%;height:auto" ', "", 1) == diagram.svg()
    assert bundle["image/svg+xml"] == shown


# --------------------------------------------------------------------------- badges


def _badges_over_text(svg: str) -> list[str]:
    """Badges (A1, B2, ...) whose rectangle covers any text that is not its own."""
    from tcpbook.render.statestyle import text_box

    root = ET.fromstring(svg)
    badge_groups = [g for g in root.iter(SVG + "g") if "badge" in (g.get("class") or "")]
    own = {id(t) for g in badge_groups for t in g.iter(SVG + "text")}
    texts = [(t.text or "", text_box(t)) for t in root.iter(SVG + "text") if id(t) not in own]
    problems = []
    for g in badge_groups:
        rect = g.find(SVG + "rect")
        assert rect is not None
        x, y = float(rect.get("x", "0")), float(rect.get("y", "0"))
        box = (x, y, x + float(rect.get("width", "0")), y + float(rect.get("height", "0")))
        label = "".join(g.itertext())
        for text, (a, b, c, d) in texts:
            if min(box[2], c) > max(box[0], a) and min(box[3], d) > max(box[1], b):
                problems.append(f"badge {label} covers {text!r}")
    return problems


@needs_dot
@pytest.mark.parametrize(
    ("name", "kwargs", "at"),
    [
        ("close", {}, 0.8),
        ("close", {"drop": [11], "skip_time_wait": True, "msl": 5}, 1.95),
        ("handshake", {}, 0.1),
        ("no-answer", {}, 200.0),  # "timeout retransmit" from SYN_SENT
        ("simultaneous-open", {}, 1.0),
        ("simultaneous-close", {}, 100.0),
        ("a-vanishes", {}, 400.0),
        ("refused", {}, 1.0),
    ],
)
def test_badges_never_cover_a_label(name: str, kwargs: dict[str, object], at: float) -> None:
    svg = state_diagram(tcpbook.simulate(name, **kwargs), at=at).svg()  # type: ignore[arg-type]
    assert "badge" in svg
    assert _badges_over_text(svg) == []


@needs_dot
def test_the_badge_check_sees_a_badge_on_a_label() -> None:
    svg = state_diagram(tcpbook.simulate("close"), at=0.8).svg()
    root = ET.fromstring(svg)
    label = next(t for t in root.iter(SVG + "text") if t.text == "SEND / snd SYN")
    rect = next(g for g in root.iter(SVG + "g") if "badge" in (g.get("class") or "")).find(
        SVG + "rect"
    )
    assert rect is not None
    rect.set("x", label.get("x", "0"))
    rect.set("y", str(float(label.get("y", "0")) - 8))
    assert any("SEND / snd SYN" in p for p in _badges_over_text(ET.tostring(root, "unicode")))


def test_png_badges_open_their_edge_label() -> None:
    """For dot's own PNG and PDF the step numbers are part of the edge's label, which Graphviz
    keeps clear of the other labels (a head label would be placed without looking)."""
    dot = state_diagram(tcpbook.simulate("close"), at=0.8).source
    assert "headlabel" not in dot
    assert re.search(r"<B>A1</B></FONT> active OPEN / snd SYN>", dot)
