"""Monte Carlo, the analytic models set beside the simulation: geometric FIN retransmissions,
the passive closer's LAST_ACK, Little's law and the TIME_WAIT population of a busy server."""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ..errors import TcpbookError
from ..profiles import DEFAULT_PROFILE
from ..profiles import get as get_profile
from ..scenarios import get as get_scenario
from ..settings import Settings
from ..sim import Simulator
from .sampling import MAX_ARRIVALS, check_parameters, run

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


# -- models to set beside the simulation -------------------------------------------------------


@cache
def retransmission_times(profile: str = DEFAULT_PROFILE) -> tuple[float, ...]:
    """When B, in LAST_ACK, sends its FIN if nothing ever answers it: 0 for the first copy,
    then each retransmission, until the kernel gives up.

    The schedule is each kernel's own and is read off the simulator rather than retyped: the
    ``late-fin`` scenario (every segment A sends in TIME_WAIT is lost) with an MSL so long that
    A never leaves TIME_WAIT. Linux (``linux``): a tail-loss probe about 0.2 s after the FIN
    (``tcp_schedule_loss_probe``), then the RTO from the measured RTT with its 200 ms floor,
    doubling (``tcp_retransmit_timer``), until the orphan's retries run out by time
    (``tcp_orphan_retries``, ``retransmits_timed_out``): 10 copies over about 100 s. RFC 6298
    (``rfc9293``): 1, 2, 4, ... s from the 1 s minimum, until R2 (100 s, RFC 9293 3.8.3).
    """
    script = get_scenario("late-fin")
    settings = Settings(profile=profile, msl=1e6).for_scenario(script)
    trace = Simulator(script, settings, record_timers=False).run()
    sent = [seg.sent for seg in trace.segments if seg.src == "B" and "FIN" in seg.flags]
    return tuple(round(t - sent[0], 9) for t in sent)


def fin_retransmission_pmf(
    p: float, profile: str = DEFAULT_PROFILE, *, retries: int | None = None
) -> list[float]:
    """P(the passive closer's FIN is retransmitted k times), k = 0..retries.

    Each try ends the retransmissions only if the FIN gets through and so does the answer to it
    (an ACK from TIME_WAIT, or a RST once A has forgotten the connection): q = (1 - p)². The
    count is geometric, cut off where the kernel gives up: ``retries`` defaults to the
    retransmissions of ``profile``'s schedule (:func:`retransmission_times`; Linux: 9).
    """
    check_parameters(p=p, msl=None, seed=0, jitter=0.0)
    if retries is None:
        retries = len(retransmission_times(profile)) - 1
    q = (1 - p) ** 2
    pmf = [(1 - q) ** k * q for k in range(retries)]
    pmf.append((1 - q) ** retries)
    return pmf


def passive_close_model(
    p: float,
    profile: str = DEFAULT_PROFILE,
    msl: float | None = None,
    *,
    times: Sequence[float] | None = None,
) -> dict[str, float]:
    """Exact outcome probabilities for B in LAST_ACK, given A waits in FIN_WAIT_2 for B's FIN.

    B sends its FIN at the ``times`` of ``profile``'s schedule (:func:`retransmission_times`).
    Each copy is lost with probability p. The first one to arrive puts A in TIME_WAIT for 2MSL
    (``msl`` defaults to the profile's: Linux 30 s, RFC 9293 120 s); a later copy that arrives
    while A is still there is ACKed and restarts the 2MSL timer (RFC 9293 3.10.7.4), one that
    arrives after it is answered with RST (3.10.7.1). The answer is itself lost with
    probability p. If nothing answered the last copy, B gives up ("timeout"). This ignores what
    the simulation includes: A's own FIN still being retransmitted, A's FIN_WAIT_2 timer
    running out before any copy arrives (Linux: 60 s of lost copies, about p⁸), jitter.
    """
    check_parameters(p=p, msl=msl, seed=0, jitter=0.0)
    sent = retransmission_times(profile) if times is None else tuple(times)
    two_msl = 2 * (get_profile(profile).msl if msl is None else msl)
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
    msl: float | None = None,
    duration: float | None = None,
    *,
    profile: str = DEFAULT_PROFILE,
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
    them (lifecycles of kernel ``profile``; ``msl`` overrides its MSL). Closes arrive as a
    Poisson process (or evenly spaced with ``poisson=False``).
    ``duration`` defaults to three times 2MSL. ``durations`` reuses TIME_WAIT durations already
    simulated (e.g. ``Results.time_wait_durations``) instead of running ``samples`` lifecycles.
    """
    import numpy as np

    check_parameters(p=p, msl=msl, seed=seed, jitter=0.0)
    msl = get_profile(profile).msl if msl is None else msl
    duration = _check_population(rate, 6.0 * msl if duration is None else duration)
    expected = rate * duration
    if durations is None:
        durations = run(
            n=samples,
            p=p,
            profile=profile,
            msl=msl,
            seed=seed,
            executor=executor,
            progress=False,
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
