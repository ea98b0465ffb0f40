"""The real Greater Manchester build from ../shared/realdata (skipped when it is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placeintel.pipeline import build


@pytest.fixture(scope="module")
def gm_release(realdata: Path, tmp_path_factory: pytest.TempPathFactory):
    lines: list[str] = []
    release = build(
        "greater-manchester",
        data_dir=realdata,
        out=tmp_path_factory.mktemp("gm"),
        echo=lines.append,
    )
    return release, lines


def test_all_215_wards_scored(gm_release) -> None:
    release, _ = gm_release
    assert len(release.wards) == 215
    assert release.wards["ward_code"].str.startswith("E05").all()
    assert release.wards["deri_score"].notna().all()
    assert release.wards["lad_name"].nunique() == 10


def test_missing_broadband_said_and_recorded(gm_release) -> None:
    release, lines = gm_release
    assert any("broadband component missing" in line for line in lines)
    assert any("ofcom-coverage" in line and "not present" in line for line in lines)
    package = json.loads((release.path / "datapackage.json").read_text())
    assert "broadband" in package["placeintel"]["index"]["missing_components"]
    assert "deprivation" in package["placeintel"]["index"]["used_components"]


def test_imd_reaches_wards_by_areal_interpolation(gm_release) -> None:
    release, _ = gm_release
    method = release.metadata["methods"]["imd_score"]
    assert "areal interpolation" in method and "population" in method
    # Ward IMD scores stay within the range of the LSOA scores they come from (2.4-79.3).
    assert release.wards["imd_score"].between(2.4, 79.3).all()
    # GM's most deprived wards lead the ranking (IMD-driven while broadband is missing).
    top = release.wards.sort_values("deri_rank").head(10)
    assert (top["imd_score"] > release.wards["imd_score"].quantile(0.85)).all()


def test_services_from_every_file(gm_release) -> None:
    release, _ = gm_release
    counts = release.services["category"].value_counts()
    assert counts["library"] == 141 and counts["jobcentre"] == 26
    assert counts["post-office"] == 343  # building polygons reduced to points


def test_only_sources_read_are_credited(gm_release) -> None:
    release, _ = gm_release
    package = json.loads((release.path / "datapackage.json").read_text())
    titles = " ".join(s["title"] for s in package["sources"])
    assert "Wards (May 2023)" in titles and "Ofcom" not in titles
    assert not any("Ofcom" in a for a in package["attribution"])
    assert "Ofcom" not in (release.path / "map.html").read_text(encoding="utf-8")


def test_pharmacy_ward_codes_link_to_wards(gm_release) -> None:
    release, _ = gm_release
    pharmacies = release.services[release.services["category"] == "pharmacy"]
    assert len(pharmacies) == 631
    assert pharmacies["ward_code"].isin(release.wards["ward_code"]).all()
