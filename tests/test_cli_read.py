"""``python -m tcpbook read CAPTURE`` and ``draw --from CAPTURE``: a real capture from the shell."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tcpbook.capture import read_capture
from tcpbook.cli import main

CAPTURE = Path(__file__).parent / "data" / "loopback-close.pcap"


def test_read_prints_the_inferred_states(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(CAPTURE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loopback-close.pcap: A is 127.0.0.1:")
    assert "A: FIN_WAIT_2 -> TIME_WAIT  (rcv FIN)" in out
    assert "final: A TIME_WAIT, B CLOSED" in out
    assert "note: A is still in TIME_WAIT when the capture ends" in out


@pytest.mark.parametrize("relative", [False, True])
def test_read_json_is_the_trace_of_read_capture(
    relative: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["read", str(CAPTURE), "--json", *(["--relative"] if relative else [])]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(read_capture(CAPTURE, relative=relative).to_json())
    assert (printed["segments"][0]["seq"] == 0) is relative


def test_draw_from_a_capture_writes_its_ladder(tmp_path: Path) -> None:
    out = tmp_path / "capture.svg"
    assert main(["draw", "--from", str(CAPTURE), "--relative", "-o", str(out)]) == 0
    root = ET.fromstring(out.read_bytes())
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert "#1 SYN seq=0" in texts and "#11 ACK seq=102 ack=202" in texts
    assert "TIME_WAIT" in texts


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["read", "missing.pcap"], "cannot read the capture 'missing.pcap'"),
        (["read", "{readme}"], "is not a pcap or pcapng capture"),
        (["draw", "--from", "missing.pcap", "-o", "x.svg"], "cannot read the capture"),
        (["draw", "close", "--from", "{capture}", "-o", "x.svg"], "not both"),
        (["draw", "--from", "{capture}", "--drop", "3", "-o", "x.svg"], "--drop: only for"),
        (["draw", "-o", "x.svg"], "needs a scenario name or --from"),
        (["draw", "close", "--relative", "-o", "x.svg"], "--relative applies to a capture"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = Path(__file__).parent.parent / "README.md"
    argv = [a.format(readme=readme, capture=CAPTURE) for a in argv]
    argv = [str(tmp_path / a) if a == "x.svg" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "x.svg").exists()
