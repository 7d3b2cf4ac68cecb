"""The image users deploy: built from the Dockerfile by hack/build-image.sh (cached: seconds when
nothing changed) and run with podman the way the manifests run it (no network, read-only root
file system with a /tmp tmpfs, no capabilities, no-new-privileges, memory and pids limits).
It holds the locked runtime set and the project, nothing of the tests or the dev machinery."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1800  # a first build makes the base image too (a few minutes)
RUN_TIMEOUT = 180
LABEL = "jobscrape-test=image"
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 600)

# importlib.metadata of the interpreter: (name, version, where) of every distribution
LIST_DISTS = (
    "import importlib.metadata as m, json\n"
    "print(json.dumps(sorted({(d.metadata['Name'], d.version, str(d.locate_file('')))"
    " for d in m.distributions()})))"
)


def _version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _locked(path: Path) -> dict[str, str]:
    """name -> version of the pins of a pip-compile lock file."""
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, version = line.split()[0].partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def _script(name: str, *args: str, timeout: float = RUN_TIMEOUT) -> str:
    """Runs hack/<name> and returns the last line it printed on stdout."""
    proc = subprocess.run(["bash", str(ROOT / "hack" / name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"hack/{name} {' '.join(args)} failed:\n{proc.stderr[-4000:]}"
    return proc.stdout.strip().splitlines()[-1]


def _podman(*args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """podman on the project's storage (hack/podman.sh)."""
    return subprocess.run(["bash", str(ROOT / "hack/podman.sh"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _mounts() -> list[str]:
    return subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True,
                          check=True).stdout.split()


def _storage_layer(work: Path, container_id: str) -> str:
    """The storage layer (its overlay mount) of a created container."""
    store = json.loads((work / "storage/overlay-containers/containers.json").read_text())
    (layer,) = [c["layer"] for c in store if c["id"] == container_id]
    return layer


@pytest.fixture(scope="module")
def archive() -> Path:
    """The image's OCI archive (built if needed); its folder holds the project's storage."""
    missing = [t for t in ("buildah", "podman", "runc", "mmdebstrap", "findmnt", "unshare")
               if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run hack/setup.sh (it installs them and "
                    "builds the image)")
    return Path(_script("build-image.sh", "--print-archive", timeout=BUILD_TIMEOUT))


@pytest.fixture(scope="module")
def image(archive: Path) -> str:
    """The image of that archive (one build: the sources may change while the tests run)."""
    tag = archive.name.removeprefix("jobscrape-").removesuffix(".oci.tar")
    ref = f"localhost/jobscrape:{tag}"
    assert _podman("image", "exists", ref).returncode == 0, ref
    return ref


@pytest.fixture(scope="module")
def base(archive: Path) -> str:
    return _script("build-image.sh", "--print-base", timeout=BUILD_TIMEOUT)


@pytest.fixture(scope="module")
def run(archive: Path) -> Iterator:
    """run(image, *args, entrypoint=None, extra=()) -> the finished container's process; each
    container is removed and nothing of it stays mounted."""
    work = archive.parent

    def _run(image: str, *args: str, entrypoint: str | None = None,
             extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        name = f"jobscrape-test-{uuid.uuid4().hex[:10]}"
        cmd = ["create", "--name", name, "--label", LABEL, "--pull", "never",
               "--network", "none", "--read-only", "--read-only-tmpfs=false",
               "--tmpfs", "/tmp:rw,size=64m,mode=1777", "--cap-drop", "ALL",
               "--security-opt", "no-new-privileges", "--pids-limit", "256",
               "--memory", "512m", "--memory-swap", "512m", *extra]
        if entrypoint:
            cmd += ["--entrypoint", entrypoint]
        created = _podman(*cmd, image, *args)
        assert created.returncode == 0, created.stderr
        container_id = created.stdout.split()[-1]
        layer = _storage_layer(work, container_id)
        try:
            return _podman("start", "--attach", name)
        finally:
            _podman("rm", "--force", "--ignore", name)
            left = [m for m in _mounts() if container_id in m or layer in m]
            assert left == [], f"{name} left mounts behind: {left}"

    yield _run
    left = _podman("ps", "--all", "--filter", f"label={LABEL}", "--format", "{{.Names}}")
    for name in left.stdout.split():
        _podman("rm", "--force", "--ignore", name)
    assert left.stdout.split() == [], f"containers left behind: {left.stdout}"


def test_the_build_is_cached_and_prints_the_image_last(archive: Path, image: str) -> None:
    """A second run with nothing changed reuses the image and its OCI archive."""
    assert archive.is_file() and archive.stat().st_size > 10_000_000
    again = _script("build-image.sh", timeout=BUILD_TIMEOUT)
    assert again.startswith("localhost/jobscrape:")
    if again == image:  # else the sources changed meanwhile (someone is editing them)
        assert (archive.parent / "jobscrape-latest.oci.tar").resolve() == archive.resolve()


def test_version_is_the_projects(run, image: str) -> None:
    proc = run(image, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"jobscrape {_version()}"
    labels = json.loads(_podman("image", "inspect", "--format", "{{json .Labels}}",
                                image).stdout)
    assert labels["org.opencontainers.image.version"] == _version()


def test_runs_as_numeric_non_root_without_privileges(run, image: str) -> None:
    user = _podman("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    assert user == "65532:65532"
    proc = run(image, "-c", "import os; print(os.getuid(), os.geteuid(), os.getgid());"
               "print(open('/proc/self/status').read())", entrypoint="python3")
    assert proc.returncode == 0, proc.stderr
    ids, *status = proc.stdout.splitlines()
    assert ids == "65532 65532 65532"
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    assert int(fields["CapEff"].strip(), 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"


def test_the_root_file_system_is_read_only(run, image: str) -> None:
    probe = (
        "import errno, sys\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        open(path, 'w').write('x'); print(path, 'written')\n"
        "    except OSError as e:\n"
        "        print(path, errno.errorcode[e.errno])\n"
    )
    paths = ["/tmp/ok", "/var/lib/jobscrape/x", "/etc/x", "/usr/local/lib/x", "/x"]
    for user in ("65532:65532", "0:0"):  # read-only for root too: not a matter of permissions
        proc = run(image, "-c", probe, *paths, entrypoint="python3", extra=("--user", user))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[:len(paths)] == [
            "/tmp/ok written", *(f"{p} EROFS" for p in paths[1:])], (user, proc.stdout)


def test_installs_exactly_the_locked_runtime_set(run, image: str, base: str) -> None:
    """What the image adds to its base is requirements/runtime.txt plus jobscrape: no test tool,
    no dev machinery, no dependency of theirs."""
    dists = {}
    for ref in (base, image):
        proc = run(ref, "-c", LIST_DISTS, entrypoint="python3")
        assert proc.returncode == 0, proc.stderr
        dists[ref] = {tuple(d) for d in json.loads(proc.stdout)}
    added = {canonicalize_name(n): v for n, v, _ in dists[image] - dists[base]}
    assert len(added) == len(dists[image] - dists[base]), "a distribution installed twice"
    expected = _locked(ROOT / "requirements/runtime.txt") | {"jobscrape": _version()}
    assert added == expected, {
        "not locked": sorted(set(added.items()) - set(expected.items())),
        "missing": sorted(set(expected.items()) - set(added.items()))}
    base_names = {canonicalize_name(n) for n, _, _ in dists[base]}
    assert not base_names & {"pytest", "ruff", "hypothesis", "jobscrape-dev", "hatchling"}
    proc = run(image, "-c", "import importlib.util as u; print([m for m in ('jobscrape_dev',"
               " 'pytest', 'tests', 'conftest', 'hatchling') if u.find_spec(m)])",
               entrypoint="python3")
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    check = run(image, "-m", "pip", "check", entrypoint="python3")
    assert check.returncode == 0, check.stdout + check.stderr


def test_run_help_works(run, image: str) -> None:
    proc = run(image, "run", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--namespace" in proc.stdout and "--store" in proc.stdout


def test_memory_limit_kills_with_137(run, image: str) -> None:
    proc = run(image, "-c", "x = b'x' * (512 * 2**20); print('survived')", entrypoint="python3",
               extra=("--memory", "64m", "--memory-swap", "64m"))
    assert proc.returncode == 137, (proc.returncode, proc.stdout, proc.stderr)
    assert "survived" not in proc.stdout
