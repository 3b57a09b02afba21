"""The golden runs: every stored ``run --json`` output is reproduced exactly by today's model.

``tests/golden/runs.jsonl.gz`` is written by ``tests/golden/make_golden.py``: runs under the
default profile (``linux``) and under ``freebsd`` and ``rfc9293``, so a refactor that changes a
single byte of any profile's traces fails here.

The transition ``TIME_WAIT --rcv FIN--> TIME_WAIT`` (the table's self-loop: a retransmitted FIN
re-ACKed, 2MSL restarted) is recorded as the move it is; a stored run without any self-loop is
compared with the new trace minus its self-loops (and only those), one that has them byte for
byte.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from make_golden import GOLDEN, run_json


def _load() -> list[dict[str, Any]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


RUNS = _load()


def test_there_are_enough_golden_runs() -> None:
    assert len(RUNS) >= 100
    scenarios = {run["argv"][0] for run in RUNS}
    from tcpbook.scenarios import SCENARIOS

    assert scenarios == set(SCENARIOS)


def test_every_profile_has_golden_runs_of_every_scenario() -> None:
    """Each profile's runs cover every scenario, and a run without --profile is the default's."""
    from tcpbook.profiles import DEFAULT_PROFILE, PROFILES
    from tcpbook.scenarios import SCENARIOS

    for profile in PROFILES:
        mine = [r for r in RUNS if r["trace"]["params"]["profile"] == profile]
        assert len(mine) >= 100, profile
        assert {r["argv"][0] for r in mine} == set(SCENARIOS)
    for run in RUNS:
        named = (
            run["argv"][run["argv"].index("--profile") + 1] if "--profile" in run["argv"] else None
        )
        assert run["trace"]["params"]["profile"] == (named or DEFAULT_PROFILE)


def _without_time_wait_loops(trace: dict[str, Any]) -> dict[str, Any]:
    """``trace`` without its TIME_WAIT self-loop records (and only those)."""
    loops = [t for t in trace["transitions"] if t["from"] == t["to"]]
    assert all(t["from"] == "TIME_WAIT" and t["cause"] == "rcv FIN" for t in loops), loops
    return {**trace, "transitions": [t for t in trace["transitions"] if t["from"] != t["to"]]}


@pytest.mark.parametrize("run", RUNS, ids=[" ".join(r["argv"]) for r in RUNS])
def test_golden_run_is_reproduced(run: dict[str, Any]) -> None:
    stored = run["trace"]
    new = run_json(run["argv"])
    if any(t["from"] == t["to"] for t in stored["transitions"]):
        assert new == stored  # stored after the self-loop was recorded: compare every byte
    else:
        assert _without_time_wait_loops(new) == stored


def test_a_refused_fin_in_time_wait_is_a_recorded_self_loop() -> None:
    """The records the comparison leaves out do exist: late-fin re-ACKs B's FIN in TIME_WAIT."""
    new = run_json(["late-fin"])
    loops = [t for t in new["transitions"] if t["from"] == t["to"] == "TIME_WAIT"]
    assert loops and all(t["cause"] == "rcv FIN" and t["endpoint"] == "A" for t in loops)
