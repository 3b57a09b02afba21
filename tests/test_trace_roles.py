"""What each segment is, asked of the trace: outcomes, roles and captions (never in the JSON)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpbook
from tcpbook.scenarios import SCENARIOS
from tcpbook.trace import CAPTIONS


def _outcomes(name: str, **kwargs: object) -> dict[int, str]:
    trace = tcpbook.simulate(name, **kwargs)  # type: ignore[arg-type]
    return {s.id: trace.outcome(s) for s in trace.segments}


def test_a_vanished_host_is_host_gone_and_a_closed_port_is_no_connection() -> None:
    gone = _outcomes("a-vanishes")
    # B's FIN, linux's loss probe and 8 orphan retries
    assert [gone[n] for n in range(10, 20)] == ["host-gone"] * 10
    # nothing answers any of linux's 11 SYNs
    assert _outcomes("no-answer") == dict.fromkeys(range(1, 12), "host-gone")
    refused = _outcomes("refused")
    assert refused == {1: "no-connection", 2: "taken"}  # the SYN gets RST,ACK back
    trace = tcpbook.simulate("refused")
    assert trace.answer_to(trace.segment(1)) is trace.segment(2)


def test_lost_expired_in_flight_and_old_segments() -> None:
    assert _outcomes("close", drop=[11])[11] == "lost"
    assert _outcomes("close", delay={8: 40})[8] == "expired"
    assert "in-flight" in _outcomes("close", until=0.62).values()
    old = _outcomes("old-duplicate")
    assert old[11] == "old-into-new"
    # A's copy of the final ACK reaches B after B closed: B is up, answers RST.
    assert _outcomes("assassination")[12] == "no-connection"


def test_roles_of_the_close_and_the_handshake() -> None:
    roles = tcpbook.simulate("close").roles()
    assert roles == {
        1: "syn",
        2: "syn-ack",
        3: "handshake-ack",
        8: "fin",
        9: "ack-of-fin",
        10: "second-fin",
        11: "last-ack",
    }
    lost = tcpbook.simulate("close", drop=[11]).roles()
    assert (lost[11], lost[12], lost[13]) == ("last-ack", "fin-retransmission", "last-ack-again")
    assert tcpbook.simulate("fin-ack").roles()[9] == "ack-and-fin"  # B ACKs and FINs at once
    assert tcpbook.simulate("simultaneous-close").roles()[5] == "simultaneous-fin"
    rst = tcpbook.simulate("assassination").roles()
    assert rst[13] == "rst-no-connection"
    assert "rst-abort" in tcpbook.simulate("abort").roles().values()


def test_captions_are_the_words_of_the_roles() -> None:
    trace = tcpbook.simulate("close", drop=[11])
    assert trace.captions() == {n: CAPTIONS[r] for n, r in trace.roles().items()}
    assert trace.captions()[12] == "Did you hear me?"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_none_of_it_is_in_run_json(name: str) -> None:
    """``run --json`` stays what it was: outcomes and roles are derived, not stored."""
    trace = tcpbook.simulate(name)
    text = trace.to_json()
    for word in ("outcome", "role", "host-gone", "caption"):
        assert word not in text
    assert set(json.loads(text)["segments"][0]) == {
        "id", "conn", "src", "dst", "flags", "seq", "ack", "len", "sent", "fate", "arrived",
        "delivered_to", "retransmission", "duplicate_of",
    }  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(SCENARIOS)),
    drop=st.lists(st.integers(1, 14), max_size=3, unique=True),
)
def test_every_segment_has_exactly_one_outcome_that_agrees_with_its_fate(
    name: str, drop: list[int]
) -> None:
    trace = tcpbook.simulate(name, drop=drop)
    for seg in trace.segments:
        outcome = trace.outcome(seg)
        if seg.fate == "delivered":
            assert outcome in ("taken", "old-into-new", "no-connection", "host-gone")
            assert (outcome in ("taken", "old-into-new")) == (seg.delivered_to is not None)
            if outcome == "no-connection" and "RST" not in seg.flags:
                assert trace.answer_to(seg) is not None  # RFC 9293 3.10.7.1: answered by RST
        else:
            assert outcome == {"dropped": "lost", "expired": "expired"}.get(seg.fate, seg.fate)
