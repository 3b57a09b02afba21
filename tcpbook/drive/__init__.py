"""Drive it yourself: two endpoints, A and B, and the reader decides what happens next.

:mod:`~tcpbook.drive.model` is the model (:class:`Driver`, its :class:`Move`\\ s),
:mod:`~tcpbook.drive.coverage` finds a run for every row of the transition table, and
:mod:`~tcpbook.drive.panel` is the ipywidgets panel (:func:`drive`), imported only when used so
that the model stays light.
"""

from __future__ import annotations

from typing import Any

from .coverage import DRIVE_WITNESSES, Coverage, CoverageRow, Witness, coverage, reached
from .model import CALLS, TIMERS, Driver, Move, Outcome, parse_move


def __getattr__(name: str) -> Any:
    if name in ("drive", "DrivePanel"):
        from . import panel

        return getattr(panel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CALLS",
    "DRIVE_WITNESSES",
    "TIMERS",
    "Coverage",
    "CoverageRow",
    "Driver",
    "Move",
    "Outcome",
    "Witness",
    "coverage",
    "drive",
    "parse_move",
    "reached",
]
