"""Exercises for chapters 01 (the handshake) and 02 (the four-way close).

Each exercise is a question, a checker that *runs the reader's answer through the simulator*
(so any answer that makes the asked-for thing happen is right, not only the one we had in
mind), a hint and a worked solution. In a notebook::

    from tcpbook.exercises_01_02 import check, hint, solution
    check("syn-timeout", [1, 2, 3])     # prints what happened and whether that is it

Feedback is printed, never returned, so a cell shows it the same way on every run.
:func:`grade` returns ``(correct, feedback)`` for tests and for code that collects answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import TcpbookError
from .trace import Trace

Checker = Callable[[Any], tuple[bool, str]]


@dataclass(frozen=True)
class Exercise:
    """A question, its simulating checker, a hint and the solution (shown on request only)."""

    name: str
    chapter: str
    question: str
    checker: Checker
    hint: str
    solution: str


def _simulate(scenario: str, **kwargs: Any) -> Trace:
    from . import simulate

    return simulate(scenario, **kwargs)


def _segment_numbers(answer: Any) -> list[int]:
    """The reader's list of segment numbers, or a one-line error saying what is expected."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = [answer]
    if isinstance(answer, str | bytes) or not hasattr(answer, "__iter__"):
        raise TcpbookError(f"expected a list of segment numbers like [1, 2], got {answer!r}")
    numbers = list(answer)
    for n in numbers:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TcpbookError(
                f"segment numbers are whole numbers from 1 (in send order), got {n!r}"
            )
    return numbers


def _number(answer: Any, what: str) -> float:
    if isinstance(answer, bool) or not isinstance(answer, int | float) or math.isnan(answer):
        raise TcpbookError(f"expected {what} as a number, got {answer!r}")
    return float(answer)


def _numbers(answer: Any, count: int, what: str) -> list[float]:
    if isinstance(answer, str | bytes) or not hasattr(answer, "__len__") or len(answer) != count:
        raise TcpbookError(f"expected {count} numbers ({what}), got {answer!r}")
    return [_number(x, "each value") for x in answer]


# --------------------------------------------------------------------------- chapter 01


def _check_syn_timeout(answer: Any) -> tuple[bool, str]:
    drops = _segment_numbers(answer)
    trace = _simulate("handshake", drop=drops)
    failed = [e for e in trace.errors if e.endpoint == "A" and e.error == "ETIMEDOUT"]
    syns = [s for s in trace.segments if s.src == "A" and s.flags == ("SYN",)]
    if failed:
        return True, (
            f"Yes: with segments {drops} lost, A sent {len(syns)} SYNs (at "
            + ", ".join(f"{s.sent:g}" for s in syns)
            + f" s) and connect() failed with ETIMEDOUT at {failed[0].t:g} s."
        )
    when = next(
        (tr.t for tr in trace.transitions if tr.endpoint == "A" and tr.dst == "ESTABLISHED"), None
    )
    lost = [s.id for s in trace.segments if s.fate == "dropped"]
    arrived = [
        f"#{s.id} {','.join(s.flags)}"
        for s in trace.segments
        if s.fate == "delivered" and "SYN" in s.flags and s.id not in lost
    ]
    text = "Not yet: "
    text += (
        f"A still reached ESTABLISHED at {when:g} s"
        if when is not None
        else f"A ended in {trace.final['A']} without an error"
    )
    if arrived:
        text += f", because {arrived[-1]} got through"
    return False, text + ". Which segments does A's connect() depend on?"


def _check_handshake_numbers(answer: Any) -> tuple[bool, str]:
    got = _numbers(answer, 3, "SYN,ACK's ack, final ACK's seq, final ACK's ack")
    trace = _simulate("handshake", isn_a=4242, isn_b=777, drop=())
    synack, last = trace.segment(2), trace.segment(3)
    want = [synack.ack, last.seq, last.ack]
    names = ("the SYN,ACK's ack", "the final ACK's seq", "the final ACK's ack")
    wrong = [f"{n} is not {g:g}" for n, g, w in zip(names, got, want, strict=True) if g != w]
    if not wrong:
        return True, (
            "Yes: each side acknowledges the other's ISN + 1, because a SYN occupies one "
            "sequence number even though it carries no data."
        )
    return False, "Not quite: " + "; ".join(wrong) + ". What does a SYN consume?"


def _check_give_up(answer: Any) -> tuple[bool, str]:
    got = _number(answer, "a time in seconds")
    trace = _simulate("no-answer", syn_retries=3)
    t = next(e.t for e in trace.errors if e.error == "ETIMEDOUT")
    if abs(got - t) < 0.01:
        syns = ", ".join(f"{s.sent:g}" for s in trace.segments if s.src == "A")
        return True, f"Yes: SYNs at {syns} s, then one last timeout of 8 s: ETIMEDOUT at {t:g} s."
    return False, (
        f"Not {got:g} s. The first RTO is 1 s and each timeout doubles it; after the last "
        "retransmission A still waits one (doubled) RTO before giving up."
    )


# --------------------------------------------------------------------------- chapter 02


def _check_who_waits(answer: Any) -> tuple[bool, str]:
    if (
        isinstance(answer, str | bytes)
        or not hasattr(answer, "__len__")
        or len(answer) != 2
        or answer[0] not in ("A", "B")
    ):
        raise TcpbookError(f'expected ("A" or "B", seconds), got {answer!r}')
    who, seconds = answer[0], _number(answer[1], "the seconds")
    trace = _simulate("close")
    wait = {e: trace.time_in(e, "TIME_WAIT") for e in ("A", "B")}
    if wait[who] > 0 and abs(wait[who] - seconds) < 0.01:
        return True, (
            f"Yes: {who} spends {wait[who]:g} s in TIME_WAIT (2MSL with MSL = 30 s); the other "
            f"side spends {wait['B' if who == 'A' else 'A']:g} s there."
        )
    if wait[who] == 0:
        return False, f"{who} never enters TIME_WAIT in this run: who closed first?"
    return False, f"{who} is right, but it waits {wait[who]:g} s, not {seconds:g} s."


def _check_lost_fin(answer: Any) -> tuple[bool, str]:
    drops = _segment_numbers(answer)
    trace = _simulate("close", drop=drops)
    fins = [s for s in trace.segments if s.src == "A" and "FIN" in s.flags]
    if len(drops) == 1 and fins and fins[0].id == drops[0] and fins[0].fate == "dropped":
        again = fins[1]
        return True, (
            f"Yes: #{drops[0]} is A's first FIN. It is lost, nothing acknowledges it, and A's "
            f"retransmission timer sends it again at {again.sent:g} s (#{again.id}); the close "
            f"then goes on as before and A is CLOSED at {trace.end:g} s."
        )
    lost = ", ".join(f"#{s.id} {','.join(s.flags)}" for s in trace.segments if s.fate == "dropped")
    return False, (
        f"That loses {lost or 'nothing'}. Lose exactly one segment: the first one carrying FIN "
        "from A to B."
    )


def _check_fin_ack_count(answer: Any) -> tuple[bool, str]:
    got = _number(answer, "a count of segments")
    trace = _simulate("fin-ack")
    first_fin = next(s.id for s in trace.segments if "FIN" in s.flags)
    count = len(trace.segments) - first_fin + 1
    if got == count:
        return True, (
            f"Yes, {count}: B's FIN carries the ACK of A's FIN, so the second and third "
            "'waves' travel in one segment."
        )
    return False, f"Not {got:g}. Count the segments from A's FIN to the end of the run."


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in (
        Exercise(
            "syn-timeout",
            "01",
            "In the `handshake` scenario, which segments must the network lose so that A's "
            "connect() fails with ETIMEDOUT? Answer with a list of segment numbers.",
            _check_syn_timeout,
            "Lose the first SYN and look at the ladder: what does A send next, and when? Keep "
            "losing whatever A depends on until it gives up.",
            "Lose every SYN A sends: [1, 2, 3, 4, 5, 6, 7]. With no retransmission left "
            "(tcp_syn_retries = 6) A gives up at 127 s. Losing everything B sends back works "
            "too, but the numbers shift, because each SYN that arrives makes B answer.",
        ),
        Exercise(
            "handshake-numbers",
            "01",
            "A's initial sequence number is 4242 and B's is 777. Give three numbers: the ack "
            "number of B's SYN,ACK, and the seq and ack numbers of A's final ACK.",
            _check_handshake_numbers,
            "An ack number names the next byte the sender expects. How many sequence numbers "
            "does a SYN take up?",
            "(4243, 4243, 778): the SYN takes one sequence number, so B expects 4243 next "
            "and A's next segment starts there; A expects B's byte 778.",
        ),
        Exercise(
            "give-up",
            "01",
            "Someone sets tcp_syn_retries = 3 (syn_retries=3). A connects to a host that never "
            "answers. After how many seconds does connect() fail?",
            _check_give_up,
            "Write down when each SYN goes out: 0, then after 1 s, 2 s, 4 s, ... How long "
            "does A wait after the last one?",
            "15 s: SYNs at 0, 1, 3 and 7 s (three retries), then A waits one more doubled RTO "
            "(8 s) for an answer and gives up at 15 s.",
        ),
        Exercise(
            "who-waits",
            "02",
            "In the `close` scenario (MSL = 30 s), which side enters TIME_WAIT, and for how "
            'many seconds? Answer like ("B", 10).',
            _check_who_waits,
            "Look at trace.time_in(endpoint, 'TIME_WAIT') for both sides.",
            '("A", 60): A closed first, so A waits 2MSL = 60 s; B goes from LAST_ACK '
            "straight to CLOSED.",
        ),
        Exercise(
            "lost-fin",
            "02",
            "Which single segment must be lost so that A has to send its first FIN again? "
            "Answer with a list holding its number.",
            _check_lost_fin,
            "Find A's FIN in the list of segments of the `close` scenario.",
            "[8]: A's FIN,ACK. A retransmits it one RTO (1 s) later, at 1.6 s.",
        ),
        Exercise(
            "fin-ack-count",
            "02",
            "In the `fin-ack` scenario B closes the moment it reads A's FIN. How many segments "
            "does the close take, counting A's FIN and everything after it?",
            _check_fin_ack_count,
            "Run tcpbook.simulate('fin-ack') and look at its segments from A's FIN on.",
            "3: FIN,ACK from A, FIN,ACK from B (it also ACKs A's FIN), and A's final ACK.",
        ),
    )
}


def _get(name: str) -> Exercise:
    try:
        return EXERCISES[name]
    except KeyError:
        raise TcpbookError(
            f"no exercise called {name!r}; choose from: {', '.join(EXERCISES)}"
        ) from None


def grade(name: str, answer: Any) -> tuple[bool, str]:
    """``(correct, feedback)`` for ``answer``; a badly formed answer is wrong, with a reason."""
    try:
        return _get(name).checker(answer)
    except TcpbookError as err:
        if str(err).startswith("no exercise called"):
            raise
        return False, f"Cannot check that answer: {err}"


def question(name: str) -> None:
    """Print the question."""
    print(_get(name).question)


def check(name: str, answer: Any) -> None:
    """Simulate ``answer`` and print whether it does what the question asks, and why."""
    correct, feedback = grade(name, answer)
    print(("✔ " if correct else "✘ ") + feedback)


def hint(name: str) -> None:
    """Print a hint."""
    print("Hint: " + _get(name).hint)


def solution(name: str) -> None:
    """Print the worked solution."""
    print("Solution: " + _get(name).solution)


__all__ = ["EXERCISES", "Exercise", "check", "grade", "hint", "question", "solution"]
