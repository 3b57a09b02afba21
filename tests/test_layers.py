"""Nothing imports upward: every module's imports, read with ``ast``, respect the layers.

    core        states, endpoint, profiles (and errors, which every layer may raise)
    runtime     kernel, host, trace, settings
    models      the simulator, the drive-it-yourself driver, packetdrill, captures, real sockets
    renderers   state diagram, ladder, timeline, text ladder
    widgets     ipywidgets panels, exercises, notebook display helpers
    shell       the CLI and the benchmark: a thin shell over all of them

A module may import its own layer and the layers below it. Every import counts: at module
level, inside functions and in ``try`` blocks; only ``if TYPE_CHECKING:`` blocks are left out
(they never run, and they exist to name a type without depending on its module). Drawing and
widget libraries belong to their layers too: matplotlib, Graphviz and Pillow to the renderers,
ipywidgets and IPython to the widgets.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tcpbook"

LAYERS = ("core", "runtime", "models", "renderers", "widgets", "shell")

#: Every module's layer. A module not listed here fails the test: give it a layer. A package
#: entry (``tcpbook.render``) also covers its submodules unless one is listed on its own.
LAYER_OF: dict[str, str] = {
    # core: the state machine and the sans-IO endpoint
    "tcpbook.errors": "core",
    "tcpbook.native": "core",  # loads the compiled build of the core; imports none of tcpbook
    "tcpbook.states": "core",
    "tcpbook.endpoint": "core",
    "tcpbook.profiles": "core",
    # runtime: the event kernel, the host loop, the record of a run, the settings
    "tcpbook.kernel": "runtime",
    "tcpbook.host": "runtime",
    "tcpbook.trace": "runtime",
    "tcpbook.settings": "runtime",
    # models: what produces traces (the package's own `simulate` is the simulator's front door)
    "tcpbook": "models",
    "tcpbook.sim": "models",
    "tcpbook.scenarios": "models",
    "tcpbook.drive": "models",  # the Driver model and its coverage search
    "tcpbook.montecarlo": "models",  # sampling, statistics, analytic models
    "tcpbook.packetdrill": "models",
    "tcpbook.capture": "models",
    "tcpbook.export": "models",
    "tcpbook.realsockets": "models",
    # renderers
    "tcpbook.render": "renderers",
    "tcpbook.textladder": "renderers",
    "tcpbook.montecarlo.plots": "renderers",
    # widgets and the book's interactive helpers
    "tcpbook.widgets": "widgets",
    "tcpbook.display": "widgets",
    "tcpbook.exercises": "widgets",
    "tcpbook.drive.panel": "widgets",
    "tcpbook.montecarlo.panel": "widgets",
    # the shell
    "tcpbook.cli": "shell",
    "tcpbook.__main__": "shell",
    "tcpbook.bench": "shell",
}

#: A module split into a package by layer keeps a front door for the notebooks (``from
#: tcpbook.drive import Driver, drive``) that gathers its parts, the panel included: the
#: package's ``__init__`` sits as high as its highest part; its parts keep their own layers.
FACADES: dict[str, str] = {"tcpbook.drive": "widgets", "tcpbook.montecarlo": "widgets"}

#: Third-party libraries that belong to a layer (the rest: numpy, dpkt, ... are for anyone).
LIBRARY_LAYER = {
    "matplotlib": "renderers",
    "graphviz": "renderers",
    "PIL": "renderers",
    "ipywidgets": "widgets",
    "IPython": "widgets",
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def layer_of(module: str, packages: frozenset[str] = frozenset()) -> str | None:
    """The layer of ``module``: a package's front door, its own entry, else its nearest listed
    package (``packages`` names the modules that are packages)."""
    if module in FACADES and module in packages:
        return FACADES[module]
    if module in LAYER_OF:
        return LAYER_OF[module]
    parts = module.split(".")
    for cut in range(len(parts) - 1, 1, -1):  # never the bare "tcpbook": it is a module
        if ".".join(parts[:cut]) in LAYER_OF:
            return LAYER_OF[".".join(parts[:cut])]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (its ``else`` still runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """What ``module`` imports: tcpbook modules by name, other libraries by top-level name.

    ``from . import simulate`` names the package (``simulate`` is not a module); ``from
    .render import ladder`` names ``tcpbook.render`` and, as a module of that name exists,
    ``tcpbook.render.ladder`` too (both are the same layer when the map is right).
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:  # `from . import x` where x is a module
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
    named = set()
    for name in found:
        if name == "tcpbook" or name.startswith("tcpbook."):
            named.add(name)
        else:
            named.add(name.split(".")[0])
    return named - {module}


def violations(package: Path = PACKAGE) -> list[tuple[str, str, str, str]]:
    """(module, its layer, what it imports, that layer) for every upward import."""
    mods = modules(package)
    known = set(mods)
    packages = frozenset(m for m, p in mods.items() if p.name == "__init__.py")
    rank = {name: i for i, name in enumerate(LAYERS)}
    out = []
    for module, path in mods.items():
        mine = layer_of(module, packages)
        assert mine is not None, f"{module} has no layer: add it to LAYER_OF in {__file__}"
        for imported in sorted(imports_of(module, path, known)):
            if imported.startswith("tcpbook"):
                theirs = layer_of(imported, packages)
                assert theirs is not None, f"{module} imports {imported}, which has no layer"
            else:
                theirs = LIBRARY_LAYER.get(imported)
                if theirs is None:
                    continue
            if rank[theirs] > rank[mine]:
                out.append((module, mine, imported, theirs))
    return out


def test_every_module_has_a_layer() -> None:
    missing = [m for m in modules() if layer_of(m) is None]
    assert missing == [], f"give these a layer in LAYER_OF: {missing}"
    assert set(LAYER_OF.values()) <= set(LAYERS)
    assert set(LIBRARY_LAYER.values()) <= set(LAYERS)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{module} ({mine}) imports {imported} ({theirs})"
        for module, mine, imported, theirs in violations()
    ]
    assert upward == []


# --------------------------------------------------------------------------- the checker itself


def _check(tmp_path: Path, source: str, module: str = "tcpbook.states") -> set[str]:
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    return imports_of(module, path, set(modules()))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .render import draw_to_file\n", {"tcpbook.render"}),
        ("from .render import ladder\n", {"tcpbook.render", "tcpbook.render.ladder"}),
        ("def f():\n    from .widgets import explore\n", {"tcpbook.widgets"}),
        (
            "try:\n    import matplotlib.pyplot as plt\nexcept ImportError:\n    pass\n",
            {"matplotlib"},
        ),
        ("from . import simulate, trace\n", {"tcpbook", "tcpbook.trace"}),
        ("import tcpbook.render.ladder\n", {"tcpbook.render.ladder"}),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sim import X\n",
            {"typing"},
        ),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    from .sim import X\n", {"tcpbook.sim"}),
    ],
)
def test_imports_are_found_wherever_they_are(
    tmp_path: Path, source: str, expected: set[str]
) -> None:
    assert _check(tmp_path, source) == expected


def test_an_upward_import_is_a_violation(tmp_path: Path) -> None:
    fake = tmp_path / "tcpbook"
    (fake / "render").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "states.py").write_text("def f():\n    from .render.ladder import draw\n")
    (fake / "render" / "__init__.py").write_text("")
    (fake / "render" / "ladder.py").write_text("from ..states import f\nimport ipywidgets\n")
    assert violations(fake) == [
        ("tcpbook.render.ladder", "renderers", "ipywidgets", "widgets"),
        ("tcpbook.states", "core", "tcpbook.render.ladder", "renderers"),
    ]


def test_the_readme_draws_the_same_layers() -> None:
    """The README's layer picture and table say what this test enforces."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    assert (
        "states ← endpoint ← kernel/host/trace ← simulator, driver, packetdrill ← renderers"
        " ← widgets ← notebooks" in readme
    )
    rows = re.findall(
        r"^\| (core|runtime|models|renderers|widgets|shell) \| (.*?) \|", readme, re.M
    )
    assert [layer for layer, _ in rows] == list(LAYERS)
    for layer, cell in rows:
        for name in re.findall(r"`([a-z_0-9]+)(?:\.py|/)?`", cell):
            assert layer_of(f"tcpbook.{name}") == layer, (name, layer)


def test_a_split_package_front_door_sits_with_its_highest_part(tmp_path: Path) -> None:
    fake = tmp_path / "tcpbook"
    (fake / "drive").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "drive" / "__init__.py").write_text(
        "from .model import D\ndef drive():\n    from . import panel\n"
    )
    (fake / "drive" / "model.py").write_text("D = 1\n")
    (fake / "drive" / "panel.py").write_text("import ipywidgets\nfrom .model import D\n")
    (fake / "sim.py").write_text("from .drive.model import D\n")
    assert violations(fake) == []
    (fake / "sim.py").write_text("from .drive import D\n")  # through the front door: upward
    assert violations(fake) == [("tcpbook.sim", "models", "tcpbook.drive", "widgets")]
