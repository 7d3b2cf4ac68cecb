"""The private-address guard and the per-host rate limiter, without a network."""

from __future__ import annotations

import pytest

from jobscrape.netguard import BlockedAddress, check_addresses, check_url
from jobscrape.runner.ratelimit import HostRateLimiter


@pytest.mark.parametrize(("addr", "why"), [
    ("127.0.0.1", "loopback"), ("10.0.0.5", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("100.64.0.1", "not a public"),
    ("::1", "loopback"), ("fd00:ec2::254", "private"), ("::ffff:127.0.0.1", "loopback"),
    ("0.0.0.0", "private"), ("224.0.0.1", "multicast"),
])
def test_non_public_addresses_are_refused(addr, why):
    with pytest.raises(BlockedAddress, match=why):
        check_addresses("h", [addr], allow_private=False)
    check_addresses("h", [addr], allow_private=True)


def test_any_bad_address_among_many_refuses():
    check_addresses("h", ["93.184.216.34"], allow_private=False)
    with pytest.raises(BlockedAddress, match=r"h \(10.0.0.1\)"):
        check_addresses("h", ["93.184.216.34", "10.0.0.1"], allow_private=False)


async def test_schemes_and_literals():
    with pytest.raises(BlockedAddress, match="scheme 'file'"):
        await check_url("file:///etc/passwd", allow_private=True)
    with pytest.raises(BlockedAddress, match="loopback"):
        await check_url("http://[::1]:8080/x?token=secret", allow_private=False)
    with pytest.raises(BlockedAddress, match="loopback"):
        await check_url("http://localhost/x", allow_private=False)


async def test_rate_limiter_spaces_requests_per_host():
    now = [100.0]
    slept: list[float] = []

    async def sleep(d: float) -> None:
        slept.append(d)

    lim = HostRateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    waits = [await lim.acquire("a") for _ in range(3)]
    assert waits == [0.0, 0.5, 1.0]
    assert await lim.acquire("b") == 0.0  # other hosts are not held up
    now[0] = 110.0
    assert await lim.acquire("a") == 0.0  # the slot is free again later
    with pytest.raises(ValueError):
        HostRateLimiter(0)
