"""The real Google Pub/Sub emulator (google-cloud-cli-pubsub-emulator, a Java program) as a
test fixture: started on 127.0.0.1 on a free port, with helpers to create topics and ordered
subscriptions and to pull what arrived.

    with PubSubEmulator() as emu:
        emu.create_topic("projects/p/topics/t")
        emu.create_subscription("projects/p/topics/t", "projects/p/subscriptions/s")
        os.environ["PUBSUB_EMULATOR_HOST"] = emu.host   # what google-cloud-pubsub reads
        ...
        messages = emu.pull("projects/p/subscriptions/s", count=10)

    python -m jobscrape_dev.pubsubemu    # prints PUBSUB_EMULATOR_HOST=127.0.0.1:N, runs until ^C

The emulator keeps everything in memory: its only flags are --host, --port and the IAM ones
(`--help`; gcloud passes only --host/--port too), so the temp dir holds just its log. Measured
on the 2-CPU development machine: it answers 1.2-2.0 s after start with ~120-135 MB RSS; with
JVM_OPTS below it grows to ~570 MB after 10,000 messages (1.1-1.5 GB with the JVM's defaults).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from jobscrape_dev.devcluster import processes

if TYPE_CHECKING:
    from google.pubsub_v1 import PublisherClient, ReceivedMessage, SubscriberClient

EMULATOR = Path("/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator")
#: Admin calls (create, pull) give up after this many seconds.
RPC_TIMEOUT = 10.0
#: A bounded heap, and a JVM that spends less CPU on itself (no C2 compiler, serial GC): a test
#: emulator is short-lived and shares a small machine with the tests.
JVM_OPTS = "-Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"


class EmulatorError(RuntimeError):
    """The emulator did not start, or died."""


class PubSubEmulator:
    """One emulator process; `start` returns once it answers gRPC, `stop` ends it (process
    group: TERM, KILL after a bound) and removes its temp dir. Also a context manager."""

    def __init__(self, binary: Path = EMULATOR, startup_timeout: float = 60.0,
                 jvm_opts: str = JVM_OPTS, bind: str = "127.0.0.1") -> None:
        self.binary = binary
        self.bind = bind  # a local address (loopback, or a local node's: pods reach it there)
        self.startup_timeout = startup_timeout
        self.jvm_opts = jvm_opts
        self.port = 0
        self.workdir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0
        self._publisher: PublisherClient | None = None
        self._subscriber: SubscriberClient | None = None

    @property
    def host(self) -> str:
        """host:port, the value for PUBSUB_EMULATOR_HOST."""
        return f"{self.bind}:{self.port}"

    @property
    def log(self) -> Path:
        """The emulator's stdout and stderr."""
        assert self.workdir is not None
        return self.workdir / "emulator.log"

    def start(self) -> PubSubEmulator:
        """Start the emulator and wait (at most startup_timeout) until it answers."""
        if not self.binary.exists():
            raise EmulatorError(f"{self.binary} not found (google-cloud-cli-pubsub-emulator)")
        self.workdir = Path(tempfile.mkdtemp(prefix="pubsubemu-"))
        self.port = processes.free_port()
        env = {k: v for k, v in os.environ.items() if k != "PUBSUB_EMULATOR_HOST"}
        env["CLOUD_PUBSUB_EMULATOR_OPTS"] = self.jvm_opts  # read by the emulator's sh script
        t0 = time.monotonic()
        self.proc = processes.spawn(
            [str(self.binary), f"--host={self.bind}", f"--port={self.port}"], self.log,
            env=env, cwd=self.workdir)
        try:
            self._wait_ready(t0 + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _wait_ready(self, deadline: float) -> None:
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmulatorError(f"emulator exited with {self.proc.returncode}:\n"
                                    f"{processes.tail(self.log)}")
            if self._port_open() and self._answers():
                return
            time.sleep(0.1)
        raise EmulatorError(f"emulator did not answer within {self.startup_timeout}s:\n"
                            f"{processes.tail(self.log)}")

    def _port_open(self) -> bool:
        try:
            with socket.create_connection((self.bind, self.port), timeout=1):
                return True
        except OSError:
            return False

    def _answers(self) -> bool:
        from google.api_core import exceptions

        try:
            self.publisher.list_topics(project="projects/ready", timeout=2)
            return True
        except exceptions.GoogleAPICallError:
            return False

    def stop(self, grace: float = 10.0) -> None:
        """Stop the process group (SIGTERM, SIGKILL after `grace` s), close the admin clients
        and remove the temp dir. Safe to call twice."""
        for client in (self._publisher, self._subscriber):
            if client is not None:
                client.transport.close()
        self._publisher = self._subscriber = None
        if self.proc is not None:
            processes.stop(self.proc, grace=grace)
            self.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def rss_bytes(self) -> int:
        """Resident memory of the emulator's process group (the JVM under its sh script)."""
        assert self.proc is not None
        total = 0
        for status in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = status.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # field 5: process group id
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss pages
        return total

    # ------------------------------------------------------------------------------ admin API
    @property
    def publisher(self) -> PublisherClient:
        """A plain (unbatched) admin client talking to this emulator over plain gRPC."""
        if self._publisher is None:
            import grpc
            from google.pubsub_v1 import PublisherClient
            from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

            self._publisher = PublisherClient(transport=PublisherGrpcTransport(
                channel=grpc.insecure_channel(self.host)))
        return self._publisher

    @property
    def subscriber(self) -> SubscriberClient:
        """A plain subscriber client talking to this emulator over plain gRPC."""
        if self._subscriber is None:
            import grpc
            from google.pubsub_v1 import SubscriberClient
            from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

            self._subscriber = SubscriberClient(transport=SubscriberGrpcTransport(
                channel=grpc.insecure_channel(self.host)))
        return self._subscriber

    def create_topic(self, topic: str) -> None:
        """Create `topic` (projects/<p>/topics/<t>)."""
        self.publisher.create_topic(name=topic, timeout=RPC_TIMEOUT)

    def create_subscription(self, topic: str, subscription: str) -> None:
        """Create a pull subscription on `topic` with message ordering enabled."""
        self.subscriber.create_subscription(
            request={"name": subscription, "topic": topic, "enable_message_ordering": True,
                     "ack_deadline_seconds": 60},
            timeout=RPC_TIMEOUT)

    def pull(self, subscription: str, count: int, timeout: float = 30.0,
             quiet: float = 1.0) -> list[ReceivedMessage]:
        """Pull and acknowledge messages until `count` arrived, nothing new came for `quiet`
        seconds after that many, or `timeout` passed; returns them in arrival order (which, per
        ordering key, is publish order). More than `count` are returned if more arrive."""
        from google.api_core import exceptions

        out: list[ReceivedMessage] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < deadline:
            if len(out) >= count and time.monotonic() - last >= quiet:
                break
            wait = max(0.1, min(1.0, deadline - time.monotonic()))
            try:
                resp = self.subscriber.pull(subscription=subscription, max_messages=1000,
                                            timeout=wait)
            except exceptions.DeadlineExceeded:
                continue
            if resp.received_messages:
                out.extend(resp.received_messages)
                last = time.monotonic()
                self.subscriber.acknowledge(
                    subscription=subscription,
                    ack_ids=[m.ack_id for m in resp.received_messages], timeout=RPC_TIMEOUT)
        return out

    def __enter__(self) -> PubSubEmulator:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main() -> None:
    """Run an emulator until interrupted, printing its host and startup figures."""
    with PubSubEmulator() as emu:
        print(f"PUBSUB_EMULATOR_HOST={emu.host}", flush=True)
        print(f"# started in {emu.startup_seconds:.1f}s, RSS {emu.rss_bytes() >> 20} MiB; "
              f"log {emu.log}; ^C to stop", flush=True)
        stop = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        signal.sigwait(stop)


if __name__ == "__main__":
    main()
