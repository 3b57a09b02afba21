"""Every row of the transition table, reached: a run that goes along each one.

Built-in scenarios (with options: losses, ``skip_time_wait``, ...) are searched first; the rows
none of them reach get a hand-made list of :class:`~tcpbook.drive.model.Driver` moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..trace import Trace
from .model import Driver

if TYPE_CHECKING:
    from collections.abc import Iterable

# -- every row of the table, reached -------------------------------------------------------

_OPEN = ("B listen", "A connect", "deliver A→B", "deliver B→A", "deliver A→B")
# A in FIN_WAIT_1, B in CLOSE_WAIT, B's ACK in flight (sent when its delayed-ACK timer fires:
# Linux, the default profile, delays the ACK of a FIN)
_A_CLOSES = (*_OPEN, "A close", "deliver A→B", "fire B delayed_ack")

#: Hand-made move lists for the rows no built-in scenario reaches: each one walks the two
#: endpoints into the row's source state and then makes the row's event happen.
DRIVE_WITNESSES: dict[tuple[str, str, str], tuple[tuple[str, ...], dict[str, Any]]] = {
    ("LISTEN", "SEND", "SYN_SENT"): (("A listen", "A send"), {}),
    ("SYN_RECEIVED", "rcv RST after active OPEN", "CLOSED"): (
        (
            "A connect",
            "B connect",
            "deliver A→B",
            "deliver B→A",
            "A abort",
            "lose A→B",
            "deliver A→B",
        ),
        {},
    ),
    # A's ACK of the SYN,ACK is lost and A aborts: its RST finds B still in SYN_RECEIVED,
    # which goes back to LISTEN (RFC 9293 3.10.7.4, a passive open)
    ("SYN_RECEIVED", "rcv RST", "LISTEN"): (
        (
            "B listen",
            "A connect",
            "deliver A→B",
            "deliver B→A",
            "lose A→B",
            "A abort",
            "deliver A→B",
        ),
        {},
    ),
    ("CLOSE_WAIT", "timeout retransmit", "CLOSED"): (
        (
            *_A_CLOSES,
            "B send",
            "lose B→A",
            "lose B→A",
            "fire B tlp",  # Linux's loss probe first
            "lose B→A",
            # then the RTO backoff until tcp_retries2's 924.6 s have passed
            *(("fire B retransmit", "lose B→A") * 15),
            "fire B retransmit",
        ),
        {},
    ),
    ("CLOSING", "rcv RST", "CLOSED"): (
        (*_OPEN, "A close", "B close", "deliver A→B", "A abort", "deliver A→B"),
        {},
    ),
    ("LISTEN", "ABORT", "CLOSED"): (("A listen", "A abort"), {}),
    ("SYN_SENT", "ABORT", "CLOSED"): (("A connect", "A abort"), {}),
    ("SYN_RECEIVED", "ABORT", "CLOSED"): (("B listen", "A connect", "deliver A→B", "B abort"), {}),
    ("FIN_WAIT_1", "ABORT", "CLOSED"): ((*_OPEN, "A close", "A abort"), {}),
    ("FIN_WAIT_2", "ABORT", "CLOSED"): ((*_A_CLOSES, "deliver B→A", "A abort"), {}),
    ("CLOSE_WAIT", "ABORT", "CLOSED"): ((*_A_CLOSES, "B abort"), {}),
    ("CLOSING", "ABORT", "CLOSED"): ((*_OPEN, "A close", "B close", "deliver A→B", "B abort"), {}),
    ("LAST_ACK", "ABORT", "CLOSED"): ((*_A_CLOSES, "B close", "B abort"), {}),
    ("TIME_WAIT", "ABORT", "CLOSED"): (
        (*_A_CLOSES, "deliver B→A", "B close", "deliver B→A", "A abort"),
        {},
    ),
    ("FIN_WAIT_2", "rcv RST", "CLOSED"): (
        (*_A_CLOSES, "deliver B→A", "B abort", "deliver B→A"),
        {},
    ),
    ("LISTEN", "host vanishes", "CLOSED"): (("A listen", "A vanish"), {}),
    ("SYN_SENT", "host vanishes", "CLOSED"): (("A connect", "A vanish"), {}),
    ("SYN_RECEIVED", "host vanishes", "CLOSED"): (
        ("B listen", "A connect", "deliver A→B", "B vanish"),
        {},
    ),
    ("ESTABLISHED", "host vanishes", "CLOSED"): ((*_OPEN, "A vanish"), {}),
    ("FIN_WAIT_1", "host vanishes", "CLOSED"): ((*_OPEN, "A close", "A vanish"), {}),
    ("FIN_WAIT_2", "host vanishes", "CLOSED"): ((*_A_CLOSES, "deliver B→A", "A vanish"), {}),
    ("CLOSE_WAIT", "host vanishes", "CLOSED"): ((*_A_CLOSES, "B vanish"), {}),
    ("CLOSING", "host vanishes", "CLOSED"): (
        (*_OPEN, "A close", "B close", "deliver A→B", "B vanish"),
        {},
    ),
    ("LAST_ACK", "host vanishes", "CLOSED"): ((*_A_CLOSES, "B close", "B vanish"), {}),
    ("TIME_WAIT", "host vanishes", "CLOSED"): (
        (*_A_CLOSES, "deliver B→A", "B close", "deliver B→A", "A vanish"),
        {},
    ),
    # After shutdown() the application still reads; data it leaves unread turns close() into RST.
    ("FIN_WAIT_1", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "A shutdown", "B send", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
    ("FIN_WAIT_2", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "A shutdown", "deliver A→B", "deliver B→A", "B send", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
    ("CLOSING", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "A shutdown", "B send", "B close", "deliver B→A", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
    ("LAST_ACK", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "B send", "B close", "deliver B→A", "deliver B→A", "A shutdown", "A close"),
        {"auto_read": False},
    ),
    ("CLOSE_WAIT", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "B send", "B close", "deliver B→A", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
}

RowKey = tuple[str, str, str]


@dataclass(frozen=True)
class Witness:
    """A run that takes some endpoint along one row of the table.

    Either a built-in scenario with options (``tcpbook.simulate(scenario, **options)``) or,
    when no scenario gets there, a list of :class:`Driver` moves.
    """

    scenario: str | None
    options: dict[str, Any]
    moves: tuple[str, ...] = ()

    def run(self) -> Trace:
        if self.scenario is not None:
            from .. import simulate

            return simulate(self.scenario, **self.options)
        driver = Driver(**self.options)
        driver.run(self.moves)
        return driver.trace

    def describe(self) -> str:
        if self.scenario is not None:
            args = "".join(f", {k}={_show(v)}" for k, v in self.options.items())
            return f'simulate("{self.scenario}"{args})'
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Driver({opts}): " + ", ".join(_runs(self.moves))


def _runs(moves: tuple[str, ...]) -> list[str]:
    """Moves with a repeated pair written once: ``(fire B retransmit, lose B→A) × 15``."""
    out: list[str] = []
    i = 0
    while i < len(moves):
        pair = moves[i : i + 2]
        n = 1
        while len(pair) == 2 and moves[i + 2 * n : i + 2 * n + 2] == pair:
            n += 1
        if n >= 3:
            out.append(f"({', '.join(pair)}) × {n}")
            i += 2 * n
        else:
            out.append(moves[i])
            i += 1
    return out


def _show(value: Any) -> str:
    if isinstance(value, range):
        return f"range({value.start}, {value.stop})"
    return repr(value)


def reached(trace: Trace) -> set[RowKey]:
    """The table rows ``trace`` went along, as ``(from, event, to)``.

    Every move is a transition record, the TIME_WAIT self-loop (a FIN ACKed again, 2MSL
    restarted: RFC 9293 3.10.7.4) included.
    """
    return {(t.src, t.cause, t.dst) for t in trace.transitions}


def _candidates() -> Iterable[tuple[str, dict[str, Any]]]:
    """Scenario runs to search, simplest first, so each row's witness is the plainest one."""
    from ..scenarios import SCENARIOS

    option_sets: list[dict[str, Any]] = [
        {},
        {"skip_time_wait": True},
        {"rfc1337": True},
        {"fin_timeout": 60.0},
    ]
    option_sets += [{"drop": [n]} for n in range(1, 16)]
    option_sets += [{"drop": range(n, 400)} for n in range(1, 16)]
    option_sets += [{"drop": [a, b]} for a in range(1, 12) for b in range(a + 1, 14)]
    for switch in ({"skip_time_wait": True}, {"rfc1337": True}, {"fin_timeout": 60.0}):
        option_sets += [{**switch, "drop": [n]} for n in range(1, 16)]
    # rows only another profile takes (the default is linux)
    option_sets += [{"profile": "rfc9293"}, {"profile": "freebsd"}]
    for options in option_sets:
        for name in SCENARIOS:
            yield name, options


@dataclass(frozen=True)
class CoverageRow:
    """One row of the transition table and the run that reaches it (None: nothing does)."""

    src: str
    event: str
    dst: str
    source: str
    witness: Witness | None


class Coverage(list[CoverageRow]):
    """The whole table with a witness per row; shows as a table in Jupyter."""

    @property
    def missing(self) -> list[CoverageRow]:
        return [row for row in self if row.witness is None]

    def summary(self) -> str:
        by_drive = sum(1 for r in self if r.witness and r.witness.scenario is None)
        hit = len(self) - len(self.missing)
        return (
            f"{hit} of {len(self)} rows reached: {hit - by_drive} by a built-in scenario, "
            f"{by_drive} by driving the endpoints by hand, {len(self.missing)} not at all"
        )

    def __str__(self) -> str:
        lines = [self.summary()]
        for r in self:
            how = r.witness.describe() if r.witness else "NOT REACHED"
            lines.append(f"{r.src:>12} --{r.event}--> {r.dst:<12} {how}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        from html import escape

        head = "<tr><th>from</th><th>event</th><th>to</th><th>source</th><th>reached by</th></tr>"
        body = []
        for r in self:
            how = escape(r.witness.describe()) if r.witness else "<b>not reached</b>"
            body.append(
                f"<tr><td>{r.src}</td><td>{escape(r.event)}</td><td>{r.dst}</td>"
                f"<td style='white-space:nowrap'>{r.source}</td>"
                f"<td style='text-align:left'><code>{how}</code></td></tr>"
            )
        return f"<p>{escape(self.summary())}</p><table>{head}{''.join(body)}</table>"


def coverage() -> Coverage:
    """For every row of :data:`tcpbook.states.TRANSITIONS`, a run that goes along it.

    Built-in scenarios (with options: losses, ``skip_time_wait``, ...) are searched first;
    rows none of them reach get a :data:`DRIVE_WITNESSES` move list, checked by running it.
    """
    from ..states import TRANSITIONS

    wanted = {(t.src.value, t.event, t.dst.value) for t in TRANSITIONS}
    found: dict[RowKey, Witness] = {}
    for name, options in _candidates():
        if wanted <= found.keys():
            break
        from .. import simulate

        for key in reached(simulate(name, **options)):
            if key in wanted and key not in found:
                found[key] = Witness(name, dict(options))
    for key, (moves, options) in DRIVE_WITNESSES.items():
        if key in wanted and key not in found:
            witness = Witness(None, dict(options), moves)
            if key in reached(witness.run()):
                found[key] = witness
    return Coverage(
        CoverageRow(
            t.src.value,
            t.event,
            t.dst.value,
            t.source,
            found.get((t.src.value, t.event, t.dst.value)),
        )
        for t in TRANSITIONS
    )


__all__ = [
    "DRIVE_WITNESSES",
    "Coverage",
    "CoverageRow",
    "RowKey",
    "Witness",
    "coverage",
    "reached",
]
