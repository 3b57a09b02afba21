"""Monte Carlo: many connection lifecycles over a lossy network, and what they say about TIME_WAIT.

One simulated run answers "what happens if segment 11 is lost?". The questions engineers ask
about TIME_WAIT are statistical: how often does a lossy path leave the passive closer with a RST
instead of a clean close, how many FINs get retransmitted, how many sockets sit in TIME_WAIT on
a busy server. :func:`run` answers them by simulating ``n`` lifecycles in which every segment is
lost independently with probability ``p`` (and optionally delayed by random jitter).

Reproducibility: lifecycle ``i`` draws its randomness from ``(seed, i)`` alone, so the results
are the same whether the runs happen in one process, in a process pool, or on a cluster, and
however they are chunked.

Scale: ``run`` takes any :class:`concurrent.futures.Executor` (only ``submit`` is used), so a
reader who outgrows one machine passes a cluster's executor and changes nothing else; the
workers only need tcpbook installed. With Dask (``pip install "dask[distributed]"``)::

    from distributed import Client, LocalCluster      # or Client("tcp://scheduler:8786")
    with LocalCluster(n_workers=2) as cluster, Client(cluster) as client:
        results = run(n=1_000_000, p=0.05, executor=client.get_executor())

With Ray (``pip install "ray[default]"``) a few lines make the executor: a remote call's
``ObjectRef.future()`` is a :class:`concurrent.futures.Future`, and ``submit`` is all ``run``
uses::

    import ray

    class RayPool:
        def submit(self, fn, *args):
            return ray.remote(fn).remote(*args).future()

    ray.init()                                         # or ray.init(address="auto")
    results = run(n=1_000_000, p=0.05, executor=RayPool())

Either way the results are the ones a serial run gives, lifecycle for lifecycle.

The measures are defined for scenarios in which A closes first and B second (``close``,
``fin-ack``, ``half-close``, ...): A is the active closer that holds TIME_WAIT, B the passive one.
"""

from __future__ import annotations

import io
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .endpoint import INITIAL_RTO, MAX_RTO, ORPHAN_RETRIES
from .errors import TcpbookError
from .scenarios import Scenario
from .scenarios import get as get_scenario
from .settings import DEFAULT_MSL, Settings
from .sim import DelayRule, DropRule, Simulator
from .trace import SegmentRecord, Trace

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import NDArray


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


def summarize(trace: Trace, index: int = 0) -> Lifecycle:
    """Reduce one trace to the numbers the Monte Carlo statistics are made of."""
    a_close = a_closed = b_fin = b_closed = tw_enter = None
    time_wait = 0.0
    a_state = "CLOSED"
    a_cause = b_cause = ""
    b_established = False
    b_last_ack = None
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
    final = trace.final
    if final.get("B") != "CLOSED" or not b_established:
        outcome = "failed"
    elif b_cause == "rcv ACK of FIN":
        outcome = "clean"
    elif b_cause == "rcv RST":
        outcome = "reset"
    elif b_cause.startswith("timeout"):
        outcome = "timeout"
    else:
        outcome = "failed"
    fin_a = fin_b = 0
    b_data_end = 0  # B's data must all be acknowledged for the model's case (only a FIN left)
    acked = -1
    for seg in trace.segments:
        if seg.retransmission and "FIN" in seg.flags:
            if seg.src == "A":
                fin_a += 1
            else:
                fin_b += 1
        if b_last_ack is not None and seg.sent <= b_last_ack:
            if seg.src == "B" and seg.len:
                b_data_end = max(b_data_end, seg.seq + seg.len)
            elif (
                seg.src == "A"
                and seg.ack is not None
                and seg.arrived is not None
                and seg.arrived <= b_last_ack
            ):
                acked = max(acked, seg.ack)
    model_case = b_last_ack is not None and acked >= b_data_end
    return Lifecycle(
        index,
        outcome,
        None
        if a_close is None or a_closed is None or final.get("A") != "CLOSED"
        else round(a_closed - a_close, 9),
        None
        if b_fin is None or b_closed is None or final.get("B") != "CLOSED"
        else round(b_closed - b_fin, 9),
        round(time_wait, 9),
        fin_a,
        fin_b,
        len(trace.segments),
        a_cause,
        model_case,
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
    _check(p=p, msl=msl, seed=seed, jitter=jitter)
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


def _check(*, p: float, msl: float, seed: int, jitter: float) -> None:
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
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TcpbookError(f"n is the number of lifecycles, an integer from 1, got {n!r}")
    _check(p=p, msl=msl, seed=seed, jitter=jitter)
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise TcpbookError(f"workers must be an integer from 1, got {workers!r}")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise TcpbookError(f"chunk_size must be an integer from 1, got {chunk_size!r}")
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


# -- models to set beside the simulation -------------------------------------------------------


def fin_retransmission_pmf(p: float, retries: int = ORPHAN_RETRIES) -> list[float]:
    """P(the passive closer's FIN is retransmitted k times), k = 0..retries.

    Each try ends the retransmissions only if the FIN gets through and so does the answer to it
    (an ACK from TIME_WAIT, or a RST once A has forgotten the connection): q = (1 - p)². The
    count is geometric, cut off where Linux gives up (``tcp_orphan_retries``, 8).
    """
    _check(p=p, msl=1.0, seed=0, jitter=0.0)
    q = (1 - p) ** 2
    pmf = [(1 - q) ** k * q for k in range(retries)]
    pmf.append((1 - q) ** retries)
    return pmf


def retransmission_times(
    retries: int = ORPHAN_RETRIES, rto: float = INITIAL_RTO, max_rto: float = MAX_RTO
) -> list[float]:
    """When a segment is sent again after its first transmission at 0 (RFC 6298 5.5 backoff)."""
    times = [0.0]
    for k in range(retries):
        times.append(times[-1] + min(rto * 2**k, max_rto))
    return times


def passive_close_model(
    p: float,
    msl: float = DEFAULT_MSL,
    *,
    retries: int = ORPHAN_RETRIES,
    rto: float = INITIAL_RTO,
    max_rto: float = MAX_RTO,
) -> dict[str, float]:
    """Exact outcome probabilities for B in LAST_ACK, given A waits in FIN_WAIT_2 for B's FIN.

    B sends its FIN at 0 and again at 1, 3, 7, 15, ... s. Each copy is lost with probability p.
    The first one to arrive puts A in TIME_WAIT for 2MSL; a later copy that arrives while A is
    still there is ACKed and restarts the 2MSL timer (RFC 9293 3.10.7.4), one that arrives after
    it is answered with RST (3.10.7.1). The answer is itself lost with probability p. This
    ignores what the simulation includes: A's own FIN still being retransmitted, jitter.
    """
    _check(p=p, msl=msl, seed=0, jitter=0.0)
    sent = retransmission_times(retries, rto, max_rto)
    two_msl = 2 * msl
    # state: None = A has not seen B's FIN; a time = A last restarted TIME_WAIT then;
    # "gone" = A has closed and answers with RST.
    states: dict[float | str | None, float] = {None: 1.0}
    done = {"clean": 0.0, "reset": 0.0}
    for s in sent:
        nxt: dict[float | str | None, float] = {}
        for last, prob in states.items():
            nxt[last] = nxt.get(last, 0.0) + prob * p  # this copy of the FIN is lost
            arrived = prob * (1 - p)
            if last is None or (isinstance(last, float) and s - last < two_msl):
                done["clean"] += arrived * (1 - p)
                nxt[s] = nxt.get(s, 0.0) + arrived * p  # ACK lost; TIME_WAIT restarted
            else:
                done["reset"] += arrived * (1 - p)
                nxt["gone"] = nxt.get("gone", 0.0) + arrived * p  # RST lost
        states = nxt
    return {"clean": done["clean"], "reset": done["reset"], "timeout": sum(states.values())}


def littles_law(rate: float, mean_time_wait: float) -> float:
    """Sockets in TIME_WAIT at steady state: L = λW (arrival rate × mean time spent there)."""
    return rate * mean_time_wait


# -- TIME_WAIT on a busy server -----------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """TIME_WAIT sockets over time on a host that closes ``rate`` connections per second first."""

    rate: float
    msl: float
    p: float
    t: NDArray[np.float64]
    count: NDArray[np.int64]
    mean_time_wait: float  # mean simulated TIME_WAIT duration (seconds)
    longest_time_wait: float
    connections: int  # connections closed during the run

    @property
    def littles_law(self) -> float:
        """rate × mean TIME_WAIT duration: the steady-state count Little's law predicts."""
        return littles_law(self.rate, self.mean_time_wait)

    @property
    def steady_state(self) -> float:
        """Mean count once the first sockets could have left (after the longest TIME_WAIT)."""
        mask = self.t >= self.longest_time_wait
        return float(self.count[mask].mean()) if mask.any() else math.nan

    def __repr__(self) -> str:
        return (
            f"<Population rate={self.rate:g}/s msl={self.msl:g} s: steady state "
            f"{self.steady_state:.0f} sockets, Little's law {self.littles_law:.0f}>"
        )


def time_wait_population(
    rate: float,
    msl: float = DEFAULT_MSL,
    duration: float | None = None,
    *,
    p: float = 0.0,
    samples: int = 2000,
    seed: int = 0,
    points: int = 600,
    poisson: bool = True,
    executor: Executor | None = None,
    durations: Sequence[float] | None = None,
) -> Population:
    """Count TIME_WAIT sockets on a host that closes ``rate`` connections per second first.

    Simulating millions of lifecycles would be wasteful: the ``samples`` simulated lifecycles
    give the distribution of the TIME_WAIT duration (2MSL, longer when a retransmitted FIN
    restarts the timer), and each of the ``rate × duration`` closes draws its duration from
    them. Closes arrive as a Poisson process (or evenly spaced with ``poisson=False``).
    ``duration`` defaults to three times 2MSL. ``durations`` reuses TIME_WAIT durations already
    simulated (e.g. ``Results.time_wait_durations``) instead of running ``samples`` lifecycles.
    """
    import numpy as np

    _check(p=p, msl=msl, seed=seed, jitter=0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
        raise TcpbookError(
            f"rate must be a positive number of connections per second, got {rate!r}"
        )
    if duration is None:
        duration = 6.0 * msl
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not 0 < duration < math.inf
    ):
        raise TcpbookError(f"duration must be a positive number of seconds, got {duration!r}")
    expected = rate * duration
    if expected > MAX_ARRIVALS:
        raise TcpbookError(
            f"rate × duration = {expected:.3g} connections; at most {MAX_ARRIVALS:.0e} fit"
        )
    if durations is None:
        durations = run(
            n=samples, p=p, msl=msl, seed=seed, executor=executor, progress=False
        ).time_wait_durations
    if len(durations) == 0:
        raise TcpbookError("durations is empty: need at least one simulated TIME_WAIT duration")
    waits = np.asarray(durations, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if poisson:
        arrivals = np.sort(rng.uniform(0.0, duration, rng.poisson(expected)))
    else:
        arrivals = np.arange(int(expected)) / rate
    departures = np.sort(arrivals + rng.choice(waits, size=arrivals.size))
    t = np.linspace(0.0, duration, points)
    count = np.searchsorted(arrivals, t, side="right") - np.searchsorted(
        departures, t, side="right"
    )
    return Population(
        float(rate),
        float(msl),
        float(p),
        t,
        count.astype(np.int64),
        float(waits.mean()),
        float(waits.max()),
        int(arrivals.size),
    )


# -- figures (matplotlib is imported only here) ------------------------------------------------


def _axes(ax: Axes | None, size: tuple[float, float] = (6.4, 3.6)) -> tuple[Figure, Axes]:
    """A new figure outside pyplot (Jupyter shows the returned figure once, nothing leaks)."""
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=size, layout="constrained")
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
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 6.5), layout="constrained")
    axs = fig.subplots(2, 2)
    plot_outcomes(results, axs[0][0])
    plot_close_durations(results, axs[0][1])
    plot_fin_retransmissions(results, axs[1][0])
    plot_time_wait_population(population, axs[1][1])
    for ax in fig.axes:
        ax.title.set_fontsize("medium")
    return fig


MSL_CHOICES: tuple[tuple[str, float], ...] = (
    ("0.5 s", 0.5),
    ("1 s", 1.0),
    ("2 s", 2.0),
    ("5 s", 5.0),
    ("15 s", 15.0),
    ("30 s (Linux)", 30.0),  # TCP_TIMEWAIT_LEN = 60 s = 2MSL
    ("60 s", 60.0),
    ("120 s (RFC 9293)", 120.0),  # RFC 9293 section 3.4.2
)
RATE_CHOICES = (100, 300, 1_000, 3_000, 10_000, 30_000)
EXPLORE_DPI = 72


def explore(*, n: int = 300, big: int = 20_000, seed: int = 1) -> Any:
    """Sliders for loss, MSL and connection rate over the four-panel :func:`dashboard`.

    Each move re-runs ``n`` lifecycles (fast enough to follow a slider); the button runs
    ``big`` of them on every core for smoother curves.
    """
    import html

    import ipywidgets as W

    p = W.FloatSlider(
        value=0.1, min=0.0, max=0.5, step=0.01, description="loss p", continuous_update=False
    )
    msl = W.SelectionSlider(
        options=MSL_CHOICES, value=DEFAULT_MSL, description="MSL", continuous_update=False
    )
    rate = W.SelectionSlider(
        options=[(f"{r:,}/s", r) for r in RATE_CHOICES],
        value=10_000,
        description="closes",
        continuous_update=False,
    )
    button = W.Button(description=f"run {big:,} lifecycles", icon="play")
    image = W.Image(format="png")
    status = W.HTML()

    def redraw(size: int) -> None:
        res = run(n=size, p=p.value, msl=msl.value, seed=seed, progress=False)
        pop = time_wait_population(
            rate.value, msl.value, durations=res.time_wait_durations, p=p.value, seed=seed
        )
        fig = dashboard(res, pop)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=EXPLORE_DPI)
        image.value = buf.getvalue()
        status.value = f"<pre>{html.escape(res.summary())}\n{html.escape(repr(pop))}</pre>"

    for control in (p, msl, rate):
        control.observe(lambda _change: redraw(n), names="value")
    button.on_click(lambda _b: redraw(big))
    redraw(n)
    return W.VBox([W.HBox([p, msl, rate, button]), image, status])


__all__ = [
    "OUTCOMES",
    "Lifecycle",
    "Population",
    "Results",
    "dashboard",
    "explore",
    "fin_retransmission_pmf",
    "lifecycle",
    "littles_law",
    "passive_close_model",
    "plot_close_durations",
    "plot_fin_retransmissions",
    "plot_outcomes",
    "plot_reset_probability",
    "plot_time_wait_population",
    "reset_curve",
    "retransmission_times",
    "run",
    "summarize",
    "time_wait_population",
    "wilson",
]
