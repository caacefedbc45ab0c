#!/usr/bin/env python3
"""Bootstrap and run healops from a fresh clone with nothing but python3.

    python3 dev.py demo       # the main job: the live lab (real services break and heal)
    python3 dev.py test       # the test suite (lint, types, tests)
    python3 dev.py sim        # the simulated estate and its scoreboard against a no-automation baseline
    python3 dev.py healops …  # any healops command inside the project's virtual environment

It creates ``.venv`` on first use and installs the locked dependencies into it; later runs
reuse it and reinstall only when ``requirements.lock`` or ``pyproject.toml`` changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".healops-installed"


def _digest() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def bootstrap() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"healops needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _digest():
        return
    print("dev.py: installing locked dependencies into .venv (first run only)", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-c", "requirements.lock", "-e", ".[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(_digest())


# What the live lab uses when it is there: the Debian package that brings each binary.
LAB_PACKAGES = {"haproxy": "haproxy", "prometheus": "prometheus",
                "prometheus-alertmanager": "prometheus-alertmanager"}


def _installed(binary: str) -> bool:
    return any(Path(d, binary).exists() for d in
               [*os.environ.get("PATH", "").split(os.pathsep), "/usr/sbin", "/usr/bin"])


def install_lab_packages() -> None:
    """Install HAProxy, Prometheus and Alertmanager with apt-get when this user can; the
    demo runs without them otherwise and says what it left out."""
    missing = [pkg for binary, pkg in LAB_PACKAGES.items() if not _installed(binary)]
    if not missing:
        return
    apt = next((p for p in ("/usr/bin/apt-get", "/bin/apt-get") if Path(p).exists()), None)
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"dev.py: the demo runs without {', '.join(missing)}; to add them, run "
              f"`sudo apt-get install {' '.join(missing)}` (or your system's equivalent)",
              flush=True)
        return
    print(f"dev.py: installing {', '.join(missing)} with apt-get (first run only)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    ok = subprocess.call([apt, "update", "-qq"], env=env) == 0 and subprocess.call(
        [apt, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env) == 0
    if not ok:
        print("dev.py: apt-get failed; the demo runs with what is there", flush=True)


def run(cmd: list[str]) -> int:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "help"
    rest = argv[1:]
    if what in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    bootstrap()
    if what == "demo":
        install_lab_packages()
        return run([str(BIN / "healops"), "demo", *rest])
    if what == "sim":
        return run([str(BIN / "healops"), "lab", "sim", "--scenario", "standard", *rest])
    if what == "test":
        for step in (
            [str(BIN / "ruff"), "check", "src", "tests"],
            [str(BIN / "mypy")],
            [str(PY), "-m", "pytest", *rest],
        ):
            print("dev.py: $", " ".join(Path(step[0]).name if i == 0 else s
                                         for i, s in enumerate(step)), flush=True)
            code = run(step)
            if code != 0:
                return code
        return 0
    if what == "healops":
        return run([str(BIN / "healops"), *rest])
    print(f"dev.py: unknown command {what!r}; try 'demo', 'test', 'sim' or 'healops …'",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
