"""What a CSV's raw bytes say of its lines, for the cells the Arrow screen does not parse.

The well-formedness screen (validate/well_formed.py) parses only the columns the checks
and the reader read; the 40-odd other columns of the ONS Postcode Directory (2.7 s of
its 4.9 s parse) are vouched for by the bytes instead. When the file has as many lines
as the screen has rows (a row is never shorter than a line), every row is one line, so
no cell holds a line break and none is longer than the longest line; a cell begins with
a space only after a comma or at a line's start. numpy scans the bytes in blocks
(a comparison per byte value, not a Python loop: `bytes.count` is four times slower)
and releases the GIL while it does, so the scan runs beside Arrow's parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Bytes read at a time: a few MB, so the comparisons' masks stay small.
BLOCK_BYTES = 4 * 1024 * 1024
_LF, _CR, _SPACE, _COMMA = 10, 13, 32, 44


@dataclass(frozen=True)
class Lines:
    """The file's lines, when each ends in LF or CRLF and none is over the bound."""

    #: How many lines (a last line without a break counts).
    count: int
    #: Whether a space may begin a cell: one follows a comma or a line break somewhere.
    spaced: bool


def plain_lines(path: Path, longest: int) -> Lines | None:
    """The file's lines, or None when a carriage return stands alone (Arrow ends a row
    there) or a line is longer than `longest` bytes, its line feed excluded (a carriage
    return before it counts, which only makes the bound stricter).
    """
    count = 0
    carriage = 0  # carriage returns, each of which must come before a line feed
    paired = 0  # carriage returns that do
    spaced = False
    start = 0  # where the current line begins (absolute offset)
    offset = 0  # the absolute offset of the block
    previous = -1  # the block before's last byte (-1: none)
    buffer = bytearray(BLOCK_BYTES)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            block = np.frombuffer(buffer, dtype=np.uint8, count=size)
            feeds = np.flatnonzero(block == _LF)
            returns = int(np.count_nonzero(block == _CR))
            if returns:
                carriage += returns
                inside = feeds[feeds > 0]
                paired += int(np.count_nonzero(block[inside - 1] == _CR))
                if feeds.size and feeds[0] == 0 and previous == _CR:
                    paired += 1
            if feeds.size:
                ends = feeds + offset
                lengths = np.diff(ends, prepend=start - 1) - 1
                if int(lengths.max()) > longest:
                    return None
                start = int(ends[-1]) + 1
                count += feeds.size
            elif offset + size - start > longest:
                return None
            if not spaced:
                spaced = _spaced(block, previous)
            previous = int(block[-1])
            offset += size
    if offset - start > longest:
        return None
    if offset > start:  # a last line without a break
        count += 1
    if carriage != paired:
        return None
    return Lines(count, spaced)


def _spaced(block: np.ndarray, previous: int) -> bool:
    """Whether a space in the block follows a comma or a line feed (either in the block,
    or the block before's last byte)."""
    spaces = np.flatnonzero(block == _SPACE)
    if not spaces.size:
        return False
    if spaces[0] == 0 and previous in (_COMMA, _LF):
        return True
    before = block[spaces[spaces > 0] - 1]
    return bool(np.any((before == _COMMA) | (before == _LF)))
