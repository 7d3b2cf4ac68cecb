"""The runtime wheel (what the image installs) holds the product alone: no local control plane,
pod executor, board server, README generator, selftest command or tests, and none of their
dependencies."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = ("jobscrape/devcluster/", "jobscrape/devtools/", "jobscrape/api/reference.py",
            "selftest", "jobscrape_dev", "boardserver", "tests/", "conftest")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("jobscrape-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def test_wheel_lists_no_dev_or_test_modules(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    modules = [n for n in names if n.endswith(".py")]
    assert "jobscrape/cli.py" in modules and "jobscrape/runner/main.py" in modules
    assert "jobscrape/controller/metrics.py" in modules and "jobscrape/api/vocabulary.py" in modules
    leaked = [n for n in names if any(bad in n for bad in DEV_ONLY)]
    assert leaked == [], f"dev/test files in the runtime wheel: {leaked}"
    assert all(n.startswith(("jobscrape/", "jobscrape-")) for n in names), names
    assert not [n for n in names if n.endswith((".pyc", ".db"))]
    cli = wheel.read("jobscrape/cli.py").decode()
    assert "selftest" not in cli


def test_wheel_needs_no_dev_dependencies(wheel: zipfile.ZipFile) -> None:
    (meta_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(wheel.read(meta_name).decode())
    runtime = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    names = {r.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower()
             for r in runtime}
    assert "kopf" in names
    assert not names & {"cryptography", "aiohttp", "pytest", "jobscrape-dev"}, runtime
    assert "devcluster" not in (meta.get_all("Provides-Extra") or [])
