"""Every row of the transition table is reached by some run the book can show."""

from __future__ import annotations

import pytest

from tcpbook.drive import Coverage, Driver, Witness, coverage, reached
from tcpbook.states import TRANSITIONS


@pytest.fixture(scope="module")
def table() -> Coverage:
    return coverage()


def test_every_row_is_reached(table: Coverage) -> None:
    assert len(table) == len(TRANSITIONS)
    assert [(r.src, r.event, r.dst) for r in table.missing] == []


@pytest.mark.parametrize("index", range(len(TRANSITIONS)))
def test_each_witness_really_goes_along_its_row(table: Coverage, index: int) -> None:
    row = table[index]
    assert row.witness is not None
    assert (row.src, row.event, row.dst) in reached(row.witness.run())


def test_scenarios_are_preferred_to_hand_driving(table: Coverage) -> None:
    by_row = {(r.src, r.event, r.dst): r.witness for r in table}
    assert by_row[("ESTABLISHED", "CLOSE", "FIN_WAIT_1")] == Witness("close", {})
    assert by_row[("TIME_WAIT", "timeout 2MSL", "CLOSED")] == Witness("close", {})
    hand = by_row[("LISTEN", "SEND", "SYN_SENT")]
    assert hand is not None and hand.scenario is None
    assert hand.moves == ("A listen", "A send")


def test_time_wait_self_loop_is_recognised_from_segments() -> None:
    from tcpbook import simulate

    assert ("TIME_WAIT", "rcv FIN", "TIME_WAIT") in reached(simulate("close", drop=[11]))
    assert ("TIME_WAIT", "rcv FIN", "TIME_WAIT") not in reached(simulate("close"))


def test_summary_and_html_name_every_row(table: Coverage) -> None:
    assert table.summary().startswith(f"{len(TRANSITIONS)} of {len(TRANSITIONS)} rows reached")
    html = table._repr_html_()
    assert html.count("<tr>") == len(TRANSITIONS) + 1
    assert "not reached" not in html
    text = str(table)
    assert "B send, lose B→A, lose B→A, fire B tlp, (lose B→A, fire B retransmit) × 16" in text


def test_driver_witness_description_replays() -> None:
    w = Witness(None, {}, ("A listen", "A send"))
    assert w.describe() == "Driver(): A listen, A send"
    d = Driver()
    d.run(w.moves)
    assert d.trace.path("A") == ["CLOSED", "LISTEN", "SYN_SENT"]
