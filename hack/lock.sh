#!/usr/bin/env bash
# Regenerates the hashed lock files from pyproject.toml (the one command to update them):
#   requirements/runtime.txt  [project] dependencies: what the image installs
#   requirements/test.txt     runtime + the [test] extra + jobscrape-dev's dependencies
#                             and the editable build's (requirements/test.in), same versions
#                             as runtime.txt
#   requirements/build.txt    the build backend (hatchling) the image's build stage uses
# Existing pins are kept where they still satisfy pyproject.toml; extra arguments go to every
# pip-compile call, e.g. `bash hack/lock.sh --upgrade` or `bash hack/lock.sh -P httpx`.
# pip-compile runs with the oldest Python the image may have, Debian bookworm's 3.11.2
# (/usr/bin/python3; LOCK_PYTHON overrides): a lock resolved on a newer 3.11 (.venv's may be
# 3.11.7) can pin releases that require Python >= 3.11.5 and fail in the image. It runs from
# its own venv under the project cache, with pip-tools pinned, made when missing.
# Then run `bash hack/setup.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_TOOLS_VERSION=7.6.2
LOCK_PYTHON="${LOCK_PYTHON:-/usr/bin/python3}"
"$LOCK_PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "hack/lock.sh needs Python 3.11 as LOCK_PYTHON ($LOCK_PYTHON)" >&2; exit 1; }
pyver=$("$LOCK_PYTHON" -c 'import platform; print(platform.python_version())')
CACHE="${JOBSCRAPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobscrape}"
TOOLS="$CACHE/lock-venv/py$pyver-pip-tools$PIP_TOOLS_VERSION"
PY="$TOOLS/bin/python"
if [ ! -x "$TOOLS/bin/pip-compile" ]; then
  echo "making $TOOLS" >&2
  rm -rf "$TOOLS"
  "$LOCK_PYTHON" -m venv "$TOOLS" \
    || { echo "no venv module: apt-get install python3-venv" >&2; exit 1; }
  "$PY" -m pip install -q "pip-tools==$PIP_TOOLS_VERSION" >&2
fi

# the files name the command that made them; no machine-specific --find-links / index URL
export CUSTOM_COMPILE_COMMAND="bash hack/lock.sh"
unset PIP_FIND_LINKS
compile=("$PY" -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras
         --no-emit-find-links --no-emit-index-url --no-emit-trusted-host)

"${compile[@]}" "$@" -o requirements/runtime.txt pyproject.toml
"${compile[@]}" "$@" -o requirements/test.txt -c requirements/runtime.txt --extra test \
  pyproject.toml requirements/test.in
"${compile[@]}" "$@" -o requirements/build.txt -c requirements/test.txt \
  --only-build-deps --build-deps-for wheel pyproject.toml
echo "requirements/{runtime,test,build}.txt written" >&2
