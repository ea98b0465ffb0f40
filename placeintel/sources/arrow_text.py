"""Text columns worked on inside Arrow: membership, postcode spelling, plain numbers.

pandas 3 holds text columns as Arrow strings, but several of its string methods
still go through one Python object per cell: `Series.isin` builds a Python list
of 1.7 million postcodes (10 s at national scale, against 0.4 s for
`pyarrow.compute.is_in`), and `str.replace`/`str.upper` and `to_numeric` do the
same. These helpers run the Arrow kernels when they give the very result pandas
would, and fall back to pandas for any column where that is not certain (text
that is not ASCII, a column that is not Arrow strings), so they change the speed
and never a value.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowStringArray

#: Python's `\s` on ASCII text (str.isspace): space, \t \n \v \f \r and the four
#: separators \x1c-\x1f. RE2's `\s` lacks \v and \x1c-\x1f, so it is spelled out.
_ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]+"
#: A plain decimal that Arrow's cast and Python's float() read alike (both round
#: correctly); anything else is left to the caller's slower, stricter reading.
_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
#: An integer int64 holds whatever its digits, read alike by Arrow's cast and pandas.
_PLAIN_INTEGER = r"^-?[0-9]{1,18}$"


def arrow_strings(values: pd.Series) -> pa.ChunkedArray | None:
    """The column's Arrow string array, or None when it is not held as Arrow strings."""
    array = values.array
    if isinstance(array, ArrowStringArray):
        return array._pa_array
    return None


def isin(values: pd.Series, allowed: Iterable[object] | pd.Series) -> np.ndarray:
    """`values.isin(allowed)` as a numpy bool array, with Arrow's hash kernel for text.

    A missing value (NaN) counts as in `allowed` only if `allowed` has one too, as in
    pandas; any column that is not text goes to pandas itself.
    """
    left = arrow_strings(values)
    if left is not None:
        if isinstance(allowed, pd.Series):
            right = arrow_strings(allowed)
        else:
            items = list(allowed)
            right = (
                pa.array(items, type=pa.large_string())
                if all(isinstance(item, str) for item in items)
                else None
            )
        if right is not None:
            found = pc.is_in(left, value_set=pa.chunked_array(right).combine_chunks())
            return found.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return values.isin(allowed).to_numpy(dtype=bool)


def isin_many(columns: list[pd.Series], allowed: pd.Series) -> list[np.ndarray]:
    """`isin(column, allowed)` for each column, building the lookup of `allowed` once.

    Arrow's `is_in` hashes its value set on every call: against the 1.7 million ONSPD
    postcodes that is about a second for each Ofcom file. The text columns are joined
    into one array, looked up in one call, and cut back apart: the same answers, the
    set hashed once. A column that is not Arrow text takes `isin` on its own.
    """
    right = arrow_strings(allowed)
    lefts = [arrow_strings(column) for column in columns]
    text = [i for i, left in enumerate(lefts) if left is not None]
    if right is None or len(text) < 2:
        return [isin(column, allowed) for column in columns]
    joined = pa.chunked_array(
        [chunk.cast(pa.large_string()) for i in text for chunk in lefts[i].chunks],
        type=pa.large_string(),
    )
    found = pc.is_in(joined, value_set=right.combine_chunks())
    found = found.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    results: list[np.ndarray | None] = [None] * len(columns)
    start = 0
    for i in text:
        results[i] = found[start : start + len(columns[i])]
        start += len(columns[i])
    return [isin(c, allowed) if r is None else r for c, r in zip(columns, results, strict=True)]


#: Arrow arrays known to hold every value once and no missing value, by id, each with a
#: weak reference to the very array (an id is reused only after its array is freed, and
#: the reference's callback forgets it then). Arrow arrays never change, so what was
#: found of one holds while it lives: the ONS Postcode Directory's 1.75 million
#: postcodes are counted once (`duplicated`, as the directory is read) rather than
#: again as each Ofcom file is placed (`map_text`: 1.3 s CPU a count).
_DISTINCT: dict[int, weakref.ref[pa.ChunkedArray | pa.Array]] = {}


def _known_distinct(array: pa.ChunkedArray | pa.Array) -> bool:
    """Whether `array` itself was found to hold every value once, none missing."""
    held = _DISTINCT.get(id(array))
    return held is not None and held() is array


def _remember_distinct(array: pa.ChunkedArray | pa.Array) -> None:
    """Note that `array` holds every value once and no missing value."""
    key = id(array)

    def forget(ref: weakref.ref[pa.ChunkedArray | pa.Array]) -> None:
        if _DISTINCT.get(key) is ref:
            del _DISTINCT[key]

    _DISTINCT[key] = weakref.ref(array, forget)


#: The share of neighbours out of order up to which a column is sorted to find whether a
#: value repeats: a key column of a file sorted by its key in its own way (postcode
#: districts in number order, "QA9" before "QA10") sorts in a fifth of the time hashing
#: takes; a column in no order at all is hashed as before.
NEARLY_SORTED = 1 / 64


def surely_distinct(array: pa.ChunkedArray | pa.Array) -> bool:
    """Whether no value is there twice and none is missing, found by order rather than
    by hashing: at once when each value is greater than the one before it (text compares
    by its bytes; any order would do), else by sorting a column that is nearly in order
    and comparing neighbours. False when it cannot be shown so cheaply (a repeat, a
    missing value, or a column in no order): the caller hashes, as before."""
    if array.null_count:
        return False
    size = len(array)
    if size < 2:
        return True
    ahead = pc.less(array.slice(0, size - 1), array.slice(1))
    descents = size - 1 - (pc.sum(ahead).as_py() or 0)
    if descents == 0:
        return True
    if descents > size * NEARLY_SORTED:
        return False
    ordered = array.take(pc.sort_indices(array))
    return pc.any(pc.equal(ordered.slice(0, size - 1), ordered.slice(1))).as_py() is False


def _all_distinct(array: pa.ChunkedArray) -> bool:
    """No missing value and no value twice (remembered for the array once found)."""
    if _known_distinct(array):
        return True
    if array.null_count:
        return False
    if not surely_distinct(array) and pc.count_distinct(array).as_py() != len(array):
        return False
    _remember_distinct(array)
    return True


def positions_in(keys: pd.Series, index: pd.Series) -> pa.ChunkedArray | pa.Array | None:
    """Each key's position in `index` (null for a key not in it, or missing), with Arrow's
    hash kernel; None unless both are Arrow text and `index` holds distinct, present codes.

    Where it is not None, its validity is `isin(keys, index)` (the index holds no
    missing value for a missing key to match), so one look-up answers both `map_text`
    and the check that every key is known: hashing the 1.75 million ONSPD postcodes is
    most of either (`validate.early.early_placing`).
    """
    left, right = arrow_strings(keys), arrow_strings(index)
    if left is None or right is None or not _all_distinct(right):
        return None
    return pc.index_in(left, value_set=right.combine_chunks(), skip_nulls=True)


def map_text(
    keys: pd.Series,
    index: pd.Series,
    values: pd.Series,
    positions: pa.ChunkedArray | pa.Array | None = None,
) -> pd.Series:
    """`keys.map(pd.Series(values.to_numpy(), index=index))` with Arrow's hash kernel.

    pandas builds a hash table of Python strings for the index (and checks it is
    unique) before looking 1.7 million postcodes up in it: about 7 s at national scale,
    against under a second for `pyarrow.compute.index_in` and `take`. The Arrow path
    is taken only where it gives pandas' very result: text keys and values, and an
    index of distinct, present codes (pandas refuses a repeated one); anything else
    goes to pandas itself. A key not in the index (or missing) maps to NaN.
    `positions`: `positions_in(keys, index)` when the caller has it already.
    """
    found = arrow_strings(values)
    if found is not None:
        if positions is None:
            positions = positions_in(keys, index)
        if positions is not None:
            mapped = pc.take(found, positions)
            return pd.Series(
                ArrowStringArray(mapped, dtype=values.dtype), index=keys.index, name=keys.name
            )
    return keys.map(pd.Series(values.to_numpy(), index=index))


def without_spaces_upper(values: pd.Series) -> pd.Series:
    """`values.str.replace(r"\\s+", "", regex=True).str.upper()`, in Arrow for ASCII text.

    Upper-casing and Unicode spaces differ between Python and Arrow only outside
    ASCII ('ß'.upper() is 'SS' in Python), so text with any other character takes
    the pandas path.
    """
    array = arrow_strings(values)
    ascii_only = array is not None and pc.all(pc.string_is_ascii(array)).as_py() is not False
    if not ascii_only:
        return values.str.replace(r"\s+", "", regex=True).str.upper()
    # Postcodes are letters, digits and spaces: where taking the spaces out leaves only
    # letters and digits (or nothing), there was no other space for the regex to take,
    # and the literal replace is a third of its cost (0.1 s against 0.3-0.4 s CPU for
    # the directory's 1.75 million postcodes).
    unspaced = pc.replace_substring(array, " ", "")
    plain = pc.or_(pc.ascii_is_alnum(unspaced), pc.equal(pc.binary_length(unspaced), 0))
    if pc.all(plain).as_py() is False:
        unspaced = pc.replace_substring_regex(array, _ASCII_SPACE, "")
    spelled = pc.ascii_upper(unspaced)
    return pd.Series(
        ArrowStringArray(spelled, dtype=values.dtype), index=values.index, name=values.name
    )


def duplicated(values: pd.Series) -> pd.Series:
    """`values.duplicated()`: at once when Arrow counts every value distinct (a missing
    value counts once, as pandas counts a second NaN a repeat), which is the case of
    every valid file; pandas finds the repeats otherwise (1.7 s for ONSPD's postcodes).
    A column with neither a repeat nor a missing value is remembered as such
    (`_all_distinct`), for `map_text` to look postcodes up in without counting again."""
    array = arrow_strings(values)
    if array is not None and (
        _all_distinct(array)
        if array.null_count == 0
        else pc.count_distinct(array, mode="all").as_py() == len(array)
    ):
        return pd.Series(False, index=values.index, name=values.name)
    return values.duplicated()


def to_numeric(values: pd.Series) -> pd.Series:
    """`pd.to_numeric(values, errors="coerce")`, in Arrow when every cell is a plain
    integer of at most 18 digits (ONSPD's grid references: 1.5 s a column in pandas).

    pandas gives such a column as int64, which Arrow's cast does exactly; a column with
    any other cell (blank, a decimal, a sign "+", a longer number) goes to pandas.
    """
    array = arrow_strings(values)
    if (
        array is not None
        and len(array)
        and array.null_count == 0
        and pc.all(pc.match_substring_regex(array, _PLAIN_INTEGER)).as_py()
    ):
        numbers = pc.cast(array, pa.int64()).to_numpy(zero_copy_only=False)
        return pd.Series(numbers, index=values.index, name=values.name)
    return pd.to_numeric(values, errors="coerce")


def plain_numbers(values: pd.Series) -> np.ndarray | None:
    """Each cell that is a plain decimal ("12", "-3.5") as a float, NaN elsewhere.

    Arrow reads these cells exactly as Python's float() does; every other cell
    (blank, suppressed, "1,234", "5%", a mistake) is NaN here for the caller to read
    one by one. None when the column is not Arrow strings.
    """
    array = arrow_strings(values)
    if array is None:
        return None
    plain = pc.match_substring_regex(array, _PLAIN_NUMBER)
    numbers = pc.cast(pc.if_else(plain, array, pa.scalar(None, array.type)), pa.float64())
    return numbers.to_numpy(zero_copy_only=False).astype(float, copy=True)
