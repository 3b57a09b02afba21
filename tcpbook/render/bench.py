"""How fast a widget can redraw: re-simulate, then draw the ladder and the state diagram.

``bench_redraw()`` returns median milliseconds per step; ``python -m tcpbook.render.bench``
prints them. Each run alternates between two parameter sets, so every redraw is of a new trace,
as after a click on a widget.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

RUNS = 50


def _median_ms(step: Callable[[int], object], runs: int) -> float:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        step(i)
        samples.append(time.perf_counter() - start)
    return 1000 * statistics.median(samples)


def bench_redraw(scenario: str = "close", runs: int = RUNS) -> dict[str, float]:
    """Median milliseconds of each step of a widget redraw, and of the whole path.

    ``widget_png``/``widget_svg``: simulate + ladder into a reused figure + PNG (or SVG) bytes +
    state diagram restyle; the state diagram's ``dot`` layout is cached beforehand, as it is
    after a widget's first draw.
    """
    import matplotlib

    from .. import simulate
    from .ladder import ladder
    from .statediagram import base_svg, state_diagram

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
        "simulate": _median_ms(lambda i: simulate(scenario, drop=drops[i % len(drops)]), runs),
        "ladder": _median_ms(lambda i: ladder(trace_of(i), at=0.8, fig=fig), runs),
        "png_bytes": _median_ms(png, runs),
        "svg_bytes": _median_ms(svg, runs),
        "state_restyle": _median_ms(lambda i: state_diagram(trace_of(i), at=0.8).svg(), runs),
        "widget_png": _median_ms(lambda i: widget(i, png), runs),
        "widget_svg": _median_ms(lambda i: widget(i, svg), runs),
    }


def main() -> None:
    for name, ms in bench_redraw().items():
        print(f"{name:<14} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
