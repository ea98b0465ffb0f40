"""Region manifests from outside: the schema, the YAML loader, and paths kept in their folder.

A manifest is hostile input: each wrong one here is refused as one usage error that names
the manifest key at fault (exit 2), never a traceback, a hang or a read outside the data
folder; the real manifests still pass.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from placeintel import Release
from placeintel.errors import ManifestError
from placeintel.limits import MANIFEST_BYTES
from placeintel.region import DATASETS_DIR, SCHEMA, inside, load_manifest
from placeintel.validate import validate_sources

DEMO = DATASETS_DIR / "demo"
DEMO_IDS = [s["id"] for s in yaml.safe_load((DEMO / "region.yml").read_text())["sources"]]
DWP = f"sources[{DEMO_IDS.index('pension-credit')}]"


def demo_copy(tmp_path: Path, edit: Callable[[dict], None] | None = None) -> Path:
    """A copy of the demo region, its manifest edited as a dict."""
    region = tmp_path / "demo"
    shutil.copytree(DEMO, region)
    if edit is not None:
        manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
        edit(manifest)
        text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
        (region / "region.yml").write_text(text, encoding="utf-8")
    return region


def manifest_text(tmp_path: Path, text: str | bytes) -> Path:
    """A region folder whose manifest is exactly `text`."""
    region = tmp_path / "raw"
    region.mkdir(exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    (region / "region.yml").write_bytes(data)
    return region


def source(manifest: dict, source_id: str) -> dict:
    return next(s for s in manifest["sources"] if s["id"] == source_id)


def placeintel(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "placeintel.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **env},
    )


# --- the real manifests pass ---------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("region", ["demo", "greater-manchester"])
def test_the_real_manifests_pass_the_schema(region: str) -> None:
    manifest = load_manifest(region)
    assert manifest.name == region
    assert all(s.key.startswith(("sources[", "nation.sources[")) for s in manifest.sources)


def test_the_real_manifest_with_its_data_and_nation_files(realdata: Path) -> None:
    manifest = load_manifest("greater-manchester", realdata)
    assert manifest.nation is not None and len(manifest.nation.sources) == 6
    assert manifest.nation.sources[0].key == "nation.sources[0]"
    for entry in (*manifest.sources, *manifest.nation.sources):
        path = manifest.source_path(entry)  # every real path stays inside the data folder
        assert path.resolve().is_relative_to(realdata.resolve())


def test_reader_options_pass_through_and_dates_stay_text(tmp_path: Path) -> None:
    def edit(manifest: dict) -> None:
        source(manifest, "pension-credit")["vintage"] = "2024-05-01"

    region = demo_copy(tmp_path, edit)
    (region / "region.yml").write_text(
        (region / "region.yml").read_text().replace("'2024-05-01'", "2024-05-01")
    )
    manifest = load_manifest(region)
    census = next(s for s in manifest.sources if s.id == "census2021")
    assert census.options["measures"]["population"] == "Age: Total"
    services = next(s for s in manifest.sources if s.id == "council-services")
    assert services.options["category_map"]["Jobcentre Plus"] == "jobcentre"
    assert next(s for s in manifest.sources if s.id == "pension-credit").vintage == "2024-05-01"


# --- a key of the wrong type is a usage error naming the key --------------------------------


WRONG = [
    ("sources-null", lambda m: m.update(sources=None), "sources", "must be a list, got null"),
    ("sources-a-number", lambda m: m.update(sources=5), "sources", "must be a list, got 5"),
    (
        "minimum-count-in-words",
        lambda m: m["publish"]["disclosure"].update(minimum_count="ten"),
        "publish.disclosure.minimum_count",
        'whole number of people or households, 0 or more (e.g. 10), got "ten"',
    ),
    (
        "minimum-count-negative",
        lambda m: m["publish"]["disclosure"].update(minimum_count=-1),
        "publish.disclosure.minimum_count",
        "got -1",
    ),
    (
        "keep-zero-not-a-boolean",
        lambda m: m["publish"]["disclosure"].update(keep_zero="yes please"),
        "publish.disclosure.keep_zero",
        "must be true or false",
    ),
    (
        "public-fields-not-a-list",
        lambda m: m["publish"].update(public_fields="email"),
        "publish.public_fields",
        "must be a list",
    ),
    (
        "weights-not-a-mapping",
        lambda m: m["index"].update(indicator_weights=[1, 2]),
        "index.indicator_weights",
        "must be a mapping",
    ),
    (
        "a-weight-in-words",
        lambda m: m["index"].update(component_weights={"broadband": "high"}),
        "index.component_weights.broadband",
        "whole number from 0 to 10",
    ),
    (
        "unknown-index-key",
        lambda m: m["index"].update(weights={"broadband": 3}),
        "index.weights",
        "unknown key",
    ),
    ("unknown-base", lambda m: m["index"].update(base="planet"), "index.base", "must be one of"),
    ("unknown-top-level-key", lambda m: m.update(sorces=[]), "sorces", "unknown key"),
    ("name-climbs-out", lambda m: m.update(name="../../x"), "name", "must be a slug"),
    ("name-upper-case", lambda m: m.update(name="Demo"), "name", "must be a slug"),
    (
        "id-with-a-slash",
        lambda m: source(m, "pension-credit").update(id="../dwp"),
        f"{DWP}.id",
        "must be a slug",
    ),
    (
        "duplicate-id",
        lambda m: source(m, "pension-credit").update(id="wards"),
        f"{DWP}.id",
        "duplicate source id",
    ),
    (
        "unknown-role",
        lambda m: source(m, "pension-credit").update(role="pension"),
        f"{DWP}.role",
        "must be one of",
    ),
    (
        "path-missing",
        lambda m: source(m, "pension-credit").pop("path"),
        f"{DWP}.path",
        "missing required key",
    ),
    (
        "path-a-number",
        lambda m: source(m, "pension-credit").update(path=5),
        f"{DWP}.path",
        "relative to the data folder",
    ),
    (
        "path-with-a-nul-byte",
        lambda m: source(m, "pension-credit").update(path="dwp/a\x00b.csv"),
        f"{DWP}.path",
        "without control characters",
    ),
    (
        "optional-not-a-boolean",
        lambda m: source(m, "pension-credit").update(optional="maybe"),
        f"{DWP}.optional",
        "must be true or false",
    ),
    (
        "a-source-not-a-mapping",
        lambda m: m["sources"].append("wards.geojson"),
        f"sources[{len(DEMO_IDS)}]",
        "must be a mapping",
    ),
    (
        "weight-not-a-number",
        lambda m: m["index"].update(indicator_weights={"pct_aged_65_plus": float("nan")}),
        "index.indicator_weights.pct_aged_65_plus",
        "whole number from 0 to 10",
    ),
    (
        "weight-too-large",
        lambda m: m["index"].update(component_weights={"broadband": 1e40}),
        "index.component_weights.broadband",
        "whole number from 0 to 10",
    ),
    (
        "category-map-a-number",
        lambda m: source(m, "council-services").update(category_map=5),
        f"sources[{DEMO_IDS.index('council-services')}].category_map",
        "must map each category",
    ),
    (
        "extra-fields-a-string",
        lambda m: source(m, "council-services").update(extra_fields="email"),
        f"sources[{DEMO_IDS.index('council-services')}].extra_fields",
        "a list of column names",
    ),
    ("title-a-list", lambda m: m.update(title=["a"] * 500), "title", "characters)"),
    ("contributors-a-string", lambda m: m.update(contributors="me"), "contributors", "a list"),
    ("nation-a-list", lambda m: m.update(nation=[1]), "nation", "must be a mapping"),
    (
        "nation-cap-in-words",
        lambda m: m.update(
            nation={"sources": [dict(source(m, "imd2019"))], "cap_percentiles": "x"}
        ),
        "nation.cap_percentiles",
        "[low, high] percentiles",
    ),
    # issue 15: the contact the API's pages show
    (
        "contact-email-not-an-address",
        lambda m: m.update(contact={"email": "call us"}),
        "contact.email",
        "must be one email address",
    ),
    (
        "contact-url-a-script",
        lambda m: m.update(contact={"url": "javascript:alert(1)"}),
        "contact.url",
        "must be a web address",
    ),
    ("contact-unknown-key", lambda m: m.update(contact={"fax": "1"}), "contact.fax", "unknown key"),
    (
        "source-url-a-script",  # a source's url becomes a link in the catalogue and docs
        lambda m: source(m, "pension-credit").update(url="javascript:alert(1)"),
        f"{DWP}.url",
        "must be a web address",
    ),
]


@pytest.mark.parametrize(
    ("edit", "key", "words"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG]
)
def test_a_wrong_type_is_a_usage_error_naming_the_key(
    edit: Callable[[dict], None], key: str, words: str, tmp_path: Path
) -> None:
    region = demo_copy(tmp_path, edit)
    with pytest.raises(ManifestError) as raised:
        load_manifest(region)
    error = raised.value
    assert (error.field, error.exit_code) == (key, 2), str(error)
    assert words in error.message, str(error)
    assert Path(error.file).name == "region.yml"
    assert len(str(error)) < 600  # a huge value is quoted, not echoed


# --- YAML that would take the machine down -------------------------------------------------


def _alias_bomb() -> str:
    """Billion laughs: ten levels of ten aliases, a few hundred bytes that expand to 10^9."""
    lines = ['  l0: &l0 "lol"'] + [
        f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)
    ]
    return "name: demo\nsources: []\ndescription:\n" + "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    region = manifest_text(tmp_path, _alias_bomb())
    started = time.perf_counter()
    with pytest.raises(ManifestError, match="more than 100,000 values once its YAML aliases"):
        load_manifest(region)
    assert time.perf_counter() - started < 0.5


def test_a_yaml_alias_that_refers_to_itself(tmp_path: Path) -> None:
    text = "name: demo\nsources: []\ndescription: &d [1, *d]\n"
    with pytest.raises(ManifestError, match="line 3: a YAML alias refers to the value it is in"):
        load_manifest(manifest_text(tmp_path, text))


def test_plain_aliases_as_yaml_dump_writes_them_are_accepted(tmp_path: Path) -> None:
    """PyYAML writes an anchor and an alias for a value used twice; that is no bomb."""

    def edit(manifest: dict) -> None:
        census = source(manifest, "census2021")
        manifest["sources"].append({**census, "id": "census-again"})  # shares `measures`

    region = demo_copy(tmp_path, edit)
    assert "*id001" in (region / "region.yml").read_text()
    manifest = load_manifest(region)
    again = next(s for s in manifest.sources if s.id == "census-again")
    assert again.options["measures"]["population"] == "Age: Total"


YAML_ATTACKS = [
    ("too-large", "name: demo\nsources: []\ndescription: " + "x" * MANIFEST_BYTES, "larger than"),
    ("nested-too-deeply", "name: demo\nsources: []\nx: " + "[" * 50_000 + "]" * 50_000, "deep"),
    (
        "an-integer-of-100000-digits",
        "name: demo\nsources: []\npublish: {disclosure: {minimum_count: " + "9" * 100_000 + "}}",
        "not valid YAML",
    ),
    ("a-key-twice", "name: demo\nname: other\nsources: []\n", "line 2: the key 'name' appears"),
    ("a-python-tag", "name: !!python/object/apply:os.system [id]\nsources: []\n", "not valid"),
    ("not-a-mapping", "- name\n- sources\n", "must be a mapping"),
    ("empty", "", "missing required key"),
    ("not-yaml", "name: [demo\n", "not valid YAML"),
    ("a-nul-byte", "name: demo\ntitle: De\x00mo\nsources: []\n", "not valid YAML"),
    ("an-escape-character", "name: demo\ntitle: De\x1bmo\nsources: []\n", "not valid YAML"),
    ("infinity", "name: demo\nsources: []\npublish: {disclosure: {minimum_count: .inf}}", "got"),
]


@pytest.mark.parametrize(
    ("text", "words"), [a[1:] for a in YAML_ATTACKS], ids=[a[0] for a in YAML_ATTACKS]
)
def test_yaml_attacks_are_usage_errors(text: str, words: str, tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(ManifestError, match=words.replace("[", r"\[").replace("(", r"\(")):
        load_manifest(manifest_text(tmp_path, text))
    assert time.perf_counter() - started < 5


def test_a_manifest_that_is_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_manifest(manifest_text(tmp_path, b"name: d\xe9mo\nsources: []\n"))


# --- paths stay inside the data folder -----------------------------------------------------


def test_a_path_may_wander_but_must_end_inside(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "a").mkdir(parents=True)
    manifest = tmp_path / "region.yml"
    assert inside(folder, "a/../b.csv", "sources[0].path", manifest) == folder / "a/../b.csv"
    for name, words in (("../b.csv", "leads outside"), ("/etc/passwd", "absolute path")):
        with pytest.raises(ManifestError, match=words) as raised:
            inside(folder, name, "sources[0].path", manifest)
        assert raised.value.field == "sources[0].path"
        assert raised.value.rule == "path-outside-data"
    (folder / "loop").symlink_to(folder / "loop")
    with pytest.raises(ManifestError, match="cannot be resolved|leads outside"):
        inside(folder, "loop", "sources[0].path", manifest)


def test_a_nation_source_outside_the_data_folder_is_named_by_its_key(tmp_path: Path) -> None:
    def edit(manifest: dict) -> None:
        imd = dict(source(manifest, "imd2019"), id="nation-imd", path="../../../etc/passwd")
        manifest["nation"] = {"title": "Nowhere", "sources": [imd]}

    _, report = validate_sources(load_manifest(demo_copy(tmp_path, edit)))
    finding = next(f for f in report.errors if f.rule == "path-outside-data")
    assert finding.field == "nation.sources[0].path"
    assert finding.value == "../../../etc/passwd"
    assert not [f for f in report.findings if "root:" in f.message + f.hint + f.value]


def test_a_shapefiles_sidecar_linked_out_of_the_data_folder(tmp_path: Path) -> None:
    """GDAL opens `x.dbf` beside `x.shp`: a sidecar linked elsewhere is not followed."""
    region = demo_copy(tmp_path)
    outside = tmp_path / "elsewhere.dbf"
    dbf = region / "boundaries" / "LSOA_2011_EW_BGC.dbf"
    shutil.move(dbf, outside)
    dbf.symlink_to(outside)
    _, report = validate_sources(load_manifest(region))
    key = f"sources[{DEMO_IDS.index('lsoa11')}].path"
    assert [f.field for f in report.errors if f.rule == "path-outside-data"] == [key]


# --- through the command line: exit code, the key, no traceback, current unchanged ---------


def _current(releases: Path) -> tuple[Path, str]:
    current = (releases / "demo" / "current").resolve()
    return current, hashlib.sha256((current / "datapackage.json").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda m: m.update(sources=None), "sources"),
        (lambda m: m.update(sources=5), "sources"),
        (
            lambda m: m["publish"]["disclosure"].update(minimum_count="ten"),
            "publish.disclosure.minimum_count",
        ),
    ],
    ids=["sources-null", "sources-5", "minimum-count-ten"],
)
def test_build_refuses_a_wrong_manifest_with_its_key(
    edit: Callable[[dict], None],
    key: str,
    tmp_path: Path,
    demo_release: Release,
    releases_dir: Path,
) -> None:
    before = _current(releases_dir)
    region = demo_copy(tmp_path, edit)
    for command in (
        ["validate", str(region)],
        ["build", str(region), "--releases", str(releases_dir)],
    ):
        result = placeintel(*command)
        assert result.returncode == 2, result.stderr
        assert f"region.yml, field '{key}'" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert _current(releases_dir) == before


def test_validate_does_not_read_or_echo_etc_passwd(tmp_path: Path) -> None:
    for n, path in enumerate(("../../../../../../../../../../etc/passwd", "/etc/passwd")):
        region = demo_copy(
            tmp_path / str(n), lambda m, p=path: source(m, "pension-credit").update(path=p)
        )
        result = placeintel("validate", str(region))
        assert result.returncode == 1, result.stderr
        assert f"[path-outside-data] {region / 'region.yml'}, field '{DWP}.path'" in result.stdout
        assert "root:" not in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr


def test_a_region_name_cannot_write_outside_the_releases_folder(tmp_path: Path) -> None:
    region = demo_copy(tmp_path / "in", lambda m: m.update(name="../../escaped"))
    releases = tmp_path / "a" / "b" / "releases"
    result = placeintel("build", str(region), "--releases", str(releases))
    assert result.returncode == 2 and "field 'name': must be a slug" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("escaped*")) and not releases.exists()


def test_the_alias_bomb_through_the_command_line(tmp_path: Path) -> None:
    region = demo_copy(tmp_path)
    text = (region / "region.yml").read_text(encoding="utf-8")
    start = text.index("description:")
    end = text.index("publisher:")
    bomb = _alias_bomb().split("description:\n", 1)[1]
    (region / "region.yml").write_text(text[:start] + "description:\n" + bomb + text[end:])
    result = placeintel("validate", str(region))
    assert result.returncode == 2
    assert "more than 100,000 values once its YAML aliases are written out" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_real_region_without_a_contact_is_warned_once(tmp_path: Path) -> None:
    def real_without_contact(manifest: dict) -> None:
        manifest["synthetic"] = False
        del manifest["contact"]

    report = validate_sources(load_manifest(demo_copy(tmp_path / "a", real_without_contact)))[1]
    found = [f for f in report.findings if f.rule == "no-contact"]
    assert [(f.severity, f.field) for f in found] == [("warning", "contact")]
    assert found[0].file.endswith("region.yml") and report.ok
    named = validate_sources(
        load_manifest(demo_copy(tmp_path / "b", lambda m: m.update(synthetic=False)))
    )[1]
    assert not [f for f in named.findings if f.rule == "no-contact"]
