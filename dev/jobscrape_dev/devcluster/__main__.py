"""`python -m jobscrape_dev.devcluster`: run the local control plane and pod executor until
Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.executor import start_executor


def main(argv: list[str] | None = None) -> int:
    """Start everything, write the admin kubeconfig path to --kubeconfig-out, wait for a signal."""
    p = argparse.ArgumentParser(prog="python -m jobscrape_dev.devcluster")
    p.add_argument("--kubeconfig-out", type=Path, help="also copy the admin kubeconfig here")
    p.add_argument("--audit", action="store_true", help="write an API audit log")
    args = p.parse_args(argv)
    cp = ControlPlane(audit=args.audit).start()
    try:
        state = cp.workdir / "executor"
        state.mkdir()
        cp.add_process("executor", start_executor(cp.kubeconfig, state,
                                                  cp.workdir / "logs" / "executor.log"))
        if args.kubeconfig_out:
            args.kubeconfig_out.write_text(cp.kubeconfig.read_text())
        print(f"control plane ready in {cp.started_seconds:.1f}s", flush=True)
        print(f"export KUBECONFIG={cp.kubeconfig}", flush=True)
        print(f"logs: {cp.workdir / 'logs'}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        cp.stop()


if __name__ == "__main__":
    sys.exit(main())
