"""packetdrill: scripts run against the tcpbook endpoint, and scenarios exported as scripts.

Every script in tests/pkt/ declares the verdict it must get in a ``// tcpbook-test:`` comment
(real packetdrill skips comments): ``pass``, ``mismatch line N``, or the exact
``unsupported: ...`` / ``malformed: ...`` message; ``// tcpbook-test-strict:`` gives the verdict
with ``strict=True`` (``pkt --strict``) where it differs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpbook
from tcpbook import TcpbookError
from tcpbook.packetdrill import export_script, parse, run_script, script_text
from tcpbook.packetdrill.parser import ScriptProblem
from tcpbook.states import TRANSITIONS
from tcpbook.textladder import text_ladder

PKT = Path(__file__).parent / "pkt"
SCRIPTS = sorted(PKT.glob("*.pkt"))
SCHEMA = json.loads((Path(__file__).parent / "data" / "trace.schema.json").read_text())
MARKER = re.compile(r"^// tcpbook-test: (.*)$", re.M)
STRICT_MARKER = re.compile(r"^// tcpbook-test-strict: (.*)$", re.M)

SERVER = """\
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <...>
  +.1 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
"""


def _expectation(path: Path) -> str:
    m = MARKER.search(path.read_text())
    assert m, f"{path.name} has no // tcpbook-test: line"
    return m.group(1).strip()


# -- the scripts in tests/pkt ----------------------------------------------------------------


def test_there_are_scripts_of_every_kind() -> None:
    kinds = {_expectation(p).split()[0].rstrip(":") for p in SCRIPTS}
    assert kinds == {"pass", "mismatch", "unsupported", "malformed"}
    assert len(SCRIPTS) >= 50


def _check_verdict(path: Path, want: str, *, strict: bool = False) -> None:
    result = run_script(path, strict=strict)
    if want == "pass":
        assert result.verdict == "pass", result.summary()
        assert result.exit_status == 0
        assert result.first_mismatch is None
        assert all(r.outcome in ("pass", "ignored") for r in result.lines), result.listing()
    elif want.startswith("mismatch"):
        line = int(want.split()[-1])
        assert result.verdict == "mismatch", result.summary()
        assert result.exit_status == 1
        assert result.first_mismatch is not None and result.first_mismatch.line == line
    else:
        assert result.problem == want
        assert result.verdict == want.split(":")[0]
        assert result.exit_status == 2


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_gets_its_declared_verdict(path: Path) -> None:
    _check_verdict(path, _expectation(path))
    m = STRICT_MARKER.search(path.read_text())
    _check_verdict(path, m.group(1).strip() if m else _expectation(path), strict=True)


def test_window_and_options_of_expected_segments_are_listed_as_not_checked() -> None:
    result = run_script(PKT / "not-checked-sack-block.pkt")
    assert result.verdict == "pass"
    assert result.not_checked == ["line 13: TCP options <nop,nop,sack 1001:2001>"]
    assert "not checked: line 13" in result.summary()
    assert result.to_dict()["not_checked"] == result.not_checked
    assert run_script(PKT / "not-checked-window-check.pkt").not_checked == ["line 6: window 257"]


def _all_rows_seen() -> set[tuple[str, str, str]]:
    seen = set()
    for path in SCRIPTS:
        for tr in run_script(path).trace.transitions:
            seen.add((tr.src, tr.cause, tr.dst))
    return seen


#: Rows no socket-API script can reach, and why.
UNREACHABLE = {
    ("LISTEN", "SEND"): "the socket API has no send() on a listening socket",
    ("CLOSING", "ABORT"): "the application has already closed the socket",
    ("LAST_ACK", "ABORT"): "the application has already closed the socket",
    ("TIME_WAIT", "ABORT"): "the application has already closed the socket",
    ("SYN_SENT", "ABORT"): "an abortive close in SYN_SENT is a plain close (3.10.5)",
    # A self-loop changes no state, so no transition is recorded: the re-ACK and the restarted
    # 2MSL timer are checked in client-local-close-first.pkt (test_trace_has_...).
    ("TIME_WAIT", "rcv FIN"): "no state change to record",
    # close() after shutdown() with unread data: not scripted yet; the endpoint tests in
    # tests/test_core_transitions.py drive each of these rows.
    ("FIN_WAIT_1", "CLOSE with unread data"): "covered by the endpoint tests",
    ("CLOSING", "CLOSE with unread data"): "covered by the endpoint tests",
    # The script runner's endpoint has no kernel profile yet; a profile's TIME_WAIT accepts it.
    ("TIME_WAIT", "rcv SYN above RCV.NXT"): "covered by the endpoint and profile tests",
    ("LAST_ACK", "CLOSE with unread data"): "covered by the endpoint tests",
    ("SYN_RECEIVED", "timeout retransmit"): "covered by the endpoint tests",
}


def test_scripts_cover_every_transition_a_socket_can_make() -> None:
    seen = _all_rows_seen()
    missing = []
    for row in TRANSITIONS:
        if row.event == "host vanishes" or (row.src.value, row.event) in UNREACHABLE:
            continue
        if (row.src.value, row.event, row.dst.value) not in seen:
            missing.append(f"{row.src} --{row.event}--> {row.dst}")
    assert not missing, missing


def test_linux_differences_are_named_in_the_mismatch() -> None:
    result = run_script(PKT / "linux-fin-rto-mismatch.pkt")
    m = result.first_mismatch
    assert m is not None and m.line == 17
    assert m.expected == "> F. 1:1(0) ack 2 at 0.23 s"
    assert "1 s initial RTO" in result.summary()
    assert result.trace.path("A")[-1] == "LAST_ACK"


def test_data_after_close_is_answered_like_linux() -> None:
    result = run_script(PKT / "data-after-close-rst.pkt")
    assert result.verdict == "pass", result.summary()
    assert result.trace.path("A")[-2:] == ["FIN_WAIT_1", "CLOSED"]


# -- verdict details -------------------------------------------------------------------------


def test_first_mismatch_prints_expected_and_got() -> None:
    script = SERVER + "  +.1 close(4) = 0\n   +0 > . 1:1(0) ack 1\n"
    result = run_script(script)
    assert result.verdict == "mismatch"
    text = result.summary()
    assert "mismatch at line 10" in text
    assert "expected > . 1:1(0) ack 1 at 0.2 s" in text
    assert "got > F. 1:1(0) ack 1 at 0.2 s" in text
    data = result.to_dict()
    assert data["first_mismatch"]["line"] == 10
    assert data["lines"][-1] == {
        "line": 10,
        "text": "+0 > . 1:1(0) ack 1",
        "outcome": "mismatch",
        "detail": "expected > . 1:1(0) ack 1 at 0.2 s; got > F. 1:1(0) ack 1 at 0.2 s",
    }


def test_lines_after_the_first_mismatch_are_not_run() -> None:
    script = SERVER + "  +.1 close(4) = 0\n   +0 > . 1:1(0) ack 1\n   +0 close(3) = 0\n"
    outcomes = [r.outcome for r in run_script(script).lines]
    assert outcomes[-2:] == ["mismatch", "not run"]


def test_linux_retransmission_time_is_a_timing_mismatch_with_both_times() -> None:
    script = SERVER + (
        "  +.1 < F. 1:1(0) ack 1 win 257\n   +0 > . 1:1(0) ack 2\n"
        "   +0 close(4) = 0\n   +0 > F. 1:1(0) ack 2\n  +.2 > F. 1:1(0) ack 2\n"
    )
    result = run_script(script)
    m = result.first_mismatch
    assert m is not None and m.line == 13
    assert m.expected == "> F. 1:1(0) ack 2 at 0.4 s"
    # packetdrill's tolerance: the larger of 4000 us and 12.5 % of the 0.2 s since the last line
    assert m.got == "nothing by 0.425 s"
    assert "1 s initial RTO" in m.note and "200 ms" in m.note
    assert run_script(script, rto=0.2).verdict == "pass"


def test_retransmission_found_at_another_time_reports_both_times() -> None:
    script = (
        "--tolerance_usecs=2000000\n"
        + SERVER
        + ("  +.1 close(4) = 0\n   +0 > F. 1:1(0) ack 1\n  +.2 > F. 1:1(0) ack 1\n")
    )
    assert run_script(script).verdict == "pass"  # 1.2 s is within 2 s of 0.4 s
    script = script.replace("2000000", "100000")
    m = run_script(script).first_mismatch
    assert m is not None
    assert (m.expected, m.got) == ("> F. 1:1(0) ack 1 at 0.4 s", "nothing by 0.5 s")
    assert "RTO" in m.note and "timer fires at 1.2 s" in m.note
    # A segment that comes too early is reported with both times.
    early = SERVER + "  +.1 close(4) = 0\n   +0 > F. 1:1(0) ack 1\n +1.5 > F. 1:1(0) ack 1\n"
    m = run_script(early).first_mismatch
    assert m is not None
    assert (m.expected, m.got) == (
        "> F. 1:1(0) ack 1 at 1.7 s (tolerance 187500 us)",
        "> F. 1:1(0) ack 1 at 1.2 s",
    )
    assert "RTO" in m.note


def test_delayed_ack_expectation_depends_on_tolerance() -> None:
    body = SERVER + "  +.1 < P. 1:101(100) ack 1 win 257\n +.04 > . 1:1(0) ack 101\n"
    result = run_script(body)
    assert result.verdict == "mismatch"
    assert result.first_mismatch is not None
    assert "40 ms" in result.first_mismatch.note
    assert run_script("--tolerance_usecs=50000\n" + body).verdict == "pass"


def test_system_call_results_are_checked() -> None:
    script = SERVER + "  +.1 read(4, ..., 1000) = 0\n"  # nothing arrived yet: would block
    result = run_script(script)
    m = result.first_mismatch
    assert m is not None
    assert m.got.startswith("read(4, ..., 1000) still blocked")
    script = SERVER + "  +.1 < R. 1:1(0) ack 1 win 257\n   +0 read(4, ..., 1000) = 0\n"
    m = run_script(script).first_mismatch
    assert m is not None
    assert (m.expected, m.got) == (
        "read(4, ..., 1000) = 0",
        "read(4, ..., 1000) = -1 ECONNRESET",
    )


def test_blocking_call_returning_late_is_a_mismatch() -> None:
    script = (
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
        "+0...0.05 connect(3, ..., ...) = 0\n"
        "+0 > S 0:0(0) <...>\n"
        "+.2 < S. 0:0(0) ack 1 win 1000\n"
    )
    m = run_script(script).first_mismatch
    assert m is not None and m.line == 2
    # the end of a blocking call: 12.5 % of its 0.05 s (packetdrill's run_system_call.c)
    assert m.got == "connect(3, ..., ...) still blocked at 0.05625 s"


def test_sequence_numbers_are_relative_to_any_local_isn() -> None:
    path = PKT / "client-local-close-first.pkt"
    for isn in (0, 1000, 2**32 - 1, 2**31 + 5):
        result = run_script(path, local_isn=isn)
        assert result.verdict == "pass", (isn, result.summary())
        # the trace counts as the script does: both sides' numbers from 0, whatever the ISS
        syn = result.trace.segments[0]
        assert (syn.flags, syn.seq, syn.src) == (("SYN",), 0, "A")
        synack = result.trace.segments[1]
        assert (synack.flags, synack.ack, synack.src) == (("SYN", "ACK"), 1, "B")
        final_ack = [s for s in result.trace.segments if s.src == "A"][-1]
        assert final_ack.seq == 1002


def test_trace_has_the_endpoint_states_and_every_segment() -> None:
    result = run_script(PKT / "client-local-close-first.pkt")
    tr = result.trace
    assert tr.path("A") == [
        "CLOSED",
        "SYN_SENT",
        "ESTABLISHED",
        "FIN_WAIT_1",
        "FIN_WAIT_2",
        "TIME_WAIT",
    ]
    assert tr.history("B") == [(0.0, "CLOSED")]  # the script's peer has no known states
    assert all(s.fate == "delivered" and s.arrived == s.sent for s in tr.segments)
    assert [s.src for s in tr.segments] == list("ABAABABBABA")
    assert (tr.state_at("A", 0.045), tr.state_at("A", 0.05)) == ("FIN_WAIT_2", "TIME_WAIT")
    assert tr.params["latency"] == 0.0 and tr.params["msl"] == 30.0
    time_wait = [t for t in tr.timers if t.timer == "time_wait"]
    assert [(t.action, t.deadline) for t in time_wait] == [
        ("start", pytest.approx(60.05)),
        ("start", pytest.approx(60.25)),  # restarted by the retransmitted FIN
    ]
    assert "A: FIN_WAIT_2 -> TIME_WAIT" in text_ladder(tr)


def test_json_has_verdict_lines_mismatch_and_a_schema_valid_trace() -> None:
    data = run_script(PKT / "rst-established.pkt").to_dict()
    assert data["verdict"] == "pass" and data["first_mismatch"] is None
    assert {"line", "text", "outcome", "detail"} <= set(data["lines"][0])
    schema = json.loads(json.dumps(SCHEMA))
    # The script's peer is not a state machine: only A's final state is known.
    schema["properties"]["final"]["required"] = ["A"]
    jsonschema.validate(data["trace"], schema)
    assert data["trace"]["errors"] == [{"t": 0.02, "endpoint": "A", "error": "ECONNRESET"}]


def test_settings_in_comments_and_sysctls_reach_the_model() -> None:
    script = parse(
        "// tcpbook: linux-rto msl=5 fin_timeout=off\n"
        "`sysctl -q net.ipv4.tcp_fin_timeout=7`\n"
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    )
    assert [type(s.body).__name__ for s in script.statements] == [
        "Directive",
        "Command",
        "Syscall",
    ]
    result = run_script(
        "// tcpbook: linux-rto msl=5\n`sysctl -q net.ipv4.tcp_fin_timeout=7`\n"
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    )
    assert (result.trace.params["rto"], result.trace.params["msl"]) == (0.2, 5.0)
    assert result.trace.params["fin_timeout"] == 7.0
    bad = run_script("// tcpbook: mls=5\n")
    assert bad.verdict == "malformed"
    assert bad.problem.startswith("malformed: unknown tcpbook setting 'mls'")


# -- parsing ---------------------------------------------------------------------------------


def test_times_ranges_and_blocking_calls_parse() -> None:
    script = parse(
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
        "0.100 fcntl(3, F_GETFL) = 0x2\n"
        "+.01...0.011 connect(3, ..., ...) = 0\n"
        "+.2~+.3 > S 0:0(0) <...>\n"
        "* > . 1:1(0) ack 1\n"
    )
    times = [s.time for s in script.statements]
    assert [(t.kind, t.start, t.until, t.block_end) for t in times if t] == [
        ("abs", 0, None, None),
        ("abs", 100_000, None, None),
        ("rel", 10_000, None, 11_000),
        ("rel", 200_000, 300_000, None),
        ("any", 0, None, None),
    ]


def test_comments_and_calls_spanning_lines() -> None:
    script = parse(
        "/* a block\n comment */ 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // tail\n"
        "+0 setsockopt(3, SOL_SOCKET, SO_LINGER,\n    {onoff=1, linger=0}, 8) = 0\n"
    )
    first, second = script.statements
    assert first.line == 2 and second.line == 3
    assert second.body.args[3] == "{onoff=1, linger=0}"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 < S. 1:2(3) ack 1", "malformed: 1:2(3) is inconsistent: 2 - 1 != 3 at line 1"),
        ("0 frob(3) = 0", "unsupported: system call frob() at line 1"),
        ("0 sendfile(4, 5, ..., 1000) = 1000", "unsupported: sendfile() at line 1"),
        ("0 < udp (1000)", "unsupported: UDP at line 1"),
        ("0 < icmp unreachable port_unreachable", "unsupported: ICMP at line 1"),
        ("0 > [ect0] S 0:0(0)", "unsupported: IP ECN marking [ect0] at line 1"),
        ("0 < SE 0:0(0) win 1", "unsupported: ECN flag E (ECE) at line 1"),
        (
            '0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "cubic", 5) = 0',
            "unsupported: congestion control (TCP_CONGESTION) at line 1",
        ),
        ("0 > S 0:0(0) <mss 1460,FO abcd>", "unsupported: TCP fast open option at line 1"),
        ("0 < S 0:0(0) <...", "malformed: unterminated <options> at line 1"),
        (
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
            "0.5 fcntl(3, F_GETFL) = 2\n0.4 close(3) = 0",
            "malformed: time goes backwards at line 3",
        ),
        (
            "0.5 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
            "malformed: the first event must be at time 0 (packetdrill's run.c) at line 1",
        ),
        ("`echo oops", "malformed: unterminated ` shell command at line 1"),
        ("--tolerance_usecs=abc", "malformed: --tolerance_usecs needs a number at line 1"),
    ],
)
def test_problem_messages(text: str, message: str) -> None:
    result = run_script(text + "\n")
    assert result.problem == message
    assert result.exit_status == 2


def test_parse_raises_script_problem_with_kind_and_line() -> None:
    with pytest.raises(ScriptProblem) as info:
        parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{ print(1) }%\n")
    assert (info.value.kind, info.value.line) == ("unsupported", 2)


# -- export and round trips --------------------------------------------------------------------

REFUSED = {
    ("old-duplicate", "A"): "the run has 2 connections",
    ("old-duplicate", "B"): "the run has 2 connections",
    ("no-answer", "B"): "host B vanishes",
    ("a-vanishes", "A"): "host A vanishes at 0.84 s",
    ("reconnect", "A"): "the run has 2 connections",
    ("reconnect", "B"): "the run has 2 connections",
}
CASES = [(name, side) for name in tcpbook.SCENARIOS for side in "AB"]


@pytest.mark.parametrize(("scenario", "side"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_exported_script_passes_against_the_model(scenario: str, side: str) -> None:
    trace = tcpbook.simulate(scenario, msl=5)
    if (scenario, side) in REFUSED:
        with pytest.raises(TcpbookError, match=REFUSED[scenario, side]):
            script_text(trace, side)
        return
    text = script_text(trace, side)
    result = run_script(text)
    assert result.verdict == "pass", text + "\n" + result.summary()
    sent = [s for s in trace.segments if s.src == side and s.duplicate_of is None]
    got = [s for s in result.trace.segments if s.src == "A"]
    assert [s.flags for s in got] == [s.flags for s in sent]
    # the script starts at its side's first event (packetdrill wants the first event at 0)
    first = min(
        [t.t for t in trace.transitions if t.endpoint == side]
        + [s.arrived for s in trace.segments if s.dst == side and s.arrived is not None]
        + [s.sent for s in trace.segments if s.src == side]
    )
    assert [s.sent for s in got] == pytest.approx([s.sent - first for s in sent])
    # The script ends with its last segment; the model's later timers (TIME_WAIT) do not run.
    last = result.trace.end
    assert result.trace.path("A") == [st for t, st in trace.history(side) if t <= last + 1e-9]


@settings(max_examples=40)
@given(
    scenario=st.sampled_from(
        ["close", "half-close", "simultaneous-close", "abort", "late-fin", "close-unread"]
    ),
    drops=st.sets(st.integers(1, 14), max_size=3),
    msl=st.sampled_from([1.0, 5.0, 30.0]),
    side=st.sampled_from("AB"),
)
def test_exported_script_passes_whatever_is_lost(
    scenario: str, drops: set[int], msl: float, side: str
) -> None:
    trace = tcpbook.simulate(scenario, msl=msl, drop=sorted(drops), until=200)
    try:
        text = script_text(trace, side)
    except TcpbookError as exc:
        assert "has not accepted yet" in str(exc)
        return
    result = run_script(text)
    assert result.verdict == "pass", text + "\n" + result.summary()


def test_export_header_says_what_linux_does_differently(tmp_path: Path) -> None:
    trace = tcpbook.simulate("close", msl=5, fin_timeout=3, rfc1337=True)
    path = tmp_path / "close.pkt"
    export_script(trace, path, side="A")
    text = path.read_text()
    assert "scenario 'close'" in text and "side A" in text
    assert "40 ms" in text and "200 ms" in text and "linux profile" in text
    # one shell command before the first event, as packetdrill's grammar wants
    assert "`sysctl -q net.ipv4.tcp_rfc1337=1 net.ipv4.tcp_fin_timeout=3`" in text
    assert "// tcpbook: profile=linux msl=5 rto=1 fin_timeout=3" in text
    assert "   +0 > S 0:0(0) <...>" in text
    assert "< S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK,nop,nop>" in text
    assert run_script(path).verdict == "pass"


def test_export_rejects_bad_side_and_unwritable_path(tmp_path: Path) -> None:
    trace = tcpbook.simulate("close")
    with pytest.raises(TcpbookError, match="side must be 'A' or 'B'"):
        script_text(trace, "C")
    with pytest.raises(TcpbookError, match="cannot write"):
        export_script(trace, tmp_path / "missing" / "x.pkt")


# -- the command line ------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tcpbook", *args], capture_output=True, text=True, check=False
    )


def test_cli_round_trip_and_exit_statuses(tmp_path: Path) -> None:
    path = tmp_path / "b.pkt"
    assert _cli("run", "half-close", "--packetdrill", str(path), "--side", "B").returncode == 0
    done = _cli("pkt", str(path), "--json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["verdict"] == "pass" and data["trace"]["final"]["A"] == "CLOSED"
    mismatch = _cli("pkt", str(PKT / "linux-fin-rto-mismatch.pkt"))
    assert mismatch.returncode == 1
    assert "expected > F. 1:1(0) ack 2 at 0.23 s" in mismatch.stdout
    assert "got nothing by" in mismatch.stdout
    unsupported = _cli("pkt", str(PKT / "unsupported-epoll.pkt"))
    assert unsupported.returncode == 2
    assert "unsupported: epoll at line 3" in unsupported.stdout
    missing = _cli("pkt", str(tmp_path / "nope.pkt"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("tcpbook: error: cannot read")
    assert "Traceback" not in missing.stderr


# -- what real-kernel scripts use ------------------------------------------------------------


def test_tolerance_is_the_larger_of_usecs_and_percent_of_the_time_since_the_last_line() -> None:
    # The model retransmits the FIN 1 s after sending it; the script expects it after 0.9 s.
    body = SERVER + "  +.1 close(4) = 0\n   +0 > F. 1:1(0) ack 1\n  +.9 > F. 1:1(0) ack 1\n"
    # packetdrill's default: 12.5 % of 0.9 s = 112.5 ms
    assert run_script(body).verdict == "pass"
    tight = run_script("--tolerance_percent=5\n" + body)
    m = tight.first_mismatch
    assert m is not None and m.got == "nothing by 1.145 s"  # 5 % of 0.9 s = 45 ms
    assert tight.trace.params["tolerance_percent"] == 5.0
    loose = "--tolerance_percent=5\n--tolerance_usecs=150000\n" + body
    assert run_script(loose).verdict == "pass"
    for text, what in (
        ("`true`\n`true`\n", "a second shell command before the first event"),
        (
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`true`\n+0 close(3) = 0\n",
            "a shell command without a time between events",
        ),
        ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`true`\n`true`\n", "a second shell"),
        ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n--tolerance_usecs=5\n", "an --option"),
    ):
        assert run_script(text).problem.startswith(f"malformed: {what}"), text
    # parser.y's opt_cleanup_command: one untimed command may end the script (upstream
    # scripts restore their sysctls so)
    cleanup = run_script("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`/tmp/restore.sh`\n")
    assert cleanup.verdict == "pass", cleanup.summary()
    bad = run_script("--tolerance_percent=150\n")
    assert bad.problem == "malformed: --tolerance_percent needs a number from 0 to 100 at line 1"


def test_sysctl_lines_choose_the_profile_and_set_the_knobs_the_model_has() -> None:
    linux = run_script(
        "`sysctl -q net.ipv4.tcp_fin_timeout=7 net.ipv4.tcp_timestamps=1`\n"
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
        "+0 `sysctl -q net.ipv4.tcp_congestion_control=cubic`\n"
    )
    assert linux.verdict == "pass" and linux.profile == "linux"
    assert linux.trace.params["fin_timeout"] == 7.0
    assert linux.lines[0].detail == "applied tcp_fin_timeout=7; ignored net.ipv4.tcp_timestamps"
    assert linux.lines[2].outcome == "ignored"
    assert any("tcp_congestion_control has no meaning" in n for n in linux.notes)
    bsd = run_script(
        "`sysctl net.inet.tcp.msl=5000 net.inet.tcp.drop_synfin=1`\n"
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    )
    assert bsd.verdict == "pass" and bsd.profile == "freebsd"
    assert bsd.trace.params["msl"] == 5.0 and bsd.trace.params["profile"] == "freebsd"
    assert any("net.inet.tcp.drop_synfin has no meaning" in n for n in bsd.notes)
    # no kernel sysctl: the plain model, as simulate() without a profile
    plain = run_script("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
    assert plain.profile is None and plain.trace.params["profile"] is None
    forced = "// tcpbook: profile=none\n`sysctl -q net.inet.tcp.msl=5000`\n" + SERVER
    assert run_script(forced).profile is None
    assert run_script(SERVER, profile="freebsd").profile == "freebsd"
    bad = run_script("// tcpbook: profile=solaris\n")
    assert bad.problem.startswith("malformed: tcpbook setting profile takes linux, freebsd")


def test_local_sequence_numbers_count_from_the_isn_packetdrill_learned() -> None:
    # packetdrill learns the local ISN from connect()'s SYN and from a passive socket's first
    # SYN,ACK only: a later SYN,ACK (a second connection on the same addresses) keeps counting
    # from the first.
    from tcpbook.packetdrill.runner import Runner, fixed_timer_config

    runner = Runner(parse(SERVER), "s", fixed_timer_config(), 5000)
    ep = runner.endpoint()
    ep.passive = True
    runner.isn = 7000
    runner.isn = 9000  # a second SYN,ACK
    assert runner.isn == 7000
    runner.connect_armed = True
    runner.isn = 11000  # connect()'s SYN
    assert runner.isn == 11000
    runner.isn = 12000  # not after a connect()
    assert runner.isn == 11000


def test_export_of_a_reset_in_close_wait_checks_epipe_as_linux_reports_it() -> None:
    # The peer's FIN arrived first, so read() returns end-of-file; write() reports EPIPE
    # (Linux tcp_reset), which is what the linux profile's run records.
    trace = tcpbook.simulate("close-unread", drop=[3])
    assert ("B", "EPIPE") in [(e.endpoint, e.error) for e in trace.errors]
    text = script_text(trace, "B")
    assert "write(4, ..., 100) = -1 EPIPE (Broken pipe)" in text
    assert "ECONNRESET" not in text
    assert run_script(text).verdict == "pass"


def test_cli_strict_makes_window_checks_unsupported() -> None:
    path = str(PKT / "not-checked-window-check.pkt")
    loose = _cli("pkt", path)
    assert loose.returncode == 0 and "not checked: line 6: window 257" in loose.stdout
    strict = _cli("pkt", path, "--strict")
    assert strict.returncode == 2
    assert "unsupported: window check (win 257 in an expected segment) at line 6" in strict.stdout


def test_cli_profile_runs_the_script_under_that_kernel() -> None:
    path = str(PKT / "matrix" / "freebsd" / "time-wait-rst.pkt")
    assert _cli("pkt", path).returncode == 0  # its sysctl picks freebsd: RST ignored
    linux = _cli("pkt", path, "--profile", "linux", "--json")
    assert linux.returncode == 1 and json.loads(linux.stdout)["profile"] == "linux"
    bad = _cli("pkt", path, "--profile", "solaris")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


@pytest.mark.parametrize("gap", ["", " ", "  \t"])
def test_time_ranges_may_have_blanks_around_their_separator(gap: str) -> None:
    """packetdrill's lexer skips blanks between tokens: ``+0 ... 0.3`` is ``+0...0.3``."""
    from tcpbook.packetdrill.parser import _parse_time

    blocking, rest = _parse_time(f"+.002{gap}...{gap}0.004 connect(4, ..., ...) = 0", 1)
    assert blocking is not None and (blocking.start, blocking.block_end) == (2000, 4000)
    assert rest.startswith("connect(")
    window, rest = _parse_time(f"+0{gap}~{gap}+.02 > S 0:0(0) <...>", 1)
    assert window is not None and (window.start, window.until) == (0, 20000)
    assert rest.startswith("> S")


def test_a_segment_with_no_flags_is_written_with_a_dash_and_dropped_in_established() -> None:
    """parser.y: ``-`` is a segment with no TCP flag at all; without ACK, RFC 9293 3.10.7.4
    (fifth step) drops it, so its data never reaches the application."""
    from tcpbook.packetdrill.parser import flags_notation

    assert flags_notation(()) == "-"
    body = SERVER + (
        "+.01 < - 1:1001(1000) win 20000\n"
        "+.01 < . 1:1001(1000) ack 1 win 20000\n"
        "+0 > . 1:1(0) ack 1001\n"
        "+0 read(4, ..., 2000) = 1000\n"
    )
    result = run_script(body)
    assert result.verdict == "pass", result.summary()
