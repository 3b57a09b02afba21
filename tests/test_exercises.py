"""Exercises: each checker runs the answer, praises what works, explains what does not."""

from __future__ import annotations

from typing import Any

import pytest

from tcpbook import exercises as X
from tcpbook.exercises_01_02 import EXERCISES as EARLY

#: A right and a wrong answer for every exercise of chapters 03 to 05.
ANSWERS: dict[str, tuple[Any, Any]] = {
    "lost-final-ack": ((1.95, 61.9), (1.9, 60.9)),
    "rst-ending": ([11, 13, 15, 17], [11, 13]),
    "linux-threshold": (0.1, 0.09),
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
}


def test_every_own_exercise_has_answers_here() -> None:
    own = [e.name for e in X.EXERCISES.values() if e.chapter in ("03", "04", "05")]
    assert sorted(own) == sorted(ANSWERS)
    assert {e.chapter for e in X.EXERCISES.values()} == {"01", "02", "03", "04", "05"}


def test_chapter_01_02_exercises_are_merged_under_their_ids() -> None:
    for name, early in EARLY.items():
        merged = X.EXERCISES[name]
        assert (merged.chapter, merged.question, merged.solution) == (
            early.chapter,
            early.question,
            early.solution,
        )
        assert merged.hints == (early.hint,)
        assert merged.checker is early.checker


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
    assert X.msl_threshold(rto=0.2) == pytest.approx(0.1, abs=1e-3)
    assert X.msl_threshold() == pytest.approx(0.5, abs=1e-3)
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
    assert out[0].startswith("no exercise called 'no-such'; choose from: syn-timeout,")
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


@pytest.mark.parametrize("chapter", ["03", "04", "05"])
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
