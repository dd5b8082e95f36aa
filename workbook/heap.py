"""Keeping freed memory in the process while a class set is written (glibc only; elsewhere nothing changes).

Each zip entry of each student's file is deflated by a new zlib stream, which allocates about 256 KiB
(window, hash chains, pending output) and frees it when done. glibc gives freed memory at the top of the
heap back to the system as soon as more than 128 KiB lie there (M_TRIM_THRESHOLD), so the next stream's
allocation faults every page in again: measured here, that doubled the cost of deflating a student's
three own parts (133 -> 56 µs) and was a tenth of writing a student's file. Raising the threshold while
the set is written keeps those pages; the default is put back afterwards. The output is unchanged.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
DEFAULT_TRIM = 128 * 1024  # glibc's documented default
KEPT_TRIM = 64 * 1024 * 1024


def _mallopt():
    """glibc's mallopt, or None (another C library, or no ctypes)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return libc.mallopt if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None
    except (OSError, ImportError, AttributeError):
        return None


@contextlib.contextmanager
def kept() -> Iterator[bool]:
    """Inside: freed memory stays in the process (True if that could be set)."""
    mallopt = _mallopt()
    done = bool(mallopt and mallopt(M_TRIM_THRESHOLD, KEPT_TRIM) == 1)
    try:
        yield done
    finally:
        if done:
            mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM)
