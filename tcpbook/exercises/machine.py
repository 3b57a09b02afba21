"""Chapter 05, the whole state machine: reaching rare states with scenarios and the Driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Exercise, moves, simulate, word


def _check_reach_closing(answer: Any) -> tuple[bool, str]:
    from ..scenarios import SCENARIOS

    options: dict[str, Any] = {}
    if isinstance(answer, tuple | list) and len(answer) == 2 and isinstance(answer[1], dict):
        answer, options = answer[0], dict(answer[1])
    name = word(answer, SCENARIOS, "a scenario name (optionally with options)")
    trace = simulate(name, **options)
    hits = [tr for tr in trace.transitions if tr.dst == "CLOSING"]
    if hits:
        tr = hits[0]
        return True, (
            f"Yes: {tr.endpoint} enters CLOSING at {tr.t:g} s: it had sent its FIN and received "
            "the peer's FIN before any ACK of its own, so both FINs crossed in the network."
        )
    paths = "; ".join(f"{e}: {' → '.join(trace.path(e))}" for e in ("A", "B"))
    return False, f"Nobody passes through CLOSING ({paths}). What must cross in the network?"


def _drive_until(plan: list[str], goal: Callable[[dict[str, str]], bool]) -> tuple[bool, str]:
    from ..drive import Driver

    driver = Driver()
    for move in plan:
        outcome = driver.apply(move)
        if not outcome.ok:
            return False, f"Move {move!r} was refused: {outcome.text.split(': ', 1)[-1]}"
        if goal(driver.states):
            return True, f"after {move!r}: A {driver.state('A')}, B {driver.state('B')}"
    return False, f"after all {len(plan)} moves: A {driver.state('A')}, B {driver.state('B')}"


def _check_both_syn_received(answer: Any) -> tuple[bool, str]:
    plan = moves(answer)
    ok, where = _drive_until(plan, lambda s: s["A"] == s["B"] == "SYN_RECEIVED")
    if ok:
        return True, (
            f"Yes, {where}: both sides sent a SYN before either SYN arrived, so each answers "
            "the other's SYN with SYN,ACK: simultaneous open (RFC 9293 Figure 8)."
        )
    return False, f"Not both in SYN_RECEIVED yet ({where}). Neither side needs to listen()."


def _check_both_time_wait(answer: Any) -> tuple[bool, str]:
    plan = moves(answer)
    ok, where = _drive_until(plan, lambda s: s["A"] == s["B"] == "TIME_WAIT")
    if ok:
        return True, (
            f"Yes, {where}: both sides closed before hearing the other's FIN, so both went "
            "through CLOSING and both must wait 2MSL."
        )
    return False, f"Not both in TIME_WAIT yet ({where}). Who closes first, and when?"


def _check_listen_send(answer: Any) -> tuple[bool, str]:
    from ..drive import Driver, reached

    plan = moves(answer)
    driver = Driver()
    refused = [o for o in driver.run(plan) if not o.ok]
    if ("LISTEN", "SEND", "SYN_SENT") in reached(driver.trace):
        return True, (
            "Yes: RFC 9293 section 3.10.2 lets a SEND on a listening socket turn it into an "
            "active open: the SYN goes out and the data waits for ESTABLISHED. The sockets API "
            "has no way to ask for this, which is why no scenario shows it."
        )
    why = f" ({refused[0].text.lstrip('✗ ')})" if refused else ""
    return False, f"A never went from LISTEN to SYN_SENT on SEND{why}."


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "reach-closing",
        "05",
        "Name a scenario (or a pair (scenario, {options})) in which an endpoint passes "
        "through CLOSING.",
        _check_reach_closing,
        ("CLOSING is entered from FIN_WAIT_1 on receiving a FIN.",),
        "'simultaneous-close': both FINs cross, so both sides pass through CLOSING.",
    ),
    Exercise(
        "both-syn-received",
        "05",
        "With the Driver, give a list of moves that puts A and B in SYN_RECEIVED at the "
        'same time, like ["B listen", "A connect", "deliver A→B"].',
        _check_both_syn_received,
        ("Both sides can call connect().",),
        '["A connect", "B connect", "deliver A→B", "deliver B→A"]: each SYN arrives at a '
        "side in SYN_SENT.",
    ),
    Exercise(
        "both-time-wait",
        "05",
        "With the Driver, give a list of moves that puts A and B in TIME_WAIT at the same time.",
        _check_both_time_wait,
        (
            "Open the connection first (B listen, A connect, then deliver three segments).",
            "Both must close before either FIN arrives.",
        ),
        '["B listen", "A connect", "deliver A→B", "deliver B→A", "deliver A→B", "A close", '
        '"B close", "deliver A→B", "deliver B→A", "deliver A→B", "deliver B→A"]',
    ),
    Exercise(
        "listen-send",
        "05",
        "No scenario uses the table row LISTEN --SEND--> SYN_SENT. Give Driver moves that "
        "make A go along it.",
        _check_listen_send,
        ("A must be listening first; then what can a user call on a listening socket?",),
        '["A listen", "A send"]',
    ),
)
