"""One test per row of the transition table, driving the sans-IO endpoint directly.

The rows are RFC 9293's, so the endpoints run the ``rfc9293`` profile (every ACK at once, no
loss probe): a segment handed over is answered at once, with no timer in between. Rows that
come from a kernel switch its behaviour on in the recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from tcpbook import states
from tcpbook.endpoint import (
    AppError,
    Change,
    Config,
    Endpoint,
    Segment,
    Send,
    StartTimer,
    config_for,
    reset_for,
)
from tcpbook.errors import IllegalCall
from tcpbook.profiles import RFC9293
from tcpbook.states import SYNCHRONIZED, TRANSITIONS, State, Transition, allowed, table

S = State


def rfc() -> Config:
    """A fresh configuration of the ``rfc9293`` profile (a recipe may change its copy)."""
    return config_for(RFC9293)


def sent(ep: Endpoint) -> list[Segment]:
    return [o.segment for o in ep.drain() if isinstance(o, Send)]


def deliver(src: Endpoint, dst: Endpoint) -> list[Segment]:
    """Deliver everything ``src`` wants to send to ``dst``; return what was delivered."""
    segs = sent(src)
    for seg in segs:
        dst.receive(seg)
    return segs


def established(
    config_a: Config | None = None, config_b: Config | None = None
) -> tuple[Endpoint, Endpoint]:
    a, b = Endpoint(1000, config_a or rfc()), Endpoint(5000, config_b or rfc())
    b.listen()
    a.connect()
    deliver(a, b)  # SYN
    deliver(b, a)  # SYN,ACK
    deliver(a, b)  # ACK
    assert (a.state, b.state) == (S.ESTABLISHED, S.ESTABLISHED)
    a.drain(), b.drain()
    return a, b


def in_state(
    state: State, config: Config | None = None, how: str = "close"
) -> tuple[Endpoint, Endpoint]:
    """An endpoint in ``state`` (first) and its peer (second), with nothing left in flight.

    ``how`` is the call that sends the endpoint's FIN: ``close`` or ``shutdown``.
    """
    if state is S.CLOSED:
        return Endpoint(1000, config or rfc()), Endpoint(5000, rfc())
    if state is S.LISTEN:
        x = Endpoint(5000, config or rfc())
        x.listen()
        return x, Endpoint(1000, rfc())
    if state is S.SYN_SENT:
        x = Endpoint(1000, config or rfc())
        x.connect()
        return x, Endpoint(5000, rfc())
    if state is S.SYN_RECEIVED:
        x, y = Endpoint(5000, config or rfc()), Endpoint(1000, rfc())
        x.listen()
        y.connect()
        deliver(y, x)
        return x, y
    if state in (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSING, S.TIME_WAIT):
        x, y = established(config)
        if state is S.ESTABLISHED:
            return x, y
        getattr(x, how)()
        if state is S.CLOSING:
            y.close()
            deliver(y, x)  # y's FIN crosses x's FIN
            x.drain()
            return x, y
        if state is S.FIN_WAIT_1:
            return x, y
        deliver(x, y)
        deliver(y, x)  # ACK of FIN
        if state is S.FIN_WAIT_2:
            return x, y
        y.close()
        deliver(y, x)
        return x, y
    # CLOSE_WAIT and LAST_ACK belong to the passive closer
    y, x = established(None, config)
    y.close()
    deliver(y, x)
    deliver(x, y)
    if state is S.LAST_ACK:
        getattr(x, how)()
    return x, y


def fin_from(peer: Endpoint) -> Segment:
    peer.close()
    return next(s for s in sent(peer) if s.fin)


def rst_at(x: Endpoint) -> Segment:
    return Segment(("RST",), x.rcv_nxt, None)


def run_retransmissions(x: Endpoint) -> None:
    for _ in range(40):
        if x.state is S.CLOSED:
            return
        x.timer_fired("retransmit")


def recipe(row: Transition) -> tuple[Endpoint, Callable[[], None]]:
    """Put an endpoint in ``row.src`` and return the action that is ``row.event``."""
    src, event = row.src, row.event
    config = rfc()
    if event == "timeout FIN_WAIT_2":
        config.fin_timeout = 60.0
    if event == "skip TIME_WAIT":
        config.skip_time_wait = True
        x, y = in_state(S.FIN_WAIT_2, config)
        return x, lambda: x.receive(fin_from(y))
    if event == "CLOSE with unread data":
        config.auto_read = False
    if event == "rcv SYN above RCV.NXT":
        config.time_wait_accepts_syn = True
        x, y = in_state(S.TIME_WAIT, config)
        return x, lambda: x.receive(Segment(("SYN",), (x.rcv_nxt + 100_000) % 2**32, None))
    if event == "rcv RST after active OPEN":
        x, y = Endpoint(1000, rfc()), Endpoint(5000, rfc())  # simultaneous open: not from LISTEN
        x.connect(), y.connect()
        x.receive(sent(y)[0])
        assert x.state is S.SYN_RECEIVED
        x.drain()
        return x, lambda: x.receive(rst_at(x))
    if event == "timeout retransmit after active OPEN":
        x, y = (
            Endpoint(1000, rfc()),
            Endpoint(5000, rfc()),
        )  # simultaneous open gives up: no listener
        x.connect(), y.connect()
        x.receive(sent(y)[0])
        x.drain()
        return x, lambda: run_retransmissions(x)
    if event == "CLOSE with unread data" and src in (S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSING):
        x, y = established(config)
        y.send(50)
        deliver(y, x)
        x.shutdown()  # half-close: the socket is still the application's
        if src is S.CLOSING:
            y.close()
            deliver(y, x)
        elif src is S.FIN_WAIT_2:
            deliver(x, y)
            deliver(y, x)
        assert (x.state, x.unread) == (src, 50)
        x.drain()
        return x, x.close
    if event == "CLOSE with unread data" and src is S.LAST_ACK:
        y, x = established(None, config)
        y.send(50)
        deliver(y, x)
        y.close()
        deliver(y, x)
        x.shutdown()
        x.drain()
        return x, x.close
    if event == "CLOSE with unread data" and src is S.CLOSE_WAIT:
        y, x = established(None, config)
        y.send(50)
        deliver(y, x)
        y.close()
        deliver(y, x)
        assert (x.state, x.unread) == (S.CLOSE_WAIT, 50)
        x.drain()
        return x, x.close
    x, y = in_state(src, config)
    if event == "timeout retransmit" and src in (S.ESTABLISHED, S.CLOSE_WAIT):
        x.send(10)  # something unacknowledged to retransmit
    x.drain()
    actions: dict[str, Callable[[], None]] = {
        "passive OPEN": x.listen,
        "active OPEN": x.connect,
        "SEND": lambda: x.send(10),
        "CLOSE": x.close,
        "ABORT": x.abort,
        "host vanishes": x.vanish,
        "timeout 2MSL": lambda: x.timer_fired("time_wait"),
        "timeout retransmit": lambda: run_retransmissions(x),
    }
    if event in actions:
        return x, actions[event]
    if event == "timeout FIN_WAIT_2":
        return x, lambda: x.timer_fired("fin_wait_2")
    if event == "rcv SYN":
        if src is S.TIME_WAIT:
            raise AssertionError("no such row")
        y.connect()
        return x, lambda: x.receive(sent(y)[0])
    if event == "rcv SYN,ACK":
        y.listen()
        y.receive(sent(x) or [Segment(("SYN",), 1000, None)][0])
        return x, lambda: x.receive(sent(y)[0])
    if event == "rcv ACK of SYN":
        return x, lambda: x.receive(Segment(("ACK",), x.rcv_nxt, x.snd_nxt))
    if event == "rcv ACK of FIN":
        return x, lambda: x.receive(Segment(("ACK",), x.rcv_nxt, x.snd_nxt))
    if event == "rcv FIN,ACK of FIN":
        return x, lambda: x.receive(Segment(("FIN", "ACK"), x.rcv_nxt, x.snd_nxt))
    if event == "rcv FIN":
        if src is S.TIME_WAIT:  # the peer's FIN again (its copy of our last ACK was lost)
            return x, lambda: x.receive(Segment(("FIN", "ACK"), x.rcv_nxt - 1, x.snd_nxt))
        if src is S.FIN_WAIT_1:  # crossing FIN that does not ack ours
            return x, lambda: x.receive(Segment(("FIN", "ACK"), x.rcv_nxt, x.snd_una))
        return x, lambda: x.receive(Segment(("FIN", "ACK"), x.rcv_nxt, x.snd_nxt))
    if event == "rcv RST":
        if src is S.SYN_SENT:
            return x, lambda: x.receive(Segment(("RST", "ACK"), 0, x.snd_nxt))
        return x, lambda: x.receive(rst_at(x))
    if event == "CLOSE with unread data":
        y.send(50)
        deliver(y, x)
        x.drain()
        return x, x.close
    if event == "rcv data after CLOSE":
        return x, lambda: x.receive(Segment(("PSH", "ACK"), x.rcv_nxt, x.snd_una, 20))
    raise AssertionError(f"no recipe for {row}")


@pytest.mark.parametrize(
    "row", TRANSITIONS, ids=[f"{t.src}-{t.event}-{t.dst}".replace(" ", "_") for t in TRANSITIONS]
)
def test_every_table_row_happens_as_written(row: Transition) -> None:
    x, action = recipe(row)
    if row.event != "skip TIME_WAIT":  # that row is taken the moment TIME_WAIT is entered
        assert x.state is row.src
    action()
    out = x.drain()
    changes = [o for o in out if isinstance(o, Change)]
    assert x.state is row.dst
    assert Change(row.src, row.dst, row.event) in changes
    if row.src is row.dst:  # TIME_WAIT's re-ACK of a retransmitted FIN restarts 2MSL
        assert changes == [Change(row.src, row.dst, row.event)]
        assert StartTimer("time_wait", 2 * x.config.msl) in out
    flags = [",".join(o.segment.flags) for o in out if isinstance(o, Send)]
    if row.send == "-":
        assert not [f for f in flags if f != "ACK"] or row.event.startswith("timeout retransmit")
    elif row.send == "FIN":
        assert "FIN,ACK" in flags
    else:
        assert (flags and flags[0].startswith(row.send)) or row.send in flags


def test_table_has_rfc_figure_rows_and_json_shape() -> None:
    rows = table()
    assert all({"from", "to", "event", "send"} <= set(r) for r in rows)
    must = [
        ("CLOSED", "LISTEN"),
        ("CLOSED", "SYN_SENT"),
        ("LISTEN", "SYN_RECEIVED"),
        ("SYN_SENT", "ESTABLISHED"),
        ("SYN_RECEIVED", "ESTABLISHED"),
        ("ESTABLISHED", "FIN_WAIT_1"),
        ("ESTABLISHED", "CLOSE_WAIT"),
        ("FIN_WAIT_1", "FIN_WAIT_2"),
        ("FIN_WAIT_1", "CLOSING"),
        ("FIN_WAIT_1", "TIME_WAIT"),
        ("FIN_WAIT_2", "TIME_WAIT"),
        ("CLOSING", "TIME_WAIT"),
        ("CLOSE_WAIT", "LAST_ACK"),
        ("LAST_ACK", "CLOSED"),
        ("TIME_WAIT", "CLOSED"),
    ]
    pairs = {(r["from"], r["to"]) for r in rows}
    assert set(must) <= pairs
    assert {r["from"] for r in rows} | {r["to"] for r in rows} == {s.value for s in State}


def test_illegal_call_raises_and_leaves_state_unchanged() -> None:
    a, _ = established()
    with pytest.raises(IllegalCall, match="connection already exists"):
        a.connect()
    assert a.state is S.ESTABLISHED and a.drain() == []
    fresh = Endpoint()
    with pytest.raises(IllegalCall, match="does not exist"):
        fresh.close()
    assert fresh.state is S.CLOSED


def test_syn_and_fin_each_consume_one_sequence_number() -> None:
    a, b = established()
    assert (a.snd_nxt, b.rcv_nxt) == (1001, 1001)
    a.send(100)
    assert deliver(a, b)[0].seq == 1001 and b.rcv_nxt == 1101
    a.close()
    fin = deliver(a, b)[0]
    assert fin.flags == ("FIN", "ACK") and fin.seq == 1101 and b.rcv_nxt == 1102


def test_unacceptable_segment_gets_ack_and_is_dropped() -> None:
    """RFC 9293 3.10.7.4 first check."""
    _a, b = established()
    b.receive(Segment(("PSH", "ACK"), 1001 + 70000, 5001, 10))  # far outside the window
    assert [(s.flags, s.seq, s.ack) for s in sent(b)] == [(("ACK",), 5001, 1001)]
    assert b.rcv_nxt == 1001


def test_rst_out_of_sequence_gets_challenge_ack_not_reset() -> None:
    """RFC 9293 3.10.7.4 second check (RFC 5961 section 3)."""
    _a, b = established()
    b.receive(Segment(("RST",), 1005, None))
    assert b.state is S.ESTABLISHED
    assert [s.flags for s in sent(b)] == [("ACK",)]


def test_reset_for_segment_without_connection() -> None:
    """RFC 9293 3.10.7.1: ACK off -> RST,ACK seq 0; ACK on -> RST at SEG.ACK; RST -> nothing."""
    assert reset_for(Segment(("SYN",), 1000, None)) == Segment(("RST", "ACK"), 0, 1001)
    assert reset_for(Segment(("FIN", "ACK"), 5201, 1102)) == Segment(("RST",), 1102, None)
    assert reset_for(Segment(("RST",), 5, None)) is None


def test_syn_retransmission_backoff_and_limit() -> None:
    """An endpoint without a configuration is the default profile's, linux: four SYN retries
    1 s apart (tcp_syn_linear_timeouts), then doubling; 10 retransmissions, then CLOSED."""
    a = Endpoint()
    assert a.config.profile == "linux"
    a.connect()
    delays = [o.delay for o in a.drain() if isinstance(o, StartTimer)]
    for _ in range(11):
        assert a.state is S.SYN_SENT
        a.timer_fired("retransmit")
        delays += [o.delay for o in a.out if isinstance(o, StartTimer)]
        a.drain() if a.state is not S.CLOSED else None
    assert delays == [1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64]
    assert a.state is S.CLOSED


def test_rst_in_time_wait_ignored_with_rfc1337() -> None:
    x, _ = in_state(S.TIME_WAIT, replace(rfc(), rfc1337=True))
    x.receive(rst_at(x))
    assert x.state is S.TIME_WAIT


def test_econnreset_seen_by_application() -> None:
    _a, b = established()
    b.receive(Segment(("RST",), b.rcv_nxt, None))
    assert AppError("ECONNRESET") in b.drain()


def test_allowed_matches_rows() -> None:
    assert allowed(S.FIN_WAIT_2, "rcv FIN", S.TIME_WAIT)
    assert not allowed(S.FIN_WAIT_2, "rcv FIN", S.CLOSED)
    assert set(SYNCHRONIZED) == {
        S.ESTABLISHED,
        S.FIN_WAIT_1,
        S.FIN_WAIT_2,
        S.CLOSE_WAIT,
        S.CLOSING,
        S.LAST_ACK,
        S.TIME_WAIT,
    }


def test_an_illegal_move_is_a_protocol_error_not_an_assertion() -> None:
    from tcpbook.errors import ProtocolError, TcpbookError
    from tcpbook.states import next_state

    with pytest.raises(ProtocolError, match="no transition from LISTEN on 'rcv FIN'"):
        next_state(S.LISTEN, "rcv FIN")
    assert issubclass(ProtocolError, TcpbookError)
    x = Endpoint(1000, rfc())
    with pytest.raises(ProtocolError):
        x._move("rcv ACK of FIN")  # CLOSED has no such row
    assert x.state is S.CLOSED and x.drain() == []


def test_every_state_event_pair_has_one_destination() -> None:
    from tcpbook.states import NEXT

    assert len(NEXT) == len(TRANSITIONS)


def test_the_module_level_states_are_the_enum_members_one_for_one() -> None:
    plain = {name: value for name, value in vars(states).items() if name in State.__members__}
    assert plain == dict(State.__members__)
    assert all(plain[name] is member for name, member in State.__members__.items())
