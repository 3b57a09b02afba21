"""Chapter 07, lossy networks and busy servers: Little's law, ports, the geometric FIN law.

The checkers compute the exact answer from the chapter's formulas, so they hold whatever the
Monte Carlo runs give.
"""

from __future__ import annotations

from typing import Any

from .base import Exercise, number

PORTS = 60999 - 32768 + 1  # net.ipv4.ip_local_port_range default: 32768-60999
TIME_WAIT_S = 60.0  # Linux TCP_TIMEWAIT_LEN
ORPHAN_TRIES = 8  # Linux tcp_orphan_retries = 0 means 8


def _close_enough(got: float, want: float, share: float = 0.02) -> bool:
    return abs(got - want) <= share * abs(want) + 1e-9


def _check_littles_law(answer: Any) -> tuple[bool, str]:
    got = number(answer, "a number of sockets")
    want = 2_000 * TIME_WAIT_S
    if _close_enough(got, want):
        return True, (
            f"Yes, about {want:,.0f}: L = λW = 2,000/s × 60 s. Each socket leaves 60 s after it "
            "came, so in steady state 60 s worth of closes are waiting."
        )
    return (
        False,
        f"Not {got:,.0f}. Little's law: sockets waiting = closes per second × seconds each waits.",
    )


def _check_port_limit(answer: Any) -> tuple[bool, str]:
    got = number(answer, "connections per second")
    want = PORTS / TIME_WAIT_S
    if _close_enough(got, want):
        return True, (
            f"Yes, about {want:.1f} per second: {PORTS:,} ports, each held for 60 s in TIME_WAIT "
            "after its connection closes. Little's law read backwards: λ = L / W."
        )
    return False, (
        f"Not {got:,.0f}. Count the ports in 32768-60999 and divide by how long each one stays "
        "in TIME_WAIT."
    )


def _fin_mean(p: float) -> float:
    """E[K] for K retransmissions of B's FIN, geometric with success (1-p)^2, cut at 8."""
    q = (1 - p) ** 2
    pmf = [(1 - q) ** k * q for k in range(ORPHAN_TRIES)] + [(1 - q) ** ORPHAN_TRIES]
    return sum(k * x for k, x in enumerate(pmf))


def _check_fin_law(answer: Any) -> tuple[bool, str]:
    got = number(answer, "an expected number of retransmissions")
    exact, simple = _fin_mean(0.2), 1 / 0.8**2 - 1
    if abs(got - exact) <= 0.01 or abs(got - simple) <= 0.01:
        return True, (
            f"Yes: q = (1 - 0.2)² = 0.64, so E[K] ≈ 1/q - 1 = {simple:.4f} "
            f"({exact:.4f} with the cut-off at {ORPHAN_TRIES} tries)."
        )
    return False, (
        f"Not {got:g}. A try succeeds when the FIN arrives and its answer comes back: "
        "q = (1-p)². The expected number of failures before a success is (1-q)/q."
    )


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "littles-law",
        "07",
        "A server closes 2,000 connections per second itself (it sends the first FIN), on "
        "Linux. About how many sockets does it hold in TIME_WAIT once things settle?",
        _check_littles_law,
        ("L = λW: the arrival rate times how long each one stays.",),
        "120,000: 2,000 closes per second × 60 s of TIME_WAIT.",
    ),
    Exercise(
        "port-limit",
        "07",
        "A client on Linux (ip_local_port_range 32768-60999) opens connections to one server "
        "address and port and closes each one first. At most how many new connections per "
        "second can it keep up?",
        _check_port_limit,
        ("Each closed connection holds its local port for 60 s.",),
        "About 470: 28,232 ports / 60 s. Beyond that connect() fails with EADDRNOTAVAIL.",
    ),
    Exercise(
        "fin-law",
        "07",
        "Every segment is lost with probability p = 0.2. By the geometric law, how many times "
        "is B's FIN retransmitted on average?",
        _check_fin_law,
        ("One try works when the FIN arrives and the answer comes back.",),
        "About 0.5625 = 1/0.8² - 1 (0.5623 with Linux's cut-off at 8 tries).",
    ),
)
