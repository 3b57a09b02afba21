"""Exercises: each checker runs the answer, praises what works, explains what does not."""

from __future__ import annotations

from typing import Any

import pytest

from tcpbook import exercises as X

#: A right and a wrong answer for every exercise of the book.
ANSWERS: dict[str, tuple[Any, Any]] = {
    "handshake-numbers": ((4243, 4243, 778), (4242, 4242, 777)),
    "give-up": (15, 7),
    "syn-timeout": ([1, 2, 3, 4, 5, 6, 7], [1, 2]),
    "who-waits": (("A", 60), ("B", 30)),
    "lost-fin": ([8], [9]),
    "fin-ack-count": (3, 4),
    "lost-final-ack": ((1.95, 61.9), (1.9, 60.9)),
    "rst-ending": ([11, 13, 15, 17], [11, 13]),
    "linux-threshold": (0.101, 0.09),
    "old-segment-dies": (20, 30),
    "ttl-vs-msl": ("b", "a"),
    "skip-rst": (11, 10),
    "gives-up": (367, 368.65),
    "keep-time-wait": ({"rfc1337": True}, {"skip_time_wait": True}),
    "stuck-side": (("B", "CLOSE_WAIT"), ("A", "FIN_WAIT_2")),
    "reset-without-abort": ("close-unread", "abort"),
    "reach-closing": ("simultaneous-close", "close"),
    "both-syn-received": (
        ["A connect", "B connect", "deliver A→B", "deliver B→A"],
        ["B listen", "A connect", "deliver A→B"],
    ),
    "both-time-wait": (
        [
            "B listen",
            "A connect",
            "deliver A→B",
            "deliver B→A",
            "deliver A→B",
            "A close",
            "B close",
            "deliver A→B",
            "deliver B→A",
            "deliver A→B",
            "deliver B→A",
        ],
        [
            "B listen",
            "A connect",
            "deliver A→B",
            "deliver B→A",
            "deliver A→B",
            "A close",
            "deliver A→B",
            "deliver B→A",
            "B close",
            "deliver B→A",
        ],
    ),
    "listen-send": (["A listen", "A send"], ["A connect", "A send"]),
    "reuseaddr-both": ("both", "new"),
    "crossing-fins": (
        ["CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT"],
        ["CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"],
    ),
    "lost-fin-frames": (12, 11),
    "littles-law": (120_000, 2_000),
    "port-limit": (470, 28_232),
    "fin-law": (0.5625, 0.25),
    "skipped-state": ("FIN_WAIT_2", "FIN_WAIT_1"),
    "rst-ends-it": ("CLOSED", "TIME_WAIT"),
    "unread-rst": ("+0 > R. 1:1(0) ack 101", "+0 > F. 1:1(0) ack 101"),
}

CHAPTERS = ("01", "02", "03", "04", "05", "06", "07", "08")


def test_every_exercise_has_answers_here_and_every_chapter_has_exercises() -> None:
    assert sorted(X.EXERCISES) == sorted(ANSWERS)
    assert {e.chapter for e in X.EXERCISES.values()} == set(CHAPTERS)


def test_one_registry_with_one_exercise_type() -> None:
    from tcpbook.exercises.base import Exercise

    assert all(type(e) is Exercise for e in X.EXERCISES.values())
    assert all(e.hints and all(isinstance(h, str) for h in e.hints) for e in X.EXERCISES.values())


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_right_answer_is_right(name: str) -> None:
    correct, text = X.grade(name, ANSWERS[name][0])
    assert correct, text


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_wrong_answer_is_wrong_and_says_what_happened(name: str) -> None:
    correct, text = X.grade(name, ANSWERS[name][1])
    assert not correct
    assert len(text) > 30 and "\n" not in text


@pytest.mark.parametrize("name", sorted(X.EXERCISES))
@pytest.mark.parametrize("bad", [None, "nonsense", object(), {"x": 1}, -1.5, [None]])
def test_badly_formed_answer_gets_one_line_never_a_traceback(
    name: str, bad: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    X.check(name, bad)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith(("✘", "✔"))


def test_feedback_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    X.check("rst-ending", [11, 13])
    first = capsys.readouterr().out
    X.check("rst-ending", [11, 13])
    assert capsys.readouterr().out == first
    assert first == (
        "✘ Not yet: losing #11, #13, B still closed cleanly at 3.95 s because A's ACK #15 got "
        "through. Every time A answers B's FIN, the ACK restarts 2MSL: keep losing.\n"
    )


def test_rst_ending_accepts_any_loss_that_works() -> None:
    correct, text = X.grade("rst-ending", [11, 13, 15, 17, 19])
    assert correct, text
    assert "LAST_ACK to CLOSED by that RST" in text


def test_linux_threshold_is_found_by_bisection() -> None:
    assert 0.1 < X.msl_threshold(rto=0.2) <= 0.102  # rounded up, never into the breaking side
    assert 0.5 < X.msl_threshold() <= 0.502
    assert not X.closes_cleanly(0.5) and X.closes_cleanly(0.51)


def test_bisection_prints_its_steps(capsys: pytest.CaptureFixture[str]) -> None:
    X.msl_threshold(verbose=True, tolerance=1.0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "step  1: MSL  15.0300 s -> clean close"
    assert all("->" in line for line in lines)


def test_short_msl_dodging_the_rst_is_not_the_answer() -> None:
    correct, text = X.grade("keep-time-wait", {"msl": 1})
    assert not correct and "before the RST arrives" in text


def test_unknown_exercise_and_hint_number(capsys: pytest.CaptureFixture[str]) -> None:
    X.check("no-such", 1)
    X.hint("rst-ending", 9)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("no exercise called 'no-such'; choose from: handshake-numbers,")
    assert out[1] == "'rst-ending' has hints 1 to 2, not 9"


def test_hint_solution_question_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    X.hint("gives-up", 1)
    X.solution("gives-up")
    X.question("gives-up")
    X.show("05")
    out = capsys.readouterr().out
    assert out.startswith("Hint 1: List B's FIN segments")
    assert "Solution: 367 s" in out
    assert "[gives-up] In `a-vanishes`" in out
    assert out.count("[") >= 5 and "[listen-send]" in out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_is_asked_in_its_chapter_with_a_hidden_solution(chapter: str) -> None:
    import json
    from pathlib import Path

    [path] = (Path(__file__).parent.parent / "notebooks").glob(f"{chapter}-*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells]
    asked = []
    for index, cell in enumerate(cells):
        src = sources[index]
        if cell["cell_type"] == "code" and src.startswith('check("'):
            asked.append(src.split('"')[1])
            following = sources[index + 1]
            assert following.startswith("<details><summary>Solution"), src
    assert asked == [e.name for e in X.for_chapter(chapter)]


# -- the checker bugs a reader met ----------------------------------------------------------


def test_lost_final_ack_recognises_the_right_times_in_the_wrong_order() -> None:
    correct, text = X.grade("lost-final-ack", (61.9, 1.95))
    assert not correct
    assert "wrong order" in text and "(1.95, 61.9)" in text
    assert "both times are off" not in text
    correct, text = X.grade("lost-final-ack", (1.9, 60.9))
    assert not correct and "both times are off" in text


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("who-waits", ("a", 60)),
        ("who-waits", (" A ", 60)),
        ("stuck-side", ("b", "close_wait")),
        ("stuck-side", ("B", "Close-Wait")),
        ("skipped-state", "fin-wait-2"),
        ("rst-ends-it", "closed"),
        ("reuseaddr-both", "BOTH"),
        ("ttl-vs-msl", "B"),
        ("reset-without-abort", "CLOSE-UNREAD"),
        ("keep-time-wait", {"RFC1337": True}),
        ("both-syn-received", ["a connect", "b connect", "deliver a→b", "deliver b→a"]),
        (
            "crossing-fins",
            ["closed", "syn_sent", "established", "fin_wait_1", "closing", "time-wait"],
        ),
    ],
)
def test_names_are_read_in_any_case(name: str, answer: Any) -> None:
    correct, text = X.grade(name, answer)
    assert correct, text


def test_linux_threshold_rejects_an_msl_at_which_the_close_breaks() -> None:
    assert not X.closes_cleanly(0.1, rto=0.2)
    correct, text = X.grade("linux-threshold", 0.1)
    assert not correct and "breaks" in text
    assert X.closes_cleanly(X.msl_threshold(rto=0.2), rto=0.2)
    correct, text = X.grade("linux-threshold", 0.2)
    assert not correct and "smaller one" in text


def test_stuck_side_feedback_does_not_say_no_timer_ends_close_wait() -> None:
    _, text = X.grade("stuck-side", ("B", "CLOSE_WAIT"))
    assert "No timer in TCP ends CLOSE_WAIT" not in text
    assert "idle" in text and "keepalive" in text


@pytest.mark.parametrize(
    ("name", "bad", "says"),
    [
        ("who-waits", ("C", 60), "an endpoint"),
        ("who-waits", "A", "two values"),
        ("stuck-side", ("B", "WAITING"), "a state name"),
        ("lost-final-ack", (1.95,), "two times"),
        ("handshake-numbers", (1, 2), "3 numbers"),
        ("crossing-fins", "CLOSING", "a list of states"),
        ("unread-rst", 7, "one script line"),
        ("littles-law", "many", "a number of sockets"),
    ],
)
def test_malformed_answers_say_what_shape_is_expected(name: str, bad: Any, says: str) -> None:
    correct, text = X.grade(name, bad)
    assert not correct
    assert text.startswith("Cannot check that answer") and says in text


def test_packetdrill_answers_are_run_as_scripts() -> None:
    correct, text = X.grade("unread-rst", "+0 > R. 1:1(0) ack 101")
    assert correct and "pass" in text
    correct, text = X.grade("unread-rst", "+0 > R. 1:1(0) ack 100")
    assert not correct and "A sent > R. 1:1(0) ack 101" in text
