"""The project's image for the local cluster: built (or found in its cache) by
hack/build-image.sh, which prints the reference or the OCI archive as its last line."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from jobscrape_dev import REPO_ROOT

BUILD_SCRIPT = REPO_ROOT / "hack" / "build-image.sh"


def _last_line(*args: str) -> str:
    out = subprocess.run(["bash", str(BUILD_SCRIPT), *args], capture_output=True, text=True,
                         timeout=900, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"hack/build-image.sh failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


@functools.cache
def project_image() -> tuple[str, Path]:
    """The image's reference (localhost/jobscrape:<hash>) and its OCI archive; built when
    the sources changed since the last build (seconds), found in the cache otherwise."""
    return _last_line(), Path(_last_line("--print-archive"))
