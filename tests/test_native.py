"""The compiled core: used exactly when it was built from these sources, and it answers as the
pure-Python modules do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tcpbook import native
from tcpbook.scenarios import SCENARIOS

SUFFIX = native._ext_suffix()


def _fake_build(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the compiled modules' sources and a build folder that matches them (the
    extension files are empty: only their presence is checked before loading)."""
    package = tmp_path / "pkg"
    package.mkdir()
    for name in native.COMPILED:
        shutil.copy(native.PACKAGE / f"{name}.py", package / f"{name}.py")
    built = tmp_path / "_native"
    (built / "tcpbook").mkdir(parents=True)
    (built / f"{native.GROUP}{SUFFIX}").touch()
    for name in native.COMPILED:
        (built / "tcpbook" / f"{name}{SUFFIX}").touch()
    manifest = {"ext_suffix": SUFFIX, "sources": native.source_hashes(package)}
    (built / native.MANIFEST).write_text(json.dumps(manifest))
    return built, package


def test_a_matching_build_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.ENV_PURE, raising=False)
    built, package = _fake_build(tmp_path)
    assert native.check(built, package) is None


def test_an_edited_module_makes_the_build_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(native.ENV_PURE, raising=False)
    built, package = _fake_build(tmp_path)
    with (package / "endpoint.py").open("a") as f:
        f.write("\n# an edit\n")
    reason = native.check(built, package)
    assert reason is not None and reason.startswith("stale, endpoint changed")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("manifest", "not built"),
        ("interpreter", "built for another interpreter"),
        ("module", "build incomplete"),
    ],
)
def test_a_missing_or_foreign_build_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str, expected: str
) -> None:
    monkeypatch.delenv(native.ENV_PURE, raising=False)
    built, package = _fake_build(tmp_path)
    if damage == "manifest":
        (built / native.MANIFEST).unlink()
    elif damage == "interpreter":
        manifest = json.loads((built / native.MANIFEST).read_text())
        manifest["ext_suffix"] = ".cpython-39-elsewhere.so"
        (built / native.MANIFEST).write_text(json.dumps(manifest))
    else:
        (built / "tcpbook" / f"host{SUFFIX}").unlink()
    reason = native.check(built, package)
    assert reason is not None and reason.startswith(expected)


def test_the_environment_variable_forces_pure_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, package = _fake_build(tmp_path)
    monkeypatch.setenv(native.ENV_PURE, "1")
    assert native.check(built, package) == f"{native.ENV_PURE} is set"
    assert native.check(built, package, env=False) is None


def _report(pure: bool) -> dict[str, object]:
    """What a fresh interpreter imports, and the JSON of every scenario it runs."""
    code = (
        "import json, tcpbook, tcpbook.endpoint as e, tcpbook.native as n\n"
        "from tcpbook.scenarios import SCENARIOS\n"
        "runs = {s: tcpbook.simulate(s).to_dict() for s in SCENARIOS}\n"
        "print(json.dumps({'file': e.__file__, 'status': n.STATUS, 'runs': runs}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != native.ENV_PURE}
    if pure:
        env[native.ENV_PURE] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_the_checkout_runs_the_compiled_core_and_it_answers_as_pure_python() -> None:
    """make setup builds the core; a fresh interpreter then imports the extension modules, and
    every scenario's run is the same, field for field, as the pure-Python modules give."""
    assert native.check(env=False) is None, f"compiled core unusable: {native.check(env=False)}"
    compiled, pure = _report(pure=False), _report(pure=True)
    assert str(compiled["file"]).endswith(SUFFIX) and compiled["status"] == "compiled (mypyc)"
    assert str(pure["file"]).endswith("endpoint.py")
    assert pure["status"] == f"pure Python ({native.ENV_PURE} is set)"
    assert compiled["runs"] == pure["runs"]
    assert len(SCENARIOS) == len(pure["runs"])  # type: ignore[arg-type]


def test_this_process_reports_what_it_imported() -> None:
    from tcpbook import endpoint

    compiled = endpoint.__file__ is not None and endpoint.__file__.endswith(SUFFIX)
    assert compiled == (native.STATUS == "compiled (mypyc)")
