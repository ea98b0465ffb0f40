"""The nation base: bounds from national LSOA files, the cap, and what the release records."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from placeintel import build
from placeintel.index.reference import nation_reference
from placeintel.region import DATASETS_DIR, NationBase
from tests.conftest import DEMO_SMALL_AREA_ROLES


def test_bounds_are_the_cap_percentiles_of_the_nations_lsoas() -> None:
    # 1,001 English LSOAs valued 0..1000 and a Welsh one at 5,000, outside the base.
    codes = [f"E01{n:06d}" for n in range(1001)] + ["W01000001"]
    values = pd.DataFrame({"imd_score": [*range(1001), 5000]}, index=codes, dtype=float)
    capped = nation_reference(values, NationBase("England", (), "E01", (1.0, 99.0)))
    assert capped.ranges["imd_score"] == pytest.approx((10.0, 990.0))
    assert capped.extremes["imd_score"] == (0.0, 1000.0)  # Wales is not in England's base
    assert capped.areas["imd_score"] == 1001
    assert capped.beyond["imd_score"] == (10, 10)
    plain = nation_reference(values, NationBase("England", (), "E01", (0.0, 100.0)))
    assert plain.ranges["imd_score"] == (0.0, 1000.0)
    assert "minimum and maximum" in plain.describe()["rule"]
    assert "1st and 99th percentile" in capped.describe()["rule"]


def _demo_with_a_nation(tmp_path: Path, cap: list[float]) -> Path:
    """The demo region whose `nation:` is its own small-area files: a nation of one region."""
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    roles = DEMO_SMALL_AREA_ROLES
    nation = [
        {**source, "id": f"nation-{source['id']}"}
        for source in manifest["sources"]
        if source["role"] in roles
    ]
    manifest["nation"] = {
        "title": "Demo as its own nation",
        "codes": "E01",
        "cap_percentiles": cap,
        "sources": nation,
    }
    manifest["index"] = {"base": "nation"}
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return region


def test_a_nation_of_the_region_itself_scores_lsoas_as_the_region_base(tmp_path: Path) -> None:
    """The nation files go through the same readers and the same LSOA arithmetic as the
    region's: when they are the region's own files, uncapped, the LSOAs' 0-10 scores are the
    region base's exactly."""
    lines: list[str] = []
    region = _demo_with_a_nation(tmp_path, [0, 100])
    nation = build(region, releases=tmp_path / "out", echo=lines.append)
    plain = build("demo", releases=tmp_path / "plain", echo=lambda line: None)
    ours = nation.lsoas.set_index("lsoa21_code")
    theirs = plain.lsoas.set_index("lsoa21_code").loc[ours.index]
    for key in ("pct_aged_65_plus", "imd_score", "pct_premises_below_30mbit", "deri_score"):
        column = key if key == "deri_score" else f"{key}_scaled"
        assert np.allclose(ours[column], theirs[column], atol=1e-6, equal_nan=True), key
    described = nation.metadata["index"]["nation"]
    assert described["title"] == "Demo as its own nation"
    assert described["indicators"]["imd_score"]["lsoas"] == 160
    assert any("nation base: Demo as its own nation" in line for line in lines)
    # The nation's files are credited as sources of the release, beside the region's own.
    package = yaml.safe_load((nation.path / "datapackage.json").read_text(encoding="utf-8"))
    titles = [source["title"] for source in package["sources"]]
    assert sum("Indices of Deprivation 2019" in title for title in titles) == 2


def test_the_cap_is_said_and_recorded(tmp_path: Path) -> None:
    lines: list[str] = []
    release = build(
        _demo_with_a_nation(tmp_path, [5, 95]), releases=tmp_path / "out", echo=lines.append
    )
    recorded = release.metadata["index"]["nation"]["indicators"]["pct_aged_65_plus"]
    low, high = recorded["bounds"]
    national_low, national_high = recorded["national_min_max"]
    assert national_low < low < high < national_high
    assert recorded["lsoas_below_and_above_bounds"] == [8, 8]  # 5 % of 160 at each end
    # The scale stops at the bounds: LSOAs beyond them score 0 or 10.
    scaled = release.lsoas["pct_aged_65_plus_scaled"]
    assert (scaled == 10).sum() == 8 and (scaled == 0).sum() == 8
    assert any("pct_aged_65_plus:" in line and "beyond" in line for line in lines)


def test_a_cap_must_trim_tails_and_a_nation_must_have_lsoas(tmp_path: Path) -> None:
    from placeintel.errors import DataError
    from placeintel.region import load_manifest

    region = _demo_with_a_nation(tmp_path, [50, 51])
    with pytest.raises(DataError, match="low percentile \\(0 to 10\\) then a high one"):
        load_manifest(region)
    region = _demo_with_a_nation(tmp_path / "codes", [0, 100])
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    manifest["nation"]["codes"] = "W01"  # the demo's LSOAs are English
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    with pytest.raises(DataError, match="no LSOA whose code starts 'W01'"):
        build(region, releases=tmp_path / "out", echo=lambda line: None)
    manifest["nation"]["sources"] = []
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    with pytest.raises(DataError, match="non-empty `sources`"):
        load_manifest(region)


@pytest.mark.parametrize(
    ("package", "words"),
    [
        ("{bad", "cannot be read"),
        ('{"placeintel": {"index": {"own_ranges": {"imd_score": ["a", "b"]}}}}', "cannot be read"),
        ('{"placeintel": {"index": {"own_ranges": {"imd_score": 5}}}}', "cannot be read"),
    ],
)
def test_a_broken_reference_release_is_named_not_a_traceback(
    tmp_path: Path, package: str, words: str
) -> None:
    """index.reference names another release; one edited by hand or from elsewhere is an
    error naming the key, never a JSON or float traceback."""
    from placeintel.errors import DataError
    from placeintel.index.deri import reference_ranges

    (tmp_path / "datapackage.json").write_text(package, encoding="utf-8")
    with pytest.raises(DataError, match=words) as raised:
        reference_ranges(tmp_path)
    assert raised.value.field == "index.reference"
