"""`python -m jobscrape.kubelogin [KUBECONFIG]`: the operator's Kubernetes credentials, loaded
by the official client (kubeconfig with its auth plugins, or the in-cluster ServiceAccount) in
a short-lived process of its own, printed as one JSON object on stdout.

The operator runs this at login and again whenever the API answers 401, so rotated tokens are
picked up; its own process never imports the official package (about 18 MiB of memory). File
contents (CA, client certificate and key) are passed as data, since the official loader's
temporary files go away with this process. Errors are one line on stderr, without secrets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MAX_FILE = 1 << 20  # a CA bundle, certificate or key larger than 1 MiB is not one


def _read(path: str | None) -> str | None:
    if not path:
        return None
    data = Path(path).read_bytes()[:MAX_FILE + 1]
    if len(data) > MAX_FILE:
        raise ValueError(f"{path} is larger than 1 MiB")
    return data.decode("ascii")


def connection_info(kubeconfig: str | None) -> dict[str, Any]:
    """What kopf's ConnectionInfo needs, from a kubeconfig path, $KUBECONFIG or in-cluster."""
    from jobscrape.kubeclient import load_api_client

    cfg = load_api_client(kubeconfig).configuration
    # as kopf reads the client's configuration: auth plugins and token files answer through
    # get_api_key_with_prefix (BearerToken since kubernetes 36.0.1, else authorization)
    header = (cfg.get_api_key_with_prefix("BearerToken")
              or cfg.get_api_key_with_prefix("authorization"))
    parts = header.split(" ", 1) if header else []
    scheme, token = ((None, None) if not parts else (None, parts[0]) if len(parts) == 1
                     else (parts[0], parts[1]))
    return {"server": cfg.host, "ca_data": _read(cfg.ssl_ca_cert),
            "insecure": not cfg.verify_ssl, "scheme": scheme, "token": token,
            "certificate_data": _read(cfg.cert_file), "private_key_data": _read(cfg.key_file)}


def main(argv: list[str]) -> int:
    """Print the credentials as JSON; exit 1 with one line on stderr when they cannot be
    loaded."""
    try:
        info = connection_info(argv[0] if argv else None)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        print(f"cannot load the Kubernetes credentials: {type(e).__name__}: {first}",
              file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
