"""The Dockerfile passes hadolint and keeps the properties the manifests rely on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _hadolint() -> str:
    exe = Path(sys.executable).parent / "hadolint"
    return str(exe) if exe.exists() else (shutil.which("hadolint") or "hadolint")


def test_hadolint_is_clean():
    out = subprocess.run([_hadolint(), str(ROOT / "Dockerfile")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_image_runs_jobscrape_as_numeric_non_root():
    text = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["jobscrape"]' in text
    assert "USER 65532:65532" in text  # matches runAsUser in the manifests and builders
    assert "org.opencontainers.image.source" in text
    assert (ROOT / ".dockerignore").read_text().count(".venv") == 1


def test_image_installs_the_runtime_package_only():
    """The dev/test machinery (dev/, the jobscrape-dev distribution) never enters the image."""
    text = (ROOT / "Dockerfile").read_text()
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    sources = {s for c in copies for s in c if not s.startswith("--")}
    assert sources <= {"pyproject.toml", "README.md", "operator", "/dist/*.whl",
                       "requirements/build.txt", "requirements/runtime.txt"}, sources
    runs = " ".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "jobscrape-dev" not in runs and "jobscrape_dev" not in runs and "-e " not in runs
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"dev", "tests", "bench", "hack"} <= set(ignored)
