"""Figures to files, through the API and through ``python -m tcpbook draw``."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tcpbook
from tcpbook.cli import main
from tcpbook.render import draw_to_file

MAGIC = {".svg": b"<", ".png": b"\x89PNG", ".pdf": b"%PDF"}


def _draw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tcpbook", "draw", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["state", "ladder", "timeline"])
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_cli_draw_writes_every_kind_in_every_format(tmp_path: Path, kind: str, suffix: str) -> None:
    out = tmp_path / f"x{suffix}"
    done = _draw("close", "--kind", kind, "--at", "0.8", "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(MAGIC[suffix]) or (suffix == ".svg" and b"<svg" in data[:400])
    assert len(data) > 1000


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--kind", "nope", "-o", "x.svg"], "nope"),
        (["-o", "x.gif"], ".gif"),
        (["-o", "/nonexistent/dir/x.svg"], "does not exist"),
    ],
)
def test_cli_draw_mistakes_are_exit_2_and_one_line(
    tmp_path: Path, args: list[str], words: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tcpbook", "draw", "close", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], done.stderr
    assert not list(tmp_path.iterdir())


def test_refused_write_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(A read-only directory does not stop root, so the refusal is simulated.)"""

    def refuse(self: Path, data: bytes) -> int:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    with pytest.raises(tcpbook.TcpbookError, match="permission denied"):
        draw_to_file(tcpbook.simulate("close"), kind="ladder", path=tmp_path / "x.png")


def test_a_directory_in_place_of_the_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "x.svg").mkdir()
    with pytest.raises(tcpbook.TcpbookError, match="is a directory"):
        draw_to_file(tcpbook.simulate("close"), kind="timeline", path=tmp_path / "x.svg")


def test_unknown_kind_and_endpoint_are_refused(tmp_path: Path) -> None:
    trace = tcpbook.simulate("close")
    with pytest.raises(tcpbook.TcpbookError, match="choose one of: state, ladder, timeline"):
        draw_to_file(trace, kind="sequence", path=tmp_path / "x.svg")
    with pytest.raises(tcpbook.TcpbookError, match="endpoint"):
        draw_to_file(trace, kind="state", path=tmp_path / "x.svg", endpoint="C")


@pytest.mark.parametrize("kind", ["ladder", "timeline", "state"])
def test_svg_files_are_reproducible(tmp_path: Path, kind: str) -> None:
    trace = tcpbook.simulate("close", drop=[11])
    one = draw_to_file(trace, kind=kind, path=tmp_path / "one.svg", at=1.0).read_bytes()
    two = draw_to_file(trace, kind=kind, path=tmp_path / "two.svg", at=1.0).read_bytes()
    assert one == two
    assert b"0x" not in one
    assert b"<dc:date>" not in one


def test_importing_tcpbook_does_not_import_the_drawing_libraries() -> None:
    code = (
        "import sys, tcpbook; tcpbook.simulate('close');"
        "print(sorted(m for m in ('matplotlib', 'graphviz', 'ipywidgets') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_bench_redraw_reports_every_step() -> None:
    from tcpbook.bench import bench_redraw

    numbers = bench_redraw(runs=2)
    assert set(numbers) == {
        "simulate",
        "ladder",
        "png_bytes",
        "svg_bytes",
        "state_restyle",
        "widget_png",
        "widget_svg",
    }
    assert all(ms > 0 for ms in numbers.values())


def test_draw_writes_svg_text_as_text_and_identically_twice(tmp_path: Path) -> None:
    """Labels are <text> elements (searchable, read by screen readers), not glyph outlines."""
    first, second = tmp_path / "one.svg", tmp_path / "two.svg"
    for out in (first, second):
        assert main(["draw", "close", "--kind", "ladder", "--drop", "11", "-o", str(out)]) == 0
    data = first.read_bytes()
    assert data == second.read_bytes()
    root = ET.fromstring(data)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "FIN_WAIT_2" in texts
    assert any(t.startswith("#11 ACK seq=1102 ack=5202") and t.endswith("lost") for t in texts)
    assert b'<path id="DejaVu' not in data  # no glyph outlines
