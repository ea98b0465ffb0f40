"""Each district's areas, as the map's district classes and ranks select them."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from placeintel.maps.risk_map import _by_district, _no_cycle_collection


@pytest.mark.parametrize(
    "codes",
    [
        np.array(["E2", "E1", "E2", None, "E3", "E1"], dtype=object),
        np.array(["E2", np.nan, "E2"], dtype=object),
        np.array([], dtype=object),
        np.zeros(4),
        np.array(["E1"] * 3, dtype=object),
    ],
)
def test_by_district_selects_what_comparing_codes_selects(codes: np.ndarray) -> None:
    """The same districts in the same order (`pd.unique`), each with the positions that
    `codes == code` gives, missing codes included (None matches None, NaN nothing)."""
    expected = [(code, np.flatnonzero(codes == code)) for code in pd.unique(codes)]
    found = _by_district(codes)
    assert [str(code) for code, _ in found] == [str(code) for code, _ in expected]
    for (_, positions), (_, wanted) in zip(found, expected, strict=True):
        assert positions.tolist() == wanted.tolist()


def test_cycle_collection_is_restored() -> None:
    was = gc.isenabled()
    try:
        gc.enable()
        with _no_cycle_collection():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with _no_cycle_collection():
            pass
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
