"""The ``linux`` profile against eleven captures of a real Linux 6.18 kernel.

Each capture (``tests/data/linux-captures/``) is replayed as a model run with the ``linux``
profile and nothing else but a veth's latency (20 us one way) and the capture's own losses.
Both are reduced to the same facts and compared:

- the ordered SYN, FIN and RST segments and the pure ACKs that acknowledge a SYN or a FIN
  (sender, flags, relative sequence and acknowledgment numbers, lost or not);
- the outcome: the states each side went through (the capture's sock_diag path, which can miss
  a state shorter than its 1-2 ms poll, must be a subsequence of the model's), who passes
  TIME_WAIT, and the first error each application sees;
- the times: every response (a segment answering the other side's latest one) within 15 % or
  10 ms, every retransmission gap within 15 % or 40 ms (the kernel's timer wheel rounds long
  timers up), and the long timers within 5 % (SYN timeout, TIME_WAIT, FIN_WAIT_2) or 10 %
  (giving up on a retransmission).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tcpbook.scenarios import Scenario, get, variant
from tcpbook.settings import Settings
from tcpbook.sim import simulate_scenario
from tcpbook.trace import Trace

DATA = Path(__file__).parent / "data" / "linux-captures"
SUMMARY: dict[str, Any] = json.loads((DATA / "summary.json").read_text())
VETH = 20e-6  # one-way latency of a veth pair
PROFILE = "linux"

#: The capture's applications: 5 bytes each way at once, A closes right after reading B's
#: reply, B closes 200 ms after reading end-of-file.
APPS: dict[str, Any] = dict(
    a_bytes=5, b_bytes=5, a_send_after=0.0, b_send_after=0.0005, a_end_after=0.001
)


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    params: dict[str, Any]


CASES: dict[str, Case] = {
    "handshake-close": Case(variant("close", **APPS), {"drop": ()}),
    "final-ack-lost": Case(variant("close", **APPS), {"drop": (11,)}),
    "fin-lost": Case(variant("close", **APPS), {"drop": (8,)}),
    "syn-lost": Case(variant("close", **APPS), {"drop": (1,)}),
    # Every SYN lost on the way in: B listens but never hears of A.
    "syn-timeout": Case(get("handshake"), {"drop": tuple(range(1, 20))}),
    "refused": Case(get("refused"), {"drop": ()}),
    "abort": Case(variant("abort", **APPS), {"drop": ()}),
    "half-close": Case(
        variant(
            "half-close",
            **APPS,
            b_sends_after_eof=((0.1, 4), (0.2, 4), (0.3, 4)),
            b_close_after_eof=0.4,
        ),
        {"drop": ()},
    ),
    # A's TIME_WAIT was killed by hand (ss -K) as soon as it appeared: the model skips it.
    "late-fin": Case(variant("close", **APPS), {"drop": (11,), "skip_time_wait": True}),
    "final-ack-blackhole": Case(variant("late-fin", **APPS), {"drop": None}),
    # TCP_LINGER2 = 1 s on A; B closes 1.5 s after end-of-file.
    "late-fin-fw2": Case(
        variant("close", **APPS, b_close_after_eof=1.5), {"drop": (), "fin_timeout": 1.0}
    ),
}


@dataclass(frozen=True)
class Seg:
    t: float
    src: str
    flags: frozenset[str]
    seq: int
    ack: int | None
    len: int
    dropped: bool

    @property
    def key(self) -> tuple[str, frozenset[str], int]:
        return (self.src, self.flags, self.seq)


def _real(name: str) -> list[Seg]:
    return [
        Seg(
            s["t"],
            s["src"],
            frozenset(s["flags"]) - {"PSH"},
            s["seq"],
            s["ack"],
            s["len"],
            s["dropped"],
        )
        for s in json.loads((DATA / f"{name}.json").read_text())
    ]


def _model(trace: Trace) -> list[Seg]:
    """The model's segments numbered as the capture numbers them (relative to each ISN)."""
    isn = {"A": trace.params["isn_a"], "B": trace.params["isn_b"]}
    sent_syn = {s.src for s in trace.segments if "SYN" in s.flags}
    out = []
    for s in trace.segments:
        seq = s.seq - isn[s.src] if s.src in sent_syn else s.seq
        ack = None if s.ack is None else (s.ack - isn[s.dst]) % 2**32
        flags = frozenset(s.flags) - {"PSH"}
        out.append(Seg(s.sent, s.src, flags, seq, ack, s.len, s.fate == "dropped"))
    return out


def _run(name: str) -> Trace:
    case = CASES[name]
    params = Settings(profile=PROFILE, latency=VETH, **case.params)
    return simulate_scenario(case.scenario, params)


def _control(segs: list[Seg]) -> list[Seg]:
    """SYN, FIN and RST segments, and pure ACKs of a SYN or a FIN, in order."""
    ends: dict[str, set[int]] = {"A": set(), "B": set()}
    out = []
    for s in segs:
        if s.flags & {"SYN", "FIN", "RST"}:
            out.append(s)
            if s.flags & {"SYN", "FIN"}:
                ends[s.src].add(s.seq + s.len + 1)
        elif s.flags == {"ACK"} and s.len == 0 and s.ack in ends["B" if s.src == "A" else "A"]:
            out.append(s)
    return out


def _near(model: float, real: float, rel: float, absolute: float) -> bool:
    return abs(model - real) <= max(rel * abs(real), absolute)


def _responses(segs: list[Seg]) -> list[tuple[Seg, float]]:
    """Each first copy of a control segment with its delay after the other side's latest one."""
    control = set(map(id, _control(segs)))
    seen: set[tuple[str, frozenset[str], int]] = set()
    out = []
    for i, s in enumerate(segs):
        if id(s) not in control or s.key in seen:
            continue
        seen.add(s.key)
        before = [p for p in segs[:i] if p.src != s.src]
        if before:
            out.append((s, s.t - before[-1].t))
    return out


def _gaps(segs: list[Seg]) -> dict[tuple[str, frozenset[str], int], list[float]]:
    copies: dict[tuple[str, frozenset[str], int], list[float]] = {}
    for s in _control(segs):
        if s.flags & {"SYN", "FIN"}:
            copies.setdefault(s.key, []).append(s.t)
    return {k: [b - a for a, b in itertools.pairwise(ts)] for k, ts in copies.items()}


def _sock_diag_path(name: str, side: str) -> list[str]:
    return [p["to"] for p in SUMMARY[name]["state_paths_from_sock_diag"].get(side, [])]


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _real_errors(name: str) -> dict[str, str]:
    facts = SUMMARY[name]
    errors = {}
    if "app_connect_error" in facts:
        errors["A"] = facts["app_connect_error"]["errname"]
    if "app_recv1_error" in facts:
        errors["B"] = facts["app_recv1_error"]["errname"]
    return errors


def _model_errors(trace: Trace) -> dict[str, str]:
    errors: dict[str, str] = {}
    for e in trace.errors:
        errors.setdefault(e.endpoint, e.error)
    return errors


NAMES = sorted(CASES)


def test_every_capture_has_a_case() -> None:
    names = {p.stem for p in DATA.glob("*.json")} - {"summary", "environment"}
    assert names == set(CASES) and len(names) == 11


@pytest.mark.parametrize("name", NAMES)
def test_control_segments_match(name: str) -> None:
    real = [(s.src, s.flags, s.seq, s.ack, s.dropped) for s in _control(_real(name))]
    model = [(s.src, s.flags, s.seq, s.ack, s.dropped) for s in _control(_model(_run(name)))]
    assert model == real


@pytest.mark.parametrize("name", NAMES)
def test_outcome_matches(name: str) -> None:
    trace = _run(name)
    for side in "AB":
        real = _sock_diag_path(name, side)
        model = trace.path(side)
        assert _subsequence(real, model), (side, real, model)
        if real:
            assert ("TIME_WAIT" in real) == ("TIME_WAIT" in model), side
            if real[-1] == "CLOSED":
                assert trace.final[side] == "CLOSED"
    assert _model_errors(trace) == _real_errors(name)


@pytest.mark.parametrize("name", NAMES)
def test_response_times_match(name: str) -> None:
    real = _responses(_real(name))
    model = _responses(_model(_run(name)))
    assert [s.key for s, _ in model] == [s.key for s, _ in real]
    for (seg, m), (_, r) in zip(model, real, strict=True):
        assert _near(m, r, 0.15, 0.010), (seg, m, r)


@pytest.mark.parametrize("name", NAMES)
def test_retransmission_gaps_match(name: str) -> None:
    real = _gaps(_real(name))
    model = _gaps(_model(_run(name)))
    assert model.keys() == real.keys()
    for key, gaps in real.items():
        assert len(model[key]) == len(gaps), key
        for m, r in zip(model[key], gaps, strict=True):
            assert _near(m, r, 0.15, 0.040), (key, m, r)


def _time_wait_after_last_restart(trace: Trace, side: str) -> float | None:
    """From the last (re)start of ``side``'s 2MSL timer to the end of its TIME_WAIT."""
    end = next(
        (t.t for t in trace.transitions if t.endpoint == side and t.cause == "timeout 2MSL"),
        None,
    )
    if end is None:
        return None
    starts = [
        tm.t
        for tm in trace.timers
        if tm.endpoint == side and tm.timer == "time_wait" and tm.action == "start"
    ]
    return end - max(t for t in starts if t <= end)


def test_syn_timeout_matches() -> None:
    trace = _run("syn-timeout")
    failed = next(e.t for e in trace.errors if e.error == "ETIMEDOUT")
    real = SUMMARY["syn-timeout"]["app_connect_error"]["t"]
    assert _near(failed, real, 0.05, 0.0)
    assert len([s for s in trace.segments if "SYN" in s.flags]) == 11


@pytest.mark.parametrize("name", ["handshake-close", "final-ack-lost", "final-ack-blackhole"])
def test_time_wait_matches(name: str) -> None:
    facts = SUMMARY[name]["A_TIME_WAIT"]
    real = facts.get("duration_after_last_rearm_s", facts["duration_s"])
    model = _time_wait_after_last_restart(_run(name), "A")
    assert model is not None and _near(model, real, 0.05, 0.0), (model, real)


def test_orphaned_fin_wait_2_timeout_matches() -> None:
    path = SUMMARY["late-fin-fw2"]["state_paths_from_sock_diag"]["A"]
    entered = next(p["t"] for p in path if p["to"] == "FIN_WAIT_2")
    left = next(p["t"] for p in path if p["to"] == "CLOSED")
    trace = _run("late-fin-fw2")
    fw2 = [t for t in trace.transitions if t.endpoint == "A"]
    start = next(t.t for t in fw2 if t.dst == "FIN_WAIT_2")
    end = next(t.t for t in fw2 if t.cause == "timeout FIN_WAIT_2")
    assert _near(end - start, left - entered, 0.05, 0.0)


def test_giving_up_on_the_last_ack_matches() -> None:
    """B (LAST_ACK, every final ACK lost) gives up silently: no RST, no error, ~108 s."""
    real = SUMMARY["final-ack-blackhole"]["state_paths_from_sock_diag"]["B"][-1]
    trace = _run("final-ack-blackhole")
    gave_up = [t for t in trace.transitions if t.endpoint == "B" and t.src == "LAST_ACK"]
    assert [t.cause for t in gave_up] == ["timeout retransmit"]
    assert real["to"] == "CLOSED" and _near(gave_up[0].t, real["t"], 0.10, 0.0)
    assert not [s for s in trace.segments if "RST" in s.flags]


@pytest.mark.parametrize(
    ("name", "profile"),
    [
        ("fin-lost", "rfc9293"),
        ("syn-timeout", "rfc9293"),
        ("final-ack-blackhole", "rfc9293"),
        ("fin-lost", "freebsd"),
        ("final-ack-blackhole", "freebsd"),
    ],
)
def test_another_profile_does_not_pass_for_linux(name: str, profile: str) -> None:
    """The comparison can fail: under the rfc9293 profile (RTO at least 1 s, immediate ACKs,
    R2 by time) or freebsd's these captures of Linux do not match. (FreeBSD's SYN schedule,
    1 s five times then doubling, is Linux's within the tolerances until its 75 s limit.)"""
    case = CASES[name]
    settings = Settings(profile=profile, latency=VETH, **case.params)
    trace = simulate_scenario(case.scenario, settings)
    real, model = _real(name), _model(trace)
    same_segments = [(s.src, s.flags, s.seq, s.ack) for s in _control(model)] == [
        (s.src, s.flags, s.seq, s.ack) for s in _control(real)
    ]
    real_gaps, model_gaps = _gaps(real), _gaps(model)
    same_gaps = model_gaps.keys() == real_gaps.keys() and all(
        len(model_gaps[k]) == len(g)
        and all(_near(m, r, 0.15, 0.040) for m, r in zip(model_gaps[k], g, strict=True))
        for k, g in real_gaps.items()
    )
    assert not (same_segments and same_gaps)
