"""Shared fixtures: a session-wide real control plane whose pods a real node runs (kubelet,
containerd, runc, the project's image), and a fresh namespace per test. The control plane
starts only when a test asks for it."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.localcluster import POD_RUNNER, Cluster, start_cluster

FIXTURES = Path(__file__).parent / "fixtures"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (a CI timeout, `kill`) interrupts like Ctrl-C, so fixtures still tear down the
    control plane and its temp dir."""
    signal.signal(signal.SIGTERM, _interrupt)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """The demo's test and the real node's own tests run first: they start and stop this
    machine's one node themselves, before the session's cluster takes it for the rest of the
    run."""
    first = {"test_demo.py": 0, "test_node.py": 1}
    items.sort(key=lambda item: first.get(item.path.name, 2))  # stable: the rest as collected


def pytest_report_header(config: pytest.Config) -> str:
    """Say which pod runner the cluster tests use."""
    return ("pods of the cluster tests: a real node (kubelet + containerd + runc)"
            if POD_RUNNER == "node" else
            "pods of the cluster tests: the FAKE pod executor (JOBSCRAPE_POD_RUNNER=fake)")


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    c, stop = start_cluster()
    try:
        yield c
    finally:
        stop()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace, deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name, propagation_policy="Background")


__all__ = ["FIXTURES", "Cluster", "processes"]
