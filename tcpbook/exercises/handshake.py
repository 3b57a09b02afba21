"""Chapter 01, the three-way handshake: sequence numbers, SYN retries, losing the handshake."""

from __future__ import annotations

from typing import Any

from .base import Exercise, number, segment_list, simulate


def _check_handshake_numbers(answer: Any) -> tuple[bool, str]:
    from ..errors import TcpbookError

    if isinstance(answer, str | bytes) or not hasattr(answer, "__len__") or len(answer) != 3:
        raise TcpbookError(
            f"expected 3 numbers (SYN,ACK's ack, final ACK's seq, final ACK's ack), got {answer!r}"
        )
    got = [number(x, "each value") for x in answer]
    trace = simulate("handshake", isn_a=4242, isn_b=777, drop=())
    synack, last = trace.segment(2), trace.segment(3)
    want = [synack.ack, last.seq, last.ack]
    names = ("the SYN,ACK's ack", "the final ACK's seq", "the final ACK's ack")
    wrong = [f"{n} is not {g:g}" for n, g, w in zip(names, got, want, strict=True) if g != w]
    if not wrong:
        return True, (
            "Yes: each side acknowledges the other's ISN + 1, because a SYN occupies one "
            "sequence number even though it carries no data."
        )
    return False, "Not quite: " + "; ".join(wrong) + ". What does a SYN consume?"


GIVE_UP_RETRIES = 7  # net.ipv4.tcp_syn_retries = 3, plus tcp_syn_linear_timeouts = 4


def _check_give_up(answer: Any) -> tuple[bool, str]:
    got = number(answer, "a time in seconds")
    trace = simulate("no-answer", syn_retries=GIVE_UP_RETRIES)
    t = next(e.t for e in trace.errors if e.error == "ETIMEDOUT")
    syns = [s.sent for s in trace.segments if s.src == "A"]
    if abs(got - t) < 0.01:
        return True, (
            f"Yes: SYNs at {', '.join(f'{x:g}' for x in syns)} s (five 1 s waits, then "
            f"doubling), then one last timeout of {t - syns[-1]:g} s: ETIMEDOUT at {t:g} s."
        )
    return False, (
        f"Not {got:g} s. Linux waits 1 s before each of the first five retransmissions "
        "(tcp_syn_linear_timeouts), then doubles the wait; after the last retransmission A "
        "still waits one more (doubled) timeout before giving up."
    )


def _check_syn_timeout(answer: Any) -> tuple[bool, str]:
    drops = segment_list(answer)
    trace = simulate("handshake", drop=drops)
    failed = [e for e in trace.errors if e.endpoint == "A" and e.error == "ETIMEDOUT"]
    syns = [s for s in trace.segments if s.src == "A" and s.flags == ("SYN",)]
    if failed:
        return True, (
            f"Yes: with segments {drops} lost, A sent {len(syns)} SYNs (at "
            + ", ".join(f"{s.sent:g}" for s in syns)
            + f" s) and connect() failed with ETIMEDOUT at {failed[0].t:g} s."
        )
    when = next(
        (tr.t for tr in trace.transitions if tr.endpoint == "A" and tr.dst == "ESTABLISHED"), None
    )
    arrived = [
        f"#{s.id} {','.join(s.flags)}"
        for s in trace.segments
        if s.fate == "delivered" and "SYN" in s.flags
    ]
    text = "Not yet: "
    text += (
        f"A still reached ESTABLISHED at {when:g} s"
        if when is not None
        else f"A ended in {trace.final['A']} without an error"
    )
    if arrived:
        text += f", because {arrived[-1]} got through"
    return False, text + ". Which segments does A's connect() depend on?"


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "handshake-numbers",
        "01",
        "A's initial sequence number is 4242 and B's is 777. Give three numbers: the ack "
        "number of B's SYN,ACK, and the seq and ack numbers of A's final ACK.",
        _check_handshake_numbers,
        (
            "An ack number names the next byte the sender expects. How many sequence numbers "
            "does a SYN take up?",
        ),
        "(4243, 4243, 778): the SYN takes one sequence number, so B expects 4243 next "
        "and A's next segment starts there; A expects B's byte 778.",
    ),
    Exercise(
        "give-up",
        "01",
        "On Linux someone sets net.ipv4.tcp_syn_retries = 3; with tcp_syn_linear_timeouts = 4 "
        "that allows 3 + 4 = 7 SYN retransmissions (syn_retries=7 in the model). A connects "
        "to a host that never answers. After how many seconds does connect() fail?",
        _check_give_up,
        (
            "Write down when each SYN goes out: 0, then 1 s apart five times, then 2 s, 4 s, "
            "... later. How long does A wait after the last one?",
        ),
        "19 s: SYNs at 0, 1, 2, 3, 4, 5, 7 and 11 s (seven retransmissions: five 1 s waits, "
        "then doubling), then A waits one more doubled timeout (8 s) and gives up at 19 s. "
        "Under rfc9293 (doubling from the start) three retries would end at 15 s.",
    ),
    Exercise(
        "syn-timeout",
        "01",
        "In the `handshake` scenario, which segments must the network lose so that A's "
        "connect() fails with ETIMEDOUT? Answer with a list of segment numbers.",
        _check_syn_timeout,
        (
            "Lose the first SYN and look at the ladder: what does A send next, and when? Keep "
            "losing whatever A depends on until it gives up.",
        ),
        "Lose every SYN A sends: [1, 2, ..., 11]. Linux sends 11 SYNs (tcp_syn_retries 6 plus "
        "4 linear retries), 1 s apart five times and then doubling, and A gives up at 131 s "
        "(a real 6.18 kernel: about 134 s). Losing everything B sends back works too, but "
        "the numbers shift, because each SYN that arrives makes B answer.",
    ),
)
