"""The provider's in-memory layer: ids found without a dict, features serialised in chunks."""

from __future__ import annotations

import geopandas as gpd
import orjson
import pandas as pd
import pytest
import shapely

from placeintel.api import provider
from placeintel.api.provider import IdLookup, Layer


def test_every_id_is_found_at_its_row_and_nothing_else_is() -> None:
    ids = pd.Index(["E05000001", "é-ward", "", "b\x00c", "E05000010", "Z"], dtype="str")
    lookup = IdLookup(ids)
    assert [lookup.row(i) for i in ids] == list(range(len(ids)))
    for absent in ("E0500000", "E05000001 ", "E05000001\x00", "b", "\udcff", "Z" * 50, "e-ward"):
        assert lookup.row(absent) is None, absent


def test_a_repeated_id_answers_with_its_last_row_as_the_dict_did() -> None:
    lookup = IdLookup(pd.Index(["a", "b", "a", "a"], dtype="str"))
    assert lookup.row("a") == 3
    assert lookup.row("b") == 1


def test_an_empty_layer_finds_nothing() -> None:
    assert IdLookup(pd.Index([], dtype="str")).row("a") is None


@pytest.fixture
def layer_file(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "code": [f"X{i:04d}" for i in range(23)],
            "score": [i / 7 if i % 5 else None for i in range(23)],
            "rank": pd.array([i if i % 4 else None for i in range(23)], dtype="Int64"),
            "flag": [i % 2 == 0 for i in range(23)],
        },
        geometry=[shapely.Point(-2 + i / 3.0, 53 + i / 9.0) if i != 6 else None for i in range(23)],
        crs="OGC:CRS84",
    )
    path = tmp_path / "layer.parquet"
    frame.to_parquet(path)
    return path, frame


def test_chunks_serialise_each_feature_as_one_pass_would(layer_file, monkeypatch) -> None:
    path, frame = layer_file
    whole = Layer.load(str(path), "code")
    monkeypatch.setattr(provider, "CHUNK_ROWS", 4)  # 23 rows: five full chunks and a part
    chunked = Layer.load(str(path), "code")
    for part in ("id_json", "geometry_json", "properties_json"):
        assert getattr(chunked, part).buffer == getattr(whole, part).buffer
        assert (getattr(chunked, part).offsets == getattr(whole, part).offsets).all()
    assert len(chunked.properties_json.offsets) == len(frame) + 1
    feature = orjson.loads(chunked.feature_json(5))
    assert feature["id"] == "X0005"
    assert feature["properties"] == {"code": "X0005", "score": None, "rank": 5, "flag": False}
    assert orjson.loads(chunked.feature_json(6))["geometry"] is None
    assert chunked.positions.row("X0022") == 22


def test_a_layer_is_loaded_once_and_again_when_current_moves(layer_file, monkeypatch) -> None:
    """The per-request check is a stat through `current`: the same file answers from memory,
    a new release switched in (the link replaced, as the build does) is loaded."""
    path, frame = layer_file
    monkeypatch.setattr(provider, "_CACHE", {})
    first, second = path.parent / "20260101T000000Z", path.parent / "20260201T000000Z"
    for folder, rows in ((first, frame), (second, frame.iloc[:5])):
        folder.mkdir()
        rows.to_parquet(folder / "layer.parquet")
    current = path.parent / "current"
    current.symlink_to(first.name)
    served = current / "layer.parquet"
    loads = []
    real_load = Layer.load.__func__
    monkeypatch.setattr(
        Layer,
        "load",
        classmethod(lambda cls, *a, **k: loads.append(a[0]) or real_load(cls, *a, **k)),
    )
    old = provider.load_layer(served, "code")
    assert provider.load_layer(served, "code") is old
    assert loads == [str(first / "layer.parquet")] and len(old.ids) == 23
    moving = path.parent / "current.new"
    moving.symlink_to(second.name)
    moving.replace(current)
    new = provider.load_layer(served, "code")
    assert new is not old and len(new.ids) == 5 and loads[-1] == str(second / "layer.parquet")
    assert provider.load_layer(served, "code") is new and len(loads) == 2
    assert len(provider._CACHE) == 1  # the new release's layer took the old one's place
