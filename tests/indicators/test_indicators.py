"""Indicators on the demo, for LSOAs and wards: sums not averages, and interpolation that
conserves people."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeintel.indicators import area_indicators
from placeintel.indicators.interpolate import interpolate_to_wards
from placeintel.indicators.small_areas import to_lsoas
from placeintel.region import load_manifest
from placeintel.validate import validate_sources


@pytest.fixture(scope="module")
def demo_data():
    """The demo's sources as a build sees them: read and validated."""
    data, report = validate_sources(load_manifest("demo"))
    assert report.ok, report.to_text()
    return data


@pytest.fixture(scope="module")
def demo_indicators(demo_data):
    return area_indicators(demo_data)


def test_percentages_come_from_summed_counts(demo_data, demo_indicators) -> None:
    result = demo_indicators
    census = demo_data.frames["census2021"]
    oa_lookup = demo_data.frames["lookup-oa21-lsoa21"]
    ward_lookup = demo_data.frames["lookup-lsoa21-ward23"]
    ward_of_oa = oa_lookup.set_index("oa21_code")["lsoa21_code"].map(
        ward_lookup.set_index("lsoa21_code")["ward_code"]
    )
    first = result.wards.iloc[0]
    oas = census[census["area_code"].map(ward_of_oa) == first["ward_code"]]
    expected = 100 * oas["aged_65_plus"].sum() / oas["population"].sum()
    assert first["pct_aged_65_plus"] == pytest.approx(expected, rel=1e-6)
    # ...which is not the mean of the OA percentages: the method matters.
    assert expected != pytest.approx(
        (100 * oas["aged_65_plus"] / oas["population"]).mean(), rel=1e-6
    )


def test_every_indicator_present_on_demo(demo_indicators) -> None:
    result = demo_indicators
    assert result.missing == {}
    assert result.substitutes == {}  # every official input is there: no stand-in is used
    assert "pct_nssec_l12_l14" in result.not_needed
    assert len(result.wards) == 40 and len(result.lsoas) == 160
    assert result.wards["pct_premises_below_30mbit"].between(0, 100).all()
    assert "areal interpolation" in result.methods["imd_score"]
    assert result.edition == "IMD 2019"
    assert result.labels["imd_score"].startswith("IMD 2019: ")


def test_a_ward_is_the_sum_of_its_lsoas(demo_indicators) -> None:
    """Both levels come from one LSOA table: a ward's counts are its LSOAs' sums, and its
    ratios the ratio of those sums."""
    wards = demo_indicators.wards.set_index("ward_code")
    lsoas = demo_indicators.lsoas
    summed = lsoas.groupby("ward_code")[["aged_65_plus", "population", "all_premises"]].sum()
    for column in summed:
        assert wards[column].reindex(summed.index).tolist() == pytest.approx(
            summed[column].tolist()
        )
    assert wards["pct_aged_65_plus"].reindex(summed.index).tolist() == pytest.approx(
        (100 * summed["aged_65_plus"] / summed["population"]).tolist(), rel=1e-6
    )
    # The IMD score is a rate: the population-weighted mean of the ward's LSOAs.
    weighted = (lsoas["imd_score"] * lsoas["area_population"]).groupby(lsoas["ward_code"]).sum()
    mean = weighted / lsoas.groupby("ward_code")["area_population"].sum()
    assert wards["imd_score"].reindex(mean.index).tolist() == pytest.approx(mean.tolist(), rel=1e-5)


def test_lsoa_codes_the_lookup_lacks_are_named() -> None:
    # Indexed by file row number, as every reader's frame is.
    frame = pd.DataFrame({"area_code": ["E00000001", "E00999999"], "n": [1, 2]}, index=[2, 3])
    lookup = pd.DataFrame({"oa21_code": ["E00000001"], "lsoa21_code": ["E01000001"]})
    with pytest.raises(Exception, match="E00999999") as caught:
        to_lsoas(frame, lookup, ["n"], "oa.csv")
    assert caught.value.row == 3


def test_interpolation_conserves_population_and_splits_by_area() -> None:
    # One 2011 LSOA straddles two wards 3:1 by area; a second lies inside ward W2.
    lsoa11 = gpd.GeoDataFrame(
        {"lsoa11_code": ["S1", "S2"]},
        geometry=[shapely.box(0, 0, 400, 100), shapely.box(400, 0, 500, 100)],
        crs="EPSG:27700",
    )
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"]},
        geometry=[shapely.box(0, 0, 300, 100), shapely.box(300, 0, 500, 100)],
        crs="EPSG:27700",
    )
    values = pd.DataFrame(
        {
            "lsoa11_code": ["S1", "S2"],
            "imd_score": [40.0, 10.0],
            "population_total": [1000.0, 3000.0],
        }
    )
    result, method = interpolate_to_wards(
        values, lsoa11, wards, rates=["imd_score"], counts=["population_total"], raster=None
    )
    # S1 gives 750 people to W1, 250 to W2; S2 gives all 3000 to W2.
    assert result["population_total"].tolist() == pytest.approx([750.0, 3250.0])
    # W1 is all S1 (40); W2 is (250*40 + 3000*10) / 3250 = 12.307692.
    assert result["imd_score"].tolist() == pytest.approx([40.0, 12.307692])
    assert "intersection areas" in method


def test_raster_weighting_follows_people(demo_data) -> None:
    raster = demo_data.frames["population-raster"]
    lsoa11 = demo_data.frames["lsoa11"]
    wards = demo_data.frames["wards"]
    imd = demo_data.frames["imd2019"][["lsoa11_code", "imd_score", "population_total"]]
    result, method = interpolate_to_wards(
        imd, lsoa11, wards, ["imd_score"], ["population_total"], raster
    )
    assert "population raster" in method
    assert result["population_total"].sum() == pytest.approx(
        imd["population_total"].sum(), rel=1e-6
    )
    assert np.isfinite(result["imd_score"]).all()


def test_access_measures_by_hand() -> None:
    from placeintel.indicators.access import PopulationPoints, access_measures

    wards = gpd.GeoDataFrame(
        {"ward_code": ["A", "B", "C"]},
        geometry=[
            shapely.box(0, 0, 1000, 1000),
            shapely.box(1000, 0, 2000, 1000),
            shapely.box(3500, 0, 4500, 1000),
        ],
        crs="EPSG:27700",
    )
    support = gpd.GeoDataFrame(geometry=[shapely.Point(500, 500)], crs="EPSG:27700")
    # 100 people at the service's door in A; in B 300 people 1 km away and 100 at 1.5 km.
    people = PopulationPoints(
        np.array([500.0, 1500, 2000]),
        np.array([500.0, 500, 500]),
        np.array([100.0, 300, 100]),
        np.array([0, 1, 1]),
        "test",
    )
    measures, _ = access_measures(wards, support, people)
    # A: mean distance 0. B: (300*1000 + 100*1500) / 400 = 1125 m. C: nobody placed there.
    distance = measures["distance_x_population"] / measures["population_for_distance"]
    assert distance["A"] == 0 and distance["B"] == pytest.approx(1125.0)
    assert measures.loc["C", "population_for_distance"] == 0
    # Within 1 km of any part of the ward: A (inside) and B (500 m from its edge); C is 3 km.
    assert measures["support_within_1km"].tolist() == [1, 1, 0]
    assert measures["support_within_2km"].tolist() == [1, 1, 0]


def test_zonal_statistics_conserve_the_raster(demo_data, demo_indicators) -> None:
    import rasterio

    result = demo_indicators
    with rasterio.open(demo_data.frames["population-raster"].path) as raster:
        total = float(raster.read(1, masked=True).sum())
    assert result.wards["population_raster"].sum() == pytest.approx(total, rel=1e-4)
    coverage = result.wards["mobile_4g_outdoor_coverage_pct"]
    assert coverage.between(0, 100).all()
    assert "exactextract" in result.methods["mobile_4g_outdoor_coverage_pct"]
    # Remote, poorly connected wards have weaker mobile coverage too (synthetic design).
    slow = (
        result.wards["pct_premises_below_30mbit"]
        > result.wards["pct_premises_below_30mbit"].median()
    )
    assert coverage[slow].mean() < coverage[~slow].mean()


def test_intersection_areas_by_hand() -> None:
    from placeintel.indicators.interpolate import intersection_areas

    sources = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 400, 100), shapely.box(400, 0, 500, 100)], crs="EPSG:27700"
    )
    targets = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 300, 100), shapely.box(300, 0, 500, 100)], crs="EPSG:27700"
    )
    # S1 lies 300 m x 100 m in T1 and 100 m x 100 m in T2; S2 wholly in T2; the shared
    # edge at x = 400 touches T1's neighbour but has no area.
    assert intersection_areas(sources, targets).toarray().tolist() == [
        [30_000.0, 10_000.0],
        [0.0, 10_000.0],
    ]


def test_nearest_service_by_kd_tree_matches_geos() -> None:
    """Point services go to a KD-tree, others to GEOS's STRtree: the same distances."""
    from placeintel.indicators.access import _nearest_chunk

    rng = np.random.default_rng(18)
    points = pd.DataFrame({"_p": np.arange(500), "x": rng.uniform(0, 5e4, 500)})
    points["y"] = rng.uniform(0, 5e4, 500)
    services = shapely.points(rng.uniform(0, 5e4, (40, 2)))
    by_tree = _nearest_chunk(points, services)["distance"].to_numpy()
    _, by_geos = shapely.STRtree(services).query_nearest(
        shapely.points(points["x"], points["y"]), return_distance=True
    )
    np.testing.assert_array_equal(by_tree, by_geos)
    # A line among the services: the STRtree answers, distances to its nearest part.
    line = np.append(services, shapely.linestrings([[0, 0], [5e4, 0]]))
    assert (_nearest_chunk(points, line)["distance"].to_numpy() <= by_geos).all()


def test_levels_share_the_raster_points_they_would_get_alone(demo_data, demo_indicators) -> None:
    """Wards and LSOAs read the raster once and share places, with the points (and order)
    each would get from the raster alone."""
    from placeintel.indicators.access import from_raster, from_raster_levels

    raster = demo_data.one("population-raster")
    wards = demo_indicators.wards[["ward_code", "geometry"]]
    lsoas = demo_indicators.lsoas[["lsoa21_code", "geometry"]]
    together = from_raster_levels([wards, lsoas], raster)
    assert together[0].places is together[1].places
    for level, shared in zip([wards, lsoas], together, strict=True):
        alone = from_raster(level, raster)
        for part in ("x", "y", "weight", "ward"):
            np.testing.assert_array_equal(getattr(shared, part), getattr(alone, part))
        every = slice(None) if shared.place is None else shared.place
        np.testing.assert_array_equal(shared.places.x[every], alone.x)


def test_zonal_sums_as_exactextract_gives_them_from_the_file(demo_data, demo_indicators) -> None:
    """The raster in memory and the zones as WKB give exactly what exactextract gives from
    the file and the GeoDataFrame."""
    from exactextract import exact_extract

    from placeintel.indicators.zonal import zonal

    raster = demo_data.one("population-raster")
    lsoas = demo_indicators.lsoas[["geometry"]].to_crs(raster.crs)
    stock = exact_extract(str(raster.path), lsoas, ["sum"], output="pandas")["sum"]
    np.testing.assert_array_equal(zonal(raster, lsoas, "sum"), stock.to_numpy())


def test_area_pieces_are_what_overlay_gives() -> None:
    """Intersecting only the pairs whose interiors meet gives overlay's pieces exactly:
    the same pairs, in the same order, with the same coordinates."""
    import geopandas as gpd
    import shapely

    from placeintel.indicators.interpolate import _area_pieces, _pieces, _plain_polygons

    grid = [shapely.box(x, y, x + 10, y + 10) for x in range(0, 50, 10) for y in range(0, 50, 10)]
    shifted = [
        shapely.box(x + 3, y - 4, x + 13, y + 6) for x in range(0, 50, 10) for y in range(0, 50, 10)
    ]
    shifted.append(shapely.Point(25, 25).buffer(7))  # crosses several squares
    shifted.append(shapely.box(50, 0, 60, 10))  # touches the grid's edge only
    sources = gpd.GeoDataFrame({"_s": range(len(grid))}, geometry=grid, crs="EPSG:27700")
    targets = gpd.GeoDataFrame({"_t": range(len(shifted))}, geometry=shifted, crs="EPSG:27700")
    assert _plain_polygons(sources) and _plain_polygons(targets)
    stock = gpd.overlay(sources, targets, how="intersection", keep_geom_type=True)
    ours = _area_pieces(sources, targets)
    np.testing.assert_array_equal(ours["_s"].to_numpy(), stock["_s"].to_numpy())
    np.testing.assert_array_equal(ours["_t"].to_numpy(), stock["_t"].to_numpy())
    assert list(shapely.to_wkb(ours.geometry.to_numpy())) == list(
        shapely.to_wkb(stock.geometry.to_numpy())
    )
    # An invalid (self-crossing) area goes to overlay, which repairs it first.
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    invalid = gpd.GeoDataFrame({"_s": [0]}, geometry=[bowtie], crs="EPSG:27700")
    assert not _plain_polygons(invalid)
    repaired = _pieces(invalid, targets, plain=False)
    assert len(repaired) > 0


def test_raster_summaries_in_a_second_process_are_the_same(demo_data, demo_indicators) -> None:
    """Wards and LSOAs summarised by `exact.py` in a second process get exactly the
    numbers this process gives them, and a process that cannot start falls back here."""
    from placeintel.engine import LocalEngine
    from placeintel.indicators.zonal import LevelStatistics, zonal_many

    requests = [(demo_data.one("population-raster"), "sum")]
    requests += [(raster, "mean") for _, raster in demo_data.role("coverage-raster")]
    wards = demo_indicators.wards[["geometry"]]
    lsoas = demo_indicators.lsoas[["geometry"]]
    empty = lsoas.iloc[:0]
    engine = LocalEngine()
    levels = [wards, empty, lsoas]
    background = LevelStatistics(requests, levels, engine, background_from=0)
    assert background._later is not None
    found = background.result()
    for level, arrays in zip(levels, found, strict=True):
        for ours, theirs in zip(arrays, zonal_many(requests, level, engine), strict=True):
            np.testing.assert_array_equal(ours, theirs)
    broken = LevelStatistics(requests, [wards], engine, background_from=0)
    broken._later._process.kill()
    for ours, theirs in zip(broken.result()[0], zonal_many(requests, wards, engine), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_cell_centres_are_rasterios() -> None:
    """Centres spread from one row and one column are rasterio's, cell for cell, for a
    pick of cells and for the whole grid; `_every` knows the whole range only."""
    import rasterio

    from placeintel.indicators.access import _centres, _every

    transform = rasterio.Affine(100.0, 0.0, 150000.0, 0.0, -100.0, 492400.0)
    shape = (7, 5)
    cells = np.array([0, 3, 4, 9, 17, 34])
    for picked in (cells, None):
        flat = np.arange(35) if picked is None else picked
        x, y = _centres(transform, shape, picked)
        xs, ys = rasterio.transform.xy(transform, flat // 5, flat % 5)
        np.testing.assert_array_equal(x, np.asarray(xs, dtype=float))
        np.testing.assert_array_equal(y, np.asarray(ys, dtype=float))
    assert _every(np.arange(6), 6) and _every(np.arange(0), 0)
    assert not _every(np.array([1, 0, 2]), 3) and not _every(np.arange(5), 6)


def test_a_target_its_source_covers_is_a_whole_piece() -> None:
    """A target inside one source is their whole intersection: the piece is the target
    itself (marked `_whole`), with the pairs, order and shapes overlay gives."""
    from placeintel.indicators.interpolate import _area_pieces

    sources = gpd.GeoDataFrame(
        {"_s": [0, 1]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
        crs="EPSG:27700",
    )
    inside = shapely.box(10, 10, 60, 60)  # inside source 0
    edge = shapely.box(100, 0, 200, 50)  # inside source 1, sharing its edges
    across = shapely.box(80, 60, 120, 100)  # across both
    targets = gpd.GeoDataFrame({"_t": [0, 1, 2]}, geometry=[inside, edge, across], crs="EPSG:27700")
    stock = gpd.overlay(sources, targets, how="intersection", keep_geom_type=True)
    ours = _area_pieces(sources, targets)
    np.testing.assert_array_equal(ours["_s"].to_numpy(), stock["_s"].to_numpy())
    np.testing.assert_array_equal(ours["_t"].to_numpy(), stock["_t"].to_numpy())
    assert shapely.equals(ours.geometry.to_numpy(), stock.geometry.to_numpy()).all()
    assert ours["_whole"].tolist() == [True, False, True, False]
    whole = ours[ours["_whole"]]
    assert list(whole.geometry) == [inside, edge]
    assert all(a is b for a, b in zip(whole.geometry, [inside, edge], strict=True))


def test_known_population_is_reused_for_the_same_zones_only(demo_data) -> None:
    """The interpolation's people: the LSOAs' known sums for whole pieces, the same table
    as summing every piece; a known sum over other zones (a moved shape, another code,
    another raster) is not used."""
    from placeintel.indicators.interpolate import population_table
    from placeintel.indicators.zonal import KnownSums, zonal_sums

    raster = demo_data.one("population-raster")
    source = demo_data.one("lsoa11")
    target = demo_data.one("lsoa21")
    codes = target["lsoa21_code"]
    sums = zonal_sums(raster, target)
    asked = []

    shapes = target.geometry.to_numpy()

    def known(geometry=shapes, path=str(raster.path), index=codes):
        def given() -> np.ndarray:
            asked.append(path)
            return sums

        return KnownSums(path, target.crs, pd.Index(index), geometry, given)

    alone = population_table(source, target, raster).toarray()
    reused = population_table(source, target, raster, known=known(), codes=codes).toarray()
    np.testing.assert_array_equal(reused, alone)
    assert asked  # the demo has whole pieces: the known sums were used
    asked.clear()
    moved = shapely.transform(target.geometry.to_numpy(), lambda xy: xy + 1e-6)
    for other in (known(geometry=moved), known(path="elsewhere.tif"), known(index=codes + "x")):
        np.testing.assert_array_equal(
            population_table(source, target, raster, known=other, codes=codes).toarray(), alone
        )
    assert not asked


def test_failed_second_process_is_said(demo_data, demo_indicators) -> None:
    """A second process that fails is told in one line, with its exit and what it wrote
    to stderr (a traceback's first and last lines), before the work is redone here."""
    from placeintel.engine import LocalEngine
    from placeintel.indicators.zonal import LevelStatistics, _failure, zonal_many

    requests = [(demo_data.one("population-raster"), "sum")]
    wards = demo_indicators.wards[["geometry"]]
    heard: list[str] = []
    broken = LevelStatistics(requests, [wards], LocalEngine(), background_from=0, echo=heard.append)
    broken._later._process.kill()
    for ours, theirs in zip(broken.result()[0], zonal_many(requests, wards), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert heard == [
        "  raster summaries: the second process failed (killed by signal 9); "
        "computing them in this one"
    ]
    trace = b'Traceback (most recent call last):\n  File "exact.py", line 1\n    main()\n'
    trace += b"OSError: no.tif: No such file\n"
    assert _failure(1, trace) == (
        "exit status 1: Traceback (most recent call last): | ... | main() | "
        "OSError: no.tif: No such file"
    )
    assert _failure(2, b"one\n\ntwo\nthree\nfour\n") == "exit status 2: one | two | three"


def test_grid_places_are_the_centres_and_their_distances_in_chunks(monkeypatch) -> None:
    """A grid's places, made chunk by chunk, are `_centres`' (all cells, or a pick), and
    their distances (by blocks with one nearest service, or in chunks) are those of one
    query on the whole arrays."""
    import rasterio

    from placeintel.engine import LocalEngine
    from placeintel.indicators import access

    transform = rasterio.Affine(100.0, 0.0, 150000.0, 0.0, -100.0, 492400.0)
    rng = np.random.default_rng(5)
    services = shapely.points(rng.uniform(150000, 153000, (25, 2)))
    support = gpd.GeoDataFrame(geometry=services, crs="EPSG:27700")
    monkeypatch.setattr(access, "QUERY_CHUNK", 7)
    picks = [np.sort(rng.choice(1200, n, replace=False)) for n in (1100, 500)]
    for cells in (None, *picks):
        places = access._grid_places(transform, (40, 30), cells)
        x, y = access._centres(transform, (40, 30), cells)
        np.testing.assert_array_equal(places.x, x)
        np.testing.assert_array_equal(places.y, y)
        np.testing.assert_array_equal(places.pairs(3, 11), np.column_stack([x, y])[3:11])
        np.testing.assert_array_equal(
            access.place_distances(places, support, LocalEngine()), access._nearest(x, y, services)
        )


def test_grid_distances_by_blocks_are_the_kd_trees(monkeypatch) -> None:
    """Blocks whose corners share a nearest service take every cell's distance from it:
    the tree's own distances, for services sparse and dense, on grids of every shape."""
    import rasterio
    from scipy.spatial import cKDTree

    from placeintel.indicators import access

    rng = np.random.default_rng(18)
    transform = rasterio.Affine(100.0, 0.0, 150000.0, 0.0, -100.0, 492400.0)
    for shape, count in (((40, 30), 3), ((41, 29), 60), ((9, 10), 4), ((1, 12), 2)):
        height, width = shape
        xy = rng.uniform(
            [150000, 492400 - 100 * height], [150000 + 100 * width, 492400], (count, 2)
        )
        tree = cKDTree(xy)
        places = access._grid_places(transform, shape, None)
        x, y = access._centres(transform, shape, None)
        expected = tree.query(np.column_stack([x, y]), k=1)[0]
        found = access._grid_distances(places, tree)
        if min(shape) < 2:
            assert found is None
            continue
        np.testing.assert_array_equal(found, expected)
        cells = np.sort(rng.choice(height * width, height * width // 2, replace=False))
        picked = access._grid_distances(access._grid_places(transform, shape, cells), tree)
        np.testing.assert_array_equal(picked, expected[cells])
