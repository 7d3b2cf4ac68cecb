"""`python -m jobscrape.kubelogin`: the operator's credentials loaded by the official client in
a process of its own, printed as kopf's ConnectionInfo fields; errors in one line, no secret."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import kopf
import pytest
import yaml

CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCkey\n-----END EC PRIVATE KEY-----\n"
TOKEN = "s3cret-token-value"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _kubeconfig(tmp_path: Path, user: dict[str, str], cluster: dict[str, object]) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443", **cluster}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return path


def _login(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobscrape.kubelogin", *args],
                          capture_output=True, text=True, timeout=120)


def test_a_token_and_an_inline_ca_come_back_as_data(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path, {"token": TOKEN}, {"certificate-authority-data": _b64(CA)})
    out = _login(str(kc))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info == {"server": "https://127.0.0.1:6443", "ca_data": CA, "insecure": False,
                    "scheme": "Bearer", "token": TOKEN, "certificate_data": None,
                    "private_key_data": None}
    kopf.ConnectionInfo(**info)  # what the operator's login handler builds from it


def test_client_certificates_come_back_as_data_and_insecure_is_kept(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path, {"client-certificate-data": _b64(CERT),
                                "client-key-data": _b64(KEY)},
                     {"insecure-skip-tls-verify": True})
    out = _login(str(kc))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["certificate_data"], info["private_key_data"]) == (CERT, KEY)
    assert info["insecure"] is True and info["token"] is None and info["ca_data"] is None


def test_a_bad_kubeconfig_is_one_line_without_the_token(tmp_path: Path) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config",
                                  "users": [{"name": "u", "user": {"token": TOKEN}}]}))
    out = _login(str(kc))
    assert out.returncode == 1 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cannot load the Kubernetes credentials: ")
    assert TOKEN not in out.stderr
    missing = _login(str(tmp_path / "absent"))
    assert missing.returncode == 1 and "cannot load the Kubernetes credentials" in missing.stderr


async def test_the_operators_login_builds_kopfs_credentials_or_fails_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobscrape.controller import operator

    kc = _kubeconfig(tmp_path, {"token": TOKEN}, {"certificate-authority-data": _b64(CA)})
    monkeypatch.setattr(operator.RUNTIME, "kubeconfig", str(kc))
    info = await operator._login()
    assert isinstance(info, kopf.ConnectionInfo)
    assert (info.server, info.token, info.scheme, info.ca_data) == (
        "https://127.0.0.1:6443", TOKEN, "Bearer", CA)
    monkeypatch.setattr(operator.RUNTIME, "kubeconfig", str(tmp_path / "absent"))
    with pytest.raises(kopf.LoginError) as e:
        await operator._login()
    assert str(e.value).startswith("cannot load the Kubernetes credentials: ")
    assert "\n" not in str(e.value)
