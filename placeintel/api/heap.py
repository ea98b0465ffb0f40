"""Give the memory freed while loading a release back to the operating system.

Loading a national release makes and drops millions of short-lived objects (each
feature's properties as Python values, rounded copies of the geometries, the Arrow
tables read from Parquet). glibc's malloc keeps the freed memory in its heap, and
mimalloc (pyarrow's pool) in its own, so the server process stayed at 1.7 GB
resident for a release that needs 0.8 GB; and every worker forked from it shared
those dead pages, counted whole in its RSS. `release_free_memory` hands them back
(glibc's `malloc_trim` also frees whole free pages inside the heap, not just at its
end), so what is resident, and shared by the workers, is the live data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library is another (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> None:
    """Collect garbage, then return the C heaps' free pages to the operating system."""
    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover - pyarrow is a dependency
        pass
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
