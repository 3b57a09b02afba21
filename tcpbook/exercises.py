"""Exercises at the end of each chapter, checked by running the reader's answer.

An exercise is a question, hints, a hidden solution and a checker. The checker does not compare
the answer with a stored one: it *simulates* it (``tcpbook.simulate`` or a
:class:`~tcpbook.drive.Driver`) and looks at what happened, so every answer that makes the
asked-for thing happen is right, and a wrong one is told, in words, what it did instead. In a
notebook::

    from tcpbook.exercises import check, hint, solution
    check("rst-ending", [11, 13])   # prints one paragraph: ✔ or ✘ and why

Feedback is printed, deterministic, and never a traceback: a badly formed answer gets one line
saying what shape of answer is expected. Chapters 01 and 02 keep their exercises in
:mod:`tcpbook.exercises_01_02`; they are registered here too, under the same ids.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import TcpbookError
from .trace import Trace

Checker = Callable[[Any], tuple[bool, str]]

FINAL_ACK = 11  # A's final ACK in the `close` scenario (segments 1-11, see tcpbook.scenarios)
TOLERANCE = 0.01  # seconds: how close a numeric answer must be


@dataclass(frozen=True)
class Exercise:
    """A question, its simulating checker, hints (gentle first) and the worked solution."""

    name: str
    chapter: str
    question: str
    checker: Checker
    hints: tuple[str, ...]
    solution: str


# --------------------------------------------------------------------------- answers


def _simulate(scenario: str, **kwargs: Any) -> Trace:
    from . import simulate

    return simulate(scenario, **kwargs)


def _segments(answer: Any) -> list[int]:
    """A list of segment numbers (a single number is accepted too)."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = [answer]
    if isinstance(answer, str | bytes | dict) or not isinstance(answer, Iterable):
        raise TcpbookError(f"expected a list of segment numbers like [11, 13], got {answer!r}")
    numbers = list(answer)
    for n in numbers:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TcpbookError(f"segment numbers are whole numbers from 1, got {n!r}")
    return sorted(set(numbers))


def _seconds(answer: Any, what: str = "a number of seconds") -> float:
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise TcpbookError(f"expected {what}, like 2.5, got {answer!r}")
    x = float(answer)
    if math.isnan(x) or math.isinf(x):
        raise TcpbookError(f"expected a finite number for {what}, got {answer!r}")
    return x


def _word(answer: Any, allowed: Iterable[str], what: str) -> str:
    options = list(allowed)
    if not isinstance(answer, str) or answer.strip().lower() not in [o.lower() for o in options]:
        raise TcpbookError(
            f"expected {what}: one of {', '.join(map(repr, options))}; got {answer!r}"
        )
    return next(o for o in options if o.lower() == answer.strip().lower())


def _moves(answer: Any) -> list[str]:
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise TcpbookError(
            f'expected a list of moves like ["B listen", "A connect"], got {answer!r}'
        )
    moves = list(answer)
    if not all(isinstance(m, str) for m in moves):
        raise TcpbookError("every move is a string such as 'A connect' or 'deliver A→B'")
    return moves


def _lost(trace: Trace) -> str:
    ids = [f"#{s.id}" for s in trace.segments if s.fate == "dropped"]
    return ", ".join(ids) if ids else "nothing"


def _how_b_closed(trace: Trace) -> tuple[str, float] | None:
    """B's cause and time of reaching CLOSED after LAST_ACK, if it did."""
    for tr in trace.transitions:
        if tr.endpoint == "B" and tr.src == "LAST_ACK":
            return tr.cause, tr.t
    return None


# --------------------------------------------------------------------------- chapter 03 tools


def closes_cleanly(msl: float, *, drop: Iterable[int] = (FINAL_ACK,), rto: float = 1.0) -> bool:
    """True when, in ``close`` with these losses, B leaves LAST_ACK by an ACK rather than a RST."""
    trace = _simulate("close", msl=msl, drop=list(drop), rto=rto)
    how = _how_b_closed(trace)
    return how is not None and how[0] == "rcv ACK of FIN"


def msl_threshold(
    *,
    drop: Iterable[int] = (FINAL_ACK,),
    rto: float = 1.0,
    low: float = 0.06,
    high: float = 30.0,
    tolerance: float = 1e-4,
    verbose: bool = False,
) -> float:
    """The smallest MSL at which the close still ends cleanly, found by bisection.

    Each step runs the simulator once: at ``low`` the close must break and at ``high`` it must
    work; the answer lies between them and the interval halves every step. ``low`` starts above
    the one-way latency (0.05 s), below which every segment would expire in flight.
    """
    losses = list(drop)
    if closes_cleanly(low, drop=losses, rto=rto) or not closes_cleanly(high, drop=losses, rto=rto):
        raise TcpbookError(
            f"bisection needs a breaking MSL ({low:g} s) and a working one ({high:g} s)"
        )
    step = 0
    while high - low > tolerance:
        mid = (low + high) / 2
        ok = closes_cleanly(mid, drop=losses, rto=rto)
        step += 1
        if verbose:
            print(f"step {step:2}: MSL {mid:8.4f} s -> {'clean close' if ok else 'RST'}")
        if ok:
            high = mid
        else:
            low = mid
    return round(high, 3)


# --------------------------------------------------------------------------- chapter 03


def _check_lost_final_ack(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, str) or not isinstance(answer, list | tuple) or len(answer) != 2:
        raise TcpbookError(
            f"expected two times (B closes, A closes), like (1.0, 2.0); got {answer!r}"
        )
    b_said, a_said = (_seconds(x, "each time in seconds") for x in answer)
    trace = _simulate("close", drop=[FINAL_ACK])
    b_t = next(t for t, s in trace.history("B") if s == "CLOSED" and t > 0)
    a_t = next(t for t, s in trace.history("A")[1:] if s == "CLOSED")
    rtx = next(s for s in trace.segments if s.src == "B" and s.retransmission)
    story = (
        f"B's FIN (#10) is not acknowledged, so B sends it again at {rtx.sent:g} s (#{rtx.id}); "
        f"A, still in TIME_WAIT, ACKs it again and restarts its 2MSL timer, so B is CLOSED at "
        f"{b_t:g} s and A at {a_t:g} s, 60 s after its last ACK."
    )
    if abs(b_said - b_t) <= TOLERANCE and abs(a_said - a_t) <= TOLERANCE:
        return True, "Yes. " + story
    wrong = [
        who
        for who, said, real in (("B's", b_said, b_t), ("A's", a_said, a_t))
        if abs(said - real) > TOLERANCE
    ]
    return False, (
        f"Not quite: {'both times are' if len(wrong) == 2 else wrong[0] + ' time is'} off. "
        "B leaves LAST_ACK only when an ACK of its FIN arrives, and #11 never does: what "
        "does B send next, and when? A's 2MSL timer "
        "starts again every time A answers a FIN."
    )


def _check_rst_ending(answer: Any) -> tuple[bool, str]:
    drops = _segments(answer)
    trace = _simulate("close", msl=3, drop=drops)
    how = _how_b_closed(trace)
    if how is not None and how[0] == "rcv RST":
        arrive = next(
            s for s in reversed(trace.segments) if s.src == "B" and s.delivered_to is None
        )
        tw_end = next(
            (tr.t for tr in trace.transitions if tr.endpoint == "A" and tr.src == "TIME_WAIT"), 0.0
        )
        return True, (
            f"Yes: losing {_lost(trace)}, A's TIME_WAIT ran out at {tw_end:g} s; B's FIN "
            f"#{arrive.id} arrived at {arrive.arrived:g} s at a host with no connection, which "
            f"answered RST, and B went from LAST_ACK to CLOSED by that RST at {how[1]:g} s."
        )
    if how is None:
        return False, (
            f"Losing {_lost(trace)}, B never reached LAST_ACK's end: it finished in "
            f"{trace.final['B']}. Lose only what comes after B's first FIN (#10)."
        )
    acks = [s for s in trace.segments if s.src == "A" and s.fate == "delivered" and s.sent > 0.85]
    got = acks[-1] if acks else None
    text = f"Not yet: losing {_lost(trace)}, B still closed cleanly at {how[1]:g} s"
    if got is not None:
        text += f" because A's ACK #{got.id} got through"
    return False, text + ". Every time A answers B's FIN, the ACK restarts 2MSL: keep losing."


def _check_linux_threshold(answer: Any) -> tuple[bool, str]:
    msl = _seconds(answer, "an MSL in seconds")
    if msl <= 0:
        return False, "An MSL must be more than 0 seconds."
    want = msl_threshold(rto=0.2)
    why = (
        f"B's retransmitted FIN reaches A one RTO (0.2 s) after A entered TIME_WAIT, so A must "
        f"still be there 0.2 s later: 2MSL > 0.2 s, MSL > {want:g} s."
    )
    if abs(msl - want) <= TOLERANCE:
        return True, f"Yes: just above {want:g} s. " + why
    if msl > 0.05 and closes_cleanly(msl, rto=0.2):
        return False, (
            f"MSL {msl:g} s works, but so does a smaller one. How long after A enters "
            "TIME_WAIT does B's retransmitted FIN arrive?"
        )
    return False, (
        f"With MSL {msl:g} s the close breaks: A's TIME_WAIT is over before B's retransmitted "
        "FIN arrives, and B gets a RST. Compare 2MSL with B's RTO."
    )


def _check_old_segment_dies(answer: Any) -> tuple[bool, str]:
    msl = _seconds(answer, "an MSL in seconds")
    if msl <= 0:
        return False, "An MSL must be more than 0 seconds."
    trace = _simulate("old-duplicate", msl=msl, skip_time_wait=True, delay={4: 24.0})
    old = trace.segment(4)
    if trace.final["A"] != "ESTABLISHED":
        return False, (
            f"With MSL {msl:g} s even fresh segments die (the one-way trip takes 0.05 s), so no "
            "connection is ever made. Pick a realistic MSL."
        )
    if old.fate == "expired":
        return True, (
            f"Yes: segment #4 needs 24.05 s to arrive, longer than MSL {msl:g} s, so the network "
            f"discards it at {old.sent + msl:g} s and connection 2 never sees it."
        )
    return False, (
        f"With MSL {msl:g} s, segment #4 (sent at 0.2 s, held 24 s) is still alive when it "
        f"arrives at {old.arrived:g} s and connection {old.delivered_to} takes its 100 bytes "
        "as its own. It dies only if it would live longer than MSL."
    )


_TTL_CHOICES = {
    "a": (
        False,
        "No: TTL counts router hops, not seconds. RFC 791 defined it in seconds, but in "
        "practice every router just subtracts 1, so a packet held in a queue for a minute "
        "still has the same TTL.",
    ),
    "b": (
        True,
        "Yes: TTL is decremented by each router and the packet is dropped at 0 (with an ICMP "
        "time exceeded); MSL is a time the designers assumed no segment outlives. TTL makes "
        "that assumption likely, but does not enforce it.",
    ),
    "c": (
        False,
        "No: no host measures MSL. Linux fixes TIME_WAIT at 60 s whatever the TTL, and a TTL of "
        "64 hops says nothing about seconds.",
    ),
}


def _check_ttl(answer: Any) -> tuple[bool, str]:
    choice = _word(answer, ("a", "b", "c"), "a letter")
    return _TTL_CHOICES[choice]


# --------------------------------------------------------------------------- chapter 04


def _check_skip_rst(answer: Any) -> tuple[bool, str]:
    drops = _segments(answer)
    trace = _simulate("close", skip_time_wait=True, drop=drops)
    how = _how_b_closed(trace)
    if how is not None and how[0] == "rcv RST" and len(drops) == 1:
        return True, (
            f"Yes: #{drops[0]} is A's final ACK. A has already forgotten the connection (no "
            f"TIME_WAIT), so B's retransmitted FIN finds nobody and is answered with RST at "
            f"{how[1]:g} s: the very thing TIME_WAIT exists to prevent."
        )
    if how is not None and how[0] == "rcv RST":
        return False, "B does end with a RST, but one lost segment is enough: which one?"
    ended = f"by {how[0]} at {how[1]:g} s" if how else f"in {trace.final['B']}"
    return (
        False,
        f"Losing {_lost(trace)}, B ended {ended}. Which segment does B wait for in LAST_ACK?",
    )


def _check_gives_up(answer: Any) -> tuple[bool, str]:
    said = _seconds(answer)
    trace = _simulate("a-vanishes")
    fins = [s for s in trace.segments if s.src == "B" and "FIN" in s.flags]
    end = next(tr.t for tr in trace.transitions if tr.cause == "timeout retransmit")
    want = round(end - fins[0].sent, 9)
    gaps = ", ".join(f"{b.sent - a.sent:g}" for a, b in itertools.pairwise(fins))
    why = (
        f"B sends its FIN at {fins[0].sent:g} s and {len(fins) - 1} retransmissions with gaps "
        f"of {gaps} s (the RTO doubles, up to its 120 s cap), then waits one more RTO and gives "
        f"up at {end:g} s: {want:g} s in all, with nothing sent to A's side at the end."
    )
    if abs(said - want) <= TOLERANCE:
        return True, "Yes. " + why
    return False, (
        f"Not {said:g} s. Add up the gaps between B's FINs in trace.segments: the RTO doubles "
        "after each try but never exceeds 120 s, and after its last try B waits one more RTO "
        "before it gives up."
    )


_HOST_SETTINGS = ("rfc1337", "skip_time_wait", "fin_timeout", "msl")


def _check_keep_time_wait(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, dict) or not all(isinstance(k, str) for k in answer):
        raise TcpbookError(f'expected a dict of options like {{"msl": 10}}, got {answer!r}')
    bad = [k for k in answer if k not in _HOST_SETTINGS]
    if bad:
        return False, (
            f"{', '.join(bad)} is not a setting of host A; the network's misbehaviour is not "
            f"yours to change. Choose from: {', '.join(_HOST_SETTINGS)}."
        )
    trace = _simulate("assassination", **answer)
    msl = trace.params["msl"]
    waited = trace.time_in("A", "TIME_WAIT")
    if any(tr.endpoint == "A" and tr.cause == "rcv RST" for tr in trace.transitions):
        return False, (
            f"A's TIME_WAIT is still ended by B's RST after {waited:g} s of its {2 * msl:g} s."
        )
    if waited > 0 and abs(waited - 2 * msl) <= TOLERANCE and answer.get("rfc1337"):
        return True, (
            f"Yes: with {answer} A ignores the RST that arrives at 3 s (RFC 1337) and stays in "
            f"TIME_WAIT for the whole 2MSL, {waited:g} s."
        )
    if waited > 0 and abs(waited - 2 * msl) <= TOLERANCE:
        return False, (
            f"With {answer} A's TIME_WAIT ({waited:g} s) is over before the RST arrives at 3 s, "
            "so this RST misses, but the next one, later, would not: and a short TIME_WAIT "
            "brings back the two dangers of chapter 03. Which setting makes A ignore RSTs?"
        )
    return False, f"A spent {waited:g} s in TIME_WAIT, not the full 2MSL."


def _check_close_wait_left(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, str) or not isinstance(answer, list | tuple) or len(answer) != 2:
        raise TcpbookError(f'expected (endpoint, state), like ("A", "LISTEN"); got {answer!r}')
    who = _word(answer[0], ("A", "B"), "an endpoint")
    state = str(answer[1]).upper().replace("-", "_")
    trace = _simulate("fin-wait-2-hang", fin_timeout=60.0)
    final = trace.final
    if final.get(who) == state and state != "CLOSED":
        return True, (
            f"Yes: A gives up FIN_WAIT_2 after 60 s, but B stays in {state} for ever: its "
            "application never calls close(). No timer in TCP ends CLOSE_WAIT; a server with "
            "thousands of them has a bug in its code, not in its kernel."
        )
    return False, f"After the run A is {final['A']} and B is {final['B']}: which one is stuck?"


def _check_reset_without_abort(answer: Any) -> tuple[bool, str]:
    from .scenarios import SCENARIOS

    name = _word(answer, SCENARIOS, "a scenario name")
    trace = _simulate(name)
    aborted = any(tr.cause == "ABORT" for tr in trace.transitions)
    reset = [e for e in trace.errors if e.endpoint == "B" and e.error == "ECONNRESET"]
    if reset and not aborted:
        return True, (
            f"Yes: in {name!r} A calls close(), not abort(), but data it never read is waiting, "
            "so Linux sends RST instead of FIN (RFC 2525 section 2.17) and B's application sees "
            "ECONNRESET."
        )
    if reset:
        return False, f"In {name!r} B does see ECONNRESET, but because A calls abort()."
    return False, f"In {name!r} B's application never sees ECONNRESET."


# --------------------------------------------------------------------------- chapter 05


def _check_reach_closing(answer: Any) -> tuple[bool, str]:
    from .scenarios import SCENARIOS

    options: dict[str, Any] = {}
    if isinstance(answer, tuple | list) and len(answer) == 2 and isinstance(answer[1], dict):
        answer, options = answer[0], dict(answer[1])
    name = _word(answer, SCENARIOS, "a scenario name (optionally with options)")
    trace = _simulate(name, **options)
    hits = [tr for tr in trace.transitions if tr.dst == "CLOSING"]
    if hits:
        tr = hits[0]
        return True, (
            f"Yes: {tr.endpoint} enters CLOSING at {tr.t:g} s: it had sent its FIN and received "
            "the peer's FIN before any ACK of its own, so both FINs crossed in the network."
        )
    paths = "; ".join(f"{e}: {' → '.join(trace.path(e))}" for e in ("A", "B"))
    return False, f"Nobody passes through CLOSING ({paths}). What must cross in the network?"


def _drive_until(moves: list[str], goal: Callable[[dict[str, str]], bool]) -> tuple[bool, str]:
    from .drive import Driver

    driver = Driver()
    for move in moves:
        outcome = driver.apply(move)
        if not outcome.ok:
            return False, f"Move {move!r} was refused: {outcome.text.split(': ', 1)[-1]}"
        if goal(driver.states):
            return True, f"after {move!r}: A {driver.state('A')}, B {driver.state('B')}"
    return False, f"after all {len(moves)} moves: A {driver.state('A')}, B {driver.state('B')}"


def _check_both_syn_received(answer: Any) -> tuple[bool, str]:
    moves = _moves(answer)
    ok, where = _drive_until(moves, lambda s: s["A"] == s["B"] == "SYN_RECEIVED")
    if ok:
        return True, (
            f"Yes, {where}: both sides sent a SYN before either SYN arrived, so each answers "
            "the other's SYN with SYN,ACK: simultaneous open (RFC 9293 Figure 8)."
        )
    return False, f"Not both in SYN_RECEIVED yet ({where}). Neither side needs to listen()."


def _check_both_time_wait(answer: Any) -> tuple[bool, str]:
    moves = _moves(answer)
    ok, where = _drive_until(moves, lambda s: s["A"] == s["B"] == "TIME_WAIT")
    if ok:
        return True, (
            f"Yes, {where}: both sides closed before hearing the other's FIN, so both went "
            "through CLOSING and both must wait 2MSL."
        )
    return False, f"Not both in TIME_WAIT yet ({where}). Who closes first, and when?"


def _check_listen_send(answer: Any) -> tuple[bool, str]:
    from .drive import Driver, reached

    moves = _moves(answer)
    driver = Driver()
    refused = [o for o in driver.run(moves) if not o.ok]
    if ("LISTEN", "SEND", "SYN_SENT") in reached(driver.trace):
        return True, (
            "Yes: RFC 9293 section 3.10.2 lets a SEND on a listening socket turn it into an "
            "active open: the SYN goes out and the data waits for ESTABLISHED. The sockets API "
            "has no way to ask for this, which is why no scenario shows it."
        )
    why = f" ({refused[0].text.lstrip('✗ ')})" if refused else ""
    return False, f"A never went from LISTEN to SYN_SENT on SEND{why}."


# --------------------------------------------------------------------------- the register


def _own() -> tuple[Exercise, ...]:
    return (
        Exercise(
            "lost-final-ack",
            "03",
            "In `close`, lose A's final ACK (segment 11). At what times do B and A reach "
            "CLOSED? Answer like (1.0, 2.0): B's time first.",
            _check_lost_final_ack,
            (
                "Run tcpbook.simulate('close', drop=[11]) and look at trace.history('B').",
                "B needs an ACK of its FIN: when does it send the FIN again, and what does A do "
                "with it?",
            ),
            "(1.95, 61.9): B retransmits its FIN at 1.85 s, A (in TIME_WAIT) ACKs it at 1.9 s "
            "and restarts 2MSL; B is CLOSED at 1.95 s, A 60 s after 1.9 s.",
        ),
        Exercise(
            "rst-ending",
            "03",
            "With msl=3 (TIME_WAIT lasts 6 s), which segments of `close` must be lost so that "
            "B ends with a RST instead of an ACK? Answer with a list of segment numbers.",
            _check_rst_ending,
            (
                "Start with [11] and look at the ladder: what does A send when B's FIN comes "
                "again?",
                "Each ACK A sends in TIME_WAIT restarts its 6 s; B's FIN comes back after 1, 2, "
                "4, 8 s. Keep losing A's ACKs until one gap is longer than 6 s.",
            ),
            "[11, 13, 15, 17]: A's four ACKs. B's FIN retransmissions arrive at 1.9, 3.9, 7.9 "
            "and 15.9 s; the last ACK (7.9 s) restarted TIME_WAIT to end at 13.9 s, so the FIN "
            "at 15.9 s finds no connection and A's host answers RST.",
        ),
        Exercise(
            "linux-threshold",
            "03",
            "Linux retransmits much sooner than 1 s (its minimum RTO is 200 ms). With rto=0.2 "
            "and A's final ACK lost, what is the smallest MSL for which B still closes cleanly? "
            "Answer in seconds (0.01 s precision is enough).",
            _check_linux_threshold,
            (
                "msl_threshold(rto=0.2) bisects for you; closes_cleanly(msl, rto=0.2) tests one "
                "value.",
                "How long after A enters TIME_WAIT does B's retransmitted FIN arrive?",
            ),
            "0.1 s: the retransmission arrives exactly one RTO (0.2 s) after A entered "
            "TIME_WAIT, so 2MSL must be longer than 0.2 s.",
        ),
        Exercise(
            "old-segment-dies",
            "03",
            "In `old-duplicate` with skip_time_wait=True, segment 4 is held up in a router for "
            "24 s (delay={4: 24}). Give an MSL for which the network discards the old segment "
            "before it can reach connection 2.",
            _check_old_segment_dies,
            (
                "A segment still in flight MSL after it was sent is discarded. How long is "
                "segment 4 in flight?",
            ),
            "Anything from 0.05 s up to just under 24.05 s, for example 20: the segment would "
            "need 24.05 s to arrive and dies at 0.2 s + MSL. This is the network's half of the "
            "bargain; TIME_WAIT is the host's half.",
        ),
        Exercise(
            "ttl-vs-msl",
            "03",
            "Which is true? (a) TTL is the segment's lifetime in seconds, so MSL = TTL. (b) TTL "
            "counts router hops; MSL is a time bound the designers assumed. (c) Hosts measure "
            "MSL from the TTL of arriving packets. Answer 'a', 'b' or 'c'.",
            _check_ttl,
            ("What does a router do to the TTL field, and does it look at a clock?",),
            "(b): every router decrements TTL by one and drops the packet at 0, sending ICMP "
            "time exceeded; nothing counts seconds. MSL (RFC 9293 3.4.1) is an assumption.",
        ),
        Exercise(
            "skip-rst",
            "04",
            "With skip_time_wait=True, which single segment of `close` must be lost for B to "
            "end with a RST? Answer with its number.",
            _check_skip_rst,
            ("Which segment does B wait for in LAST_ACK?",),
            "[11], A's final ACK: B retransmits its FIN, A has no connection any more and "
            "answers RST.",
        ),
        Exercise(
            "gives-up",
            "04",
            "In `a-vanishes`, how many seconds after sending its first FIN does B give up?",
            _check_gives_up,
            (
                "List B's FIN segments with trace.segments and find B's 'timeout retransmit' "
                "transition.",
                "The RTO doubles after each try but never exceeds 120 s (Linux TCP_RTO_MAX); "
                "an orphaned socket tries 8 times (tcp_orphan_retries).",
            ),
            "367 s: retransmissions after 1, 2, 4, 8, 16, 32, 64 and 120 s, then one more "
            "120 s wait: 1 + 2 + ... + 64 + 120 + 120 = 367.",
        ),
        Exercise(
            "keep-time-wait",
            "04",
            "In `assassination`, which setting of host A keeps it in TIME_WAIT for the full "
            'two MSL? Answer with a dict of simulate options, like {"msl": 10}.',
            _check_keep_time_wait,
            ("Which RFC is about TIME-WAIT assassination?",),
            '{"rfc1337": True}: A ignores RSTs in TIME_WAIT, as RFC 1337 advises (Linux: '
            "net.ipv4.tcp_rfc1337 = 1).",
        ),
        Exercise(
            "stuck-side",
            "04",
            "Run `fin-wait-2-hang` with fin_timeout=60. Which side is still holding a "
            'connection at the end, and in which state? Answer like ("A", "LISTEN").',
            _check_close_wait_left,
            ("Look at trace.final.",),
            '("B", "CLOSE_WAIT"): the timer frees A, but B waits for its own application.',
        ),
        Exercise(
            "reset-without-abort",
            "04",
            "Name a built-in scenario in which B's application sees ECONNRESET although no "
            "one calls abort().",
            _check_reset_without_abort,
            ("Look through python -m tcpbook scenarios for a close that sends RST.",),
            "'close-unread': A closes with unread data in its receive buffer.",
        ),
        Exercise(
            "reach-closing",
            "05",
            "Name a scenario (or a pair (scenario, {options})) in which an endpoint passes "
            "through CLOSING.",
            _check_reach_closing,
            ("CLOSING is entered from FIN_WAIT_1 on receiving a FIN.",),
            "'simultaneous-close': both FINs cross, so both sides pass through CLOSING.",
        ),
        Exercise(
            "both-syn-received",
            "05",
            "With the Driver, give a list of moves that puts A and B in SYN_RECEIVED at the "
            'same time, like ["B listen", "A connect", "deliver A→B"].',
            _check_both_syn_received,
            ("Both sides can call connect().",),
            '["A connect", "B connect", "deliver A→B", "deliver B→A"]: each SYN arrives at a '
            "side in SYN_SENT.",
        ),
        Exercise(
            "both-time-wait",
            "05",
            "With the Driver, give a list of moves that puts A and B in TIME_WAIT at the same "
            "time.",
            _check_both_time_wait,
            (
                "Open the connection first (B listen, A connect, then deliver three segments).",
                "Both must close before either FIN arrives.",
            ),
            '["B listen", "A connect", "deliver A→B", "deliver B→A", "deliver A→B", "A close", '
            '"B close", "deliver A→B", "deliver B→A", "deliver A→B", "deliver B→A"]',
        ),
        Exercise(
            "listen-send",
            "05",
            "No scenario uses the table row LISTEN --SEND--> SYN_SENT. Give Driver moves that "
            "make A go along it.",
            _check_listen_send,
            ("A must be listening first; then what can a user call on a listening socket?",),
            '["A listen", "A send"]',
        ),
    )


def _register() -> dict[str, Exercise]:
    from .exercises_01_02 import EXERCISES as EARLY

    found: dict[str, Exercise] = {
        e.name: Exercise(e.name, e.chapter, e.question, e.checker, (e.hint,), e.solution)
        for e in EARLY.values()
    }
    for own in _own():
        if own.name in found:
            raise AssertionError(f"two exercises called {own.name!r}")
        found[own.name] = own
    return dict(sorted(found.items(), key=lambda kv: kv[1].chapter))


EXERCISES: dict[str, Exercise] = _register()


# --------------------------------------------------------------------------- the reader's API


def _get(name: Any) -> Exercise:
    try:
        return EXERCISES[name]
    except (KeyError, TypeError):
        raise TcpbookError(
            f"no exercise called {name!r}; choose from: {', '.join(EXERCISES)}"
        ) from None


def for_chapter(chapter: str) -> list[Exercise]:
    """The exercises of ``chapter`` ("03"), in the order the chapter asks them."""
    return [e for e in EXERCISES.values() if e.chapter == chapter]


def grade(name: str, answer: Any) -> tuple[bool, str]:
    """``(correct, feedback)``: a badly formed answer is not correct, and says why in one line."""
    exercise = _get(name)
    try:
        return exercise.checker(answer)
    except TcpbookError as err:
        return False, f"Cannot check that answer: {err}"
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as err:
        return False, f"Cannot check that answer ({type(err).__name__}: {err})."


def _say(action: Callable[[], str]) -> None:
    """Print what ``action`` returns, or the one-line message of a reader's mistake."""
    try:
        print(action())
    except TcpbookError as err:
        print(err)


def question(name: str) -> None:
    """Print the question."""
    _say(lambda: f"[{name}] {_get(name).question}")


def check(name: str, answer: Any) -> None:
    """Simulate ``answer`` and print whether it does what the question asks, and why."""

    def run() -> str:
        correct, feedback = grade(name, answer)
        return ("✔ " if correct else "✘ ") + feedback

    _say(run)


def hint(name: str, number: int | None = None) -> None:
    """Print the hints (or only hint ``number``, counting from 1)."""

    def run() -> str:
        hints = _get(name).hints
        if number is None:
            return "\n".join(f"Hint {i}: {h}" for i, h in enumerate(hints, 1))
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(hints):
            raise TcpbookError(f"{name!r} has hints 1 to {len(hints)}, not {number!r}")
        return f"Hint {number}: {hints[number - 1]}"

    _say(run)


def solution(name: str) -> None:
    """Print the worked solution."""
    _say(lambda: "Solution: " + _get(name).solution)


def show(chapter: str) -> None:
    """Print every exercise of ``chapter``: id and question."""
    _say(
        lambda: (
            "\n\n".join(f"[{e.name}] {e.question}" for e in for_chapter(chapter))
            or f"no exercises for chapter {chapter!r}"
        )
    )


__all__ = [
    "EXERCISES",
    "Exercise",
    "check",
    "closes_cleanly",
    "for_chapter",
    "grade",
    "hint",
    "msl_threshold",
    "question",
    "show",
    "solution",
]
