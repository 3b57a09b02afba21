"""Write the golden runs: ``run --json`` outputs that a refactor of the runtime must reproduce.

Each line of ``runs.jsonl.gz`` is ``{"argv": [...], "trace": {...}}``: the command-line
arguments of one ``python -m tcpbook run ... --json`` and the trace it printed. The spread is
fixed (a seeded generator): every scenario under the default profile (``linux``) as it is,
under each MSL preset, with each of its first segments lost, with pairs of losses, delays,
duplicates and the optional behaviours; and every scenario under ``--profile freebsd`` and
``--profile rfc9293`` as it is, with each of its first segments lost, with pairs of losses and
with the options a profile supplies given explicitly.

    python tests/golden/make_golden.py          # rewrite the file from the current model
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import random
from pathlib import Path

from tcpbook import simulate
from tcpbook.cli import main
from tcpbook.profiles import DEFAULT_PROFILE, PROFILES
from tcpbook.scenarios import SCENARIOS

HERE = Path(__file__).parent
GOLDEN = HERE / "runs.jsonl.gz"


def argv_spread() -> list[list[str]]:
    """The runs, as argument lists (deterministic)."""
    rng = random.Random(20261202)
    runs: list[list[str]] = []
    for name in SCENARIOS:
        base = simulate(name)
        n = len(base.segments)
        runs.append([name])
        for msl in ("1", "5", "120"):
            runs.append([name, "--msl", msl])
        for k in range(1, min(n, 14) + 1):
            runs.append([name, "--msl", "5", "--drop", str(k)])
        for _ in range(4):
            a, b = sorted(rng.sample(range(1, n + 3), 2))
            runs.append([name, "--msl", str(rng.choice((2, 5, 30))), "--drop", str(a), str(b)])
        for _ in range(2):
            k = rng.randrange(1, n + 1)
            runs.append([name, "--msl", "5", "--delay", f"{k}={rng.choice((0.3, 2.5, 7))}"])
            runs.append([name, "--msl", "5", "--duplicate", f"{k}={rng.choice((0.5, 3))}"])
        runs.append([name, "--msl", "5", "--fin-timeout", "3"])
        runs.append([name, "--msl", "5", "--rfc1337"])
        runs.append([name, "--msl", "5", "--skip-time-wait"])
        runs.append([name, "--rto", "0.2", "--syn-retries", "2", "--latency", "0.02"])
        runs.append([name, "--msl", "5", "--until", "2.5"])
        runs.append([name, "--msl", "3", "--drop", "1", "2", "3", "--rto", "0.5"])
    for profile in PROFILES:
        if profile == DEFAULT_PROFILE:
            continue
        for name in SCENARIOS:
            n = len(simulate(name, profile=profile).segments)
            p = ["--profile", profile]
            runs.append([name, *p])
            runs.append([name, *p, "--msl", "5"])
            for k in range(1, min(n, 10) + 1):
                runs.append([name, *p, "--msl", "5", "--drop", str(k)])
            for _ in range(2):
                a, b = sorted(rng.sample(range(1, n + 3), 2))
                runs.append([name, *p, "--drop", str(a), str(b)])
            runs.append([name, *p, "--msl", "5", "--fin-timeout", "3", "--rfc1337"])
            runs.append([name, *p, "--rto", "0.2", "--syn-retries", "2", "--until", "30"])
    return runs


def run_json(argv: list[str]) -> dict[str, object]:
    """What ``python -m tcpbook run ARGV --json`` prints, parsed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", *argv, "--json"])
    assert code == 0, argv
    parsed: dict[str, object] = json.loads(out.getvalue())
    return parsed


def main_() -> None:
    runs = argv_spread()
    with gzip.open(GOLDEN, "wt", encoding="utf-8") as fh:
        for argv in runs:
            fh.write(json.dumps({"argv": argv, "trace": run_json(argv)}, sort_keys=True) + "\n")
    print(f"{len(runs)} golden runs written to {GOLDEN.name}")


if __name__ == "__main__":
    main_()
