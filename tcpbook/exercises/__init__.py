"""Exercises at the end of each chapter, checked by running the reader's answer.

An exercise is a question, hints, a hidden solution and a checker. The checker does not compare
the answer with a stored one: it *runs* it (``tcpbook.simulate``, a
:class:`~tcpbook.drive.Driver`, a packetdrill script or a pcap round trip) and looks at what
happened, so every answer that makes the asked-for thing happen is right, and a wrong one is
told, in words, what it did instead. In a notebook::

    from tcpbook.exercises import check, hint, solution
    check("rst-ending", [11, 13])   # prints one paragraph: ✔ or ✘ and why

Feedback is printed, deterministic, and never a traceback: a badly formed answer gets one line
saying what shape of answer is expected. Names (of sides, states, scenarios) are read in any
case. One registry, :data:`EXERCISES`, holds every chapter's exercises; each chapter's live in
a module of this package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import TcpbookError
from . import (
    busy_servers,
    close,
    handshake,
    machine,
    on_your_machine,
    packetdrill_scripts,
    time_wait,
    trouble,
)
from .base import Exercise
from .time_wait import closes_cleanly, msl_threshold

_CHAPTERS = (
    handshake,
    close,
    time_wait,
    trouble,
    machine,
    on_your_machine,
    busy_servers,
    packetdrill_scripts,
)


def _register() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for module in _CHAPTERS:
        for exercise in module.EXERCISES:
            if exercise.name in found:
                raise AssertionError(f"two exercises called {exercise.name!r}")
            found[exercise.name] = exercise
    return found


#: Every exercise of the book by name, in chapter order.
EXERCISES: dict[str, Exercise] = _register()


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
    """Run ``answer`` and print whether it does what the question asks, and why."""

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
