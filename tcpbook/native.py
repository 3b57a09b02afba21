"""The compiled core: the protocol and runtime modules, built to C with mypyc, used only when
they were built from exactly these sources.

The Python source stays the one definition of the model; mypyc (mypy's compiler) turns the
type-annotated modules in :data:`COMPILED` into C extensions that behave the same and run
about three times as fast. ``make setup`` builds them into ``tcpbook/_native/`` (``tcpbook
native build``) next to a manifest of the sources' hashes. On import, :func:`activate` puts
that folder first on ``tcpbook.__path__`` only when

- the manifest's interpreter matches this one (its extension suffix),
- every compiled module's source still hashes the same (an edited module makes the whole
  build stale: the package runs as pure Python until the next ``make setup``), and
- ``TCPBOOK_PURE`` is not set (``TCPBOOK_PURE=1`` forces pure Python, as the tests do to
  check both builds against the same golden runs).

With no compiler, in the web edition (Pyodide) or with a stale build, everything runs from the
sources. :data:`STATUS` says which it is (``make bench`` prints it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

#: The modules compiled: the protocol core and the runtime every run goes through.
COMPILED = (
    "errors",
    "states",
    "profiles",
    "endpoint",
    "kernel",
    "trace",
    "host",
    "sim",
)

PACKAGE = Path(__file__).resolve().parent
NATIVE = PACKAGE / "_native"
MANIFEST = "manifest.json"
GROUP = "tcpbook__mypyc"  # mypyc's shared runtime library for the group, a top-level module
ENV_PURE = "TCPBOOK_PURE"

#: What this process runs: "compiled (mypyc)" or "pure Python (<why>)".
STATUS = "pure Python (not activated)"


def _ext_suffix() -> str:
    return str(sysconfig.get_config_var("EXT_SUFFIX") or "")


def source_hashes(package: Path = PACKAGE) -> dict[str, str]:
    """SHA-256 of each compiled module's source, as the manifest records them."""
    return {
        name: hashlib.sha256((package / f"{name}.py").read_bytes()).hexdigest() for name in COMPILED
    }


def check(native: Path = NATIVE, package: Path = PACKAGE, *, env: bool = True) -> str | None:
    """Why the build in ``native`` cannot be used for the sources in ``package`` (None: it can).

    ``env=False`` leaves ``TCPBOOK_PURE`` out: is the build itself current?
    """
    if env and os.environ.get(ENV_PURE):
        return f"{ENV_PURE} is set"
    try:
        manifest = json.loads((native / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "not built: run make setup"
    if manifest.get("ext_suffix") != _ext_suffix():
        return "built for another interpreter: run make setup"
    try:
        now = source_hashes(package)
    except OSError:
        return "sources not found"
    changed = [name for name in COMPILED if manifest.get("sources", {}).get(name) != now[name]]
    if changed:
        return f"stale, {', '.join(changed)} changed since the build: run make setup"
    files = [native / f"{GROUP}{_ext_suffix()}"]
    files += [native / "tcpbook" / f"{name}{_ext_suffix()}" for name in COMPILED]
    if not all(f.is_file() for f in files):
        return "build incomplete: run make setup"
    return None


def activate(path: list[str]) -> str:
    """Put the compiled modules first on ``path`` (the package's ``__path__``) when usable.

    Must run before any compiled module is imported. Returns and records :data:`STATUS`.
    """
    global STATUS
    reason = check()
    if reason is None:
        spec = importlib.util.spec_from_file_location(GROUP, NATIVE / f"{GROUP}{_ext_suffix()}")
        if spec is None or spec.loader is None:  # pragma: no cover - the file was checked
            reason = "build unreadable"
        else:
            module = importlib.util.module_from_spec(spec)
            sys.modules[GROUP] = module
            spec.loader.exec_module(module)
            path.insert(0, str(NATIVE / "tcpbook"))
    STATUS = "compiled (mypyc)" if reason is None else f"pure Python ({reason})"
    return STATUS


_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
paths = sys.argv[1].split(",")
sys.argv[1:2] = []
setup(name="tcpbook-native", ext_modules=mypycify(paths, group_name="tcpbook",
      target_dir=sys.argv.pop(1)), script_args=sys.argv[1:])
"""


def build(*, quiet: bool = True) -> Path:
    """Compile :data:`COMPILED` with mypyc into ``tcpbook/_native`` and write the manifest.

    Needs mypy (mypyc comes with it), setuptools and a C compiler. The old build is removed
    first, so a failed build leaves pure Python, never a mix.
    """
    root = PACKAGE.parent
    shutil.rmtree(NATIVE, ignore_errors=True)
    hashes = source_hashes()
    with tempfile.TemporaryDirectory(prefix="tcpbook-native-") as tmp:
        out = Path(tmp) / "lib"
        paths = ",".join(f"{PACKAGE.name}/{name}.py" for name in COMPILED)
        command = [sys.executable, "-c", _SETUP, paths, str(Path(tmp) / "c")]
        command += ["build_ext", "--build-lib", str(out), "--build-temp", str(Path(tmp) / "o")]
        command += ["--parallel", str(os.cpu_count() or 1)]
        done = subprocess.run(command, cwd=root, capture_output=quiet, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] if quiet else []
            raise RuntimeError(f"mypyc build failed{': ' + detail[0] if detail else ''}")
        staging = Path(tmp) / "_native"
        shutil.copytree(out, staging)
        manifest = {"ext_suffix": _ext_suffix(), "sources": hashes}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        shutil.move(str(staging), NATIVE)
    if source_hashes() != hashes:
        shutil.rmtree(NATIVE, ignore_errors=True)
        raise RuntimeError("the sources changed during the build; run it again")
    return NATIVE


def main(argv: list[str] | None = None) -> int:
    """``tcpbook native [build|update|clean|status]``; ``update`` builds only when the build is
    missing or stale, and never fails (the package then runs as pure Python)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "status"
    if command == "update":
        if check(env=False) is None:
            return 0
        main(["build"])
        return 0
    if command == "build":
        try:
            build(quiet="-v" not in args)
        except (RuntimeError, OSError, ImportError) as exc:
            print(f"tcpbook: compiled core not built ({exc}); running as pure Python")
            return 1
        print("tcpbook: compiled core built")
        return 0
    if command == "clean":
        shutil.rmtree(NATIVE, ignore_errors=True)
        return 0
    if command == "status":
        reason = check()
        print("compiled (mypyc)" if reason is None else f"pure Python ({reason})")
        return 0
    print(f"tcpbook native: unknown command {command!r}; choose from: build, update, clean, status")
    return 2
