"""Fetching through the local board server: faults fail only their board, retries, limits,
conditional requests and the private-address guard."""

from __future__ import annotations

from jobscrape.boards import get_adapter
from jobscrape.boards.base import BoardRef
from jobscrape.runner.fetch import FetchOptions, fetch_boards

FAST = dict(allow_private_networks=True, backoff_base=0.01, backoff_max=0.05,
            requests_per_second_per_host=1000)


def gh(server, token: str, name: str | None = None, query: str = "") -> BoardRef:
    return BoardRef(name=name or token, type="greenhouse", token=token,
                    url=f"{server.url}/v1/boards/{token}/jobs{query}")


async def _fetch(boards, **kw):
    return await fetch_boards(boards, FetchOptions(**{**FAST, **kw}))


async def test_one_failing_board_among_healthy_ones(boards):
    boards.set_fault("broken", status=500)
    res = await _fetch([gh(boards, "a"), gh(boards, "broken"), gh(boards, "c")], retries=2)
    assert [r.state for r in res] == ["OK", "Failing", "OK"]
    assert len(res[0].postings) == 2 and res[1].postings == []
    assert res[1].http_status == 500 and "after 2 retries" in res[1].message
    assert boards.requests["/v1/boards/broken/jobs"] == 3  # first try + 2 retries


async def test_429_with_retry_after_is_waited_out(boards):
    boards.set_fault("busy", status=429, retry_after=1, times=1)
    (res,) = await _fetch([gh(boards, "busy")], backoff_base=5, backoff_max=5)
    assert res.state == "OK" and len(res.postings) == 2
    assert boards.requests["/v1/boards/busy/jobs"] == 2


async def test_no_retry_on_other_4xx(boards):
    boards.set_fault("forbidden", status=403)
    (res,) = await _fetch([gh(boards, "forbidden")])
    assert res.state == "Failing" and res.http_status == 403
    assert boards.requests["/v1/boards/forbidden/jobs"] == 1


async def test_not_found(boards):
    (res,) = await _fetch([gh(boards, "no-such-board")])
    assert res.state == "NotFound" and res.http_status == 404 and not res.ok


async def test_oversized_and_malformed_and_truncated_fail_only_their_board(boards):
    boards.set_fault("huge", oversize=3 * 1024 * 1024)
    boards.set_fault("junk", malformed=True)
    boards.set_fault("cut", truncate=True)
    res = await _fetch([gh(boards, "huge"), gh(boards, "junk"), gh(boards, "cut"),
                        gh(boards, "fine")], max_bytes=1024 * 1024)
    assert [r.state for r in res] == ["Failing", "Failing", "Failing", "OK"]
    assert "larger than 1 MiB" in res[0].message
    assert res[1].message.startswith("unreadable response")


async def test_etag_gives_not_modified(boards):
    boards.set_fault("tagged", etag=True)
    (first,) = await _fetch([gh(boards, "tagged")])
    assert first.state == "OK" and first.validators and first.validators.etag
    url = get_adapter("greenhouse").first_url(gh(boards, "tagged"))  # the key of validators
    (second,) = await fetch_boards([gh(boards, "tagged")], FetchOptions(**FAST),
                                   validators={url: first.validators})
    assert second.not_modified and second.ok and second.http_status == 304
    assert second.postings == []


async def test_private_addresses_refused_without_permission(boards):
    local = gh(boards, "a")
    meta = BoardRef(name="meta", type="greenhouse", token="x",
                    url="http://169.254.169.254/latest/meta-data/?token=secret")
    res = await fetch_boards([local, meta], FetchOptions(requests_per_second_per_host=1000))
    assert [r.state for r in res] == ["Failing", "Failing"]
    assert "127.0.0.1 is a loopback address" in res[0].message
    assert "link-local" in res[1].message and "secret" not in res[1].message
    assert boards.requests["/v1/boards/a/jobs"] == 0  # never connected


async def test_redirect_to_private_address_is_refused(boards):
    from jobscrape.runner import fetch as fetch_mod

    # allow loopback for the first hop only: the redirect target is checked on its own
    hop = BoardRef(name="hop", type="greenhouse", token="t",
                   url=f"{boards.url}/redirect?to=http://10.1.2.3/v1/boards/t/jobs")
    calls: list[str] = []
    real = fetch_mod.check_url

    async def check(url: str, allow_private: bool) -> None:
        calls.append(url)
        await real(url, allow_private and "127.0.0.1" in url)

    fetch_mod.check_url = check
    try:
        (res,) = await _fetch([hop])
    finally:
        fetch_mod.check_url = real
    assert res.state == "Failing" and "10.1.2.3 is a private address" in res.message
    assert len(calls) == 2 and boards.requests["/redirect"] == 1


async def test_concurrency_bound_is_respected(boards):
    for i in range(8):
        boards.set_fault(f"slow{i}", delay=0.3)
    await _fetch([gh(boards, f"slow{i}") for i in range(8)], concurrency=3)
    assert boards.max_in_flight == 3


async def test_paging_follows_next_url(boards):
    boards.set_fault("many", scale=250)
    (res,) = await _fetch([BoardRef(name="many", type="lever", token="many",
                                    url=f"{boards.url}/v0/postings/many")])
    assert res.state == "OK" and len(res.postings) == 250 and res.pages == 3
    assert len({p.id for p in res.postings}) == 250
