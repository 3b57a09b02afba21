"""``python -m tcpbook.bench`` (``make bench``): is the book fast enough to feel instant?

Measures what a reader waits for and prints PASS/MISS against the book's targets: importing
tcpbook, one simulated run, one widget update (re-simulate, redraw the ladder as SVG and the
state diagram as SVG), executing every notebook, and Monte Carlo throughput on one core and on
all of them. The numbers also go to a JSON file (``bench/latest.json`` by default) so that runs
on different days or machines can be compared.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Targets: what "every click answers at once" means in numbers.
IMPORT_TARGET_MS = 100.0  # `import tcpbook` on top of a bare interpreter
WIDGET_TARGET_MS = 50.0  # one widget update; ~50 ms still feels immediate to a reader
CURSOR_TARGET_MS = 16.0  # moving the time cursor redraws within one frame at 60 Hz
SIMULATE_TARGET = 12_000.0  # complete `close` lifecycles per second: simulate('close') on one core
BOOK_TARGET_S = 60.0  # executing every notebook, kernel start-ups included
MC_TARGET_PER_CORE = 10_000.0  # complete `close` lifecycles per second per core

ROOT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = (ROOT / "pyproject.toml").is_file()


@dataclass
class Row:
    """One measurement; ``status`` is PASS, MISS, INFO (no target) or N/A (could not run)."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    status: str = "INFO"
    note: str = ""


def _judge(value: float, target: float, *, below: bool) -> str:
    return "PASS" if (value < target if below else value >= target) else "MISS"


def _against(name: str, value: float, unit: str, target: float, note: str, *, below: bool) -> Row:
    """A measurement judged against its target (below it for times, at least it for rates)."""
    text = f"< {target:g} {unit}" if below else f">= {target:,.0f}"
    return Row(name, value, unit, text, _judge(value, target, below=below), note)


def _median_time(fn: Callable[[], object], *, repeat: int, number: int) -> float:
    """Median seconds per call over ``repeat`` batches of ``number`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def bench_import(runs: int) -> Row:
    """Median wall time of ``python -c "import tcpbook"`` minus that of ``python -c pass``."""

    def wall(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    wall("import tcpbook")  # warm the file cache and the byte-code cache
    bare = statistics.median(wall("pass") for _ in range(runs))
    full = statistics.median(wall("import tcpbook") for _ in range(runs))
    ms = max(0.0, (full - bare) * 1000)
    return _against(
        "import tcpbook (over bare python)",
        ms,
        "ms",
        IMPORT_TARGET_MS,
        f"median of {runs} runs each",
        below=True,
    )


def _each(seconds: float, repeat: int) -> str:
    return f"{seconds * 1e6:.1f} µs each, median of {repeat} × 200 runs"


def bench_simulate(repeat: int) -> Row:
    """Judged on the build this process runs (the compiled core once ``make setup`` built it)."""
    import tcpbook
    from tcpbook import native

    seconds = _median_time(lambda: tcpbook.simulate("close"), repeat=repeat, number=200)
    rate = 1.0 / seconds
    note = f"{_each(seconds, repeat)}; {native.STATUS}"
    return _against(
        "simulate('close') (lifecycles/s)", rate, "1/s", SIMULATE_TARGET, note, below=False
    )


def bench_simulate_pure(repeat: int) -> Row:
    """The same, as pure Python (what the web edition and a machine without a C compiler run),
    in a fresh interpreter with ``TCPBOOK_PURE=1``."""
    from tcpbook import native

    code = f"import tcpbook.bench as b\nprint(1 / b.bench_simulate({repeat}).value)"
    env = {**os.environ, native.ENV_PURE: "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    seconds = float(done.stdout)
    note = f"{_each(seconds, repeat)}; {native.ENV_PURE}=1"
    return Row(
        "simulate('close'), pure Python (lifecycles/s)", 1.0 / seconds, "1/s", "", "INFO", note
    )


def bench_widget(repeat: int) -> Row:
    """What one slider move costs: simulate, ladder as SVG (text kept as text, as the explorer
    sends a new run) into a reused figure, state diagram restyled as SVG."""
    name = "widget update (simulate + ladder SVG + state SVG)"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        import tcpbook
        from tcpbook import render

        ladder = render.ladder  # type: ignore[attr-defined,unused-ignore]
        state_diagram = render.state_diagram  # type: ignore[attr-defined,unused-ignore]
    except (ImportError, AttributeError) as exc:
        return Row(name, None, "ms", f"< {WIDGET_TARGET_MS:g} ms", "N/A", f"not available: {exc}")
    msl = iter(range(1, 10**9))
    from matplotlib.figure import Figure

    from tcpbook.render.live import LiveCanvas, svg_bytes

    fig = Figure(figsize=(8.0, 8.0))
    LiveCanvas(fig)  # the canvas the explorer draws on: it keeps font metrics between drawings

    def update() -> None:
        # a new MSL each time, as a slider would give, so no cache can answer
        trace = tcpbook.simulate("close", msl=5 + next(msl) % 50, drop=(11,))
        svg_bytes(ladder(trace, fig=fig))
        state_diagram(trace, at=trace.end / 2).svg()
        plt.close("all")

    try:
        update()  # first call pays one-time costs (imports, fonts, the graph layout)
        ms = _median_time(update, repeat=repeat, number=1) * 1000
    except Exception as exc:  # a renderer still being written must not stop the benchmark
        return Row(name, None, "ms", f"< {WIDGET_TARGET_MS:g} ms", "N/A", f"failed: {exc!r}")
    note = f"median of {repeat}, after a warm-up"
    return _against(name, ms, "ms", WIDGET_TARGET_MS, note, below=True)


def bench_explorer(repeat: int) -> list[Row]:
    """The book's own explorer (``tcpbook.widgets``): what a reader's slider move really costs."""
    names = ("explorer: MSL slider (re-simulate + redraw)", "explorer: time cursor (redraw only)")
    try:
        import matplotlib

        matplotlib.use("Agg")
        from tcpbook.widgets import explore

        ex = explore("close", msl=5)
    except Exception as exc:  # written in parallel; absent or broken must not stop the bench
        return [
            Row(n, None, "ms", f"< {WIDGET_TARGET_MS:g} ms", "N/A", f"not available: {exc!r}")
            for n in names
        ]
    msl = iter(range(10**9))
    times = iter(range(10**9))
    end = max(ex.trace.end, 1.0)
    moves: list[Callable[[], object]] = [
        lambda: ex.set(msl=1 + next(msl) % 9),
        lambda: ex.set(at=(next(times) % 20) / 20 * end),
    ]
    rows = []
    for name, move, target in zip(names, moves, (WIDGET_TARGET_MS, CURSOR_TARGET_MS), strict=True):
        move()
        wall, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            move()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        ms = statistics.median(wall) * 1000
        # On a shared machine the wall clock includes waiting for a core; the CPU time and the
        # load say how much of it did.
        note = (
            f"median of {repeat}; CPU {statistics.median(cpu) * 1000:.1f} ms; "
            f"load {os.getloadavg()[0]:.2f}"
        )
        rows.append(_against(name, ms, "ms", target, note, below=True))
    return rows


def bench_book(notebooks: Sequence[Path]) -> tuple[Row, list[Row]]:
    """Execute every notebook with nbclient, as ``make notebooks`` does, and time each."""
    import nbformat
    from nbclient import NotebookClient

    rows = []
    total = 0.0
    failures = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call,unused-ignore]
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": path.parent}}
        )
        start = time.perf_counter()
        try:
            client.execute()
        except Exception as exc:
            failures.append(f"{path.name}: {type(exc).__name__}")
        seconds = time.perf_counter() - start
        total += seconds
        rows.append(Row(f"  {path.name}", seconds, "s"))
    note = f"{len(notebooks)} notebooks" + (
        f"; errors in {', '.join(failures)}" if failures else ""
    )
    status = _judge(total, BOOK_TARGET_S, below=True) if not failures else "MISS"
    return Row(
        "whole book (execute every notebook)", total, "s", f"< {BOOK_TARGET_S:g} s", status, note
    ), rows


def bench_montecarlo(n: int, cores: int) -> list[Row]:
    """Complete ``close`` lifecycles per second, on one core and spread over every core."""
    from tcpbook import montecarlo

    montecarlo.run(n=200, p=0.0, workers=1)  # warm-up
    rows = []
    start = time.perf_counter()
    montecarlo.run(n=n, p=0.0, workers=1, progress=False)
    one = n / (time.perf_counter() - start)
    rows.append(
        _against(
            "Monte Carlo, 1 core (lifecycles/s)",
            one,
            "1/s",
            MC_TARGET_PER_CORE,
            f"n={n}, p=0",
            below=False,
        )
    )
    start = time.perf_counter()
    montecarlo.run(n=n, p=0.1, workers=1, progress=False)
    lossy = n / (time.perf_counter() - start)
    rows.append(
        Row(
            "Monte Carlo, 1 core, p=0.1 (lifecycles/s)",
            lossy,
            "1/s",
            note="lossy runs send more segments",
        )
    )
    big = n * cores
    start = time.perf_counter()
    montecarlo.run(n=big, p=0.0, workers=cores, progress=False)
    every = big / (time.perf_counter() - start)
    rows.append(
        _against(
            f"Monte Carlo, {cores} cores (lifecycles/s)",
            every,
            "1/s",
            MC_TARGET_PER_CORE * cores,
            f"n={big}, p=0, process pool start-up included",
            below=False,
        )
    )
    return rows


def _fmt(row: Row) -> str:
    if row.value is None:
        return "-"
    if row.unit == "1/s":
        return f"{row.value:,.0f}/s"
    return f"{row.value:,.1f} {row.unit}" if row.value < 1000 else f"{row.value:,.0f} {row.unit}"


def table(rows: Sequence[Row]) -> str:
    """The rows as an aligned plain-text table."""
    head = ("benchmark", "value", "target", "status", "note")
    body = [(r.name, _fmt(r), r.target, r.status, r.note) for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(4)]
    lines = []
    for line in [head, *body]:
        cells = [line[i].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells) + "  " + line[4])
    return "\n".join(line.rstrip() for line in lines)


def machine() -> dict[str, Any]:
    from tcpbook import native

    cores = os.cpu_count() or 1
    py = platform.python_version()
    return {
        "description": f"{cores} cores, Python {'.'.join(py.split('.')[:2])}",
        "cores": cores,
        "python": py,
        "implementation": platform.python_implementation(),
        "tcpbook_build": native.STATUS,  # the compiled core or pure Python (tcpbook.native)
        "system": f"{platform.system()} {platform.machine()}",
        "processor": platform.processor() or platform.machine(),
        # other work on the machine slows every number down; recorded so runs can be compared
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


# ------------------------------------------------------------- widget redraw, step by step
# How fast a widget can redraw: re-simulate, then draw the ladder and the state diagram.
# Each run alternates between two parameter sets, so every redraw is of a new trace, as after a
# click on a widget.

REDRAW_RUNS = 50


def median_ms(step: Callable[[int], object], runs: int) -> float:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        step(i)
        samples.append(time.perf_counter() - start)
    return 1000 * statistics.median(samples)


def bench_redraw(scenario: str = "close", runs: int = REDRAW_RUNS) -> dict[str, float]:
    """Median milliseconds of each step of a widget redraw, and of the whole path.

    ``widget_png``/``widget_svg``: simulate + ladder into a reused figure + PNG (or SVG) bytes +
    state diagram restyle; the state diagram's ``dot`` layout is cached beforehand, as it is
    after a widget's first draw.
    """
    import matplotlib

    from tcpbook import simulate
    from tcpbook.render import ladder, state_diagram
    from tcpbook.render.statediagram import base_svg

    base_svg()
    drops: tuple[tuple[int, ...] | None, ...] = (None, (11,)) if scenario == "close" else (None,)
    traces = [simulate(scenario, drop=d) for d in drops]
    fig = ladder(traces[0])

    def trace_of(i: int):  # type: ignore[no-untyped-def]
        return traces[i % len(traces)]

    def png(i: int) -> bytes:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        return buf.getvalue()

    def svg(i: int) -> bytes:
        buf = io.BytesIO()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tcpbook"}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    def widget(i: int, out: Callable[[int], bytes]) -> None:
        trace = simulate(scenario, drop=drops[i % len(drops)])
        ladder(trace, at=0.8, fig=fig)
        out(i)
        state_diagram(trace, at=0.8).svg()

    ladder(traces[0], fig=fig)
    return {
        "simulate": median_ms(lambda i: simulate(scenario, drop=drops[i % len(drops)]), runs),
        "ladder": median_ms(lambda i: ladder(trace_of(i), at=0.8, fig=fig), runs),
        "png_bytes": median_ms(png, runs),
        "svg_bytes": median_ms(svg, runs),
        "state_restyle": median_ms(lambda i: state_diagram(trace_of(i), at=0.8).svg(), runs),
        "widget_png": median_ms(lambda i: widget(i, png), runs),
        "widget_svg": median_ms(lambda i: widget(i, svg), runs),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tcpbook.bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions and skip executing the notebooks"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON file to write (default: bench/latest.json)"
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=ROOT / "notebooks",
        help="folder of notebooks to execute for the whole-book time",
    )
    return parser


def _write(rows: list[Row], quick: bool, output: Path | None) -> Path:
    """The report as JSON (``bench/latest.json`` in a checkout unless told otherwise)."""
    out = output or (ROOT / "bench" / "latest.json" if IN_CHECKOUT else Path("latest.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": _dt.date.today().isoformat(),
        "machine": machine(),
        "quick": quick,
        "results": [asdict(r) for r in rows],
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quick = args.quick
    cores = os.cpu_count() or 1
    rows: list[Row] = []
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("import", lambda: [bench_import(5 if quick else 15)]),
        ("simulate", lambda: [bench_simulate(5 if quick else 25)]),
        ("simulate, pure Python", lambda: [bench_simulate_pure(5 if quick else 25)]),
        ("widget", lambda: [bench_widget(5 if quick else 30)]),
        ("explorer", lambda: bench_explorer(5 if quick else 20)),
        ("montecarlo", lambda: bench_montecarlo(2_000 if quick else 20_000, cores)),
    ]
    notebooks = sorted(args.notebooks.glob("[0-9][0-9]-*.ipynb"))

    def book() -> list[Row]:
        if quick:
            return [
                Row(
                    "whole book (execute every notebook)",
                    None,
                    "s",
                    f"< {BOOK_TARGET_S:g} s",
                    "N/A",
                    "skipped (--quick)",
                )
            ]
        total, each = bench_book(notebooks)
        return [total, *each]

    steps.append(("book", book))
    for label, step in steps:
        print(f"... {label}", file=sys.stderr, flush=True)
        rows.extend(step())
    print(table(rows))
    load = machine()["load_average_1min"]
    if load is not None and load > 0.5:
        print(
            f"\nnote: load average {load} before the report: other work was running, "
            "so the timings are pessimistic"
        )
    out = _write(rows, quick, args.output)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
