"""The CLI contract: `run --json` matches the trace schema; bad input is one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import tcpbook

SCHEMA = json.loads((Path(__file__).parent / "data" / "trace.schema.json").read_text())


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tcpbook", *args], capture_output=True, text=True, timeout=60
    )


def run_json(*args: str) -> dict[str, Any]:
    proc = cli("run", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    return data


def test_run_close_json_contract() -> None:
    data = run_json("close", "--msl", "5")
    assert data["scenario"] == "close" and data["params"]["msl"] == 5.0
    first = data["segments"][0]
    assert {k: first[k] for k in ("id", "conn", "src", "dst", "flags", "seq", "ack", "len")} == {
        "id": 1,
        "conn": 1,
        "src": "A",
        "dst": "B",
        "flags": ["SYN"],
        "seq": 1000,
        "ack": None,
        "len": 0,
    }
    assert (first["sent"], first["fate"], first["arrived"], first["delivered_to"]) == (
        0.0,
        "delivered",
        0.05,
        1,
    )
    assert data["transitions"][1] == {
        "t": 0.0,
        "endpoint": "A",
        "conn": 1,
        "from": "CLOSED",
        "to": "SYN_SENT",
        "cause": "active OPEN",
    }
    a = [tr["to"] for tr in data["transitions"] if tr["endpoint"] == "A"]
    b = [tr["to"] for tr in data["transitions"] if tr["endpoint"] == "B"]
    assert a[-4:] == ["FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"]
    assert b[-3:] == ["CLOSE_WAIT", "LAST_ACK", "CLOSED"]
    tw = [tr["t"] for tr in data["transitions"] if tr["endpoint"] == "A"][-2:]
    assert tw[1] - tw[0] == pytest.approx(10.0)
    assert data["final"] == {"A": "CLOSED", "B": "CLOSED"}


@pytest.mark.parametrize("name", list(tcpbook.SCENARIOS))
def test_every_scenario_validates_against_the_schema(name: str) -> None:
    data = tcpbook.simulate(name).to_dict()
    jsonschema.validate(data, SCHEMA)
    assert data == json.loads(json.dumps(data))


def test_drop_final_ack_via_cli() -> None:
    data = run_json("close", "--msl", "5", "--drop", "11")
    fins = [s for s in data["segments"] if s["src"] == "B" and "FIN" in s["flags"]]
    assert [s["sent"] for s in fins] == [0.85, 1.15]  # linux: a loss probe after 0.3 s
    assert data["segments"][10]["fate"] == "dropped"


def test_delay_until_and_in_flight() -> None:
    data = run_json("close", "--delay", "4=3", "--until", "1")
    assert data["segments"][3]["fate"] == "in-flight"
    assert data["params"]["until"] == 1.0


def test_text_ladder_without_json() -> None:
    proc = cli("run", "close", "--msl", "5", "--drop", "11")
    assert proc.returncode == 0
    assert "X lost" in proc.stdout and "(rtx)" in proc.stdout
    assert "A: FIN_WAIT_2 -> TIME_WAIT" in proc.stdout
    assert proc.stdout.strip().endswith("final: A CLOSED, B CLOSED")


def test_scenarios_and_states_commands() -> None:
    listed = cli("scenarios").stdout.splitlines()
    assert [line.split()[0] for line in listed] == list(tcpbook.SCENARIOS)
    rows = json.loads(cli("states", "--json").stdout)
    assert {
        "from": "FIN_WAIT_2",
        "to": "TIME_WAIT",
        "event": "rcv FIN",
        "send": "ACK",
    }.items() <= next(
        r for r in rows if r["from"] == "FIN_WAIT_2" and r["to"] == "TIME_WAIT"
    ).items()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "close", "--msl", "-1"], "--msl"),
        (["run", "close", "--msl", "0"], "--msl"),
        (["run", "close", "--msl", "nan"], "--msl"),
        (["run", "close", "--msl", "inf"], "--msl"),
        (["run", "close", "--msl", "abc"], "--msl"),
        (["run", "close", "--drop", "0"], "--drop"),
        (["run", "close", "--drop", "1.5"], "--drop"),
        (["run", "close", "--delay", "4"], "--delay"),
        (["run", "close", "--delay", "x=1"], "--delay"),
        (["run", "close", "--delay", "4=-1"], "--delay"),
        (["run", "close", "--until", "-3"], "--until"),
        (["run", "close", "--fin-timeout", "-1"], "--fin-timeout"),
        (["run", "nope"], "handshake"),
        (["draw", "close", "--kind", "nope", "-o", "x.svg"], "--kind"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert needle in lines[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"msl": -1},
        {"msl": 0},
        {"msl": float("nan")},
        {"msl": float("inf")},
        {"drop": [0]},
        {"drop": [1.5]},
        {"drop": "3"},
        {"delay": {4: -1.0}},
        {"until": -1},
        {"fin_timeout": -2},
        {"fin_timeout": float("nan")},
    ],
)
def test_python_api_raises_value_error_subclass(kwargs: dict[str, Any]) -> None:
    with pytest.raises(tcpbook.TcpbookError) as info:
        tcpbook.simulate("close", **kwargs)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_unknown_scenario_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="half-close"):
        tcpbook.simulate("nope")


def test_import_stays_light() -> None:
    code = (
        "import sys, tcpbook; "
        "print(sorted(m for m in ('matplotlib', 'graphviz', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_linux_like_timers_from_the_cli() -> None:
    data = run_json("no-answer", "--rto", "0.2", "--syn-retries", "2")
    # linux: the first retries do not double (tcp_syn_linear_timeouts)
    assert [s["sent"] for s in data["segments"]] == [0.0, 0.2, 0.4]
    assert [(e["t"], e["error"]) for e in data["errors"]] == [(0.6, "ETIMEDOUT")]
    assert data["params"]["rto"] == 0.2 and data["params"]["syn_retries"] == 2


@pytest.mark.parametrize("args", [["--rto", "0"], ["--syn-retries", "-1"], ["--latency", "-1"]])
def test_bad_timer_options(args: list[str]) -> None:
    proc = cli("run", "close", *args)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "head"),
    [
        ((), "scenario close (profile linux): MSL 30 s, 2MSL 60 s"),
        (("--profile", "rfc9293"), "scenario close (profile rfc9293): MSL 120 s, 2MSL 240 s"),
        (
            ("--profile", "freebsd", "--msl", "5"),
            "scenario close (profile freebsd): MSL 5 s, 2MSL 10 s",
        ),
    ],
)
def test_text_ladder_names_the_profile(args: tuple[str, ...], head: str) -> None:
    proc = cli("run", "close", *args)
    assert proc.returncode == 0 and proc.stdout.splitlines()[0] == head


def test_without_profile_a_run_is_linux() -> None:
    assert run_json("close") == run_json("close", "--profile", "linux")
    assert run_json("close")["params"]["profile"] == "linux"
