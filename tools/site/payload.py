"""What the web edition's explorer draws for one choice: a run of the model, ready to draw.

This module runs in two places and must give the same answer in both:

* at build time, in CPython, for the runs each page carries with it (the instant answers);
* in the reader's browser, in Pyodide (a web worker), for any other choice.

So it imports only the standard library and tcpbook's pure-Python core: the simulator
(``tcpbook.simulate``), the state diagram's path reading (``render.statediagram.highlight_for``)
and the ladder's compressed time axis (``render.timeaxis.TimeAxis``). Nothing here models TCP:
the page only *draws* what :func:`run` returns.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import tcpbook

#: The settings an explorer control can change (a run is keyed by these, see :func:`key`).
SETTING_NAMES = ("msl", "drop", "fin_timeout", "rfc1337", "skip_time_wait", "profile")
DEFAULT_PROFILE = "linux"


# --------------------------------------------------------------------------- profiles


def profiles() -> tuple[list[str], str, bool]:
    """``(names, default, real)``: the kernel profiles the model offers.

    Uses ``tcpbook.profiles.PROFILES`` when the package has it; otherwise the model has one
    behaviour, offered as "linux" (``real`` is False: ``simulate`` takes no ``profile=``).
    """
    try:
        module = importlib.import_module("tcpbook.profiles")
    except ImportError:
        return [DEFAULT_PROFILE], DEFAULT_PROFILE, False
    names = [str(n) for n in module.PROFILES]
    default = str(getattr(module, "DEFAULT_PROFILE", DEFAULT_PROFILE))
    return names, default if default in names else names[0], True


def _profile_kwargs(name: str | None) -> dict[str, Any]:
    names, default, real = profiles()
    chosen = default if name is None else name
    if chosen not in names:
        raise tcpbook.TcpbookError(f"unknown profile {chosen!r}; choose from: {', '.join(names)}")
    return {"profile": chosen} if real else {}


# --------------------------------------------------------------------------- render parts


def _render_parts() -> tuple[Any, Any]:
    """``tcpbook.render.statediagram`` and ``.timeaxis`` (standard library + core only).

    ``tcpbook.render``'s ``__init__`` also imports the matplotlib renderers, which Pyodide here
    does not have; the two modules themselves need neither, so without matplotlib they are
    loaded from the package folder without running that ``__init__``.
    """
    try:
        from tcpbook.render import statediagram, timeaxis
    except ImportError:
        stub = types.ModuleType("tcpbook.render")
        stub.__path__ = [str(Path(tcpbook.__file__).parent / "render")]
        sys.modules["tcpbook.render"] = stub
        statediagram = importlib.import_module("tcpbook.render.statediagram")
        timeaxis = importlib.import_module("tcpbook.render.timeaxis")
    return statediagram, timeaxis


# --------------------------------------------------------------------------- settings


def normalise(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings with every name present and drops as a sorted list (or None)."""
    out = {name: settings.get(name) for name in SETTING_NAMES}
    out["rfc1337"] = bool(out["rfc1337"])
    out["skip_time_wait"] = bool(out["skip_time_wait"])
    if out["drop"] is not None:
        out["drop"] = sorted({int(n) for n in out["drop"]})
    if out["msl"] is not None:
        out["msl"] = float(out["msl"])
    if out["fin_timeout"] is not None:
        out["fin_timeout"] = float(out["fin_timeout"])
    if out["profile"] is None:
        out["profile"] = profiles()[1]
    return out


def key(settings: dict[str, Any]) -> str:
    """The text a page looks a run up by: the same in Python and in the page's script."""
    s = normalise(settings)
    parts = [
        f"msl={'' if s['msl'] is None else _num(s['msl'])}",
        f"drop={'-' if s['drop'] is None else ','.join(map(str, s['drop']))}",
        f"fin={'' if s['fin_timeout'] is None else _num(s['fin_timeout'])}",
        f"rfc1337={int(s['rfc1337'])}",
        f"skiptw={int(s['skip_time_wait'])}",
        f"profile={s['profile']}",
    ]
    return "|".join(parts)


def _num(x: float) -> str:
    return f"{round(float(x), 6):g}"


def simulate(scenario: str, settings: dict[str, Any], fixed: dict[str, Any]) -> tcpbook.Trace:
    """The model's run for these settings: the same call the notebook's explorer makes."""
    s = normalise(settings)
    kwargs: dict[str, Any] = dict(fixed)
    kwargs.update(_profile_kwargs(s["profile"]))
    if s["msl"] is not None:
        kwargs["msl"] = s["msl"]
    kwargs["drop"] = s["drop"]
    kwargs["fin_timeout"] = s["fin_timeout"]
    kwargs["rfc1337"] = s["rfc1337"]
    kwargs["skip_time_wait"] = s["skip_time_wait"]
    if "delay" in kwargs:
        kwargs["delay"] = {int(k): float(v) for k, v in kwargs["delay"].items()}
    if "duplicate" in kwargs:
        kwargs["duplicate"] = {int(k): float(v) for k, v in kwargs["duplicate"].items()}
    return tcpbook.simulate(scenario, **kwargs)


# --------------------------------------------------------------------------- one run


def run(scenario: str, settings: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
    """Everything the page draws for one choice: trace, time axis, diagram path, endings.

    Like the notebook's explorer, a loss beyond the last segment changed nothing and is
    forgotten, so the controls, the run and its recorded settings agree.
    """
    s = normalise(settings)
    trace = simulate(scenario, s, fixed)
    if s["drop"] is not None and max(s["drop"], default=0) > len(trace.segments):
        s["drop"] = [n for n in s["drop"] if n <= len(trace.segments)]
        return run(scenario, s, fixed)
    statediagram, timeaxis = _render_parts()
    axis = timeaxis.TimeAxis.for_trace(trace)
    data = trace.to_dict()
    return {
        "key": key(s),
        "settings": s,
        "trace": data,
        "axis": {
            "t": list(axis.knots_t),
            "y": list(axis.knots_y),
            "breaks": [list(b) for b in axis.breaks],
            "rps": axis.rows_per_second,
        },
        "path": {e: _path(statediagram, trace, e) for e in ("A", "B")},
        "endings": endings(data),
        "end": trace.end,
    }


def _path(statediagram: Any, trace: tcpbook.Trace, endpoint: str) -> list[list[Any]]:
    """``[[t, row id, node], ...]``: the diagram rows ``endpoint`` took, in order, with when.

    Read from ``highlight_for`` (the one reading of a trace as diagram rows): the step count
    at each moment gives each step's time.
    """
    whole = statediagram.highlight_for(trace, None, endpoint)
    order: dict[int, str] = {}
    for rid, numbers in whole.steps.get(endpoint, {}).items():
        for n in numbers:
            order[n] = rid
    times = sorted(set(_event_times(trace)))
    steps: list[list[Any]] = []
    done = 0
    for t in times:
        hl = statediagram.highlight_for(trace, t, endpoint)
        count = sum(len(v) for v in hl.steps.get(endpoint, {}).values())
        while done < count:
            done += 1
            node = hl.current[endpoint] if done == count else None
            steps.append([t, order[done], node])
    # nodes of steps taken at the same moment: the last one's node is the current one
    for i, step in enumerate(steps):
        if step[2] is None:
            step[2] = steps[i + 1][2] if i + 1 < len(steps) else whole.current[endpoint]
    return steps


def _event_times(trace: tcpbook.Trace) -> list[float]:
    times = [0.0, trace.end]
    times += [tr.t for tr in trace.transitions]
    times += [tm.t for tm in trace.timers]
    return times


# --------------------------------------------------------------------------- endings

_ENDINGS = {
    "rcv ACK of FIN": "closed cleanly (its FIN was acknowledged)",
    "timeout 2MSL": "closed cleanly (TIME_WAIT ran out)",
    "skip TIME_WAIT": "closed at once (TIME_WAIT skipped)",
    "timeout FIN_WAIT_2": "gave up waiting for the peer's FIN (FIN_WAIT_2 timeout)",
    "timeout retransmit": "gave up: retransmissions unanswered",
    "rcv RST": "reset by the peer (RST)",
    "ABORT": "aborted by its application",
    "host vanishes": "host gone",
    "CLOSE": "closed before a connection existed",
    "CLOSE with unread data": "closed with unread data: sent RST",
    "rcv data after CLOSE": "data arrived after close: sent RST",
}


def endings(trace: dict[str, Any]) -> dict[str, str]:
    """How each side ended, in words, from the run's last transition and errors."""
    out: dict[str, str] = {}
    for e in ("A", "B"):
        final = trace["final"][e]
        last = [tr for tr in trace["transitions"] if tr["endpoint"] == e]
        errors = [x["error"] for x in trace["errors"] if x["endpoint"] == e]
        if not last:
            text = f"never left {final}"
        elif final != "CLOSED":
            text = f"still in {final} when the run ends"
            if final == "ESTABLISHED":
                text = "connection still open (ESTABLISHED) when the run ends"
        else:
            cause = last[-1]["cause"]
            text = _ENDINGS.get(cause, f"closed ({cause})")
            if cause == "timeout retransmit":
                tries = sum(1 for s in trace["segments"] if s["src"] == e and s["retransmission"])
                text = f"gave up after {tries} retransmissions"
        if errors:
            text += f"; its application saw {', '.join(errors)}"
        out[e] = text
    return out


def run_json(scenario: str, settings_json: str, fixed_json: str) -> str:
    """:func:`run` with JSON in and out: what the web worker calls."""
    return json.dumps(
        run(scenario, json.loads(settings_json), json.loads(fixed_json)), separators=(",", ":")
    )
