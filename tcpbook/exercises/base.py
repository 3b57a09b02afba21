"""What every exercise is made of: the :class:`Exercise` record and the readers of answers.

A reader's answer is read leniently (names in any case, a single number for a list of one)
and a badly formed one raises :class:`~tcpbook.errors.TcpbookError` with one line saying what
shape of answer is expected; the registry turns that into the printed feedback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import TcpbookError
from ..trace import Trace

Checker = Callable[[Any], tuple[bool, str]]

TOLERANCE = 0.01  # seconds (or units): how close a numeric answer must be
FINAL_ACK = 11  # A's final ACK in the `close` scenario (segments 1-11, see tcpbook.scenarios)


@dataclass(frozen=True)
class Exercise:
    """A question, its checker (which runs the answer), hints (gentle first), the solution."""

    name: str
    chapter: str
    question: str
    checker: Checker
    hints: tuple[str, ...]
    solution: str


def simulate(scenario: str, **kwargs: Any) -> Trace:
    """``tcpbook.simulate``, imported late (the package imports this module)."""
    from .. import simulate as run

    return run(scenario, **kwargs)


def segment_list(answer: Any) -> list[int]:
    """A list of segment numbers (a single number is accepted too), sorted, without repeats."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = [answer]
    if isinstance(answer, str | bytes | dict) or not isinstance(answer, Iterable):
        raise TcpbookError(f"expected a list of segment numbers like [11, 13], got {answer!r}")
    numbers = list(answer)
    for n in numbers:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TcpbookError(f"segment numbers are whole numbers from 1, got {n!r}")
    return sorted(set(numbers))


def number(answer: Any, what: str = "a number of seconds") -> float:
    """A finite number (not a bool)."""
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise TcpbookError(f"expected {what}, like 2.5, got {answer!r}")
    x = float(answer)
    if math.isnan(x) or math.isinf(x):
        raise TcpbookError(f"expected a finite number for {what}, got {answer!r}")
    return x


def pair(answer: Any, example: str) -> tuple[Any, Any]:
    """Two values, as a tuple or list."""
    if isinstance(answer, str | bytes) or not isinstance(answer, list | tuple) or len(answer) != 2:
        raise TcpbookError(f"expected two values, like {example}; got {answer!r}")
    return answer[0], answer[1]


def word(answer: Any, allowed: Iterable[str], what: str) -> str:
    """One of ``allowed``, in any case and with '-' for '_' (returned as spelled in ``allowed``)."""
    options = list(allowed)

    def key(text: str) -> str:
        return text.strip().lower().replace("-", "_")

    if isinstance(answer, str):
        for option in options:
            if key(option) == key(answer):
                return option
    raise TcpbookError(f"expected {what}: one of {', '.join(map(repr, options))}; got {answer!r}")


def endpoint(answer: Any) -> str:
    """``"A"`` or ``"B"`` (``"a"`` and ``"b"`` too)."""
    return word(answer, ("A", "B"), "an endpoint")


def state_name(answer: Any) -> str:
    """A state of RFC 9293 in any case, with '-' or '_' (``"close-wait"`` is CLOSE_WAIT)."""
    from ..states import State

    return word(answer, [s.value for s in State], "a state name")


def moves(answer: Any) -> list[str]:
    """A list of Driver moves such as ``["B listen", "A connect"]``."""
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise TcpbookError(
            f'expected a list of moves like ["B listen", "A connect"], got {answer!r}'
        )
    found = list(answer)
    if not all(isinstance(m, str) for m in found):
        raise TcpbookError("every move is a string such as 'A connect' or 'deliver A→B'")
    return found


def lost(trace: Trace) -> str:
    """The numbers of the segments the network lost, for feedback."""
    ids = [f"#{s.id}" for s in trace.segments if s.fate == "dropped"]
    return ", ".join(ids) if ids else "nothing"


def how_b_closed(trace: Trace) -> tuple[str, float] | None:
    """B's cause and time of leaving LAST_ACK, if it did."""
    for tr in trace.transitions:
        if tr.endpoint == "B" and tr.src == "LAST_ACK":
            return tr.cause, tr.t
    return None


__all__ = [
    "FINAL_ACK",
    "TOLERANCE",
    "Checker",
    "Exercise",
    "endpoint",
    "how_b_closed",
    "lost",
    "moves",
    "number",
    "pair",
    "segment_list",
    "simulate",
    "state_name",
    "word",
]
