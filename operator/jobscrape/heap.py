"""glibc's malloc, told to give large blocks back to the system.

By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB on
64-bit), so that after the first 20 MiB body, later bodies and the objects parsed from them
come from the heap, where freed memory stays with the process. The runner reads many such
blocks one after another (pages, bodies, pickled postings), the operator list pages and watch
streams of thousands of objects: with a fixed threshold they are mapped and unmapped. The peak
memory of a run of large pages drops by about a sixth (bench/bounded_bench.py), the operator's
memory after 5,000 sources converged by about 10 MiB (bench/operator_bench.py). Where the C
library is not glibc, nothing changes."""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
THRESHOLD = 128 * 1024  # glibc's default starting value, kept fixed

_done = False


def return_large_blocks() -> bool:
    """Fix glibc's mmap threshold at 128 KiB for this process (once); whether it took."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _done = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    return _done
