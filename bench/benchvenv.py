"""Virtualenvs of the benchmarks' own (the peer, the sanitisers compared with nh3): made on first
use beside the scripts, never project dependencies. Standard library only: the scripts import
this before their venv exists, and again inside it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def ensure_venv(venv: Path, packages: tuple[str, ...], probe: str) -> tuple[Path, str]:
    """The python of `venv`, where the Python statement `probe` runs, and whether the venv was
    "present" or "installed now" (made, and `packages` pip-installed). RuntimeError saying why
    when it cannot be made so."""
    py = venv / "bin" / "python"
    check = [str(py), "-c", probe]
    if py.exists() and subprocess.run(check, capture_output=True, timeout=120).returncode == 0:
        return py, "present"
    try:
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                           capture_output=True, timeout=300)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *packages], check=True,
                       capture_output=True, text=True, timeout=900)
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"installing {' '.join(packages)} failed: "
                           f"{(e.stderr or '')[-400:]}") from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"installing {' '.join(packages)} timed out") from None
    got = subprocess.run(check, capture_output=True, text=True, timeout=120)
    if got.returncode != 0:
        raise RuntimeError(f"{probe!r} fails in {venv}: {got.stderr.strip()[-400:]}")
    return py, "installed now"
