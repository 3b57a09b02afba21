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
from .errors import TcpbookError
from .scenarios import SCENARIOS
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


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options shared by ``run`` and ``draw`` (and any command that simulates)."""
    p.add_argument("scenario", help="scenario name (see `python -m tcpbook scenarios`)")
    p.add_argument("--msl", type=_seconds, default=None, help="maximum segment lifetime, s")
    p.add_argument(
        "--drop",
        type=_segment,
        nargs="+",
        action="extend",
        default=None,
        metavar="N",
        help="lose the N-th segment sent in the run (from 1; retransmissions count)",
    )
    p.add_argument(
        "--delay",
        type=_segment_seconds,
        nargs="+",
        action="extend",
        default=None,
        metavar="N=SECONDS",
        help="add SECONDS to segment N's flight",
    )
    p.add_argument(
        "--duplicate",
        type=_segment_seconds,
        nargs="+",
        action="extend",
        default=None,
        metavar="N=SECONDS",
        help="the network delivers a copy of segment N SECONDS later",
    )
    p.add_argument(
        "--fin-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="end an orphaned FIN_WAIT_2 after SECONDS (Linux tcp_fin_timeout)",
    )
    p.add_argument(
        "--skip-time-wait",
        action="store_true",
        help="leave TIME_WAIT at once (to see why it exists)",
    )
    p.add_argument("--rfc1337", action="store_true", help="ignore RST in TIME_WAIT (RFC 1337)")
    p.add_argument(
        "--until", type=_seconds, default=None, metavar="SECONDS", help="stop the run at this time"
    )
    p.add_argument(
        "--latency",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="one-way network delay (default 0.05)",
    )
    p.add_argument(
        "--rto",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="initial retransmission timeout (default 1, RFC 6298; Linux 0.2)",
    )
    p.add_argument(
        "--syn-retries",
        type=_count,
        default=None,
        metavar="N",
        help="SYN retransmissions before ETIMEDOUT (default 6, Linux tcp_syn_retries)",
    )


def simulate_from_args(args: argparse.Namespace) -> Any:
    """Run the simulation the parsed ``run``/``draw`` options describe."""
    if args.until is not None and args.until < 0:
        raise TcpbookError(f"--until must be 0 or more seconds, got {args.until:g}")
    if args.fin_timeout is not None and args.fin_timeout < 0:
        raise TcpbookError(f"--fin-timeout must be 0 or more seconds, got {args.fin_timeout:g}")
    if args.msl is not None and args.msl <= 0:
        raise TcpbookError(f"--msl must be greater than 0 seconds, got {args.msl:g}")
    if args.scenario not in SCENARIOS:
        raise TcpbookError(
            f"unknown scenario {args.scenario!r}; choose one of: {', '.join(SCENARIOS)}"
        )
    extra: dict[str, Any] = {}
    if args.latency is not None:
        extra["latency"] = args.latency
    if args.rto is not None:
        extra["rto"] = args.rto
    if args.syn_retries is not None:
        extra["syn_retries"] = args.syn_retries
    return simulate(
        args.scenario,
        msl=args.msl,
        drop=args.drop,
        delay=dict(args.delay) if args.delay is not None else None,
        duplicate=dict(args.duplicate) if args.duplicate is not None else None,
        fin_timeout=args.fin_timeout,
        skip_time_wait=args.skip_time_wait,
        rfc1337=args.rfc1337,
        until=args.until,
        **extra,
    )


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

    code: int = cli_main(args.script, as_json=args.json, strict=args.strict)
    return code


def _cmd_draw(args: argparse.Namespace) -> int:
    from .render import draw_to_file

    trace = simulate_from_args(args)
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
    pkt.set_defaults(func=_cmd_pkt)

    scen = sub.add_parser("scenarios", help="list the scenarios")
    scen.set_defaults(func=_cmd_scenarios)

    states = sub.add_parser("states", help="print the transition table")
    states.add_argument("--json", action="store_true", help="as a JSON list of objects")
    states.set_defaults(func=_cmd_states)

    draw = sub.add_parser("draw", help="draw a scenario to an SVG, PNG or PDF file")
    add_run_options(draw)
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

    return parser


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
