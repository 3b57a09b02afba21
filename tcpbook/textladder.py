"""The ladder diagram in plain text: what ``python -m tcpbook run`` prints without ``--json``."""

from __future__ import annotations

from .trace import SegmentRecord, Trace

_WIDTH = 44  # columns between the two time lines


def _arrow(seg: SegmentRecord, trace: Trace) -> str:
    label = seg.label
    if seg.retransmission:
        label += " (rtx)"
    if seg.duplicate_of is not None:
        label += f" (copy of #{seg.duplicate_of})"
    outcome = trace.outcome(seg)
    if outcome == "lost":
        end = " X lost"
    elif outcome == "expired":
        end = " X expired (MSL)"
    elif outcome == "in-flight":
        end = " ... in flight"
    else:
        end = f" @{seg.arrived:g}"
        if outcome == "no-connection":
            end += " no connection"
        elif outcome == "host-gone":
            end += " host gone"
        elif outcome == "old-into-new":
            end += f" into connection {seg.delivered_to}!"
    body = f" {label} "
    if seg.src == "A":
        text = f"-{body}".ljust(_WIDTH - 1, "-") + ">"
    else:
        text = "<" + f"{body}-".rjust(_WIDTH - 1, "-")
    return f"#{seg.id:<3} {text}{end}"


def _profile_note(params: dict[str, object]) -> str:
    """`` (profile linux)`` for a run that names its profile; a capture's trace names none."""
    profile = params.get("profile")
    return f" (profile {profile})" if profile else ""


def text_ladder(trace: Trace) -> str:
    """One line per segment and per state change, in time order."""
    events: list[tuple[float, int, int, str]] = []
    for order, seg in enumerate(trace.segments):
        events.append((seg.sent, 1, order, _arrow(seg, trace)))
    for order, tr in enumerate(trace.transitions):
        pad = "" if tr.endpoint == "A" else " " * (_WIDTH + 5)
        events.append((tr.t, 0, order, f"{pad}{tr.endpoint}: {tr.src} -> {tr.dst}  ({tr.cause})"))
    for order, err in enumerate(trace.errors):
        events.append((err.t, 2, order, f"{err.endpoint}: application sees {err.error}"))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    params = trace.params
    head = [
        f"scenario {trace.scenario}{_profile_note(params)}: "
        f"MSL {params['msl']:g} s, 2MSL {2 * params['msl']:g} s",
        f"{'time':>9}  A{' ' * (_WIDTH + 3)}B",
    ]
    lines = [f"{t:9.3f}  {text}" for t, _, _, text in events]
    tail = f"final: A {trace.final.get('A')}, B {trace.final.get('B')}"
    return "\n".join([*head, *lines, tail])
