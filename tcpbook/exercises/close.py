"""Chapter 02, the four-way close: who waits in TIME_WAIT, a lost FIN, the three-segment close."""

from __future__ import annotations

from typing import Any

from .base import Exercise, endpoint, number, pair, segment_list, simulate


def _check_who_waits(answer: Any) -> tuple[bool, str]:
    side, secs = pair(answer, '("A", 10)')
    who, seconds = endpoint(side), number(secs, "the seconds")
    trace = simulate("close")
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
    drops = segment_list(answer)
    trace = simulate("close", drop=drops)
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
    got = number(answer, "a count of segments")
    trace = simulate("fin-ack")
    first_fin = next(s.id for s in trace.segments if "FIN" in s.flags)
    count = len(trace.segments) - first_fin + 1
    if got == count:
        return True, (
            f"Yes, {count}: B's FIN carries the ACK of A's FIN, so the second and third "
            "'waves' travel in one segment."
        )
    return False, f"Not {got:g}. Count the segments from A's FIN to the end of the run."


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "who-waits",
        "02",
        "In the `close` scenario (MSL = 30 s), which side enters TIME_WAIT, and for how "
        'many seconds? Answer like ("B", 10).',
        _check_who_waits,
        ("Look at trace.time_in(endpoint, 'TIME_WAIT') for both sides.",),
        '("A", 60): A closed first, so A waits 2MSL = 60 s; B goes from LAST_ACK '
        "straight to CLOSED.",
    ),
    Exercise(
        "lost-fin",
        "02",
        "Which single segment must be lost so that A has to send its first FIN again? "
        "Answer with a list holding its number.",
        _check_lost_fin,
        ("Find A's FIN in the list of segments of the `close` scenario.",),
        "[8]: A's FIN,ACK. A retransmits it one RTO (1 s) later, at 1.6 s.",
    ),
    Exercise(
        "fin-ack-count",
        "02",
        "In the `fin-ack` scenario B closes the moment it reads A's FIN. How many segments "
        "does the close take, counting A's FIN and everything after it?",
        _check_fin_ack_count,
        ("Run tcpbook.simulate('fin-ack') and look at its segments from A's FIN on.",),
        "3: FIN,ACK from A, FIN,ACK from B (it also ACKs A's FIN), and A's final ACK.",
    ),
)
