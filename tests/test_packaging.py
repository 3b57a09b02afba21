"""The project's packaging files agree with each other.

pyproject.toml is the single source of the runtime dependencies; environment.yml
(Binder / conda) must provide every one of them, and postBuild must then install
the package itself without pulling anything else in.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

#: PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"graphviz": "python-graphviz"}


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _environment() -> dict[str, Any]:
    with (ROOT / "environment.yml").open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict)
    return data


def _runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in _pyproject()["project"]["dependencies"]]


def _conda_specs() -> dict[str, str]:
    """conda package name -> version constraint ('' when none) from environment.yml."""
    specs: dict[str, str] = {}
    for entry in _environment()["dependencies"]:
        if isinstance(entry, str):
            m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", entry)
            assert m, f"cannot parse conda dependency {entry!r}"
            specs[canonicalize_name(m.group(1))] = m.group(2)
    return specs


def _pip_section() -> list[str]:
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict) and "pip" in entry:
            return [str(x) for x in entry["pip"]]
    return []


def _min_version(spec: str) -> Version | None:
    """The lower bound of a '>=X' constraint (conda or PEP 440), if there is one."""
    m = re.search(r">=\s*([0-9][0-9A-Za-z.]*)", spec)
    return Version(m.group(1)) if m else None


# --------------------------------------------------------------------------- pyproject


def test_runtime_dependencies_have_minimum_versions() -> None:
    for req in _runtime_requirements():
        lower = [s for s in req.specifier if s.operator == ">="]
        assert lower, f"{req.name} in pyproject.toml has no minimum version (>=)"


def test_project_metadata() -> None:
    project = _pyproject()["project"]
    assert project["name"] == "tcpbook"
    assert Version(project["version"]) == Version("0.1.0")
    assert SpecifierSet(project["requires-python"]).contains("3.10")
    assert project["scripts"]["tcpbook"] == "tcpbook.__main__:main"
    extras = {
        canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["test"]
    }
    for needed in ("pytest", "hypothesis", "nbval", "ruff", "mypy", "playwright"):
        assert needed in extras, f"{needed} missing from the 'test' extra"


def test_installed_metadata_matches_pyproject() -> None:
    version = _pyproject()["project"]["version"]
    assert importlib.metadata.version("tcpbook") == version
    tcpbook = importlib.import_module("tcpbook")
    if hasattr(tcpbook, "__version__"):
        assert tcpbook.__version__ == version


def test_console_script_target_exists() -> None:
    module_name, _, func = _pyproject()["project"]["scripts"]["tcpbook"].partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, func))


# --------------------------------------------------------------------------- Binder


def test_environment_yml_provides_every_runtime_dependency() -> None:
    conda = _conda_specs()
    pip = {canonicalize_name(Requirement(r).name): r for r in _pip_section()}
    for req in _runtime_requirements():
        name = canonicalize_name(req.name)
        conda_name = canonicalize_name(CONDA_NAMES.get(name, name))
        assert conda_name in conda or name in pip, (
            f"runtime dependency {req.name} (conda-forge: {conda_name}) "
            "is missing from environment.yml"
        )


def test_environment_yml_minimums_are_not_below_pyproject() -> None:
    conda = _conda_specs()
    for req in _runtime_requirements():
        name = canonicalize_name(req.name)
        spec = conda.get(canonicalize_name(CONDA_NAMES.get(name, name)))
        if not spec:
            continue
        conda_min = _min_version(spec)
        ours = _min_version(str(req.specifier))
        if conda_min is not None and ours is not None:
            assert conda_min >= ours, (
                f"environment.yml allows {req.name} {spec}, pyproject needs {req.specifier}"
            )


def test_environment_yml_has_python_graphviz_binary_and_test_runner() -> None:
    env = _environment()
    assert "conda-forge" in env["channels"]
    conda = _conda_specs()
    assert conda.get("python", "").lstrip("=").startswith("3.11")
    assert "graphviz" in conda, "the `dot` program (conda package graphviz) is needed to draw"
    assert "nbval" in conda


def test_environment_yml_does_not_install_the_package_itself() -> None:
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert not re.search(r"-e\s+\.", text), "install tcpbook in postBuild, not environment.yml"
    assert all(canonicalize_name(Requirement(r).name) != "tcpbook" for r in _pip_section())


def test_postbuild_installs_package_without_dependencies() -> None:
    path = ROOT / "postBuild"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/bin/bash"
    commands = [ln.strip() for ln in lines[1:] if ln.strip() and not ln.lstrip().startswith("#")]
    assert "set -e" in commands
    assert "pip install --no-deps -e ." in commands
    if os.name == "posix":
        assert path.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"


# --------------------------------------------------------------------------- notebooks


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_contents_notebook_exists() -> None:
    assert (ROOT / "notebooks" / "00-contents.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_uses_the_python3_kernel(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    kernelspec = nb.get("metadata", {}).get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec must be python3"


def test_nbval_sanitize_rules() -> None:
    from nbval.plugin import get_sanitize_patterns

    rules = get_sanitize_patterns((ROOT / "nbval.cfg").read_text(encoding="utf-8"))
    assert len(rules) >= 5

    def sanitize(s: str) -> str:
        for regex, replace in rules:
            s = re.sub(regex, replace, s)
        return s

    assert sanitize("<object at 0x7f3a2c1b5e90>") == "<object at 0xADDRESS>"
    assert sanitize("flags=0x12") == "flags=0x12"
    assert sanitize("<!-- Generated by graphviz version 2.43.0 (0)\n -->") == (
        "<!-- Generated by graphviz -->"
    )
    assert sanitize("<dc:title>Matplotlib v3.8.2, https://matplotlib.org/</dc:title>") == (
        "<dc:title>Matplotlib vVERSION, https://matplotlib.org/</dc:title>"
    )
    assert sanitize('<clipPath id="p1a2b3c4d5e">') == sanitize('<clipPath id="p0f9e8d7c6b">')
    assert sanitize('"model_id": "4f0c2d9e8b7a4c1d"') == '"model_id": "MODEL_ID"'
