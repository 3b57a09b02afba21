"""Chapter 08, write your own experiment: each answer is a packetdrill script edit, run
against the tcpbook endpoint like the chapter's own scripts."""

from __future__ import annotations

from typing import Any

from ..errors import TcpbookError
from ..profiles import DEFAULT_PROFILE
from .base import Exercise, state_name

#: Experiment 1 of the chapter: A connects, closes first, B's FIN ends it.
CLOSE_FIRST = """0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.1 connect(3, ..., ...) = 0
+0   > S 0:0(0) <...>
+.1  < S. 0:0(0) ack 1 win 65535 <mss 1000>
+0   > . 1:1(0) ack 1
+.2  close(3) = 0
+0   > F. 1:1(0) ack 1
+.1  < . 1:1(0) ack 2 win 65535
+.2  < F. 1:1(0) ack 2 win 65535
+0   > . 2:2(0) ack 2"""

#: Experiment 2 without its last line: B's 100 bytes are never read, then A closes.
UNREAD = """0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.1 connect(3, ..., ...) = 0
+0   > S 0:0(0) <...>
+.1  < S. 0:0(0) ack 1 win 65535 <mss 1000>
+0   > . 1:1(0) ack 1
+.1  < P. 1:101(100) ack 1 win 65535
+0   > . 1:1(0) ack 101
+.1  close(3) = 0"""


def _run(script: str) -> Any:
    """Run ``script`` under the book's profile (linux), as chapter 08's experiments do."""
    from ..packetdrill import run_script

    return run_script(script, profile=DEFAULT_PROFILE)


def _check_skipped_state(answer: Any) -> tuple[bool, str]:
    said = state_name(answer)
    lines = CLOSE_FIRST.splitlines()
    edited = "\n".join(line for line in lines if not line.startswith("+.1  < . 1:1(0) ack 2"))
    before, after = _run(CLOSE_FIRST).trace.path("A"), _run(edited).trace.path("A")
    skipped = [s for s in before if s not in after]
    if skipped == [said]:
        return True, (
            f"Yes: A went {' -> '.join(after)}. B's FIN acknowledges A's FIN too, so A goes from "
            "FIN_WAIT_1 straight to TIME_WAIT (RFC 9293 section 3.10.7.4), as in the fin-ack "
            "scenario."
        )
    return False, f"Without that line A goes {' -> '.join(after)}: which state is missing?"


def _check_rst_end(answer: Any) -> tuple[bool, str]:
    said = state_name(answer)
    lines = [*CLOSE_FIRST.splitlines()[:-2], "+.2  < R. 1:1(0) ack 2 win 65535"]
    result = _run("\n".join(lines))
    final = result.trace.path("A")[-1]
    if said == final:
        return True, (
            f"Yes: A was in FIN_WAIT_2, and an acceptable RST ends a synchronized connection at "
            f"once (RFC 9293 section 3.10.7.4): {final}, with no TIME_WAIT."
        )
    return False, f"Run the script: A ends in {final}, not {said}."


def _check_unread_line(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, str) or not answer.strip():
        raise TcpbookError(
            f'expected one script line, like "+0 > F. 1:1(0) ack 101"; got {answer!r}'
        )
    line = answer.strip()
    result = _run(UNREAD + "\n" + line)
    if result.verdict == "pass" and ">" in line:
        return True, (
            f"Yes: the script passes ({result.summary().splitlines()[0]}). Closing with unread "
            "data makes A answer with RST instead of FIN (RFC 2525 section 2.17)."
        )
    if result.verdict == "pass":
        return False, "The script passes, but the line must expect what A sends (>)."
    mismatch = result.first_mismatch
    why = f": A sent {mismatch.got}" if mismatch is not None else f" ({result.verdict})"
    return False, f"The script does not pass{why}."


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "skipped-state",
        "08",
        "In experiment 1, delete the line `+.1  < . 1:1(0) ack 2 win 65535` (B's bare ACK of "
        "A's FIN). Which state does A no longer pass through?",
        _check_skipped_state,
        ("B's FIN line also says ack 2: what does it acknowledge?",),
        "'FIN_WAIT_2': B's FIN acknowledges A's FIN as well, so A goes FIN_WAIT_1 -> "
        "TIME_WAIT directly. Still correct TCP: it is the three-segment close.",
    ),
    Exercise(
        "rst-ends-it",
        "08",
        "In experiment 1, replace B's FIN and A's last ACK with `+.2  < R. 1:1(0) ack 2 win "
        "65535` and end the script there. Which state does A end in?",
        _check_rst_end,
        ("A is in FIN_WAIT_2 when the RST arrives. What does an acceptable RST do?",),
        "'CLOSED': an acceptable RST ends any synchronized connection at once, with no TIME_WAIT.",
    ),
    Exercise(
        "unread-rst",
        "08",
        "Experiment 2 fails on its last line. Write the line that makes it pass: what does A "
        "send when it closes with 100 unread bytes?",
        _check_unread_line,
        (
            "Read the mismatch: the got line is what A sent.",
            "Flags R. with A's sequence number 1:1(0) and the ack of B's 100 bytes.",
        ),
        '"+0 > R. 1:1(0) ack 101": a RST (with ACK) instead of the FIN.',
    ),
)
