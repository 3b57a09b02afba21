"""Properties that must hold for any loss pattern, delay and MSL (hypothesis)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tcpbook
from tcpbook.states import State, allowed
from tcpbook.trace import Trace

SCENARIOS = sorted(tcpbook.SCENARIOS)

scenario = st.sampled_from(SCENARIOS)
drops = st.lists(st.integers(min_value=1, max_value=40), max_size=12, unique=True)
msls = st.floats(min_value=0.05, max_value=240.0, allow_nan=False, allow_infinity=False)
delays = st.dictionaries(
    st.integers(min_value=1, max_value=30),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
    max_size=4,
)


def run(name: str, drop: list[int], msl: float, delay: dict[int, float]) -> Trace:
    return tcpbook.simulate(name, drop=drop, msl=msl, delay=delay or None)


@given(scenario, drops, msls, delays)
def test_every_run_terminates_and_follows_the_table(
    name: str, drop: list[int], msl: float, delay: dict[int, float]
) -> None:
    trace = run(name, drop, msl, delay)
    for tr in trace.transitions:
        assert allowed(State(tr.src), tr.cause, State(tr.dst)), tr
    # each endpoint's transitions chain: every "from" is the previous "to"
    for side in "AB":
        mine = [tr for tr in trace.transitions if tr.endpoint == side]
        for before, after in itertools.pairwise(mine):
            assert after.src == before.dst
    assert all(s.fate != "in-flight" for s in trace.segments)  # ran to completion


@given(scenario, drops, msls, delays)
def test_no_segment_outlives_msl(
    name: str, drop: list[int], msl: float, delay: dict[int, float]
) -> None:
    trace = run(name, drop, msl, delay)
    for seg in trace.segments:
        if seg.fate == "delivered":
            assert seg.arrived is not None and seg.arrived - seg.sent <= msl + 1e-9
        else:
            assert seg.arrived is None
        if seg.fate == "expired" and seg.duplicate_of is None:
            # it would have needed longer than MSL to cross: the network discarded it
            assert trace.params["latency"] + trace.params["delay"].get(str(seg.id), 0.0) > msl
    for seg in trace.segments:
        if seg.id in drop:
            assert seg.fate == "dropped"


@given(scenario, drops, msls)
def test_time_wait_lasts_exactly_2msl_after_the_last_ack(
    name: str, drop: list[int], msl: float
) -> None:
    trace = tcpbook.simulate(name, drop=drop, msl=msl)
    for side in "AB":
        # the TIME_WAIT self-loop (a FIN re-ACKed) stays in TIME_WAIT: follow the stay to its end
        mine = [tr for tr in trace.transitions if tr.endpoint == side and tr.src != tr.dst]
        for enter, leave in itertools.pairwise(mine):
            if enter.dst != "TIME_WAIT":
                continue
            if leave.cause in ("rcv RST", "host vanishes", "rcv SYN above RCV.NXT"):
                assert leave.t - enter.t <= 2 * msl + 1e-9
                continue
            assert leave.cause == "timeout 2MSL"
            acks = [
                s.sent
                for s in trace.segments
                if s.src == side and enter.t <= s.sent <= leave.t and s.flags == ("ACK",)
            ]
            start = max([enter.t, *acks])
            assert leave.t == pytest.approx(start + 2 * msl, abs=1e-6)


@given(scenario, drops, msls, delays)
def test_same_inputs_give_identical_traces(
    name: str, drop: list[int], msl: float, delay: dict[int, float]
) -> None:
    assert run(name, drop, msl, delay).to_json() == run(name, drop, msl, delay).to_json()


@given(drops, msls)
def test_close_ends_clean_or_with_a_reason(drop: list[int], msl: float) -> None:
    """Whatever is lost, B ends CLOSED, and a RST or timeout is visible when it was not clean."""
    trace = tcpbook.simulate("close", drop=drop, msl=msl)
    assert trace.final["B"] in ("CLOSED", "SYN_RECEIVED", "LISTEN", "ESTABLISHED", "CLOSE_WAIT")
    b_last = [tr for tr in trace.transitions if tr.endpoint == "B"][-1]
    if trace.final["B"] == "CLOSED":
        assert b_last.cause in ("rcv ACK of FIN", "rcv RST", "timeout retransmit")
