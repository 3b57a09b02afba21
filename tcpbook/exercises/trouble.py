"""Chapter 04, when things go wrong: vanished hosts, skipped TIME_WAIT, aborts and resets."""

from __future__ import annotations

import itertools
from typing import Any

from ..errors import TcpbookError
from .base import (
    TOLERANCE,
    Exercise,
    endpoint,
    how_b_closed,
    lost,
    number,
    pair,
    segment_list,
    simulate,
    state_name,
    word,
)


def _check_skip_rst(answer: Any) -> tuple[bool, str]:
    drops = segment_list(answer)
    trace = simulate("close", skip_time_wait=True, drop=drops)
    how = how_b_closed(trace)
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
        f"Losing {lost(trace)}, B ended {ended}. Which segment does B wait for in LAST_ACK?",
    )


def _check_gives_up(answer: Any) -> tuple[bool, str]:
    said = number(answer)
    trace = simulate("a-vanishes")
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
    answer = {k.strip().lower().replace("-", "_"): v for k, v in answer.items()}
    bad = [k for k in answer if k not in _HOST_SETTINGS]
    if bad:
        return False, (
            f"{', '.join(bad)} is not a setting of host A; the network's misbehaviour is not "
            f"yours to change. Choose from: {', '.join(_HOST_SETTINGS)}."
        )
    trace = simulate("assassination", **answer)
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
    side, name = pair(answer, '("A", "LISTEN")')
    who, state = endpoint(side), state_name(name)
    trace = simulate("fin-wait-2-hang", fin_timeout=60.0)
    final = trace.final
    if final.get(who) == state and state != "CLOSED":
        return True, (
            f"Yes: A gives up FIN_WAIT_2 after 60 s, but B stays in {state}: its application "
            "never calls close(), and while the connection is idle nothing on the network can "
            "end it. (Timers do end CLOSE_WAIT when there is something to time: B's unanswered "
            "data or FIN is retransmitted until B gives up, and keepalive probes a silent peer.) "
            "A server with thousands of idle CLOSE_WAIT sockets has a bug in its code, not in its "
            "kernel."
        )
    return False, f"After the run A is {final['A']} and B is {final['B']}: which one is stuck?"


def _check_reset_without_abort(answer: Any) -> tuple[bool, str]:
    from ..scenarios import SCENARIOS

    name = word(answer, SCENARIOS, "a scenario name")
    trace = simulate(name)
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


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "skip-rst",
        "04",
        "With skip_time_wait=True, which single segment of `close` must be lost for B to "
        "end with a RST? Answer with its number.",
        _check_skip_rst,
        ("Which segment does B wait for in LAST_ACK?",),
        "[11], A's final ACK: B retransmits its FIN, A has no connection any more and answers RST.",
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
)
