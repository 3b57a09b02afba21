"""What a packetdrill run reports: each line's outcome, the first mismatch, the verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..trace import Trace
from .parser import USEC

LineOutcome = Literal["pass", "mismatch", "unsupported", "ignored", "not run"]
Verdict = Literal["pass", "mismatch", "unsupported", "malformed"]


def seconds_text(us: int) -> str:
    """Microseconds as the report writes them: ``0.25 s``, ``0 s``."""
    return f"{us / USEC:.6f}".rstrip("0").rstrip(".") + " s" if us else "0 s"


@dataclass
class LineResult:
    """What happened to one statement of the script."""

    line: int
    text: str
    outcome: LineOutcome = "not run"
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass
class Mismatch:
    """The first line where the endpoint did not do what the script expected."""

    line: int
    text: str
    expected: str
    got: str
    reason: str = ""
    note: str = ""

    def report(self) -> list[str]:
        out = [f"  expected {self.expected}", f"  got {self.got}"]
        if self.reason:
            out.append(f"  reason: {self.reason}")
        if self.note:
            out.append(f"  note: {self.note}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "expected": self.expected,
            "got": self.got,
            "reason": self.reason,
            "note": self.note,
        }


@dataclass
class PktResult:
    """The verdict on one script, line by line, with the trace of what the endpoint did.

    ``trace`` has endpoint ``A`` = the tcpbook endpoint under test and ``B`` = the script's peer;
    only A's state changes are known (the peer is a script, not a state machine).
    """

    name: str
    verdict: Verdict
    lines: list[LineResult]
    trace: Trace
    first_mismatch: Mismatch | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    profile: str | None = None
    not_checked: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """0 pass, 1 mismatch, 2 unsupported or malformed (the ``pkt`` command's status)."""
        return {"pass": 0, "mismatch": 1}.get(self.verdict, 2)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for r in self.lines:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        tally = ", ".join(f"{n} {o}" for o, n in counts.items())
        head = f"{self.name}: {self.verdict}"
        out: list[str] = []
        if self.verdict == "pass":
            out.append(f"{head} ({tally})")
        elif self.first_mismatch is not None:
            m = self.first_mismatch
            out.append(f"{head} at line {m.line}: {m.text}")
            out.extend(m.report())
        else:
            out.append(f"{self.name}: {self.problem}")
        path = " -> ".join(self.trace.path("A"))
        out.append(f"tcpbook endpoint: {path}")
        out.extend(f"not checked: {n}" for n in self.not_checked)
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def listing(self) -> str:
        """Every statement with its outcome, as the ``pkt`` command prints it."""
        rows = []
        for r in self.lines:
            text = r.text.replace("\n", " ")
            row = f"{r.line:4d}  {r.outcome:<11} {text}"
            if r.detail and r.outcome != "pass":
                row += f"   [{r.detail}]"
            rows.append(row)
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "script": self.name,
            "verdict": self.verdict,
            "exit_status": self.exit_status,
            "problem": self.problem or None,
            "lines": [r.to_dict() for r in self.lines],
            "first_mismatch": None
            if self.first_mismatch is None
            else self.first_mismatch.to_dict(),
            "notes": list(self.notes),
            "profile": self.profile,
            "not_checked": list(self.not_checked),
            "trace": self.trace.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        return f"<PktResult {self.name}: {self.verdict}>"


__all__ = ["LineOutcome", "LineResult", "Mismatch", "PktResult", "Verdict", "seconds_text"]
