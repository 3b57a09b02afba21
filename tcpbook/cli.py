"""``python -m tcpbook``: a thin shell over :func:`tcpbook.simulate` and the renderers.

Every mistake a user can make gets one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import simulate
from .endpoint import INITIAL_RTO
from .errors import TcpbookError
from .profiles import DEFAULT_PROFILE, PROFILES
from .scenarios import SCENARIOS
from .settings import LATENCY, SettingError, Settings
from .states import table

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"tcpbook: error: {message}\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if math.isnan(value) or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    return value


def _segment(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a segment number (an integer from 1), got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a segment number (an integer from 1), got {text!r}"
        )
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text!r}")
    return value


def _segment_seconds(text: str) -> tuple[int, float]:
    number, sep, seconds = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected N=SECONDS (e.g. 4=2.5), got {text!r}")
    n = _segment(number.strip())
    s = _seconds(seconds.strip())
    if s < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds in {text!r}")
    return n, s


#: How each kind of option reads its value: (type, metavar, extra argparse keywords).
_KINDS: dict[str, tuple[Any, str | None, dict[str, Any]]] = {
    "seconds": (_seconds, "SECONDS", {}),
    "segments": (_segment, "N", {"nargs": "+", "action": "extend"}),
    "segment seconds": (_segment_seconds, "N=SECONDS", {"nargs": "+", "action": "extend"}),
    "count": (_count, "N", {}),
    "profile": (str, None, {"choices": list(PROFILES)}),
}

#: The run options: flag, kind ("switch" for on/off), help. Each sets the Settings field of
#: the flag's name; the defaults are the settings' own (see tcpbook.settings).
RUN_OPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "--profile",
        "profile",
        f"the kernel whose defaults the endpoints follow (default {DEFAULT_PROFILE})",
    ),
    ("--msl", "seconds", "maximum segment lifetime, s (default: the profile's)"),
    ("--drop", "segments", "lose the N-th segment sent in the run (from 1; retransmissions count)"),
    ("--delay", "segment seconds", "add SECONDS to segment N's flight"),
    ("--duplicate", "segment seconds", "the network delivers a copy of segment N SECONDS later"),
    (
        "--fin-timeout",
        "seconds",
        "end an orphaned FIN_WAIT_2 after SECONDS (default: the profile's)",
    ),
    ("--skip-time-wait", "switch", "leave TIME_WAIT at once (to see why it exists)"),
    ("--rfc1337", "switch", "ignore RST in TIME_WAIT (RFC 1337; the freebsd profile does)"),
    ("--until", "seconds", "stop the run at this time"),
    ("--latency", "seconds", f"one-way network delay (default {LATENCY:g})"),
    (
        "--rto",
        "seconds",
        f"initial retransmission timeout (default {INITIAL_RTO:g}, RFC 6298, in every profile)",
    ),
    (
        "--syn-retries",
        "count",
        "SYN retransmissions before ETIMEDOUT (default: the profile's)",
    ),
)

#: Destinations of the options that change a simulated run (none applies to a capture).
RUN_DESTS: tuple[str, ...] = tuple(flag[2:].replace("-", "_") for flag, _, _ in RUN_OPTIONS)


def add_run_options(p: argparse.ArgumentParser, *, scenario_optional: bool = False) -> None:
    """The options shared by ``run`` and ``draw`` (and any command that simulates)."""
    p.add_argument(
        "scenario",
        nargs="?" if scenario_optional else None,
        help="scenario name (see `python -m tcpbook scenarios`)",
    )
    for flag, kind, text in RUN_OPTIONS:
        if kind == "switch":
            p.add_argument(flag, action="store_true", help=text)
            continue
        kind_type, metavar, extra = _KINDS[kind]
        if flag == "--msl":
            metavar = None  # shown as MSL, as it always has been
        p.add_argument(flag, type=kind_type, default=None, metavar=metavar, help=text, **extra)


def simulate_from_args(args: argparse.Namespace) -> Any:
    """Run the simulation the parsed ``run``/``draw`` options describe.

    :class:`~tcpbook.settings.Settings` checks every value; its one-line error is re-worded
    with the option's spelling (``--fin-timeout must be 0 or more seconds, got -1``).
    """
    given = {}
    for name in Settings.names():
        value = getattr(args, name, None)
        if value is not None and value is not False:  # an option not given keeps the default
            given[name] = value
    for name in ("delay", "duplicate"):
        if name in given:
            given[name] = dict(given[name])
    try:
        settings = Settings(**given)
    except SettingError as exc:
        value = exc.value
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        option = "--" + exc.name.split(" ")[0].replace("_", "-")
        raise TcpbookError(
            f"{option}{exc.name[len(option) - 2 :]} {exc.reason}, got {shown}"
        ) from None
    return simulate(args.scenario, settings)


def _cmd_run(args: argparse.Namespace) -> int:
    trace = simulate_from_args(args)
    if args.pcap is not None:
        from .export import pcap

        pcap(trace, args.pcap)
    if args.packetdrill is not None:
        from .packetdrill import export_script

        export_script(trace, args.packetdrill, side=args.side)
    if args.json:
        print(trace.to_json())
    else:
        from .textladder import text_ladder

        print(text_ladder(trace))
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    width = max(len(name) for name in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        print(f"{name:<{width}}  {scenario.description}")
    return 0


def _cmd_states(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(table(), indent=2))
    else:
        for row in table():
            print(f"{row['from']:<13} {row['event']:<26} {row['send']:<8} -> {row['to']}")
    return 0


def _cmd_pkt(args: argparse.Namespace) -> int:
    from .packetdrill import cli_main

    code: int = cli_main(args.script, as_json=args.json, strict=args.strict, profile=args.profile)
    return code


def _cmd_read(args: argparse.Namespace) -> int:
    from .capture import read_capture

    trace = read_capture(args.capture, relative=args.relative)
    if args.json:
        print(trace.to_json())
        return 0
    from .textladder import text_ladder

    where = trace.params.get("addresses", {})
    print(f"{trace.params.get('capture')}: A is {where.get('A')}, B is {where.get('B')}")
    print(text_ladder(trace))
    for note in trace.params.get("notes", ()):
        print(f"note: {note}")
    return 0


def _trace_to_draw(args: argparse.Namespace) -> Any:
    """The scenario's simulated run, or with ``--from`` the capture's inferred one."""
    if args.capture is None:
        if args.scenario is None:
            raise TcpbookError("draw needs a scenario name or --from CAPTURE.pcap")
        if args.relative:
            raise TcpbookError("--relative applies to a capture: use it with --from CAPTURE.pcap")
        return simulate_from_args(args)
    if args.scenario is not None:
        raise TcpbookError(
            f"draw either a scenario ({args.scenario!r}) or a capture (--from), not both"
        )
    given = [name for name in RUN_DESTS if getattr(args, name) not in (None, False)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise TcpbookError(f"{flags}: only for a simulated run; a capture is drawn as recorded")
    from .capture import read_capture

    return read_capture(args.capture, relative=args.relative)


def _cmd_draw(args: argparse.Namespace) -> int:
    from .render import draw_to_file

    trace = _trace_to_draw(args)
    draw_to_file(trace, kind=args.kind, path=args.output, at=args.at, endpoint=args.endpoint)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m tcpbook", description="TCP connection management, visible.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="simulate a scenario and print its ladder or JSON")
    add_run_options(run)
    run.add_argument("--json", action="store_true", help="print the trace as one JSON object")
    run.add_argument(
        "--pcap",
        metavar="FILE",
        default=None,
        help="also write the segments to a pcap file (Wireshark, tshark)",
    )
    run.add_argument(
        "--packetdrill",
        metavar="FILE",
        default=None,
        help="also write a packetdrill script for one side of the run",
    )
    run.add_argument(
        "--side",
        choices=("A", "B"),
        default="A",
        help="the side the packetdrill script tests (default A)",
    )
    run.set_defaults(func=_cmd_run)

    pkt = sub.add_parser("pkt", help="run a packetdrill script against the tcpbook model")
    pkt.add_argument("script", metavar="SCRIPT.pkt")
    pkt.add_argument("--json", action="store_true", help="print the result as JSON")
    pkt.add_argument(
        "--strict",
        action="store_true",
        help="an expected segment's window or options (timestamps, SACK) are unsupported, "
        "not 'not checked'",
    )
    pkt.add_argument(
        "--profile",
        choices=list(PROFILES),
        help="the kernel profile to run with (default: the one the script's sysctls name, "
        "else the plain model)",
    )
    pkt.set_defaults(func=_cmd_pkt)

    scen = sub.add_parser("scenarios", help="list the scenarios")
    scen.set_defaults(func=_cmd_scenarios)

    states = sub.add_parser("states", help="print the transition table")
    states.add_argument("--json", action="store_true", help="as a JSON list of objects")
    states.set_defaults(func=_cmd_states)

    read = sub.add_parser("read", help="read a real capture and infer both sides' states")
    read.add_argument("capture", metavar="CAPTURE.pcap", help="a pcap or pcapng file")
    read.add_argument("--json", action="store_true", help="print the trace as one JSON object")
    read.add_argument(
        "--relative", action="store_true", help="sequence numbers from each side's ISN"
    )
    read.set_defaults(func=_cmd_read)

    draw = sub.add_parser("draw", help="draw a scenario (or a capture) to an SVG, PNG or PDF file")
    add_run_options(draw, scenario_optional=True)
    draw.add_argument(
        "--from",
        dest="capture",
        metavar="CAPTURE.pcap",
        default=None,
        help="draw this capture's connection instead of a scenario",
    )
    draw.add_argument(
        "--relative", action="store_true", help="with --from: sequence numbers from each ISN"
    )
    draw.add_argument("--kind", choices=("state", "ladder", "timeline"), default="ladder")
    draw.add_argument(
        "--at",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="highlight the states at this time",
    )
    draw.add_argument("--endpoint", choices=("A", "B", "both"), default="both")
    draw.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="output file: .svg, .png or .pdf"
    )
    draw.set_defaults(func=_cmd_draw)

    native = sub.add_parser(
        "native", help="build or check the compiled core (the same model, about 3x faster)"
    )
    native.add_argument(
        "action",
        nargs="?",
        default="status",
        choices=("status", "build", "update", "clean"),
        help="status (default): which build runs; update: build when missing or stale",
    )
    native.set_defaults(func=_cmd_native)

    return parser


def _cmd_native(args: argparse.Namespace) -> int:
    from . import native

    return native.main([args.action])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except TcpbookError as exc:
        print(f"tcpbook: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    return code
