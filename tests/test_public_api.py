"""The analysts' Python API: its doctests run, and it behaves as documented."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import placeintel
import placeintel.public_api


def test_doctests() -> None:
    result = doctest.testmod(placeintel.public_api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0


def test_build_weights_and_base(tmp_path: Path) -> None:
    release = placeintel.build(
        "demo", tmp_path, weights={"pct_aged_65_plus": 10}, base="local-authority"
    )
    assert release.metadata["index"]["base"] == "local-authority"
    assert release.metadata["index"]["indicator_weights"]["pct_aged_65_plus"] == 10
    assert release.package.resources  # a frictionless Package
    with pytest.raises(placeintel.PlaceintelError, match="whole number"):
        placeintel.build("demo", releases=tmp_path, weights={"imd_score": 2.5})


def test_load_region_refuses_invalid_sources(tmp_path: Path) -> None:
    import shutil

    region = tmp_path / "demo"
    shutil.copytree(Path(placeintel.__file__).parent.parent / "datasets" / "demo", region)
    (region / "lookups" / "LSOA21_WD23_LAD23_EW_LU.csv").write_text("", encoding="utf-8")
    with pytest.raises(placeintel.ValidationFailed) as caught:
        placeintel.load_region(region)
    assert caught.value.report.errors[0].rule == "empty-file"


def test_load_release_from_a_running_api(server: str, demo_release) -> None:
    remote = placeintel.load_release(server)
    assert remote.version == demo_release.version
    assert len(remote.wards) == 40 and remote.wards.crs.to_epsg() == 27700
    merged = remote.wards.merge(demo_release.wards[["ward_code", "deri_score"]], on="ward_code")
    assert (merged["deri_score_x"] - merged["deri_score_y"]).abs().max() < 1e-9
    assert set(remote.services["service_id"]) == set(demo_release.services["service_id"])
    with pytest.raises(placeintel.PlaceintelError, match="cannot read a release"):
        placeintel.load_release("http://127.0.0.1:9")


def test_explore_returns_a_folium_map(demo_release) -> None:
    import folium

    fmap = placeintel.explore(demo_release, district="E08000991")
    assert isinstance(fmap, folium.Map)
    html = fmap.get_root().render()
    assert "placeintelMap(" in html and demo_release.path.as_uri() in html


def test_an_area_by_code_or_name_and_a_shared_name_asks_which(demo_release) -> None:
    from dataclasses import replace

    ward = demo_release.wards.iloc[3]
    assert (
        placeintel.find_area(demo_release, ward["ward_name"].upper())[1]["ward_code"]
        == (ward["ward_code"])
    )
    lsoa = demo_release.lsoas.iloc[7]
    level, row = placeintel.find_area(demo_release, lsoa["lsoa21_code"])
    assert level == "lsoa" and row["lsoa21_name"] == lsoa["lsoa21_name"]
    twins = demo_release.wards.copy()
    twins.loc[twins.index[:2], "ward_name"] = "Brooklands"  # as in Manchester and Trafford
    with pytest.raises(placeintel.UsageError, match="2 wards are called 'brooklands'") as asked:
        placeintel.find_area(replace(demo_release, wards=twins), "brooklands")
    assert twins["ward_code"].iloc[0] in str(asked.value)


def test_a_release_folder_missing_a_layer_says_so(demo_release, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "release"
    shutil.copytree(demo_release.path, broken)
    (broken / "wards.parquet").unlink()
    with pytest.raises(placeintel.PlaceintelError, match="wards.parquet is missing"):
        placeintel.load_release(broken)


def test_an_unreachable_scheduler_is_said_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(placeintel.UsageError, match="cannot reach the Dask scheduler"):
        placeintel.build("no-such-region", tmp_path, engine="dask", scheduler="tcp://127.0.0.1:9")
