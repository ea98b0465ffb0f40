"""The layer registry is the one list of published layers: package, API and PostGIS follow it."""

from __future__ import annotations

import json

import yaml

from placeintel.api.serve import CONFIG
from placeintel.pipeline import Release
from placeintel.publish.layers import LAYERS, collections
from placeintel.publish.postgis import LAYERS as POSTGIS_LAYERS


def test_no_collection_is_written_by_hand() -> None:
    settings = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert "resources" not in settings  # generated from the registry at serve time
    assert set(collections()) == {layer.name for layer in LAYERS}


def test_every_layer_is_a_resource_a_collection_and_a_table(
    demo_release: Release, releases_dir
) -> None:
    from placeintel.api.serve import create_app

    client = create_app("demo", releases_dir).test_client()
    package = json.loads((demo_release.path / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"] for r in package["resources"]}
    served = {c["id"] for c in client.get("/collections?f=json").get_json()["collections"]}
    for layer in LAYERS:
        assert {f"{layer.name}-{kind}" for kind in ("csv", "geojson", "gpkg", "parquet")} <= (
            resources
        )
        assert layer.name in served
        assert POSTGIS_LAYERS[layer.name] == layer.key
        csv = next(r for r in package["resources"] if r["name"] == f"{layer.name}-csv")
        assert csv["schema"]["primaryKey"] == [layer.key]
        assert csv["title"].startswith(layer.title)


def test_the_maps_are_given_room_once(tmp_path, monkeypatch) -> None:
    """write_layers calls `lighter` exactly once, whether layers go to GeoJSON workers or
    not and whether writing succeeds or fails (the build's maps wait for it)."""
    import pytest

    import placeintel.pipeline as pipeline
    from placeintel import build
    from placeintel.errors import PlaceintelError
    from placeintel.publish import layers

    real, calls = layers.write_layers, []

    def counting(root, published, lighter=None):
        def counted() -> None:
            calls.append(1)
            assert lighter is not None
            lighter()

        return real(root, published, counted)

    monkeypatch.setattr(pipeline, "write_layers", counting)
    for rows in (1, 10**9):  # every layer to the workers; none
        monkeypatch.setattr(layers, "GEOJSON_WORKER_ROWS", rows)
        calls.clear()
        build("demo", releases=tmp_path, echo=lambda line: None)
        assert calls == [1]

    def broken(*args, **kwargs):
        raise PlaceintelError("csv exploded")

    monkeypatch.setattr(layers, "write_csv", broken)
    calls.clear()
    with pytest.raises(PlaceintelError, match="exploded"):
        build("demo", releases=tmp_path, echo=lambda line: None)
    assert calls == [1]


def test_the_maps_wait_until_at_most_one_worker_is_left() -> None:
    """With three workers (a machine with more cores), the first to finish leaves two
    running: the signal comes when the second finishes, and only once."""
    from concurrent.futures import Future

    from placeintel.publish.layers import _once, _when_one_left

    calls: list[int] = []
    running = [Future() for _ in range(3)]
    _when_one_left(running, _once(lambda: calls.append(1)))
    running[0].set_result(None)
    assert calls == []
    running[2].set_result(None)
    assert calls == [1]
    running[1].set_result(None)
    assert calls == [1]
