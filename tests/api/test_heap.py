"""`serve` hands the memory freed while loading back before forking its workers."""

from __future__ import annotations

import psutil
import pytest

from placeintel.api import heap


@pytest.mark.skipif(heap._malloc_trim() is None, reason="not glibc: nothing to trim")
def test_freed_memory_inside_the_heap_goes_back_to_the_system() -> None:
    """100 MB freed below a live allocation stays resident until trimmed (glibc returns
    only the top of its heap by itself): the national release's server kept 0.7 GB so."""
    process = psutil.Process()
    blocks = [bytes(2048) + bytes([i % 256]) for i in range(50_000)]  # malloc, not pymalloc
    keep = blocks[-1]
    del blocks
    before = process.memory_info().rss
    heap.release_free_memory()
    after = process.memory_info().rss
    assert keep
    assert before - after > 50 * 2**20, (before, after)


def test_release_free_memory_is_safe_to_call_again() -> None:
    heap.release_free_memory()
    heap.release_free_memory()
