from __future__ import annotations

import numpy as np
import pytest

from placeintel.index.flat import row_starts


@pytest.mark.parametrize("shape", [(4, 7), (1, 5), (3, 0), (0, 3)])
def test_flat_take_is_take_along_rows(shape: tuple[int, int]) -> None:
    values = np.random.default_rng(1).normal(size=shape)
    order = np.argsort(values, axis=1)
    expected = np.take_along_axis(values, order, axis=1)
    assert np.array_equal(values.take(order + row_starts(*shape)), expected)


def test_flat_assignment_puts_along_rows() -> None:
    order = np.argsort(np.random.default_rng(2).normal(size=(5, 6)), axis=1)
    placed = np.empty((5, 6))
    placed.ravel()[order + row_starts(5, 6)] = np.arange(6)
    expected = np.empty((5, 6))
    np.put_along_axis(expected, order, np.arange(6)[None, :].repeat(5, 0), axis=1)
    assert np.array_equal(placed, expected)
