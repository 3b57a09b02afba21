"""Chapter 06, TCP on your own machine: checked with the simulator and the pcap round trip,
so the answers do not depend on the reader's kernel."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from .base import Exercise, number, simulate, state_name, word


def _check_reuseaddr(answer: Any) -> tuple[bool, str]:
    choice = word(answer, ("old", "new", "both", "neither"), "which sockets set SO_REUSEADDR")
    if choice == "both":
        return True, (
            "Yes: on Linux a new socket may bind the port of a TIME_WAIT socket only if both set "
            "SO_REUSEADDR, and the TIME_WAIT socket keeps the setting of the listener it came "
            "from. That is why servers set it before their first bind()."
        )
    if choice == "new":
        return False, (
            "That is the BSD and macOS rule. Look again at the four lines of rebind('server'): "
            "on Linux, which combination said ok?"
        )
    return False, "Look at the four lines of rebind('server'): which combination said ok?"


def _check_crossing_fins(answer: Any) -> tuple[bool, str]:
    from ..capture import read_capture
    from ..export import pcap

    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        from ..errors import TcpbookError

        raise TcpbookError(f'expected a list of states like ["CLOSED", "SYN_SENT"], got {answer!r}')
    said = [state_name(s) for s in answer]
    with tempfile.TemporaryDirectory(prefix="tcpbook-") as folder:
        path = pcap(simulate("simultaneous-close"), Path(folder) / "crossing.pcap")
        inferred = read_capture(path).path("A")
    if said == inferred:
        return True, (
            "Yes: " + " -> ".join(inferred) + ". The capture has no states; the import sees A's "
            "FIN followed by B's FIN whose ack number does not count A's FIN, so B sent it "
            "before A's FIN arrived: the FINs crossed and A went through CLOSING."
        )
    missing = [s for s in inferred if s not in said]
    if missing:
        text = f"Not quite: the import infers a state your list lacks, {missing[0]}"
    elif len(said) != len(inferred):
        text = f"The import infers {len(inferred)} states for A, not {len(said)}"
    else:
        text = "Those are A's states, but not in the order the import infers them"
    return False, text + ". Read it back with read_capture(path).path('A')."


def _check_lost_fin_frames(answer: Any) -> tuple[bool, str]:
    got = number(answer, "a number of frames")
    trace = simulate("close", drop=[8])
    want = len(trace.segments)
    if got == want:
        return True, (
            f"Yes, {want}: a capture next to the sender sees every segment sent, the lost FIN "
            "(frame 8) and its retransmission (frame 9) included."
        )
    return False, (
        f"Not {got:g}. Every segment sent becomes one frame, lost ones too: how many segments "
        "does the run with #8 lost send?"
    )


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "reuseaddr-both",
        "06",
        "On Linux, a server that closed first restarts while its old connection is in "
        "TIME_WAIT. Which sockets must have set SO_REUSEADDR for the new bind() to succeed: "
        "'old', 'new', 'both' or 'neither'?",
        _check_reuseaddr,
        ("real.rebind('server') tried all four combinations on your kernel.",),
        "'both': Linux checks the TIME_WAIT socket's flag (inherited from the old listener) "
        "as well as the new socket's. BSD and macOS look only at the new one.",
    ),
    Exercise(
        "crossing-fins",
        "06",
        "Write tcpbook.simulate('simultaneous-close') to a pcap and read it back with "
        "read_capture. Which states does the import infer for A, in order? Answer with a list "
        'like ["CLOSED", "SYN_SENT", ...].',
        _check_crossing_fins,
        (
            "tcpbook.export.pcap(trace, path), then read_capture(path).path('A').",
            "Both FINs carry the same time stamp. Look at each FIN's ack number: does it "
            "acknowledge the other FIN?",
        ),
        '["CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT"]: '
        "neither FIN acknowledges the other, so each side received a FIN before the ACK of "
        "its own.",
    ),
    Exercise(
        "lost-fin-frames",
        "06",
        "Write tcpbook.simulate('close', drop=[8]) to a pcap file. How many frames does the "
        "file hold?",
        _check_lost_fin_frames,
        ("The export stamps each packet with the time it was sent, lost or not.",),
        "12: the run sends 12 segments, and a capture taken next to the sender shows the lost "
        "FIN too; its retransmission is frame 9.",
    ),
)
