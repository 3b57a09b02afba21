"""The benchmark runs end to end in quick mode and writes a JSON report (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tcpbook import bench, native

STATUSES = {"PASS", "MISS", "INFO", "N/A"}


def test_quick_bench_prints_a_table_and_writes_valid_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "report.json"
    assert bench.main(["--quick", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["description"].endswith(report["machine"]["python"][:4])
    names = [r["name"] for r in report["results"]]
    for expected in ("import tcpbook", "simulate('close')", "widget update", "Monte Carlo, 1 core"):
        assert any(n.startswith(expected) for n in names), expected
    # the report says which build it measured, and measures pure Python beside it
    assert report["machine"]["tcpbook_build"] == native.STATUS
    pure = next(r for r in report["results"] if "pure Python" in r["name"])
    assert pure["value"] > 0 and "TCPBOOK_PURE=1" in pure["note"]
    for row in report["results"]:
        assert row["status"] in STATUSES
        if row["status"] in ("PASS", "MISS"):
            assert isinstance(row["value"], float) and row["value"] >= 0 and row["target"]
        if row["status"] == "N/A":
            assert row["value"] is None and row["note"]
    book = next(r for r in report["results"] if r["name"].startswith("whole book"))
    assert book["status"] == "N/A" and "quick" in book["note"]
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:4] == ["benchmark", "value", "target", "status"]
    assert str(out) in printed


def test_judge_and_table_format() -> None:
    assert bench._judge(40.0, 50.0, below=True) == "PASS"
    assert bench._judge(50.0, 50.0, below=True) == "MISS"
    assert bench._judge(10_000.0, 10_000.0, below=False) == "PASS"
    text = bench.table([bench.Row("x", 12_345.0, "1/s", ">= 10,000", "PASS")])
    assert "12,345/s" in text.splitlines()[1]


def test_book_timing_executes_a_notebook(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("print(6 * 7)"))
    path = tmp_path / "01-tiny.ipynb"
    nbformat.write(nb, path)
    total, rows = bench.bench_book([path])
    assert total.status == "PASS" and total.value is not None and total.value > 0
    assert [r.name.strip() for r in rows] == ["01-tiny.ipynb"]
