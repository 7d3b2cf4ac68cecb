"""Starting and stopping the control plane leaves no process and no temp dir behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.controlplane import ControlPlane

from waiting import wait_for

pytestmark = pytest.mark.cluster


def test_stop_leaves_nothing_behind():
    cp = ControlPlane().start()
    pids, workdir = cp.pids, cp.workdir
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}
    assert all(processes.pid_alive(p) for p in pids.values())
    cp.stop()
    assert not any(processes.pid_alive(p) for p in pids.values())
    assert not workdir.exists()


def test_killed_owner_takes_its_children_along(tmp_path: Path):
    """SIGKILL of the owning process (a crashed or interrupted test run) kills the children."""
    script = textwrap.dedent("""
        import json, sys, time
        from jobscrape_dev.devcluster.controlplane import ControlPlane
        cp = ControlPlane().start()
        print(json.dumps({"pids": cp.pids, "workdir": str(cp.workdir)}), flush=True)
        time.sleep(600)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env=os.environ.copy())
    try:
        info = json.loads(owner.stdout.readline())
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    pids = info["pids"].values()
    wait_for(lambda: not any(processes.pid_alive(p) for p in pids), timeout=30,
             what="the children to die with their owner")
    # the next control plane cleans the dead owner's work dir
    with ControlPlane():
        assert not Path(info["workdir"]).exists()
