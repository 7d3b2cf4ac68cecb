"""A throwaway PostgreSQL server for tests and benchmarks (never imported by the runtime).

    with PgServer() as pg:
        dsn = pg.create_database("t1")   # postgresql://jobscrape:<pw>@127.0.0.1:<port>/t1
        ...
        pg.restart()                     # same data dir, same port

initdb and postgres refuse to run as root, so when we are root they run as the Debian
`postgres` user (switched by subprocess, like `runuser -u postgres --`, so that the
die-with-parent signal can be set after the switch) and the temp dir is given to it.
The server listens on 127.0.0.1 (password auth, a known password) and on a unix socket in
the temp dir (trust, for the admin). It runs in its own process group and dies with the
process that started it; a later start removes temp dirs whose owner is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg

from jobscrape_dev.devcluster.processes import free_port, pid_alive, tail

PREFIX = "jobscrape-pg-"
USER = "jobscrape"
_PR_SET_PDEATHSIG = 1
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres
    ($JOBSCRAPE_PG_BIN wins when set)."""
    if env := os.environ.get("JOBSCRAPE_PG_BIN"):
        return Path(env)
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/postgres")
             if Path(p).with_name("initdb").exists()]
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
                           "(install the Debian package `postgresql`: hack/setup.sh)")
    return max(found, key=lambda p: _version(p.parent.name))


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", name)) or (0,)


def _die_with_parent() -> None:  # in the child, after the uid change (which would clear it)
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def remove_stale_dirs(parent: Path | None = None) -> list[Path]:
    """Remove temp dirs of servers whose owning process is gone (killing a left-over
    postmaster first); returns the removed paths."""
    removed = []
    for d in Path(parent or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = int((d / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if pid_alive(owner):
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            pm = int((d / "data" / "postmaster.pid").read_text().splitlines()[0])
            if pid_alive(pm):
                os.kill(pm, signal.SIGKILL)
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed


class PgServer:
    """One postgres process on a fresh data dir; a context manager that removes everything."""

    def __init__(self, password: str | None = None, durable: bool = False,
                 log_statements: bool = False, host: str = "127.0.0.1") -> None:
        self.host = host  # a local address (loopback, or a local node's: pods reach it there)
        self.password = password or "pw-" + secrets.token_hex(8)
        self.durable = durable  # fsync and full page writes on (benchmarks); off for tests
        self.log_statements = log_statements
        self.bin = find_bin_dir()
        self.port = 0
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0
        self._atexit_registered = False

    # --- paths and addresses ------------------------------------------------------------
    @property
    def data(self) -> Path:
        assert self.dir is not None, "not started"
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.dir is not None, "not started"
        return self.dir / "sock"

    @property
    def log_path(self) -> Path:
        assert self.dir is not None, "not started"
        return self.dir / "postgres.log"

    def dsn(self, dbname: str = "postgres", password: str | None = None) -> str:
        """A TCP DSN with the password in it."""
        return (f"postgresql://{USER}:{password or self.password}@{self.host}:{self.port}/"
                f"{dbname}")

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        """A unix-socket conninfo for the superuser (trust auth)."""
        return f"host={self.socket_dir} port={self.port} user={USER} dbname={dbname}"

    # --- life cycle ---------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> PgServer:
        """initdb on first start, then start postgres and wait until it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        if self.dir is None:
            remove_stale_dirs()
            self.dir = Path(tempfile.mkdtemp(prefix=PREFIX))
            (self.dir / "owner.pid").write_text(str(os.getpid()))
            self.socket_dir.mkdir()
            self.port = free_port()
            self._chown(self.dir)
            self._initdb()
            if not self._atexit_registered:
                atexit.register(self.close)
                self._atexit_registered = True
        listen = ",".join(dict.fromkeys(("127.0.0.1", self.host)))
        args = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.socket_dir), "-c", f"listen_addresses={listen}",
                "-c", "max_connections=200", "-c", "shared_buffers=64MB"]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off"]
        if self.log_statements:
            args += ["-c", "log_statement=all"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir,
                                         start_new_session=True, **self._user_kwargs())
        finally:
            log.close()
        self._wait_ready(timeout)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL; the data dir stays."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10.0),
                          (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(sig)
            try:
                p.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)  # any backend left in the group

    def restart(self, timeout: float = 60.0) -> None:
        """Stop and start again on the same data dir and port (existing connections break)."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop the server and remove its temp dir."""
        self.stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PgServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- databases ----------------------------------------------------------------------
    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its TCP DSN (with the password)."""
        name = name or "db_" + secrets.token_hex(6)
        if not _NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions."""
        if not _NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    # --- helpers ------------------------------------------------------------------------
    def _user_kwargs(self) -> dict[str, object]:
        if not self._as_postgres:
            return {"preexec_fn": _die_with_parent}
        pw = pwd.getpwnam("postgres")
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [],
                "preexec_fn": _die_with_parent,
                "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.dir),
                        "LANG": "C.UTF-8"}}

    def _chown(self, path: Path) -> None:
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)
            for p in path.rglob("*"):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def _initdb(self) -> None:
        assert self.dir is not None
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        out = subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.dir, timeout=120, check=False, **self._user_kwargs())  # type: ignore[call-overload]
        pwfile.unlink()
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed ({out.returncode}):\n"
                               f"{out.stdout.decode(errors='replace')[-3000:]}")
        if self.host != "127.0.0.1":  # pods connect from their own addresses, with the password
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write("host all all 0.0.0.0/0 scram-sha-256\n")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n"
                                   f"{tail(self.log_path)}")
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError as e:
                last = e
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"postgres not ready after {timeout:.0f}s ({last}):\n"
                           f"{tail(self.log_path)}")
