"""Monte Carlo, the analytic models set beside the simulation: geometric FIN retransmissions,
the passive closer's LAST_ACK, Little's law and the TIME_WAIT population of a busy server."""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..endpoint import INITIAL_RTO, MAX_RTO, ORPHAN_RETRIES
from ..errors import TcpbookError
from ..settings import DEFAULT_MSL
from .sampling import MAX_ARRIVALS, check_parameters, run

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


# -- models to set beside the simulation -------------------------------------------------------


def fin_retransmission_pmf(p: float, retries: int = ORPHAN_RETRIES) -> list[float]:
    """P(the passive closer's FIN is retransmitted k times), k = 0..retries.

    Each try ends the retransmissions only if the FIN gets through and so does the answer to it
    (an ACK from TIME_WAIT, or a RST once A has forgotten the connection): q = (1 - p)². The
    count is geometric, cut off where Linux gives up (``tcp_orphan_retries``, 8).
    """
    check_parameters(p=p, msl=1.0, seed=0, jitter=0.0)
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
    check_parameters(p=p, msl=msl, seed=0, jitter=0.0)
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


def _check_population(rate: float, duration: float) -> float:
    """``duration``, once rate and duration are valid and their product fits in memory."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
        raise TcpbookError(
            f"rate must be a positive number of connections per second, got {rate!r}"
        )
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
    return duration


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

    check_parameters(p=p, msl=msl, seed=seed, jitter=0.0)
    duration = _check_population(rate, 6.0 * msl if duration is None else duration)
    expected = rate * duration
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
