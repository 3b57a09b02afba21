"""The golden runs: every stored ``run --json`` output is reproduced exactly by today's model.

``tests/golden/runs.jsonl.gz`` was written by ``tests/golden/make_golden.py`` before the runtime
was restructured; a refactor that changes a single byte of any of these traces fails here.
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


@pytest.mark.parametrize("run", RUNS, ids=[" ".join(r["argv"]) for r in RUNS])
def test_golden_run_is_reproduced(run: dict[str, Any]) -> None:
    assert run_json(run["argv"]) == run["trace"]
