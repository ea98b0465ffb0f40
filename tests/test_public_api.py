"""The analysts' Python API: its doctests run, and it behaves as documented."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import placeintel
import placeintel.public_api
from tests.cdp import CHROMIUM
from tests.pages import asset_urls, http_server, unloadable_in_jupyter

requires_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


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


def test_explore_returns_a_folium_map_that_needs_no_files(demo_release) -> None:
    import folium

    fmap = placeintel.explore(demo_release, district="E08000991")
    assert isinstance(fmap, folium.Map)
    html = fmap.get_root().render()
    assert "placeintelMap(" in html
    assert unloadable_in_jupyter(html) == []
    scripts = [u for u in asset_urls(html) if u.startswith("data:text/javascript")]
    assert len(scripts) >= 3  # Leaflet, markercluster and the map's own script
    assert "file:" not in html and str(demo_release.path) not in html


@requires_chromium
def test_explore_draws_in_jupyter_served_over_http(demo_release, server, tmp_path: Path) -> None:
    """The notebook output (folium's iframe) in a page from a local http server, as
    Jupyter serves it, for a release on disk and one read from the API."""
    from tests.cdp import Browser

    drawn = """(function () {
      var frame = document.querySelector('iframe');
      var page = frame && frame.contentDocument;
      var pane = page && page.querySelector('.leaflet-overlay-pane');
      return !!(pane && frame.contentWindow.L &&
                (pane.querySelectorAll('path').length >= 40 || pane.querySelector('canvas')));
    })()"""
    with Browser(tmp_path / "chromium") as browser:
        for name, release in (("disk", demo_release), ("api", placeintel.load_release(server))):
            cell = placeintel.explore(release)._repr_html_()
            (tmp_path / f"{name}.html").write_text(
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>notebook</title></head><body><main>{cell}</main></body></html>",
                encoding="utf-8",
            )
            with http_server(tmp_path) as (url, requests):
                visit = browser.visit(f"{url}/{name}.html", ready=drawn)
            assert visit.ready, f"{name}: the map did not draw; errors: {visit.exceptions}"
            assert visit.exceptions == [], name
            # Only the notebook page itself was asked for: no asset from the server.
            assert [r for r in requests if r != "/favicon.ico"] == [f"/{name}.html"], name


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


def _with_twins(demo_release, tmp_path: Path) -> tuple[placeintel.Release, Path]:
    """The demo release with one ward in each of two districts renamed "Brooklands" (as
    in Manchester and in Trafford), in memory and as a releases folder for the CLI."""
    import os
    import shutil
    from dataclasses import replace

    wards = demo_release.wards.copy()
    first = wards.groupby("lad_code").head(1).index[:2]
    wards.loc[first, "ward_name"] = "Brooklands"
    assert wards.loc[first, "lad_name"].nunique() == 2
    folder = tmp_path / "releases" / "demo" / demo_release.version
    shutil.copytree(demo_release.path, folder)
    wards.to_parquet(folder / "wards.parquet")
    os.symlink(folder.name, folder.parent / "current")
    return replace(demo_release, wards=wards), tmp_path / "releases"


def test_explain_takes_a_name_as_the_cli_does(demo_release, tmp_path: Path) -> None:
    leader = demo_release.wards.sort_values("deri_rank").iloc[0]
    by_code = demo_release.explain(leader["ward_code"])
    assert len(by_code) >= 10 and by_code["contribution"].notna().any()
    for typed in (leader["ward_name"], leader["ward_name"].upper(), f"  {leader['ward_code']}"):
        assert demo_release.explain(typed).equals(by_code), typed
    lsoa = demo_release.lsoas.iloc[5]
    assert demo_release.explain(lsoa["lsoa21_name"].lower()).equals(
        demo_release.explain(lsoa["lsoa21_code"])
    )
    # Accents and curly apostrophes are typed both ways.
    from dataclasses import replace

    accented = demo_release.wards.copy()
    accented.loc[accented["ward_code"] == leader["ward_code"], "ward_name"] = "St Mary’s Bröw"
    assert replace(demo_release, wards=accented).explain("st mary's brow").equals(by_code)
    # Nothing, or a megabyte, is refused before any comparison.
    for typed, said in (("  ", "it was empty"), ("x" * 1_000_000, "at most 200")):
        with pytest.raises(placeintel.UsageError, match=said):
            demo_release.explain(typed)
    # A part of a name is not guessed at, but offered.
    with pytest.raises(placeintel.UsageError, match="did you mean") as partial:
        demo_release.explain(leader["ward_name"][:5])
    assert f"{leader['ward_name']} ({leader['lad_name']}, {leader['ward_code']})" in str(
        partial.value
    )


def test_a_shared_name_is_refused_alike_by_explain_and_the_cli(
    demo_release, tmp_path: Path
) -> None:
    import subprocess
    import sys

    twins, releases = _with_twins(demo_release, tmp_path)
    candidates = [
        f"Brooklands ({row.lad_name}, {row.ward_code})"
        for row in twins.wards[twins.wards["ward_name"] == "Brooklands"].itertuples()
    ]
    with pytest.raises(placeintel.UsageError, match="2 wards are called 'brooklands'") as asked:
        twins.explain("brooklands")
    assert all(c in str(asked.value) for c in candidates), asked.value
    cli = subprocess.run(
        [sys.executable, "-m", "placeintel.cli", "explain", "demo", "BROOKLANDS"]
        + ["--releases", str(releases)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    assert "2 wards are called 'BROOKLANDS'" in cli.stderr
    assert all(c in cli.stderr for c in candidates), cli.stderr
    # Its code still says which one.
    code = twins.wards[twins.wards["ward_name"] == "Brooklands"]["ward_code"].iloc[1]
    assert twins.explain(code).equals(demo_release.explain(code))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("placeintel-*"))


def test_build_without_a_folder_keeps_its_files_while_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import tempfile
    from dataclasses import replace

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    said: list[str] = []
    release = placeintel.build("demo", echo=said.append)
    folder = release.path
    assert folder.is_relative_to(tmp_path) and (folder / "map.html").is_file()
    assert any(str(release.temporary.path) in line and "removed" in line for line in said)
    assert release.package.resources  # the files are there to read while it is in use
    copy = replace(release, title="a copy")  # shares the folder, and keeps it alive
    del release
    gc.collect()
    assert (folder / "wards.parquet").is_file()
    del copy
    gc.collect()
    assert not folder.exists() and _leftovers(tmp_path) == []


def test_build_without_a_folder_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook session's builds, then the kernel exits; and a build that fails."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    session = (
        "import placeintel\n"
        "kept = placeintel.build('demo')\n"
        "print(kept.path, (kept.path / 'map.html').is_file())\n"
        "placeintel.build('demo', weights={'broadband': 6})\n"  # not kept: gone at once
    )
    run = subprocess.run(
        [sys.executable, "-c", session],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    path, had_map = run.stdout.split()
    assert Path(path).is_relative_to(tmp_path) and had_map == "True"
    assert _leftovers(tmp_path) == []

    region = tmp_path / "broken" / "demo"
    shutil.copytree(Path(placeintel.__file__).parent.parent / "datasets" / "demo", region)
    (region / "lookups" / "LSOA21_WD23_LAD23_EW_LU.csv").write_text("", encoding="utf-8")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    said: list[str] = []
    with pytest.raises(placeintel.ValidationFailed):
        placeintel.build(region, echo=said.append)
    assert str(tmp_path) in said[0]  # it had made its temporary folder ...
    assert _leftovers(tmp_path) == []  # ... and removed it


def test_package_names_every_public_function_and_imports_it_on_first_use() -> None:
    """`import placeintel` is light (a publish worker, `--help`), yet every name is there."""
    assert set(placeintel.__all__) >= set(placeintel.public_api.__all__)
    for name in placeintel.public_api.__all__:  # each listed name is defined where it is found
        assert getattr(placeintel, name) is vars(placeintel.public_api)[name]
    for name in placeintel.__all__:
        assert getattr(placeintel, name) is not None
    assert placeintel.build is placeintel.public_api.build
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        placeintel.nonesuch  # noqa: B018 - the lookup itself is the test
    probe = (
        "import sys, placeintel; heavy = {'geopandas', 'folium', 'scipy.stats', 'mapclassify'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    # A subpackage of the same name imported first does not hide the function.
    probe = (
        "import placeintel.validate, placeintel.publish, placeintel; "
        "print(callable(placeintel.validate), callable(placeintel.publish))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True True"
