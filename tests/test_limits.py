"""The limits on source files (placeintel.limits), as the CSV readers and validation apply them.

Each hostile file is refused quickly, in little memory, with a message naming the file
and, where there is one, the row and column: never read whole, never echoed whole.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from placeintel.errors import DataError, UsageError
from placeintel.limits import CELL_CHARS, COLUMNS, SOURCE_BYTES_ENV, shorten, source_bytes
from placeintel.region import DATASETS_DIR
from placeintel.sources.tables import check_file, read_bytes, read_csv, read_header

IMD = "imd/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators.csv"


def _measured(action):  # type: ignore[no-untyped-def]
    """Run `action`, returning what it raised, its seconds and its peak Python memory (MB)."""
    tracemalloc.start()
    started = time.perf_counter()
    raised = None
    try:
        action()
    except DataError as error:
        raised = error
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return raised, seconds, peak


def test_a_header_of_a_million_columns_is_refused_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n" + "1," * 5 + "\n")
    for action in (lambda: read_header(path), lambda: read_csv(path)):
        error, seconds, peak = _measured(action)
        assert error is not None and error.rule == "too-many-columns"
        assert (error.row, Path(error.file)) == (1, path)
        assert "1,000,000 cells" in error.message and f"{COLUMNS:,} columns" in error.message
        assert seconds < 10 and peak < 400, (seconds, peak)  # it took 111 s and 6.2 GB


def test_a_long_cell_is_named_by_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text("code,name\nE01000001,ok\nE01000002," + "A" * (CELL_CHARS + 1) + "\n")
    with pytest.raises(DataError) as raised:
        read_csv(path)
    assert (raised.value.rule, raised.value.row, raised.value.field) == ("cell-too-long", 3, "name")
    assert len(raised.value.message) < 300
    # And in the header itself, refused before any column is made of it.
    path.write_text("code," + "B" * (CELL_CHARS + 1) + "\nE01000001,1\n")
    with pytest.raises(DataError) as raised:
        read_header(path)
    assert (raised.value.rule, raised.value.row, raised.value.field) == (
        "cell-too-long",
        1,
        "column 2",
    )


def test_a_cell_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text("code,name\nE01000001," + "A" * CELL_CHARS + "\n")
    assert len(read_csv(path).loc[2, "name"]) == CELL_CHARS


def test_only_regular_files_are_opened(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    outcome: list[BaseException] = []
    # A FIFO with no writer blocks whoever opens it: check in a thread, so a regression
    # fails the test instead of hanging it.
    worker = threading.Thread(target=lambda: outcome.append(_raises(read_bytes, pipe)))
    worker.daemon = True
    worker.start()
    worker.join(10)
    assert outcome, "reading a named pipe blocked"
    assert isinstance(outcome[0], DataError) and outcome[0].rule == "not-a-file"
    assert "named pipe" in outcome[0].message
    for path, words in ((tmp_path, "a folder"), (Path("/dev/zero"), "a device")):
        with pytest.raises(DataError, match=words):
            check_file(path)


def _raises(function, *args):  # type: ignore[no-untyped-def]
    try:
        function(*args)
    except BaseException as error:  # noqa: BLE001 - handed to the test to judge
        return error
    return AssertionError("no error")


def test_the_file_size_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 1000)
    monkeypatch.setenv(SOURCE_BYTES_ENV, "1000")
    assert source_bytes() == 1000
    with pytest.raises(DataError, match="more than the limit of 1,000 bytes") as raised:
        read_csv(path)
    assert raised.value.rule == "file-too-large" and SOURCE_BYTES_ENV in (raised.value.hint or "")
    monkeypatch.setenv(SOURCE_BYTES_ENV, "1_000_000")
    assert len(read_csv(path)) == 1000
    monkeypatch.setenv(SOURCE_BYTES_ENV, "lots")
    with pytest.raises(UsageError, match=SOURCE_BYTES_ENV):
        source_bytes()


def test_a_gzip_bomb_is_measured_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"a,b\n")
        for _ in range(10):
            handle.write(b"0" * 10_000_000)  # 100 MB of zeros in about 100 KB
    monkeypatch.setenv(SOURCE_BYTES_ENV, str(50_000_000))
    error, _, peak = _measured(lambda: read_bytes(path))
    assert error is not None and error.rule == "file-too-large"
    assert "decompresses to more than" in error.message
    assert peak < 20, peak  # chunks of 1 MB, never the 100 MB


def test_shorten_says_how_long_the_text_was() -> None:
    assert shorten("x" * 10) == "x" * 10
    assert shorten("x" * 100) == "x" * 80 + "... (100 characters)"


def test_the_50mb_cell_through_the_command_line(tmp_path: Path) -> None:
    """The report names the cell; it does not echo 50 MB to the terminal."""
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    lines = (region / IMD).read_bytes().split(b"\r\n")
    cells = lines[4].split(b",")
    cells[-3] = b"A" * 50_000_000
    lines[4] = b",".join(cells)
    (region / IMD).write_bytes(b"\r\n".join(lines))
    result = subprocess.run(
        [sys.executable, "-m", "placeintel.cli", "validate", str(region)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert len(output) < 5_000 and "Traceback" not in output
    assert "[cell-too-long]" in output and "row 5" in output
    assert not re.search("A{81}", output)
