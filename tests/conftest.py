"""Shared fixtures: a session-wide real control plane with the pod executor, and a fresh
namespace per test. The control plane starts only when a test asks for it."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.executor import start_executor

FIXTURES = Path(__file__).parent / "fixtures"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (a CI timeout, `kill`) interrupts like Ctrl-C, so fixtures still tear down the
    control plane and its temp dir."""
    signal.signal(signal.SIGTERM, _interrupt)


@dataclass
class Cluster:
    """The running control plane, its admin API client and the executor's folders."""

    cp: ControlPlane
    api: client.ApiClient
    executor_state: Path

    @property
    def kubeconfig(self) -> Path:
        return self.cp.kubeconfig

    def pod_log(self, namespace: str, name: str) -> str:
        """What a pod run by the executor printed."""
        p = self.executor_state / "logs" / f"{namespace}_{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    cp = ControlPlane(audit=True).start()
    try:
        state = cp.workdir / "executor"
        state.mkdir()
        cp.add_process("executor", start_executor(cp.kubeconfig, state,
                                                  cp.workdir / "logs" / "executor.log"))
        api = config.new_client_from_config(config_file=str(cp.kubeconfig))
        yield Cluster(cp=cp, api=api, executor_state=state)
        api.close()
    finally:
        cp.stop()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace, deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name, propagation_policy="Background")


__all__ = ["FIXTURES", "Cluster", "processes"]
