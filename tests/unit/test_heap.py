"""glibc is told to give large blocks back (a fixed mmap threshold)."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pytest

from jobscrape import heap


def test_the_threshold_is_fixed_once_on_glibc(monkeypatch) -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.fail("this suite runs on glibc (Debian); the heap setting is glibc's")
    calls: list[tuple[int, int]] = []
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")

    class Recording:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return int(libc.mallopt(param, value))

    monkeypatch.setattr(heap, "_done", False)
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: Recording())
    assert heap.return_large_blocks() and heap.return_large_blocks()
    assert calls == [(heap.M_MMAP_THRESHOLD, 128 * 1024)]  # once, glibc accepted it


def test_without_mallopt_nothing_changes(monkeypatch) -> None:
    monkeypatch.setattr(heap, "_done", False)
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: object())  # a libc without it
    assert heap.return_large_blocks() is False
