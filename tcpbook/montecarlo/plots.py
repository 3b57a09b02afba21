"""Monte Carlo, the figures (matplotlib is imported only when one is drawn)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from .models import Population, fin_retransmission_pmf, passive_close_model
from .sampling import OUTCOMES, Results, run, wilson

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


# -- figures (matplotlib is imported only here) ------------------------------------------------


def _axes(ax: Axes | None, size: tuple[float, float] = (6.4, 3.6)) -> tuple[Figure, Axes]:
    """A new figure outside pyplot (Jupyter shows the returned figure once, nothing leaks)."""
    from ..render.figure import ShownFigure

    if ax is None:
        fig = ShownFigure(figsize=size, layout="constrained")
        return fig, fig.subplots()
    return ax.get_figure(), ax  # type: ignore[return-value]


def plot_close_durations(results: Results, ax: Axes | None = None) -> Figure:
    """Empirical CDF of how long each side takes to close, on a log time axis.

    Steps sit at the retransmission times (1, 3, 7, ... s later): each lost FIN or ACK costs
    one doubling of the retransmission timeout.
    """
    fig, ax = _axes(ax)
    labels = {"A": "A: CLOSE → CLOSED (includes 2MSL)", "B": "B: FIN received → CLOSED"}
    for side, values in results.close_durations.items():
        if not values:
            continue
        ordered = sorted(values)
        frac = [(i + 1) / len(ordered) for i in range(len(ordered))]
        ax.step(ordered, frac, where="post", label=labels[side])
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("seconds (log scale)")
    ax.set_ylabel("fraction of lifecycles closed")
    ax.set_title(f"Close durations: loss p = {results.p:g}, MSL = {results.msl:g} s")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def plot_fin_retransmissions(results: Results, ax: Axes | None = None) -> Figure:
    """How often each FIN was retransmitted k times, beside the geometric law for B's FIN.

    The law holds for the case :func:`passive_close_model` describes (A in FIN_WAIT_2 with all of
    B's data acknowledged when B sends its FIN), so B's bars use those lifecycles only.
    """
    fig, ax = _axes(ax)
    model_case = [lc for lc in results.lifecycles if lc.b_fin_in_fin_wait_2]
    pmf = fin_retransmission_pmf(results.p)
    ks = list(range(len(pmf)))
    width = 0.4
    a = Counter(lc.fin_retx_a for lc in results.lifecycles)
    b = Counter(lc.fin_retx_b for lc in model_case)
    ax.bar(
        [k - width / 2 for k in ks],
        [a.get(k, 0) / results.n for k in ks],
        width,
        label=f"A's FIN (all {results.n} lifecycles)",
        color="tab:blue",
    )
    if model_case:
        ax.bar(
            [k + width / 2 for k in ks],
            [b.get(k, 0) / len(model_case) for k in ks],
            width,
            label=f"B's FIN ({len(model_case)} lifecycles in the model's case)",
            color="tab:orange",
        )
    ax.plot(ks, pmf, "k--o", markersize=4, label="geometric law, q = (1 − p)²")
    ax.set_yscale("log")
    ax.set_ylim(bottom=min(0.5 / max(results.n, 1), 0.5 * min(x for x in pmf if x > 0)))
    ax.set_xticks(ks)
    ax.set_xlabel("retransmissions of the FIN (k)")
    ax.set_ylabel("fraction of lifecycles")
    ax.set_title(f"FIN retransmissions: loss p = {results.p:g}")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def reset_curve(
    ps: Sequence[float], msl: float, *, n: int, seed: int = 0, executor: Executor | None = None
) -> list[tuple[float, float, float, float]]:
    """``[(p, simulated P(RST | model case), low, high), ...]`` with 95 % Wilson bounds."""
    points = []
    for p in ps:
        res = run(n=n, p=p, msl=msl, seed=seed, executor=executor, progress=False)
        case = [lc for lc in res.lifecycles if lc.b_fin_in_fin_wait_2]
        k = sum(lc.outcome == "reset" for lc in case)
        lo, hi = wilson(k, len(case)) if case else (0.0, 1.0)
        points.append((float(p), k / len(case) if case else math.nan, lo, hi))
    return points


def plot_reset_probability(
    ps: Sequence[float],
    msls: Sequence[float],
    *,
    n: int,
    seed: int = 0,
    executor: Executor | None = None,
    ax: Axes | None = None,
) -> Figure:
    """P(B is reset instead of closing cleanly) against loss, one colour per MSL.

    Dots: simulation (lifecycles in the model's case), with 95 % intervals; lines: the exact
    :func:`passive_close_model`.
    """
    fig, ax = _axes(ax)
    fine = [i / 100 for i in range(1, 61)]
    for i, msl in enumerate(msls):
        colour = f"C{i}"
        model = [passive_close_model(p, msl)["reset"] for p in fine]
        ax.plot(fine, model, color=colour, label=f"MSL {msl:g} s (2MSL {2 * msl:g} s)")
        pts = [pt for pt in reset_curve(ps, msl, n=n, seed=seed, executor=executor) if pt[1] > 0]
        if pts:
            ax.errorbar(
                [pt[0] for pt in pts],
                [pt[1] for pt in pts],
                yerr=[[pt[1] - pt[2] for pt in pts], [pt[3] - pt[1] for pt in pts]],
                fmt="o",
                color=colour,
                markersize=4,
                capsize=2,
            )
    ax.set_yscale("log")
    ax.set_ylim(1e-6, 1)
    ax.set_xlim(0, 0.6)
    ax.set_xlabel("loss probability p per segment")
    ax.set_ylabel("P(B ends with RST)")
    ax.set_title("A short MSL turns lost ACKs into resets (lines: model, dots: simulation)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_time_wait_population(pop: Population, ax: Axes | None = None) -> Figure:
    """TIME_WAIT sockets over time, with Little's law's steady state as a dashed line."""
    fig, ax = _axes(ax)
    ax.plot(pop.t, pop.count, color="tab:blue", label="simulated sockets in TIME_WAIT")
    ax.axhline(
        pop.littles_law,
        color="k",
        linestyle="--",
        label=f"Little's law: {pop.rate:g}/s × {pop.mean_time_wait:.1f} s = {pop.littles_law:,.0f}",
    )
    ax.set_xlim(0, float(pop.t[-1]))
    ax.set_ylim(0, max(float(pop.count.max()), pop.littles_law) * 1.15)
    ax.set_xlabel("seconds since the server started closing connections")
    ax.set_ylabel("sockets in TIME_WAIT")
    ax.yaxis.set_major_formatter(lambda y, _pos: f"{y:,.0f}")
    ax.set_title(f"{pop.rate:g} closes per second, MSL {pop.msl:g} s, loss p = {pop.p:g}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def plot_outcomes(results: Results, ax: Axes | None = None) -> Figure:
    """How B ended, with 95 % intervals, and the LAST_ACK model's share of clean and reset."""
    fig, ax = _axes(ax)
    names = list(OUTCOMES)
    probs = [results.probability(k) for k in names]
    bounds = [results.interval(k) for k in names]
    ax.bar(
        names,
        probs,
        color=["tab:green", "tab:red", "tab:orange", "tab:grey"],
        yerr=[
            [pr - lo for pr, (lo, _) in zip(probs, bounds, strict=True)],
            [hi - pr for pr, (_, hi) in zip(probs, bounds, strict=True)],
        ],
        capsize=3,
    )
    for x, pr in enumerate(probs):
        ax.annotate(
            f"{pr:.1%}",
            (x, pr),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize="small",
        )
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("fraction of lifecycles")
    ax.set_title(f"How B ended: {results.n} lifecycles, p = {results.p:g}, MSL = {results.msl:g} s")
    return fig


def dashboard(results: Results, population: Population) -> Figure:
    """Four panels for the explorer: outcomes, close durations, FIN retransmissions, TIME_WAIT."""
    from ..render.figure import ShownFigure

    fig = ShownFigure(figsize=(11, 6.5), layout="constrained")
    axs = fig.subplots(2, 2)
    plot_outcomes(results, axs[0][0])
    plot_close_durations(results, axs[0][1])
    plot_fin_retransmissions(results, axs[1][0])
    plot_time_wait_population(population, axs[1][1])
    for ax in fig.axes:
        ax.title.set_fontsize("medium")
    return fig
