"""The map's geometry made ahead (`placeintel.maps.shapes`): the same page, and never
another area's shapes."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import folium
import geopandas as gpd
import pytest
import shapely

from placeintel import build
from placeintel.maps import MapContent, assemble, districts_of, prepare
from placeintel.maps.risk_map import map_data, script_json
from placeintel.pipeline import Release
from tests.maps.test_map import page_data


def _page(release: Release, wards: gpd.GeoDataFrame, **given: object) -> str:
    districts = given.pop("districts", None)
    data = map_data(
        wards,
        release.services,
        "Demo",
        districts if districts is not None else districts_of(wards),
        "quantiles",
        release.lsoas,
        **given,  # type: ignore[arg-type]
    )
    return script_json(data)


def _moved(frame: gpd.GeoDataFrame, metres: float) -> gpd.GeoDataFrame:
    """The same areas, their geometry new objects (moved by `metres`; 0 keeps the places)."""
    moved = frame.copy()
    moved["geometry"] = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + metres)
    return moved


def test_the_page_is_the_same_with_the_shapes_made_ahead(demo_release: Release) -> None:
    wards, lsoas = demo_release.wards, demo_release.lsoas
    shapes = prepare(wards, lsoas)
    assert shapes.ward_shapes(wards) is shapes.wards
    assert shapes.lsoa_shapes(lsoas) is shapes.lsoas
    assert shapes.district_shapes(wards) is shapes.districts
    ahead = _page(demo_release, wards, shapes=shapes, districts=shapes.districts.districts)
    assert ahead == _page(demo_release, wards)


def test_shapes_made_from_other_geometry_are_not_used(demo_release: Release) -> None:
    """Shapes are matched to the very geometry objects they were made from: equal places
    in new objects, other places, other districts or a part of the areas make their own."""
    wards, lsoas = demo_release.wards, demo_release.lsoas
    elsewhere = prepare(_moved(wards, 1_000.0), _moved(lsoas, 1_000.0))
    assert elsewhere.ward_shapes(wards) is None
    assert elsewhere.lsoa_shapes(lsoas) is None
    assert elsewhere.district_shapes(wards) is None
    assert prepare(_moved(wards, 0.0)).ward_shapes(wards) is None
    shapes = prepare(wards, lsoas)
    assert shapes.ward_shapes(wards.iloc[:-1]) is None
    assert shapes.ward_shapes(wards.iloc[::-1]) is None
    renamed = wards.assign(lad_name=wards["lad_name"] + " (renamed)")
    assert shapes.ward_shapes(renamed) is shapes.wards  # the shapes are geometry only
    assert shapes.district_shapes(renamed) is None
    # A page given shapes of other areas draws its own, as if given none.
    assert _page(demo_release, wards, shapes=elsewhere) == _page(demo_release, wards)


def test_districts_other_than_those_made_ahead_are_drawn_as_given(demo_release: Release) -> None:
    wards = demo_release.wards
    shapes = prepare(wards)
    own = districts_of(wards)  # equal to the ones made ahead, but not them
    assert _page(demo_release, wards, shapes=shapes, districts=own) == _page(demo_release, wards)
    fewer = own.iloc[1:]
    assert _page(demo_release, wards, shapes=shapes, districts=fewer) == _page(
        demo_release, wards, districts=fewer
    )


def test_a_district_page_from_content_with_shapes(demo_release: Release) -> None:
    """`assemble` takes the shapes (or a future of them) and a district's page, whose
    areas are a part of the region's, makes its own."""
    content = MapContent(
        demo_release.wards,
        demo_release.services,
        "Demo",
        [],
        demo_release.lsoas,
        metadata=demo_release.metadata,
    )
    with_shapes = replace(content, shapes=prepare(content.wards, content.lsoas))
    district = str(demo_release.wards["lad_code"].iloc[0])
    for code in (None, district):
        assert _data(assemble(with_shapes, code)) == _data(assemble(content, code))


def _data(fmap: folium.Map) -> dict:
    """The page's data (the map's folium ids aside)."""
    return page_data(fmap.get_root().render())


def test_the_build_draws_its_map_with_the_shapes_it_made_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's frames carry the geometry objects the shapes were made from, so every
    part made ahead is used (and none is made twice)."""
    import placeintel.pipeline as pipeline

    real, fits = pipeline.write_maps, []

    def checked(folder: Path, content: MapContent, *args: object, **kwargs: object) -> object:
        assert isinstance(content.shapes, Future)
        shapes = content.shapes.result()
        assert content.lsoas is not None
        fits.append(
            (
                shapes.ward_shapes(content.wards) is not None,
                shapes.lsoa_shapes(content.lsoas) is not None,
                shapes.district_shapes(content.wards) is not None,
            )
        )
        return real(folder, content, *args, **kwargs)

    monkeypatch.setattr(pipeline, "write_maps", checked)
    build("demo", releases=tmp_path, echo=lambda line: None)
    assert fits == [(True, True, True)]
