"""jobscrape-dev: the test and development machinery of jobscrape, kept out of the runtime
package and its image. Installed (editable) only into the development virtual environment by
hack/setup.sh: the local control plane and pod executor, the local board server, the README
reference generator and the `selftest` command the harness tests run in pods."""

from __future__ import annotations

from pathlib import Path

#: The checkout this package is installed from (editable): dev/jobscrape_dev/__init__.py
#: -> dev/jobscrape_dev -> dev -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]
