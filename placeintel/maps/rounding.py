"""Python's `round(x, digits)` over a column, with no Python call for the values that are
already as short: the published columns are rounded to six decimals, and the map rounds
many of them to six (or fewer) again.

A value whose shortest round-trip decimal s (Arrow's formatting, double-conversion in
C++) has at most `digits` decimals is its own rounding: x lies within half an ulp of s,
far less (under 1e9 in size) than half a unit of the last kept decimal, so x correctly
rounded to `digits` decimals is s, and `round` returns float(s), which is x. The other
values go through `round` itself (correctly rounded, unlike numpy's scale-and-round,
which can land one unit away in the last place).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Above this size an ulp is no longer far below a millionth: `round` decides.
LIMIT = 1e9


def rounded(values: np.ndarray, digits: int) -> list[float | None]:
    """`round(x, digits)` of each value, None where it is not finite."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    texts = pc.cast(pa.array(values, type=pa.float64()), pa.string())
    # Decimals written: the characters after the point (none where there is no point).
    point = pc.find_substring(texts, ".").to_numpy(zero_copy_only=False)
    length = pc.utf8_length(texts).to_numpy(zero_copy_only=False)
    decimals = np.where(point >= 0, length - point - 1, 0)
    exponent = pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    own = finite & (np.abs(values) < LIMIT) & ~exponent & (decimals <= digits)
    if own.all():
        return values.tolist()
    return [
        value if mine else (round(value, digits) if ok else None)
        for value, mine, ok in zip(values.tolist(), own.tolist(), finite.tolist(), strict=True)
    ]
