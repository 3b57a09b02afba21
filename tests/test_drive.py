"""The drive-it-yourself core: moves, refusals, time, and the trace it builds."""

from __future__ import annotations

import pytest

import tcpbook
from tcpbook.drive import Driver, Move, parse_move

OPEN = ["B listen", "A connect", "deliver A→B", "deliver B→A", "deliver A→B"]


def test_open_by_hand_matches_the_simulated_handshake() -> None:
    d = Driver()
    d.run(OPEN)
    sim = tcpbook.simulate("handshake")
    assert d.states == {"A": "ESTABLISHED", "B": "ESTABLISHED"}
    assert [(s.src, s.flags, s.seq, s.ack, s.sent, s.arrived) for s in d.trace.segments] == [
        (s.src, s.flags, s.seq, s.ack, s.sent, s.arrived) for s in sim.segments
    ]
    assert d.trace.path("A") == sim.path("A")
    assert d.trace.path("B") == sim.path("B")


def test_illegal_call_is_explained_and_changes_nothing() -> None:
    d = Driver()
    d.run(OPEN)
    before = (d.states, len(d.trace.segments), d.now)
    outcome = d.apply("A connect")
    assert not outcome.ok
    assert outcome.text == "✗ A: connect: connection already exists (state ESTABLISHED)"
    assert (d.states, len(d.trace.segments), d.now) == before
    assert d.log[-1] == outcome.text
    assert d.refusal("B listen") == "✗ B: listen: connection already exists (state ESTABLISHED)"
    assert d.refusal("A close") is None
    assert d.states["A"] == "ESTABLISHED"  # refusal() only probes a copy


def test_nothing_to_deliver_or_fire_is_refused() -> None:
    d = Driver()
    assert d.apply("deliver A→B").text == "✗ deliver A→B: no segment in flight A→B"
    assert (
        d.apply("fire B time_wait").text == "✗ fire B time_wait: B has no time_wait timer running"
    )


def test_moves_offer_network_timers_and_every_call() -> None:
    d = Driver()
    assert [str(m) for m in d.moves()][:2] == ["A listen", "A connect"]
    d.run(["B listen", "A connect"])
    names = [str(m) for m in d.moves()]
    assert names[:3] == ["deliver A→B", "lose A→B", "fire A retransmit"]
    assert "B send 100" in names and "A vanish" in names
    assert "deliver B→A" not in names


def test_lost_final_ack_retransmitted_fin_reacked_and_2msl_restarts() -> None:
    d = Driver(msl=5)
    # linux: B's ACK of the FIN waits for its delayed-ACK timer; the lost final ACK's FIN comes
    # back as B's tail-loss probe
    d.run([*OPEN, "A close", "deliver A→B", "fire B delayed_ack", "deliver B→A"])
    d.run(["B close", "deliver B→A"])
    assert d.states == {"A": "TIME_WAIT", "B": "LAST_ACK"}
    first_deadline = d.hosts["A"].timers["time_wait"]
    d.run(["lose A→B", "fire B tlp", "deliver B→A"])
    assert d.hosts["A"].timers["time_wait"] == pytest.approx(d.now + 10.0)
    assert d.hosts["A"].timers["time_wait"] > first_deadline
    d.apply("deliver A→B")
    assert d.states == {"A": "TIME_WAIT", "B": "CLOSED"}
    d.apply("fire A time_wait")
    assert d.states == {"A": "CLOSED", "B": "CLOSED"}
    assert d.trace.transitions[-1].cause == "timeout 2MSL"


def test_segment_to_closed_host_is_answered_with_rst() -> None:
    d = Driver()
    d.run(["A connect", "deliver A→B"])
    rst = d.trace.segments[-1]
    assert (rst.src, rst.flags, rst.seq, rst.ack) == ("B", ("RST", "ACK"), 0, 1001)
    d.apply("deliver B→A")
    assert d.states["A"] == "CLOSED"
    assert [e.error for e in d.trace.errors] == ["ECONNREFUSED"]


def test_vanished_host_answers_nothing_and_makes_no_calls() -> None:
    d = Driver()
    d.run([*OPEN, "B vanish", "A send", "deliver A→B"])
    assert d.trace.segments[-1].delivered_to is None
    assert d.trace.segments[-1].fate == "delivered"
    assert not d.flight["B"]
    assert d.apply("B listen").text == "✗ B: host B has vanished; it makes no more calls"


def test_segment_older_than_msl_expires() -> None:
    d = Driver(msl=0.5)
    # linux: a loss probe 0.3 s after the data, then the RTO (0.3 s, then doubled)
    d.run([*OPEN, "A send", "fire A tlp"])  # the first copy is still in flight
    assert [s.fate for s in d.trace.segments[3:]] == ["in-flight", "in-flight"]
    d.run(["fire A retransmit"])  # 0.6 s after the first copy: older than MSL
    assert [s.fate for s in d.trace.segments[3:]] == ["expired", "in-flight", "in-flight"]
    d.run(["fire A retransmit"])  # 0.6 s later: every earlier copy is older than MSL
    fates = [s.fate for s in d.trace.segments[3:]]
    assert fates == ["expired", "expired", "expired", "in-flight"]


def test_new_incarnation_after_close_counts_connections() -> None:
    d = Driver()
    d.run([*OPEN, "A abort", "deliver A→B", "B listen", "A connect", "deliver A→B"])
    assert d.hosts["A"].conn == 2 and d.hosts["B"].conn == 2
    assert d.states == {"A": "SYN_SENT", "B": "SYN_RECEIVED"}


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("A connect", Move("call", "A", "connect")),
        ("b send 250", Move("call", "B", "send", 250)),
        ("A send", Move("call", "A", "send", 100)),
        ("deliver A->B", Move("deliver", "A")),
        ("lose B>A", Move("lose", "B")),
        ("fire A time_wait", Move("fire", "A", "time_wait")),
    ],
)
def test_parse_move(text: str, move: Move) -> None:
    assert parse_move(text) == move
    assert parse_move(str(move)) == move


@pytest.mark.parametrize("bad", ["A fly", "deliver A→A", "fire C retransmit", "", 42, "A send -3"])
def test_bad_move_is_a_one_line_error(bad: object) -> None:
    with pytest.raises(tcpbook.TcpbookError) as info:
        parse_move(bad)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_trace_is_deterministic_and_valid_json() -> None:
    import json

    def run() -> str:
        d = Driver()
        d.run([*OPEN, "A close", "lose A→B", "fire A tlp", "deliver A→B"])
        return d.trace.to_json()

    assert run() == run()
    data = json.loads(run())
    assert data["scenario"] == "drive" and data["final"] == {"A": "FIN_WAIT_1", "B": "CLOSE_WAIT"}


def test_trace_matches_the_json_schema() -> None:
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "trace.schema.json").read_text())
    d = Driver()
    d.run([*OPEN, "A close", "B close", "deliver A→B", "lose B→A", "fire B retransmit"])
    jsonschema.validate(d.trace.to_dict(), schema)


def test_panel_offers_a_button_per_move_and_explains_refusals() -> None:
    from tcpbook.drive import drive

    panel = drive(msl=5)
    rows = panel.button_rows.children
    titles = [row.children[0].value for row in rows]
    assert titles == ["network", "timers", "A calls", "B calls"]
    a_calls = [b.description for b in rows[2].children[1:]]
    assert a_calls == ["listen", "connect", "send", "close", "shutdown", "abort", "vanish"]
    for move in ("B listen", "A connect"):
        assert panel.press(move).ok
    network = [b.description for b in panel.button_rows.children[0].children[1:]]
    assert network == ["deliver A→B", "lose A→B"]
    refused = panel.press("A listen")
    assert not refused.ok
    assert "connection already exists (state SYN_SENT)" in panel.message_html.value
    assert panel.status == "t = 0 s · A: SYN_SENT · B: LISTEN · 1 segment in flight"
    assert 'width="100%" style="max-width: ' in panel.diagram_html.value
    assert bytes(panel.ladder_image.value).startswith(b"\x89PNG")


def test_panel_undo_replays_all_but_the_last_move() -> None:
    from tcpbook.drive import drive

    panel = drive()
    for move in OPEN:
        panel.press(move)
    assert panel.driver.states == {"A": "ESTABLISHED", "B": "ESTABLISHED"}
    panel.replay(panel.history[:-1])
    assert panel.driver.states == {"A": "ESTABLISHED", "B": "SYN_RECEIVED"}
    assert panel.history == OPEN[:-1]


def test_panel_static_picture_and_plain_text() -> None:
    from tcpbook.drive import drive

    panel = drive()
    panel.press("A connect")
    data = panel._repr_mimebundle_()
    assert data["text/plain"] == (
        "Drive it yourself: t = 0 s · A: SYN_SENT · B: CLOSED · 1 segment in flight"
    )
    assert panel.static().startswith(b"\x89PNG")


def test_the_log_reports_every_timer_and_delivery_to_the_application() -> None:
    """The driver's host asks to hear of timer starts and data handed up; the loop (compiled
    or not) must honour that, so the log shows them."""
    d = Driver()
    d.run(["B listen", "A connect", "deliver A→B", "deliver B→A", "deliver A→B", "A close"])
    d.run(["deliver A→B"])
    text = d.log_text()
    assert "A starts retransmit (fires at 1)" in text
    assert "B starts retransmit" in text
    assert "B: the application reads end-of-file" in text
