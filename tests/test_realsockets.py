"""The chapter's loopback experiments against this machine's kernel, and how they degrade."""

from __future__ import annotations

import itertools
import shutil
import stat
import sys
from pathlib import Path

import psutil
import pytest

from tcpbook import realsockets as rs

LINUX = sys.platform.startswith("linux")
linux_only = pytest.mark.skipif(not LINUX, reason="checks Linux's behaviour (this is not Linux)")


@linux_only
@pytest.mark.parametrize("closer", ["client", "server"])
def test_only_the_side_that_closes_first_is_in_time_wait(closer: rs.Side) -> None:
    result = rs.time_wait(closer)
    other = "server" if closer == "client" else "client"
    assert result.states_after_first_close == {closer: "FIN_WAIT_2", other: "CLOSE_WAIT"}
    assert result.states_after_both_closed == {closer: "TIME_WAIT", other: "CLOSED"}
    assert result.closer_in_time_wait is True
    assert result.other_in_time_wait is False
    if shutil.which("ss"):
        assert result.ss_lists_it is True
    assert f"the side that closed first ({closer}) is in TIME_WAIT: True" in result.report()


@linux_only
def test_reports_are_the_same_on_every_run() -> None:
    """No ports and no timings in the text, so a chapter's stored output stays valid."""
    first, second = rs.time_wait("client"), rs.time_wait("client")
    assert first.client_port != second.client_port
    assert str(first) == str(second)
    assert str(first.client_port) not in str(first)


@linux_only
def test_restarting_a_server_whose_connection_is_in_time_wait() -> None:
    result = rs.rebind("server")
    assert result.port_in_time_wait is True
    assert result.outcomes == {
        (False, False): "EADDRINUSE",
        (False, True): "EADDRINUSE",  # Linux: the old socket must have set it too
        (True, False): "EADDRINUSE",
        (True, True): "ok",
    }


@linux_only
def test_when_the_client_closed_first_the_server_port_is_free() -> None:
    result = rs.rebind("client")
    assert result.port_in_time_wait is False
    assert set(result.outcomes.values()) == {"ok"}


@linux_only
def test_linger_zero_aborts_with_reset_and_leaves_no_time_wait() -> None:
    result = rs.linger_zero()
    assert (result.peer_recv, result.peer_send) == ("ECONNRESET", "EPIPE")
    assert result.closer_state == "CLOSED"


@linux_only
def test_close_with_unread_data_resets_the_peer() -> None:
    result = rs.close_unread()
    assert result.peer_recv == "ECONNRESET"
    assert result.closer_state == "CLOSED"
    assert "waiting in the client's receive buffer: True" in result.report()


@linux_only
def test_half_close_keeps_data_flowing_back() -> None:
    result = rs.half_close(replies=4)
    assert result.server_read == b"sort these lines\n"
    assert result.client_read == b"reply 1\nreply 2\nreply 3\nreply 4\n"
    assert result.states_while_flowing == {"client": "FIN_WAIT_2", "server": "CLOSE_WAIT"}


def test_unknown_closer_is_refused() -> None:
    with pytest.raises(ValueError, match="closer must be 'client' or 'server'"):
        rs.time_wait("both")  # type: ignore[arg-type]


# ----------------------------------------------------------------- when the machine cannot answer


def test_without_permission_to_list_sockets_the_report_explains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def denied(kind: str = "inet") -> list[object]:
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "net_connections", denied)
    result = rs.time_wait("client")
    assert result.closer_in_time_wait is None
    assert "not allowed to list sockets" in result.report()
    assert "ss -tan state time-wait" in result.report()
    rebind = rs.rebind("server")
    assert rebind.port_in_time_wait is None
    assert rebind.outcomes  # the bind() attempts still ran
    assert rs.linger_zero().closer_state is None


def test_without_ss_the_report_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "ss" else real_which(name))
    result = rs.time_wait("server")
    assert result.ss_lists_it is None
    assert "`ss` is not installed here" in result.report()


def _fake_proc(tmp_path: Path, values: dict[str, str]) -> Path:
    for name, value in values.items():
        (tmp_path / name).write_text(value + "\n")
    return tmp_path


def test_the_simulator_takes_the_machines_timers(tmp_path: Path) -> None:
    root = _fake_proc(
        tmp_path, {"tcp_fin_timeout": "17", "tcp_syn_retries": "3", "tcp_rfc1337": "1"}
    )
    settings = rs.kernel_settings(root)
    assert settings.number("tcp_fin_timeout") == 17
    assert "tcp_retries2" not in settings.values
    assert "(not in this kernel)" in settings.report()
    assert "(Linux default 60)" in settings.report()
    trace = settings.simulate("fin-wait-2-hang")
    assert trace.params["fin_timeout"] == 17.0
    assert trace.params["msl"] == 30.0
    assert trace.params["rfc1337"] is True
    assert trace.params["syn_retries"] == 3 + 4  # no tcp_syn_linear_timeouts here: linux's 4
    assert trace.time_in("A", "FIN_WAIT_2") == pytest.approx(17.0, abs=0.2)


def test_not_linux_settings_explain_and_still_simulate(tmp_path: Path) -> None:
    settings = rs.kernel_settings(tmp_path / "absent")
    assert not settings.linux and not settings.values
    assert "net.inet.tcp.msl" in settings.report()
    trace = settings.simulate("close")
    # without this machine's numbers: the linux profile's own (tcp_fin_timeout 60 s)
    assert trace.params["profile"] == "linux"
    assert trace.params["msl"] == 30.0 and trace.params["fin_timeout"] == 60.0


def test_machine_syn_retries_add_the_linear_timeouts(tmp_path: Path) -> None:
    """tcp_write_timeout counts tcp_syn_retries plus tcp_syn_linear_timeouts SYN retries."""
    (tmp_path / "tcp_syn_retries").write_text("3\n")
    (tmp_path / "tcp_syn_linear_timeouts").write_text("2\n")
    trace = rs.kernel_settings(tmp_path).simulate("no-answer")
    assert trace.params["syn_retries"] == 5
    assert len(trace.segments) == 6 and trace.errors[0].error == "ETIMEDOUT"


@linux_only
def test_this_machines_settings_are_read() -> None:
    settings = rs.kernel_settings()
    assert settings.number("tcp_fin_timeout") is not None
    assert settings.simulate().params["fin_timeout"] == float(settings.values["tcp_fin_timeout"])


def test_capture_without_tcpdump_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name: None if name == "tcpdump" else real_which(name)
    )
    result = rs.capture_close()
    assert not result.live and result.trace is None
    assert "tcpdump is not installed" in result.report()


def test_capture_not_permitted_explains(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "tcpdump"
    fake.write_text(
        '#!/bin/sh\necho "tcpdump: lo: You don\'t have permission to capture on that device" >&2\n'
        "exit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name: str(fake) if name == "tcpdump" else real_which(name)
    )
    result = rs.capture_close(tmp_path / "x.pcap")
    assert not result.live and result.trace is None
    assert "capturing is not permitted here" in result.report()
    assert "You don't have permission" in result.report()


def test_example_capture_reads_as_the_chapters_close() -> None:
    result = rs.example_close(reasons=["capturing is not permitted here: no root"])
    assert not result.live and result.trace is not None
    facts = rs.close_facts(result.trace)
    assert "A (the client) went: CLOSED -> SYN_SENT -> ESTABLISHED -> FIN_WAIT_1" in facts
    assert "delayed-ACK timer (at least 20 ms): True" in facts
    assert "A is still in TIME_WAIT when the capture stops: True" in facts
    assert "no root" in result.report()


def test_capture_next_to_simulation_draws_both_ladders() -> None:
    import tcpbook
    from tcpbook.render import compare

    real = rs.example_close().trace
    assert real is not None
    fig = compare.side_by_side(real, tcpbook.simulate("close", isn_a=0, isn_b=0))
    assert len(fig.axes) == 2
    left, right = ([t.get_text() for t in ax.texts] for ax in fig.axes)
    assert "#9 ACK seq=201 ack=102" in left and "#9 ACK seq=201 ack=102" in right
    assert "LISTEN" in right  # the simulation shows what the capture cannot
    titles = [t.get_text() for t in fig.texts]
    assert any("captured" in t for t in titles) and any("simulator" in t for t in titles)
    rows = compare.spread_axis(real)
    starts = sorted({round(rows(s.sent), 6) for s in real.segments})
    assert min(b - a for a, b in itertools.pairwise(starts)) >= compare.SAME_INSTANT_ROWS - 1e-3
