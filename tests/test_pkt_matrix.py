"""The state x event matrix: every TCP state met by every kind of segment, for two kernels.

``tests/pkt/matrix/linux/`` holds scripts that pass with packetdrill on a real Linux 6.18 kernel
(each one run as root in a fresh network namespace); ``tests/pkt/matrix/freebsd/`` holds the same
cases written from FreeBSD 14's sources (tcp_input.c, tcp_syncache.c, tcp_timewait.c), whose
``net.inet.tcp`` sysctl line selects tcpbook's ``freebsd`` profile. A script is named
``STATE-EVENT[-VARIANT]``: the variant says how the segment misses the window (``oow``: far
outside it, ``inexact``: a RST in the window but not at RCV.NXT, ``unsent``: an ACK of data never
sent, ``badack``: an unacceptable ACK in a handshake state, ``new``: a SYN above RCV.NXT).

The tested socket reaches each state the way an application can: SYN_RECEIVED by a listener
(a request sock on Linux, a syncache entry on FreeBSD: checked with accept()), CLOSING by both
sides closing at once, FIN_WAIT_1 ... TIME_WAIT after shutdown(SHUT_WR) so that the socket stays
open for getsockopt(TCP_INFO) / ``%{ assert tcpi_state == ... }%``. A socket that entered
TIME_WAIT reads TCP_CLOSE on Linux (the timewait sock is another object), so those scripts send
the peer's FIN again: a TIME_WAIT still there ACKs it, a closed port answers RST. In SYN_RECEIVED
the in-window SYN is the peer's SYN sent again; a SYN at a new number in the window cannot be
scripted on Linux (the RST it gets has sequence number 0, which packetdrill maps through the
kernel's random ISN).

Every script runs through the tcpbook model here, under the kernel profile its sysctl line
selects (``net.ipv4.*``: linux, ``net.inet.tcp.*``: freebsd). Those the model gets right must
pass; those it gets wrong are listed in :data:`EXPECTED_MISMATCHES` with the kernel behaviour the
model lacks, so this test fails on the day one of them starts to pass (take it off the list) and
whenever a script not on the list stops passing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tcpbook.packetdrill import run_script

MATRIX = Path(__file__).parent / "pkt" / "matrix"
KERNELS = ("linux", "freebsd")
SCRIPTS = sorted(p for kernel in KERNELS for p in (MATRIX / kernel).glob("*.pkt"))

STATES = (
    "closed",
    "listen",
    "syn-sent",
    "syn-received",
    "established",
    "fin-wait-1",
    "fin-wait-2",
    "close-wait",
    "closing",
    "last-ack",
    "time-wait",
)
EVENTS = ("syn", "syn-ack", "ack", "fin", "fin-ack", "rst", "rst-ack", "syn-fin")

_SYNRECV_SYNACK = (
    "a SYN,ACK reaching SYN_RECEIVED: the kernels answer RST (Linux tcp_check_req hands it "
    "to the listener, FreeBSD '(SYN|ACK) is bogus on a listen socket'); the model sends a "
    "challenge ACK"
)
_FREEBSD_TW_SYN = (
    "FreeBSD's tcp_twcheck ends TIME_WAIT for a SYN above RCV.NXT and hands it to a "
    "listener (none here: RST, SEQ 0). The model sends that RST at that time, but the script "
    "(written from the source, not run on FreeBSD) expects SEQ 0 counted from the old "
    "connection's ISN"
)

#: Scripts the model does not pass today: "KERNEL/NAME" -> (verdict, what the model lacks).
EXPECTED_MISMATCHES: dict[str, tuple[str, str]] = {
    "freebsd/time-wait-ack-unsent": (
        "mismatch",
        "FreeBSD's tcp_twcheck answers an ACK of data never sent with an ACK; the model's "
        "TIME_WAIT stays silent, as Linux's timewait sock does",
    ),
    "linux/syn-received-syn-ack": ("mismatch", _SYNRECV_SYNACK),
    "freebsd/syn-received-syn-ack": ("mismatch", _SYNRECV_SYNACK),
    "freebsd/syn-received-ack-oow": (
        "mismatch",
        "FreeBSD's syncache_expand refuses an ACK outside the window with a RST; the model "
        "drops it",
    ),
    "freebsd/syn-received-syn-oow": (
        "mismatch",
        "FreeBSD's syncache_add resends the SYN,ACK for any SYN on the same addresses; the "
        "model sends a challenge ACK, as Linux does",
    ),
    "freebsd/time-wait-syn-new": ("mismatch", _FREEBSD_TW_SYN),
    "freebsd/time-wait-syn-oow": ("mismatch", _FREEBSD_TW_SYN),
}


def _key(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", SCRIPTS, ids=[_key(p) for p in SCRIPTS])
def test_matrix_script(path: Path) -> None:
    result = run_script(path)
    assert result.profile == path.parent.name, "the script's sysctl line picks its profile"
    want = EXPECTED_MISMATCHES.get(_key(path))
    if want is None:
        assert result.verdict == "pass", result.summary()
    else:
        assert result.verdict == want[0], (
            f"{_key(path)} is listed as {want[0]} ({want[1]}) but got: {result.summary()}"
        )


def test_matrix_covers_every_state_and_event_for_both_kernels() -> None:
    for kernel in KERNELS:
        names = {p.stem for p in (MATRIX / kernel).glob("*.pkt")}
        missing = [f"{s}-{e}" for s in STATES for e in EVENTS if f"{s}-{e}" not in names]
        assert not missing, (kernel, missing)
        # out of the window, wherever a window is checked
        for s in STATES[4:]:
            for variant in ("syn-oow", "ack-oow", "ack-unsent", "rst-oow", "rst-inexact"):
                assert f"{s}-{variant}" in names, (kernel, s, variant)


def test_expected_mismatches_name_existing_scripts_and_a_reason() -> None:
    keys = {_key(p) for p in SCRIPTS}
    for key, (verdict, reason) in EXPECTED_MISMATCHES.items():
        assert key in keys, key
        assert verdict in ("mismatch", "unsupported") and len(reason) > 20, key


def test_matrix_tally_per_profile() -> None:
    """pass / mismatch / unsupported per profile, as the model stands."""
    tally: dict[str, Counter[str]] = {k: Counter() for k in KERNELS}
    for path in SCRIPTS:
        tally[path.parent.name][run_script(path).verdict] += 1
    for kernel in KERNELS:
        listed = Counter(v for k, (v, _) in EXPECTED_MISMATCHES.items() if k.startswith(kernel))
        total = sum(tally[kernel].values())
        assert total == len(list((MATRIX / kernel).glob("*.pkt"))) >= len(STATES) * len(EVENTS)
        assert tally[kernel]["pass"] == total - sum(listed.values())
        for verdict, n in listed.items():
            assert tally[kernel][verdict] == n, (kernel, verdict)
