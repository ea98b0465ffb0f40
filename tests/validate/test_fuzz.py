"""Random bytes and random damage to each of the demo's files: every failure is a finding.

Each example copies one source file of the demo region, damages it (random bytes, or the
real file with bytes flipped, cut, inserted or lines repeated), and puts it through the
same per-file path `placeintel validate` takes: schema checks, then the reader. Anything
other than a frame or a finding, i.e. an exception escaping, fails the test. The number of
examples is kept small so the whole file runs in seconds in CI.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.validate import validate_source
from placeintel.validate.report import Report

DEMO = DATASETS_DIR / "demo"
SOURCES = [s for s in load_manifest("demo").sources]


def _flip(data: bytes, position: int, byte: int) -> bytes:
    if not data:
        return bytes([byte])
    position %= len(data)
    return data[:position] + bytes([byte]) + data[position + 1 :]


def _cut(data: bytes, position: int, _byte: int) -> bytes:
    return data[: position % (len(data) + 1)]


def _insert(data: bytes, position: int, byte: int) -> bytes:
    position %= len(data) + 1
    return data[:position] + bytes([byte]) * (1 + byte % 7) + data[position:]


def _repeat_line(data: bytes, position: int, _byte: int) -> bytes:
    lines = data.split(b"\n")
    line = lines[position % len(lines)]
    return b"\n".join([*lines[: position % len(lines)], line, *lines[position % len(lines) :]])


def _splice_text(data: bytes, position: int, byte: int) -> bytes:
    """Awkward text where a value was: quotes, separators, NUL, a BOM, a huge number."""
    pieces = [b'"', b",", b";", b"\t", b"\x00", b"\xef\xbb\xbf", b"1e308", b"NaN", b"-", b"\r"]
    position %= len(data) + 1
    return data[:position] + pieces[byte % len(pieces)] + data[position:]


MUTATIONS = (_flip, _cut, _insert, _repeat_line, _splice_text)

damage = st.lists(
    st.tuples(
        st.sampled_from(MUTATIONS),
        st.integers(min_value=0, max_value=2**20),
        st.integers(min_value=0, max_value=255),
    ),
    min_size=1,
    max_size=6,
)


def _judge(region: Path, source_index: int) -> None:
    """Validate the damaged source the way `placeintel validate` does; any escape fails."""
    manifest = load_manifest(region / "region.yml")
    source = manifest.sources[source_index]
    report = Report(manifest.name)
    frame = validate_source(manifest, source, report)
    if frame is None:
        assert report.findings, f"{source.id}: nothing read, yet no finding says why"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "demo"
    shutil.copytree(DEMO, folder)
    return folder


def _restore(region: Path, path: str) -> Path:
    target = region / path
    shutil.copyfile(DEMO / path, target)
    return target


@pytest.mark.parametrize("index", range(len(SOURCES)), ids=[s.id for s in SOURCES])
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=damage)
def test_damaged_file_is_a_finding_not_a_crash(region: Path, index: int, ops: list) -> None:
    source = SOURCES[index]
    target = _restore(region, source.path)
    data = target.read_bytes()
    for mutate, position, byte in ops:
        data = mutate(data, position, byte)
    target.write_bytes(data)
    try:
        _judge(region, index)
    finally:
        _restore(region, source.path)


@pytest.mark.parametrize("index", range(len(SOURCES)), ids=[s.id for s in SOURCES])
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_a_finding_not_a_crash(region: Path, index: int, data: bytes) -> None:
    source = SOURCES[index]
    target = _restore(region, source.path)
    target.write_bytes(data)
    try:
        _judge(region, index)
    finally:
        _restore(region, source.path)
