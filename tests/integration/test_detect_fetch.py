"""`jobscrape detect --fetch` against a real HTTP server on 127.0.0.1: a custom careers page
embedding a Greenhouse widget is found; the SSRF guard refuses the page unless private
networks are allowed; each redirect hop is checked; the page is read with a byte cap and a
timeout; failures end in one line naming the cause."""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from jobscrape import cli, detectcmd

JOBSCRAPE = str(Path(sys.executable).parent / "jobscrape")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boards"
CAREERS = b"""<!doctype html><html><head><title>Careers at Acme</title></head><body>
<h1>Join us</h1><div id="grnhse_app"></div>
<script src="https://boards.greenhouse.io/embed/job_board/js?for=acmerobotics"></script>
</body></html>"""


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    hits: Counter[str] = Counter()

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/huge":  # streamed: far more than the cap, the embed at the end
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # at its cap
                for _ in range(64):
                    self.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
                self.wfile.write(CAREERS)
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for k, v in {"Content-Type": "text/html", **headers}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # reader gave up
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    _Handler.hits = Counter()
    _Handler.routes = {
        "/careers": (200, {}, CAREERS),
        "/moved": (302, {"Location": "/careers"}, b""),
        "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/jobs/1": (200, {}, (FIXTURES / "jsonld_jobposting_google_example.html").read_bytes()),
        "/jobs.xml": (200, {"Content-Type": "application/rss+xml"},
                      (FIXTURES / "rss_jobs.xml").read_bytes()),
        "/gz": (200, {"Content-Encoding": "gzip"}, gzip.compress(CAREERS)),
        "/about": (200, {}, b"<html><body>We make robots.</body></html>"),
        "/comeet": (200, {}, b'<script>var COMPANY_DATA = {"name": "Wiliot", "company_uid": '
                             b'"F6.003", "token": "6F329B2DE6379829B229B2037983E8B3E8B"};'
                             b"</script>"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _detect(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JOBSCRAPE_ALLOW_PRIVATE_NETWORKS"}
    return subprocess.run([JOBSCRAPE, "detect", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["detect", *args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_embedded_greenhouse_board_is_found_with_fetch(site):
    out = _detect("--fetch", "--allow-private-networks", f"{site}/careers")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.startswith(f"# {site}/careers (found in the page)\n")
    assert yaml.safe_load(out.stdout) == [
        {"name": "acmerobotics", "type": "greenhouse", "token": "acmerobotics"}]
    assert _Handler.hits["/careers"] == 1


def test_without_the_flag_the_guard_refuses_in_one_line(site):
    out = _detect("--fetch", f"{site}/careers")
    assert out.returncode == 1 and out.stdout == ""
    [line] = out.stderr.splitlines()
    assert line == (f"jobscrape detect: {site}/careers: --fetch: refused: 127.0.0.1 is a "
                    "loopback address; allow private networks to fetch it")
    assert _Handler.hits["/careers"] == 0  # nothing was sent


def test_without_fetch_nothing_is_requested(site):
    out = _detect(f"{site}/careers")
    assert out.returncode == 1 and _Handler.hits["/careers"] == 0
    assert "(--fetch reads the page)" in out.stderr


def test_redirects_are_followed_and_each_hop_checked(site, capsys):
    code, out, err = _in_process(capsys, "--fetch", "--allow-private-networks",
                                 f"{site}/moved", f"{site}/to-file", f"{site}/loop")
    assert code == 1
    assert yaml.safe_load(out) == [
        {"name": "acmerobotics", "type": "greenhouse", "token": "acmerobotics"}]
    lines = err.splitlines()
    assert lines == [
        f"jobscrape detect: {site}/to-file: --fetch: refused: scheme 'file' (only http and "
        "https)",
        f"jobscrape detect: {site}/loop: --fetch: more than 5 redirects from 127.0.0.1",
    ]
    assert _Handler.hits["/loop"] == 6


def test_jsonld_page_feed_and_comeet_data(site, capsys):
    code, out, err = _in_process(capsys, "--fetch", "--allow-private-networks",
                                 f"{site}/jobs/1", f"{site}/jobs.xml", f"{site}/comeet")
    assert (code, err) == (0, "")
    assert yaml.safe_load(out) == [
        {"name": "127-0-0-1", "type": "jsonld", "url": f"{site}/jobs/1"},
        {"name": "127-0-0-1-feed", "type": "feed", "url": f"{site}/jobs.xml"},
        {"name": "wiliot", "type": "comeet", "token": "F6.003",
         "url": "https://www.comeet.co/careers-api/2.0/company/F6.003/positions?token="
                "6F329B2DE6379829B229B2037983E8B3E8B&details=true"},
    ]


def test_a_page_with_nothing_suggests_jsonld(site, capsys):
    code, out, err = _in_process(capsys, "--fetch", "--allow-private-networks",
                                 f"{site}/about", f"{site}/nowhere")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"jobscrape detect: {site}/about: no supported board found in the page; if the page "
        f"carries schema.org JobPosting data, use {{type: jsonld, url: {site}/about}}",
        f"jobscrape detect: {site}/nowhere: --fetch: HTTP 404 from 127.0.0.1",
    ]


def test_the_page_is_read_up_to_its_cap_only(site, capsys, monkeypatch):
    monkeypatch.setattr(detectcmd, "MAX_PAGE_BYTES", 256 * 1024)
    code, out, err = _in_process(capsys, "--fetch", "--allow-private-networks", f"{site}/huge")
    assert code == 1 and out == ""  # the embed lies past the cap: not looked at
    assert "no supported board found in the page" in err


def test_a_slow_page_times_out(site, capsys, monkeypatch):
    monkeypatch.setattr(detectcmd, "FETCH_TIMEOUT", 1.0)
    t0 = time.monotonic()
    code, _, err = _in_process(capsys, "--fetch", "--allow-private-networks", f"{site}/slow")
    assert code == 1 and time.monotonic() - t0 < 2.9  # the server is still sleeping
    assert err.strip() == f"jobscrape detect: {site}/slow: --fetch: timed out after 1 s"


def test_an_unasked_content_coding_is_refused(site, capsys):
    code, out, err = _in_process(capsys, "--fetch", "--allow-private-networks", f"{site}/gz")
    assert code == 1 and out == ""
    assert err.strip() == (f"jobscrape detect: {site}/gz: --fetch: 127.0.0.1 sent the page "
                           "gzip-encoded though asked for identity")


@pytest.mark.parametrize(("target", "why"), [
    ("http://127.0.0.1:9/admin", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::ffff:10.0.0.1]/", "a private address"),
])
async def test_a_redirect_to_a_private_address_is_refused_before_it_is_sent(target, why):
    import httpx

    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"Location": target})

    with pytest.raises(detectcmd.FetchFailed, match=r"^refused: .*" + why.replace(".", r"\.")):
        await detectcmd.fetch_page("https://careers.example.com/jobs", False,
                                   transport=httpx.MockTransport(answer))
    assert sent == ["https://careers.example.com/jobs"]  # the hop was never requested
