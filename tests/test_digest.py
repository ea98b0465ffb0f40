from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from placeintel import digest


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 5 * 1024 + 7])
def test_sha256_of_a_file_in_blocks_is_hashlibs(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "BLOCK", 1024)
    data = bytes(range(256)) * (size // 256 + 1)
    path = tmp_path / "file"
    path.write_bytes(data[:size])
    assert digest.sha256(path) == hashlib.sha256(data[:size]).hexdigest()
