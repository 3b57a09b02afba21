"""Monte Carlo, the sampling: many simulated lifecycles, summarized, and their statistics.

Lifecycle ``i`` draws its randomness from ``(seed, i)`` alone (see :mod:`tcpbook.montecarlo`),
so a run gives the same results in one process, in a pool or on a cluster, however chunked.
"""

from __future__ import annotations

import math
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import TcpbookError
from ..scenarios import Scenario
from ..scenarios import get as get_scenario
from ..settings import DEFAULT_MSL, Settings
from ..sim import DelayRule, DropRule, Simulator
from ..trace import SegmentRecord, Trace

if TYPE_CHECKING:
    pass


#: How lifecycle B (the passive closer) ended, in the order reports list them.
OUTCOMES = ("clean", "reset", "timeout", "failed")
OUTCOME_TEXT = {
    "clean": "clean close (the ACK of B's FIN arrived)",
    "reset": "B was reset (A had already forgotten the connection)",
    "timeout": "B gave up retransmitting",
    "failed": "no complete close (e.g. the handshake never finished)",
}

SERIAL_BELOW = 4000  # fewer lifecycles than this run in-process: a pool costs more to start
MIN_CHUNK = 250  # lifecycles per task: large enough that scheduling overhead stays small ...
MAX_CHUNK = 10_000  # ... small enough that the progress bar moves and workers stay balanced
CHUNKS_PER_WORKER = 4
PROGRESS_ABOVE = 20_000  # progress=None shows a bar only for runs at least this long
MAX_ARRIVALS = 50_000_000  # time_wait_population: about 800 MB of float64 arrays at most


class Lifecycle(NamedTuple):
    """What one simulated connection lifecycle came to (times in seconds, None = never)."""

    number: int  # the lifecycle's index in its run: (seed, number) fixes its randomness
    outcome: str  # one of OUTCOMES: how B ended
    a_close: float | None  # A: from its CLOSE call to CLOSED (includes TIME_WAIT)
    b_close: float | None  # B: from receiving A's FIN to CLOSED
    time_wait: float  # total time A spent in TIME_WAIT
    fin_retx_a: int  # retransmissions of A's FIN
    fin_retx_b: int  # retransmissions of B's FIN
    segments: int  # segments put on the wire
    a_end: str  # the event that closed A last ("timeout 2MSL", "rcv data after CLOSE", ...)
    b_fin_in_fin_wait_2: bool  # A sat in FIN_WAIT_2 when B sent its FIN: passive_close_model's case


class _Times(NamedTuple):
    """What the state changes of one lifecycle say (times in seconds, None = never)."""

    a_close: float | None  # A's CLOSE call
    a_closed: float | None
    a_cause: str
    b_fin: float | None  # B learns of A's FIN (CLOSE_WAIT)
    b_closed: float | None
    b_cause: str
    b_established: bool
    b_last_ack: float | None  # B enters LAST_ACK while A waits in FIN_WAIT_2
    time_wait: float


def _times(trace: Trace) -> _Times:
    a_close = a_closed = b_fin = b_closed = tw_enter = b_last_ack = None
    time_wait = 0.0
    a_state = "CLOSED"
    a_cause = b_cause = ""
    b_established = False
    for tr in trace.transitions:  # in time order, both endpoints interleaved
        dst = tr.dst
        if tr.endpoint == "A":
            if tw_enter is not None:
                time_wait += tr.t - tw_enter
                tw_enter = None
            a_state = dst
            if dst == "TIME_WAIT":
                tw_enter = tr.t
            elif dst == "CLOSED":
                a_closed = tr.t
                a_cause = tr.cause
            elif tr.cause == "CLOSE" and a_close is None:
                a_close = tr.t
        elif dst == "CLOSED":
            b_closed = tr.t
            b_cause = tr.cause
        elif dst == "ESTABLISHED":
            b_established = True
        elif dst == "CLOSE_WAIT" and b_fin is None:
            b_fin = tr.t
        elif dst == "LAST_ACK" and a_state == "FIN_WAIT_2":
            b_last_ack = tr.t
    if tw_enter is not None:
        time_wait += trace.end - tw_enter
    return _Times(
        a_close, a_closed, a_cause, b_fin, b_closed, b_cause, b_established, b_last_ack, time_wait
    )


def _outcome(trace: Trace, times: _Times) -> str:
    """How B ended: one of :data:`OUTCOMES`."""
    if trace.final.get("B") != "CLOSED" or not times.b_established:
        return "failed"
    cause = times.b_cause
    if cause == "rcv ACK of FIN":
        return "clean"
    if cause == "rcv RST":
        return "reset"
    if cause.startswith("timeout"):
        return "timeout"
    return "failed"


def _fin_retransmissions(trace: Trace) -> tuple[int, int]:
    fin_a = fin_b = 0
    for seg in trace.segments:
        if seg.retransmission and "FIN" in seg.flags:
            if seg.src == "A":
                fin_a += 1
            else:
                fin_b += 1
    return fin_a, fin_b


def _only_fin_left(trace: Trace, b_last_ack: float | None) -> bool:
    """B entered LAST_ACK with all its data acknowledged: passive_close_model's case."""
    if b_last_ack is None:
        return False
    b_data_end = 0
    acked = -1
    for seg in trace.segments:
        if seg.sent > b_last_ack:
            continue
        if seg.src == "B" and seg.len:
            b_data_end = max(b_data_end, seg.seq + seg.len)
        elif (
            seg.src == "A"
            and seg.ack is not None
            and seg.arrived is not None
            and seg.arrived <= b_last_ack
        ):
            acked = max(acked, seg.ack)
    return acked >= b_data_end


def _span(start: float | None, end: float | None, closed: bool) -> float | None:
    return None if start is None or end is None or not closed else round(end - start, 9)


def summarize(trace: Trace, index: int = 0) -> Lifecycle:
    """Reduce one trace to the numbers the Monte Carlo statistics are made of."""
    times = _times(trace)
    fin_a, fin_b = _fin_retransmissions(trace)
    final = trace.final
    return Lifecycle(
        index,
        _outcome(trace, times),
        _span(times.a_close, times.a_closed, final.get("A") == "CLOSED"),
        _span(times.b_fin, times.b_closed, final.get("B") == "CLOSED"),
        round(times.time_wait, 9),
        fin_a,
        fin_b,
        len(trace.segments),
        times.a_cause,
        _only_fin_left(trace, times.b_last_ack),
    )


def lifecycle(
    scenario: str = "close",
    *,
    index: int,
    p: float,
    msl: float = DEFAULT_MSL,
    seed: int = 0,
    jitter: float = 0.0,
) -> Trace:
    """The trace of lifecycle ``index`` of a Monte Carlo run: look at any single run in detail."""
    check_parameters(p=p, msl=msl, seed=seed, jitter=jitter)
    script, settings = _prepare(scenario, msl)
    return _simulate_one(script, settings, p, seed, jitter, index, record_timers=True)


def _prepare(scenario: str, msl: float) -> tuple[Scenario, Settings]:
    """The script and the settings every lifecycle of a run shares (resolved once).

    ``drop=()``: the losses are Monte Carlo's own draws, never the scenario's built-in rule.
    """
    script = get_scenario(scenario)
    return script, Settings(msl=msl, drop=()).for_scenario(script)


class Draws:
    """Values drawn from ``rng``, one per segment number, as the segments are sent.

    The draw for segment ``i`` is the ``i``-th value of the stream whatever order segments
    are asked about in (a network duplicate numbered next, say), so a lifecycle's losses and
    jitter depend on ``(seed, index)`` alone.
    """

    __slots__ = ("draw", "values")

    def __init__(self, rng: random.Random) -> None:
        self.draw = rng.random
        self.values: list[float] = []

    def __call__(self, number: int) -> float:
        values = self.values
        while len(values) < number:
            values.append(self.draw())
        return values[number - 1]


def _simulate_one(
    script: Scenario,
    settings: Settings,
    p: float,
    seed: int,
    jitter: float,
    index: int,
    *,
    record_timers: bool = False,
) -> Trace:
    """Lose each segment with probability ``p`` and delay it by up to ``jitter`` seconds.

    Both are decided as each segment is sent, by the simulator's drop and delay hooks, from
    two random streams seeded by (seed, index) alone. :func:`summarize` needs no timer
    records, so bulk runs leave them out unless ``record_timers``.
    """
    key = (seed << 64) | index
    drop_rule: DropRule | None = None
    delay_rule: DelayRule | None = None
    if p > 0:
        loss = Draws(random.Random(key << 1))

        def drop_rule(rec: SegmentRecord, sim: Simulator) -> bool:
            return loss(rec.id) < p

    if jitter > 0:
        lag = Draws(random.Random((key << 1) | 1))

        def delay_rule(rec: SegmentRecord) -> float:
            return lag(rec.id) * jitter

    sim = Simulator(
        script, settings, drop_rule=drop_rule, delay_rule=delay_rule, record_timers=record_timers
    )
    trace = sim.run()
    # Record what the draws decided, so that the trace says how to replay it with simulate().
    if drop_rule is not None:
        trace.params["drop"] = [s.id for s in trace.segments if s.fate == "dropped"]
    if delay_rule is not None:
        base = settings.delay or {}
        trace.params["delay"] = {
            str(s.id): base.get(s.id, 0.0) + delay_rule(s)
            for s in trace.segments
            if s.duplicate_of is None
        }
    return trace


def _run_chunk(
    scenario: str, p: float, msl: float, seed: int, jitter: float, start: int, stop: int
) -> list[Lifecycle]:
    """One task for a worker: lifecycles ``start`` to ``stop - 1`` (top level, so it pickles)."""
    script, settings = _prepare(scenario, msl)
    return [
        summarize(_simulate_one(script, settings, p, seed, jitter, i), i)
        for i in range(start, stop)
    ]


@dataclass(frozen=True)
class Results:
    """The lifecycles of one Monte Carlo run, in index order, and the statistics over them."""

    scenario: str
    n: int
    p: float
    msl: float
    seed: int
    jitter: float
    lifecycles: tuple[Lifecycle, ...]

    @property
    def outcomes(self) -> dict[str, int]:
        """How many lifecycles ended each way (keys in :data:`OUTCOMES` order)."""
        counts = Counter(lc.outcome for lc in self.lifecycles)
        return {name: counts.get(name, 0) for name in OUTCOMES}

    def probability(self, outcome: str) -> float:
        """Fraction of lifecycles that ended with ``outcome``."""
        if outcome not in OUTCOMES:
            raise TcpbookError(f"unknown outcome {outcome!r}; choose one of: {', '.join(OUTCOMES)}")
        return self.outcomes[outcome] / self.n

    def interval(self, outcome: str, z: float = 1.96) -> tuple[float, float]:
        """Wilson score interval (95 % by default) for the probability of ``outcome``."""
        return wilson(self.outcomes[outcome] if outcome in OUTCOMES else -1, self.n, z)

    @property
    def rst_probability(self) -> float:
        """P(B ends with a RST instead of a clean close)."""
        return self.probability("reset")

    @property
    def timeout_probability(self) -> float:
        """P(B gives up retransmitting its FIN)."""
        return self.probability("timeout")

    @property
    def clean_probability(self) -> float:
        return self.probability("clean")

    @property
    def fin_retransmissions(self) -> list[int]:
        """FIN retransmissions per lifecycle, both sides together."""
        return [lc.fin_retx_a + lc.fin_retx_b for lc in self.lifecycles]

    @property
    def fin_retransmissions_mean(self) -> float:
        return sum(self.fin_retransmissions) / self.n

    def fin_retransmission_counts(self, endpoint: str) -> dict[int, int]:
        """``{k: lifecycles in which endpoint's FIN was retransmitted k times}``, k ascending."""
        if endpoint not in ("A", "B"):
            raise TcpbookError(f"endpoint must be 'A' or 'B', got {endpoint!r}")
        counts = Counter(
            lc.fin_retx_a if endpoint == "A" else lc.fin_retx_b for lc in self.lifecycles
        )
        return dict(sorted(counts.items()))

    @property
    def close_durations(self) -> dict[str, list[float]]:
        """A: CLOSE to CLOSED (TIME_WAIT included); B: FIN received to CLOSED. Seconds."""
        return {
            "A": [lc.a_close for lc in self.lifecycles if lc.a_close is not None],
            "B": [lc.b_close for lc in self.lifecycles if lc.b_close is not None],
        }

    @property
    def time_wait_durations(self) -> list[float]:
        """Seconds A spent in TIME_WAIT in each lifecycle (0 if it never got there)."""
        return [lc.time_wait for lc in self.lifecycles]

    def summary(self) -> str:
        """A short, deterministic text report."""
        lines = [
            f"{self.n} lifecycles of {self.scenario!r}: loss p={self.p:g} per segment, "
            f"MSL {self.msl:g} s, jitter {self.jitter:g} s, seed {self.seed}",
        ]
        for name, count in self.outcomes.items():
            lo, hi = self.interval(name)
            lines.append(
                f"  {name:8} {count:7d}  {count / self.n:7.2%}  "
                f"(95% CI {lo:.2%} to {hi:.2%})  {OUTCOME_TEXT[name]}"
            )
        a = sum(lc.fin_retx_a for lc in self.lifecycles) / self.n
        b = sum(lc.fin_retx_b for lc in self.lifecycles) / self.n
        lines.append(f"  FIN retransmissions per lifecycle: {a + b:.3f} (A {a:.3f}, B {b:.3f})")
        for side, values in self.close_durations.items():
            if values:
                q = quantiles(values, (0.5, 0.9, 0.99))
                lines.append(
                    f"  {side} close duration: median {q[0]:.3f} s, 90% {q[1]:.3f} s, "
                    f"99% {q[2]:.3f} s, max {max(values):.3f} s"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Results {self.scenario!r} n={self.n} p={self.p:g} msl={self.msl:g}: "
            f"RST {self.rst_probability:.2%}>"
        )


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``: honest near 0 and 1."""
    if n <= 0 or not 0 <= k <= n:
        raise TcpbookError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    phat = k / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def quantiles(values: Sequence[float], qs: Iterable[float]) -> list[float]:
    """Nearest-rank quantiles (each is a value that actually occurred)."""
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[min(n - 1, max(0, math.ceil(q * n) - 1))] for q in qs]


# -- running ------------------------------------------------------------------------------------


def check_parameters(*, p: float, msl: float, seed: int, jitter: float) -> None:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
        raise TcpbookError(f"p is a loss probability from 0 to 1, got {p!r}")
    if isinstance(msl, bool) or not isinstance(msl, int | float) or not 0 < msl < math.inf:
        raise TcpbookError(f"msl must be a positive number of seconds, got {msl!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TcpbookError(f"seed must be an integer 0 or more, got {seed!r}")
    if (
        isinstance(jitter, bool)
        or not isinstance(jitter, int | float)
        or not 0 <= jitter < math.inf
    ):
        raise TcpbookError(f"jitter must be 0 or more seconds, got {jitter!r}")


Progress = Callable[[int, int], None]


class _TextBar:
    """A plain progress line on stderr, for when tqdm is not installed."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def update(self, k: int) -> None:
        self.done += k
        sys.stderr.write(f"\r{self.done}/{self.total} lifecycles ({self.done / self.total:.0%})")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def close(self) -> None:
        pass


def _progress_bar(progress: bool | Progress | None, total: int) -> Any:
    """tqdm when it is installed (an optional dependency), else a plain text line, or None."""
    if callable(progress):
        return None
    show = progress if progress is not None else total >= PROGRESS_ABOVE
    if not show:
        return None
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return _TextBar(total)
    return tqdm(total=total, unit="lifecycle")


def run(
    scenario: str = "close",
    *,
    n: int,
    p: float,
    msl: float = DEFAULT_MSL,
    seed: int = 0,
    jitter: float = 0.0,
    executor: Executor | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: bool | Progress | None = None,
) -> Results:
    """Simulate ``n`` lifecycles of ``scenario`` with loss ``p`` per segment; see :class:`Results`.

    ``jitter`` adds a uniformly random 0 to ``jitter`` seconds to each segment's one-way delay
    (segments may then overtake each other). ``executor`` is any
    :class:`concurrent.futures.Executor`; without one, small runs (or ``workers=1``) stay in this
    process and larger ones use a :class:`~concurrent.futures.ProcessPoolExecutor` with
    ``workers`` processes (default: one per core). ``progress`` is True/False, a callable
    ``(done, total)``, or None for a bar on long runs only. The result depends on ``seed`` and
    ``n``, never on the executor, the number of workers or ``chunk_size``.
    """
    get_scenario(scenario)
    _check_run(n, workers, chunk_size)
    check_parameters(p=p, msl=msl, seed=seed, jitter=jitter)
    p, msl, jitter = float(p), float(msl), float(jitter)
    pool_size = workers or os.cpu_count() or 1
    if chunk_size is None:
        chunk_size = max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(n / (CHUNKS_PER_WORKER * pool_size))))
    bounds = [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]
    args = (scenario, p, msl, seed, jitter)
    bar = _progress_bar(progress, n)
    report: Progress | None = progress if callable(progress) else None

    def advance(done: int, step: int) -> None:
        if bar is not None:
            bar.update(step)
        if report is not None:
            report(done, n)

    lifecycles: list[Lifecycle] = []
    try:
        if executor is None and (workers == 1 or (workers is None and n < SERIAL_BELOW)):
            for a, b in bounds:
                lifecycles.extend(_run_chunk(*args, a, b))
                advance(b, b - a)
        elif executor is None:
            with ProcessPoolExecutor(max_workers=pool_size) as pool:
                _collect(pool, args, bounds, lifecycles, advance)
        else:
            _collect(executor, args, bounds, lifecycles, advance)
    finally:
        if bar is not None:
            bar.close()
    return Results(scenario, n, p, msl, seed, jitter, tuple(lifecycles))


def _check_run(n: int, workers: int | None, chunk_size: int | None) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TcpbookError(f"n is the number of lifecycles, an integer from 1, got {n!r}")
    for name, value in (("workers", workers), ("chunk_size", chunk_size)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise TcpbookError(f"{name} must be an integer from 1, got {value!r}")


def _collect(
    executor: Executor,
    args: tuple[str, float, float, int, float],
    bounds: list[tuple[int, int]],
    into: list[Lifecycle],
    advance: Callable[[int, int], None],
) -> None:
    """Submit every chunk, then gather results in index order (only ``submit`` is required)."""
    futures: list[Future[list[Lifecycle]]] = [
        executor.submit(_run_chunk, *args, a, b) for a, b in bounds
    ]
    try:
        for (a, b), future in zip(bounds, futures, strict=True):
            into.extend(future.result())
            advance(b, b - a)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
