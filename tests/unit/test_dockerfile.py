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
