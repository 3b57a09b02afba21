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

from typing import Any

from ..endpoint import ORPHAN_RETRIES
from .models import (
    Population,
    fin_retransmission_pmf,
    littles_law,
    passive_close_model,
    retransmission_times,
    time_wait_population,
)
from .plots import (
    dashboard,
    plot_close_durations,
    plot_fin_retransmissions,
    plot_outcomes,
    plot_reset_probability,
    plot_time_wait_population,
    reset_curve,
)
from .sampling import (
    OUTCOME_TEXT,
    OUTCOMES,
    Draws,
    Lifecycle,
    Results,
    lifecycle,
    quantiles,
    run,
    summarize,
    wilson,
)


def __getattr__(name: str) -> Any:
    if name == "explorer":  # the widget: ipywidgets is imported only when it is asked for
        from .panel import explorer

        return explorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ORPHAN_RETRIES",
    "OUTCOMES",
    "OUTCOME_TEXT",
    "Draws",
    "Lifecycle",
    "Population",
    "Results",
    "dashboard",
    "explorer",
    "fin_retransmission_pmf",
    "lifecycle",
    "littles_law",
    "passive_close_model",
    "plot_close_durations",
    "plot_fin_retransmissions",
    "plot_outcomes",
    "plot_reset_probability",
    "plot_time_wait_population",
    "quantiles",
    "reset_curve",
    "retransmission_times",
    "run",
    "summarize",
    "time_wait_population",
    "wilson",
]
