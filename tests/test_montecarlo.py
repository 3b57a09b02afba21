"""Monte Carlo runs: reproducible from (seed, index), executor-independent, and matching the
models they are set beside (geometric FIN retransmissions, the LAST_ACK model, Little's law)."""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import matplotlib.pyplot as plt
import pytest

from tcpbook import TcpbookError
from tcpbook import montecarlo as mc


@pytest.fixture(scope="module")
def lossy() -> mc.Results:
    return mc.run(n=400, p=0.25, msl=1.0, seed=11, workers=1)


def test_same_seed_same_lifecycles_and_other_seed_differs(lossy: mc.Results) -> None:
    again = mc.run(n=400, p=0.25, msl=1.0, seed=11, workers=1)
    other = mc.run(n=400, p=0.25, msl=1.0, seed=12, workers=1)
    assert again.lifecycles == lossy.lifecycles
    assert other.lifecycles != lossy.lifecycles
    assert [lc.number for lc in lossy.lifecycles] == list(range(400))


def test_results_do_not_depend_on_executor_workers_or_chunking(lossy: mc.Results) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = mc.run(n=400, p=0.25, msl=1.0, seed=11, executor=pool, chunk_size=37)
    with ProcessPoolExecutor(max_workers=2) as pool:
        processes = mc.run(n=400, p=0.25, msl=1.0, seed=11, executor=pool, chunk_size=100)
    default_pool = mc.run(n=400, p=0.25, msl=1.0, seed=11, workers=2, chunk_size=150)
    assert threaded.lifecycles == lossy.lifecycles
    assert processes.lifecycles == lossy.lifecycles
    assert default_pool.lifecycles == lossy.lifecycles


def test_a_dask_cluster_gives_the_serial_results(lossy: mc.Results) -> None:
    """Two worker processes on a local dask.distributed cluster, started and closed here."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        clustered = mc.run(
            n=400, p=0.25, msl=1.0, seed=11, executor=client.get_executor(), chunk_size=90
        )
    assert clustered.lifecycles == lossy.lifecycles
    assert clustered.summary() == lossy.summary()


def test_a_prefix_of_a_longer_run_is_the_shorter_run(lossy: mc.Results) -> None:
    longer = mc.run(n=450, p=0.25, msl=1.0, seed=11, workers=1, chunk_size=64)
    assert longer.lifecycles[:400] == lossy.lifecycles


def test_lossless_close_is_always_clean_with_the_textbook_timings() -> None:
    res = mc.run(n=50, p=0.0, msl=30.0, seed=0)
    assert res.outcomes == {"clean": 50, "reset": 0, "timeout": 0, "failed": 0}
    assert res.rst_probability == 0.0
    assert res.fin_retransmissions_mean == 0.0
    # A closes at 0.6 s, enters TIME_WAIT at 0.9 s and leaves 2MSL later; B gets the FIN at 0.65.
    assert set(res.close_durations["A"]) == {60.3}
    assert set(res.close_durations["B"]) == {0.3}
    assert set(res.time_wait_durations) == {60.0}
    assert all(lc.segments == 11 and lc.a_end == "timeout 2MSL" for lc in res.lifecycles)


def test_every_lifecycle_can_be_replayed_as_a_trace(lossy: mc.Results) -> None:
    for lc in lossy.lifecycles[:40]:
        trace = mc.lifecycle(index=lc.number, p=0.25, msl=1.0, seed=11)
        assert mc.summarize(trace, lc.number) == lc
        dropped = {s.id for s in trace.segments if s.fate == "dropped"}
        assert dropped == {n for n in trace.params["drop"] if n <= len(trace.segments)}


def test_loss_decisions_cover_long_runs_too() -> None:
    """Segments late in a long run are lost at rate p as well, not never."""
    late = lost = 0
    for i in range(300):
        trace = mc.lifecycle(index=i, p=0.4, msl=30.0, seed=5)
        for seg in trace.segments[16:]:
            late += 1
            lost += seg.fate == "dropped"
    assert late > 300
    assert 0.3 < lost / late < 0.5


def test_lost_final_ack_with_short_msl_ends_in_reset_from_a_forgotten_connection(
    lossy: mc.Results,
) -> None:
    resets = [lc for lc in lossy.lifecycles if lc.outcome == "reset"]
    causes = {lc.a_end for lc in resets}
    assert "timeout 2MSL" in causes  # B's FIN came back after A's 2MSL had run out
    assert "rcv data after CLOSE" in causes  # B's late data reached A after A's close()
    assert lossy.rst_probability == len(resets) / 400


def test_short_msl_makes_resets_more_likely() -> None:
    short = mc.run(n=600, p=0.3, msl=0.5, seed=2)
    long = mc.run(n=600, p=0.3, msl=30.0, seed=2)
    late_fin = [
        sum(lc.outcome == "reset" and lc.a_end == "timeout 2MSL" for lc in r.lifecycles)
        for r in (short, long)
    ]
    assert late_fin[0] > 5 * max(late_fin[1], 1)
    # the loss pattern is the same, so FIN retransmissions by A barely change
    assert short.rst_probability > long.rst_probability


@pytest.mark.parametrize(("p", "msl"), [(0.3, 0.5), (0.2, 2.0), (0.3, 30.0)])
def test_simulation_agrees_with_the_last_ack_model(p: float, msl: float) -> None:
    res = mc.run(n=2500, p=p, msl=msl, seed=4)
    case = [lc for lc in res.lifecycles if lc.b_fin_in_fin_wait_2]
    assert len(case) > 800
    model = mc.passive_close_model(p, msl)
    for outcome in ("clean", "reset"):
        k = sum(lc.outcome == outcome for lc in case)
        lo, hi = mc.wilson(k, len(case), z=3.3)
        assert lo <= model[outcome] <= hi, (outcome, k / len(case), model[outcome])


def test_passive_close_model_by_hand_for_one_retransmission() -> None:
    # 2MSL = 1 s, FINs at 0 and 1 s: a copy at 1 s finds A's TIME_WAIT over (not < 2MSL).
    p = 0.5
    model = mc.passive_close_model(p, msl=0.5, retries=1)
    assert model["clean"] == pytest.approx((1 - p) ** 2 * (1 + p))
    assert model["reset"] == pytest.approx(p * (1 - p) ** 3)
    assert sum(model.values()) == pytest.approx(1.0)
    assert mc.passive_close_model(0.0, 30.0) == {"clean": 1.0, "reset": 0.0, "timeout": 0.0}
    assert mc.retransmission_times(4) == [0.0, 1.0, 3.0, 7.0, 15.0]


def test_fin_retransmissions_follow_the_geometric_law() -> None:
    pmf = mc.fin_retransmission_pmf(0.2)
    q = 0.8**2
    assert pmf[:3] == pytest.approx([q, (1 - q) * q, (1 - q) ** 2 * q])
    assert sum(pmf) == pytest.approx(1.0)
    res = mc.run(n=2500, p=0.2, msl=30.0, seed=9)
    case = [lc for lc in res.lifecycles if lc.b_fin_in_fin_wait_2]
    mean = sum(lc.fin_retx_b for lc in case) / len(case)
    expected = sum(k * x for k, x in enumerate(pmf))
    assert mean == pytest.approx(expected, rel=0.15)
    counts = res.fin_retransmission_counts("A")
    assert sum(counts.values()) == 2500 and list(counts) == sorted(counts)


def test_time_wait_population_matches_littles_law() -> None:
    pop = mc.time_wait_population(1000, msl=5.0, duration=40.0, samples=200, seed=1)
    assert pop.mean_time_wait == 10.0
    assert pop.littles_law == 10_000
    assert pop.steady_state == pytest.approx(10_000, rel=0.02)
    assert pop.count[0] == 0
    assert abs(pop.connections - 40_000) < 4 * 200  # Poisson: sd = 200
    even = mc.time_wait_population(1000, msl=5.0, duration=40.0, samples=50, poisson=False)
    settled = even.count[even.t > 11.0]
    assert settled.min() >= 9_999 and settled.max() <= 10_001


def test_loss_both_stretches_and_skips_time_wait() -> None:
    res = mc.run(n=400, p=0.3, msl=5.0, seed=2)
    waits = res.time_wait_durations
    assert max(waits) > 10.0  # a retransmitted FIN restarted 2MSL
    assert 0.0 in waits  # A was reset (data after its close()) and never got there
    lossy = mc.time_wait_population(100, msl=5.0, duration=60.0, p=0.3, samples=400, seed=2)
    assert lossy.mean_time_wait == pytest.approx(sum(waits) / len(waits))
    assert lossy.longest_time_wait == max(waits)
    assert lossy.steady_state == pytest.approx(lossy.littles_law, rel=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0, "p": 0.1}, "n is the number of lifecycles"),
        ({"n": 10, "p": 1.5}, "p is a loss probability"),
        ({"n": 10, "p": 0.1, "seed": -1}, "seed must be"),
        ({"n": 10, "p": 0.1, "msl": 0}, "msl must be"),
        ({"n": 10, "p": 0.1, "jitter": -1}, "jitter must be"),
        ({"n": 10, "p": 0.1, "workers": 0}, "workers must be"),
        ({"n": 10, "p": 0.1, "scenario": "nope"}, "unknown scenario"),
    ],
)
def test_bad_input_is_a_one_line_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TcpbookError, match=message):
        mc.run(**kwargs)  # type: ignore[arg-type]


def test_population_refuses_more_arrivals_than_fit() -> None:
    with pytest.raises(TcpbookError, match="rate must be"):
        mc.time_wait_population(0, 30.0)
    with pytest.raises(TcpbookError, match="at most"):
        mc.time_wait_population(1e7, 30.0, duration=1e3)


def test_progress_callback_and_text_bar(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    mc.run(n=30, p=0.1, chunk_size=10, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(10, 30), (20, 30), (30, 30)]
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if tqdm were not installed
    mc.run(n=20, p=0.1, chunk_size=10, progress=True)
    assert "20/20 lifecycles (100%)" in capsys.readouterr().err


def test_jitter_keeps_the_loss_pattern_and_is_reproducible() -> None:
    plain = mc.lifecycle(index=3, p=0.3, seed=1)
    jittered = mc.lifecycle(index=3, p=0.3, seed=1, jitter=0.05)
    assert jittered.params["drop"] == plain.params["drop"]
    assert jittered.to_dict() == mc.lifecycle(index=3, p=0.3, seed=1, jitter=0.05).to_dict()
    flights = {round(s.arrived - s.sent, 6) for s in jittered.segments if s.arrived is not None}
    assert len(flights) > 3 and all(0.05 <= f <= 0.1 for f in flights)


def test_summary_is_deterministic_text(lossy: mc.Results) -> None:
    text = lossy.summary()
    assert text.splitlines()[0] == (
        "400 lifecycles of 'close': loss p=0.25 per segment, MSL 1 s, jitter 0 s, seed 11"
    )
    assert "reset" in text and "95% CI" in text
    assert mc.run(n=400, p=0.25, msl=1.0, seed=11).summary() == text


def test_figures_draw_what_they_say(lossy: mc.Results) -> None:
    fig = mc.plot_close_durations(lossy)
    assert len(fig.axes[0].lines) == 2
    fig = mc.plot_fin_retransmissions(lossy)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * (mc.ORPHAN_RETRIES + 1)
    assert list(ax.lines[0].get_ydata()) == pytest.approx(mc.fin_retransmission_pmf(0.25))
    fig = mc.plot_reset_probability([0.2, 0.4], [0.5, 30.0], n=100, seed=1)
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    pop = mc.time_wait_population(50, msl=2.0, samples=20)
    fig = mc.plot_time_wait_population(pop)
    dashed = [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--"]
    assert dashed and dashed[0].get_ydata()[0] == pytest.approx(200.0)
    plt.close("all")
