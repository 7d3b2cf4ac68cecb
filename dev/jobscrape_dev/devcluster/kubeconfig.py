"""Kubeconfig files for the local control plane: client-certificate and bearer-token users."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_kubeconfig(
    path: Path,
    server: str,
    ca_cert: Path,
    *,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    token: str | None = None,
    namespace: str | None = None,
    name: str = "jobscrape-dev",
) -> Path:
    """Write a one-context kubeconfig for `server`, authenticated by a cert pair or a token."""
    user: dict[str, str] = {}
    if client_cert and client_key:
        user = {"client-certificate": str(client_cert), "client-key": str(client_key)}
    elif token:
        user = {"token": token}
    else:
        raise ValueError("write_kubeconfig needs client_cert and client_key, or token")
    context: dict[str, str] = {"cluster": name, "user": name}
    if namespace:
        context["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server,
                                                  "certificate-authority": str(ca_cert)}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path
