"""Chapter 03, why TIME_WAIT lasts 2MSL: a lost final ACK, the shortest TIME_WAIT, old segments."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..errors import TcpbookError
from .base import (
    FINAL_ACK,
    TOLERANCE,
    Exercise,
    how_b_closed,
    lost,
    number,
    segment_list,
    simulate,
    word,
)


def closes_cleanly(msl: float, *, drop: Iterable[int] = (FINAL_ACK,), rto: float = 1.0) -> bool:
    """True when, in ``close`` with these losses, B leaves LAST_ACK by an ACK rather than a RST."""
    trace = simulate("close", msl=msl, drop=list(drop), rto=rto)
    how = how_b_closed(trace)
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
    return math.ceil(high * 1000) / 1000  # up: a rounded-down MSL could break the close


def _check_lost_final_ack(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, str) or not isinstance(answer, list | tuple) or len(answer) != 2:
        raise TcpbookError(
            f"expected two times (B closes, A closes), like (1.0, 2.0); got {answer!r}"
        )
    b_said, a_said = (number(x, "each time in seconds") for x in answer)
    trace = simulate("close", drop=[FINAL_ACK])
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
    if abs(b_said - a_t) <= TOLERANCE and abs(a_said - b_t) <= TOLERANCE:
        return False, (
            f"Both times are right but in the wrong order: give B's first, ({b_t:g}, {a_t:g}). "
            "B closes as soon as an ACK of its FIN arrives; A waits 2MSL after its last ACK."
        )
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
    drops = segment_list(answer)
    trace = simulate("close", msl=3, drop=drops)
    how = how_b_closed(trace)
    if how is not None and how[0] == "rcv RST":
        arrive = next(
            s for s in reversed(trace.segments) if s.src == "B" and s.delivered_to is None
        )
        tw_end = next(
            (tr.t for tr in trace.transitions if tr.endpoint == "A" and tr.src == "TIME_WAIT"), 0.0
        )
        return True, (
            f"Yes: losing {lost(trace)}, A's TIME_WAIT ran out at {tw_end:g} s; B's FIN "
            f"#{arrive.id} arrived at {arrive.arrived:g} s at a host with no connection, which "
            f"answered RST, and B went from LAST_ACK to CLOSED by that RST at {how[1]:g} s."
        )
    if how is None:
        return False, (
            f"Losing {lost(trace)}, B never reached LAST_ACK's end: it finished in "
            f"{trace.final['B']}. Lose only what comes after B's first FIN (#10)."
        )
    acks = [s for s in trace.segments if s.src == "A" and s.fate == "delivered" and s.sent > 0.85]
    got = acks[-1] if acks else None
    text = f"Not yet: losing {lost(trace)}, B still closed cleanly at {how[1]:g} s"
    if got is not None:
        text += f" because A's ACK #{got.id} got through"
    return False, text + ". Every time A answers B's FIN, the ACK restarts 2MSL: keep losing."


def _check_linux_threshold(answer: Any) -> tuple[bool, str]:
    msl = number(answer, "an MSL in seconds")
    if msl <= 0:
        return False, "An MSL must be more than 0 seconds."
    rto = 0.2
    want = msl_threshold(rto=rto)  # the smallest clean MSL, to the millisecond
    why = (
        f"B's retransmitted FIN reaches A one RTO ({rto:g} s) after A entered TIME_WAIT, so A "
        f"must still be there {rto:g} s later: 2MSL > {rto:g} s, MSL > {rto / 2:g} s."
    )
    clean = msl > 0.05 and closes_cleanly(msl, rto=rto)
    if clean and msl - want <= TOLERANCE:
        return True, f"Yes: just above {rto / 2:g} s. " + why
    if clean:
        return False, (
            f"MSL {msl:g} s works, but so does a smaller one. How long after A enters "
            "TIME_WAIT does B's retransmitted FIN arrive?"
        )
    return False, (
        f"With MSL {msl:g} s the close breaks: A's TIME_WAIT is over before B's retransmitted "
        "FIN arrives, and B gets a RST. Compare 2MSL with B's RTO."
    )


def _check_old_segment_dies(answer: Any) -> tuple[bool, str]:
    msl = number(answer, "an MSL in seconds")
    if msl <= 0:
        return False, "An MSL must be more than 0 seconds."
    trace = simulate("old-duplicate", msl=msl, skip_time_wait=True, delay={4: 24.0})
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
    choice = word(answer, ("a", "b", "c"), "a letter")
    return _TTL_CHOICES[choice]


EXERCISES: tuple[Exercise, ...] = (
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
            "Start with [11] and look at the ladder: what does A send when B's FIN comes again?",
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
            "msl_threshold(rto=0.2) bisects for you; closes_cleanly(msl, rto=0.2) tests one value.",
            "How long after A enters TIME_WAIT does B's retransmitted FIN arrive?",
        ),
        "Just above 0.1 s, for example 0.101: the retransmission arrives exactly one RTO "
        "(0.2 s) after A entered TIME_WAIT, so 2MSL must be longer than 0.2 s (at exactly "
        "0.1 s the 2MSL timer and the FIN arrive together, and the timer wins).",
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
)
