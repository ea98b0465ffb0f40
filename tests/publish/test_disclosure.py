"""Disclosure control holds: an attacker holding every published file recovers no blanked count.

The demo is built with `minimum_count: 40`, so that hundreds of counts are blanked, and
once with no rule at all, which gives the true counts to judge the attacker by. The
attacker tries each reconstruction a reviewer found, on every layer and format, and a
blanked count is *recovered* when an attack lands within ±0.5 of the truth, or when what
is published pins it to an interval no wider than 1. A last test changes the true counts
of two blanked cells (keeping every published total) and requires every published file
to stay the same: what a blanked count does not change cannot reveal it.
"""

from __future__ import annotations

import collections
import json
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.optimize import Bounds, LinearConstraint, milp

from placeintel import Release, build
from placeintel.errors import DataError
from placeintel.indicators.catalogue import INDICATORS
from placeintel.indicators.values import indicator_values, rolled_counts
from placeintel.publish.disclosure import DisclosureRule
from placeintel.region import DATASETS_DIR
from tests.conftest import DEMO_SMALL_AREA_ROLES

THRESHOLD = 40
FORMATS = ("csv", "geojson", "gpkg", "parquet")
KEYS = {"lsoas": "lsoa21_code", "wards": "ward_code"}
#: The indicators disclosure control covers, and the counts they are made of.
GUARDED = [i for i in INDICATORS if i.disclosive and i.denominator]
COUNTS = sorted({c for i in GUARDED for c in (i.numerator, i.denominator)})
DWP = "dwp/pension-credit-claimants-lsoa21-may-2024.csv"


def _region(root: Path, name: str, minimum: int, nation: bool = False) -> Path:
    """A copy of the demo region with its own disclosure rule (and, for `nation`, the demo's
    small-area files as its own nation, uncapped, so the nation's extremes are the region's)."""
    region = root / name
    shutil.copytree(DATASETS_DIR / "demo", region)
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    manifest["publish"]["disclosure"] = {"minimum_count": minimum, "keep_zero": True}
    if nation:
        manifest["nation"] = {
            "title": "Demo as its own nation",
            "codes": "E01",
            "cap_percentiles": [0, 100],
            "sources": [
                {**source, "id": f"nation-{source['id']}"}
                for source in manifest["sources"]
                if source["role"] in DEMO_SMALL_AREA_ROLES
            ],
        }
        manifest["index"] = {"base": "nation"}
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return region


def _build(region: Path, root: Path) -> Release:
    return build(region, releases=root / f"{region.name}-releases", echo=lambda line: None)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("disclosure")


@pytest.fixture(scope="module")
def truth(root: Path) -> Release:
    """The same data published with no rule: the counts the attacker is after."""
    return _build(_region(root, "open", 0), root)


@pytest.fixture(scope="module")
def region_base(root: Path) -> Release:
    return _build(_region(root, "region-base", THRESHOLD), root)


@pytest.fixture(scope="module")
def nation_base(root: Path) -> Release:
    return _build(_region(root, "nation-base", THRESHOLD, nation=True), root)


# --- what the attacker holds ---------------------------------------------------------


@dataclass
class Published:
    """Everything a release publishes per area: each layer merged over its four formats
    (a value any format shows counts as shown), and the data package's own figures."""

    levels: dict[str, pd.DataFrame]
    deprivation: pd.DataFrame
    metadata: dict
    formats: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)


def _read(path: Path, layer: str, kind: str, key: str) -> pd.DataFrame:
    file = path / f"{layer}.{kind}"
    if kind == "csv":
        frame = pd.read_csv(file)
    elif kind == "parquet":
        frame = gpd.read_parquet(file)
    else:
        frame = gpd.read_file(file)
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return frame.set_index(key).sort_index()


def _merged(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One frame: per cell, the first format that publishes a value (any format leaks)."""
    out = frames["csv"].copy()
    for frame in frames.values():
        for column in frame.columns:
            if column not in out:
                out[column] = frame[column]
            else:
                out[column] = out[column].where(out[column].notna(), frame[column])
    return out


def published(release: Release) -> Published:
    formats = {
        layer: {kind: _read(release.path, layer, kind, key) for kind in FORMATS}
        for layer, key in KEYS.items()
    }
    deprivation = _merged(
        {kind: _read(release.path, "deprivation", kind, "lsoa_code") for kind in FORMATS}
    )
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    return Published(
        {layer: _merged(frames) for layer, frames in formats.items()},
        deprivation,
        package["placeintel"],
        formats,
    )


def true_counts(release: Release) -> dict[str, pd.DataFrame]:
    return {
        layer: pd.read_csv(release.path / f"{layer}.csv").set_index(key)
        for layer, key in KEYS.items()
    }


@dataclass(frozen=True)
class Leak:
    attack: str
    layer: str
    area: str
    count: str
    truth: float
    recovered: str

    def __str__(self) -> str:
        return (
            f"{self.attack}: {self.layer} {self.area} {self.count} = {self.truth:g} "
            f"recovered as {self.recovered}"
        )


def _flagged(frame: pd.DataFrame, count: str) -> pd.Series:
    flag = f"{count}_suppressed"
    if flag not in frame:
        return pd.Series(False, index=frame.index)
    return frame[flag].map(lambda v: str(v).lower() == "true")


def suppressed_cells(release: Published) -> list[tuple[str, str, str]]:
    cells = []
    for layer, frame in release.levels.items():
        for count in COUNTS:
            cells += [(layer, area, count) for area in frame.index[_flagged(frame, count)]]
    return cells


def _close(value: float, truth: float) -> bool:
    return value is not None and math.isfinite(value) and abs(value - truth) <= 0.5


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _count_from(indicator, value: float | None, row: pd.Series, count: str) -> float | None:
    """The blanked count from its indicator's value and the other, published, count."""
    if value is None:
        return None
    if count == indicator.numerator:
        other = _number(row.get(indicator.denominator))
        return None if other is None else value / indicator.scale * other
    other = _number(row.get(indicator.numerator))
    return None if other is None or value == 0 else other * indicator.scale / value


# --- the attacks ----------------------------------------------------------------------


def attack_formats(release: Published) -> list[str]:
    """Every format publishes the same cells: none shows what another blanks."""
    problems = []
    for layer, frames in release.formats.items():
        csv = frames["csv"]
        for kind, frame in frames.items():
            for column in csv.columns:
                if column not in frame or csv[column].dtype == object:
                    continue
                shown = frame[column].notna() & csv[column].isna()
                if shown.any():
                    problems.append(f"{layer}.{kind} shows {column} where CSV is blank")
    return problems


def attack_cells(release: Published, truth: dict[str, pd.DataFrame]) -> list[Leak]:
    """The direct and one-step attacks on each blanked cell: its own value in any format or
    layer, and its indicator from the value, the 0-10 score, the contribution, the
    component score and deri_score, each turned back into the count."""
    leaks = []
    weights = release.metadata["index"]["indicator_weights"]
    component_weights = release.metadata["index"]["component_weights"]
    fits = {layer: _scale_fits(frame) for layer, frame in release.levels.items()}
    for layer, area, count in suppressed_cells(release):
        frame = release.levels[layer]
        row = frame.loc[area]
        real = float(truth[layer].loc[area, count])

        def found(
            attack: str, value: float | None, real=real, layer=layer, area=area, count=count
        ) -> None:
            if value is not None and _close(value, real):
                leaks.append(Leak(attack, layer, area, count, real, f"{value:.3f}"))

        found("the count itself", _number(row.get(count)))
        if layer == "lsoas" and count in release.deprivation and area in release.deprivation.index:
            found("the deprivation layer", _number(release.deprivation.loc[area, count]))
        for indicator in (i for i in GUARDED if count in (i.numerator, i.denominator)):
            if indicator.key not in frame:
                continue
            key = indicator.key
            value = _number(row.get(key))
            if value is not None:
                found(
                    "indicator value x the other count", _count_from(indicator, value, row, count)
                )
            for estimate, attack in _indicator_estimates(
                frame, row, indicator, weights, component_weights, fits[layer]
            ):
                found(attack, _count_from(indicator, estimate, row, count))
    return leaks


def _scale_fits(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """Each indicator's 0-10 scale, read off the areas that publish both value and score
    (per district, so that the local-authority base is read too): value = a * score + b."""
    fits = {}
    for indicator in INDICATORS:
        scaled = f"{indicator.key}_scaled"
        if indicator.key not in frame or scaled not in frame:
            continue
        for district, group in frame.groupby("lad_code"):
            pairs = group[[indicator.key, scaled]].astype(float).dropna()
            pairs = pairs[(pairs[scaled] > 0) & (pairs[scaled] < 10)]
            if len(pairs) >= 2 and pairs[scaled].nunique() >= 2:
                a, b = np.polyfit(pairs[scaled], pairs[indicator.key], 1)
                fits[(indicator.key, district)] = (float(a), float(b))
    return fits


def _share(row: pd.Series, indicator, weights: dict, component_weights: dict) -> float | None:
    """The indicator's share of deri_score in this area had it been present: its component's
    share among the area's components, times its weight among the component's indicators."""
    present = [
        i
        for i in INDICATORS
        if i.key == indicator.key or _number(row.get(f"{i.key}_scaled")) is not None
    ]
    components = {i.component for i in present}
    total = sum(component_weights.get(c, 0) for c in components)
    within = sum(weights.get(i.key, 0) for i in present if i.component == indicator.component)
    if total <= 0 or within <= 0:
        return None
    return component_weights.get(indicator.component, 0) / total * weights[indicator.key] / within


def _indicator_estimates(frame, row, indicator, weights, component_weights, fits):
    """The indicator's value, as each index column would give it back."""
    key = indicator.key
    fit = fits.get((key, row.get("lad_code")))

    def value_of(score: float | None) -> float | None:
        if score is None or fit is None:
            return None
        return fit[0] * score + fit[1]

    yield value_of(_number(row.get(f"{key}_scaled"))), "0-10 score and the scale's ends"
    share = _share(row, indicator, weights, component_weights)
    contribution = _number(row.get(f"{key}_contribution"))
    if share and contribution is not None:
        yield value_of(contribution / share), "contribution and the weights"
    # deri_score minus the other contributions: whatever the score holds beyond them.
    score = _number(row.get("deri_score"))
    if share and score is not None:
        shown = [_number(row.get(f"{i.key}_contribution")) for i in INDICATORS]
        residual = score - sum(c for c in shown if c is not None)
        if abs(residual) > 1e-5:
            yield value_of(residual / share), "deri_score minus the other contributions"
    # The component score minus the component's other 0-10 scores.
    component = _number(row.get(f"{indicator.component}_score"))
    members = [i for i in INDICATORS if i.component == indicator.component and i.key != key]
    scored = [
        (weights.get(i.key, 0), _number(row.get(f"{i.key}_scaled")))
        for i in members
        if weights.get(i.key, 0) > 0 and f"{i.key}_scaled" in frame
    ]
    scored = [(w, s) for w, s in scored if s is not None]
    if component is not None and weights.get(key, 0) > 0:
        total = sum(w for w, _ in scored)
        explained = sum(w * s for w, s in scored)
        without = abs(component * total - explained) <= 1e-5 * max(total, 1)
        if not without:  # the component score counted this indicator
            estimate = (component * (total + weights[key]) - explained) / weights[key]
            yield value_of(estimate), "component score minus the other 0-10 scores"


def attack_recorded_figures(release: Published, truth: dict[str, pd.DataFrame]) -> list[Leak]:
    """The scale's ends the data package records (the release's own ranges, the nation
    base's bounds and extremes): a figure that is exactly a blanked area's rate gives its
    count, once multiplied by the area's published denominator."""
    index = release.metadata["index"]
    figures: dict[str, set[float]] = {}
    for key, ends in (index.get("own_ranges") or {}).items():
        figures.setdefault(key, set()).update(ends)
    for key, record in ((index.get("nation") or {}).get("indicators") or {}).items():
        figures.setdefault(key, set()).update(record["bounds"] + record["national_min_max"])
    leaks = []
    for layer, area, count in suppressed_cells(release):
        row = release.levels[layer].loc[area]
        real = float(truth[layer].loc[area, count])
        for indicator in (i for i in GUARDED if count in (i.numerator, i.denominator)):
            for figure in figures.get(indicator.key, ()):
                estimate = _count_from(indicator, figure, row, count)
                if estimate is None or abs(estimate - round(estimate)) > 1e-3:
                    continue
                whole = round(estimate)
                if count == indicator.numerator:
                    rate = indicator.scale * whole / float(row[indicator.denominator])
                else:
                    rate = (
                        indicator.scale * float(row[indicator.numerator]) / whole if whole else -1
                    )
                if round(rate, 6) == figure and whole == real:
                    leaks.append(Leak("recorded scale ends", layer, area, count, real, f"{whole}"))
    return leaks


def attack_differencing(
    release: Published, truth: dict[str, pd.DataFrame], rule: dict
) -> list[Leak]:
    """Every linear relation between the layers at once, per ward, as an integer program:
    a ward's count is the sum of its LSOAs'; a ward's ratio is (sum of its LSOAs'
    numerators) / (sum of their denominators) over the LSOAs with both; a published ratio
    ties its own numerator and denominator. Each blanked count is minimised and maximised
    subject to all of them; an interval no wider than 1 gives it away."""
    wards, lsoas = release.levels["wards"], release.levels["lsoas"]
    low = 1 if rule["keep_zero"] else 0
    leaks: list[Leak] = []
    for ward in wards.index:
        cells = lsoas[lsoas["ward_code"] == ward]
        problem = _WardProblem(ward, wards.loc[ward], cells, low, rule["minimum_count"])
        if not problem.unknowns:
            continue
        problem.check_against(truth)
        for n, (layer, area, count) in enumerate(problem.unknowns):
            lowest, highest = problem.range_of(n)
            real = float(truth[layer].loc[area, count])
            if highest - lowest <= 1 and lowest - 1e-6 <= real <= highest + 1e-6:
                leaks.append(
                    Leak(
                        "ward and LSOA differencing",
                        layer,
                        area,
                        count,
                        real,
                        f"within [{lowest:g}, {highest:g}]",
                    )
                )
    return leaks


class _WardProblem:
    """One ward's blanked cells as integer unknowns, and what the release says about them."""

    def __init__(self, ward: str, row: pd.Series, cells: pd.DataFrame, low: int, minimum: int):
        self.ward, self.row, self.cells = ward, row, cells
        self.unknowns: list[tuple[str, str, str]] = []
        for count in COUNTS:
            if count in cells:
                self.unknowns += [("lsoas", a, count) for a in cells.index[_flagged(cells, count)]]
            if count in row.index and _flagged(row.to_frame().T, count).iloc[0]:
                self.unknowns.append(("wards", ward, count))
        self.position = {u: n for n, u in enumerate(self.unknowns)}
        self.rows: list[tuple[np.ndarray, float, float]] = []
        self.lower = np.full(len(self.unknowns), float(low))
        self.upper = np.full(len(self.unknowns), 1e7)
        if self.unknowns:
            self._bounds(minimum)
            self._sums()
            self._ratios()

    def _term(
        self, layer: str, area: str, count: str, frame: pd.Series
    ) -> tuple[int | None, float]:
        """(position of the unknown, or None) and the published constant."""
        where = self.position.get((layer, area, count))
        if where is not None:
            return where, 0.0
        return None, float(_number(frame.get(count)) or 0.0)

    def _bounds(self, minimum: int) -> None:
        """A blanked LSOA count is below the threshold, or (a complementary cell) no larger
        than the smallest count its ward still publishes; a share is at most its base."""
        for n, (layer, area, count) in enumerate(self.unknowns):
            if layer == "lsoas":
                shown = self.cells[count].astype(float)
                shown = shown[shown.notna() & (shown > 0)]
                ceiling = max(minimum - 1, shown.min()) if len(shown) else 1e7
                self.upper[n] = ceiling
            source = self.cells.loc[area] if layer == "lsoas" else self.row
            for indicator in GUARDED:
                if indicator.numerator == count and indicator.scale == 100:
                    base = _number(source.get(indicator.denominator))
                    if base is not None:
                        self.upper[n] = min(self.upper[n], base)

    def _add(self, coefficients: dict[int, float], constant: float, low: float, high: float):
        """low <= sum(coefficients * unknowns) + constant <= high."""
        vector = np.zeros(len(self.unknowns))
        for position, value in coefficients.items():
            vector[position] += value
        if np.any(vector):
            self.rows.append((vector, low - constant, high - constant))

    def _sums(self) -> None:
        for count in COUNTS:
            if count not in self.cells or count not in self.row.index:
                continue
            terms: dict[int, float] = {}
            constant = 0.0
            for area in self.cells.index:
                if (
                    pd.isna(self.cells.loc[area, count])
                    and not _flagged(self.cells.loc[[area]], count).iloc[0]
                ):
                    continue  # missing at source: not in the ward's sum
                where, value = self._term("lsoas", area, count, self.cells.loc[area])
                if where is None:
                    constant += value
                else:
                    terms[where] = terms.get(where, 0.0) + 1.0
            where, value = self._term("wards", self.ward, count, self.row)
            if where is None:
                if pd.isna(self.row.get(count)):
                    continue
                constant -= value
            else:
                terms[where] = terms.get(where, 0.0) - 1.0
            self._add(terms, constant, 0.0, 0.0)

    def _ratio(self, frames: list[tuple[str, str, pd.Series]], indicator, value: float) -> None:
        """scale * sum(numerators) - value * sum(denominators) = 0, to the value's rounding."""
        for slack in (+5.1e-7, -5.1e-7):
            terms: dict[int, float] = {}
            constant = 0.0
            for layer, area, frame in frames:
                for count, factor in (
                    (indicator.numerator, indicator.scale),
                    (indicator.denominator, -(value + slack)),
                ):
                    where, shown = self._term(layer, area, count, frame)
                    if where is None:
                        constant += factor * shown
                    else:
                        terms[where] = terms.get(where, 0.0) + factor
            if slack > 0:
                self._add(terms, constant, -np.inf, 0.0)
            else:
                self._add(terms, constant, 0.0, np.inf)

    def _ratios(self) -> None:
        for indicator in GUARDED:
            n, d = indicator.numerator, indicator.denominator
            if indicator.key not in self.cells or n not in self.cells or d not in self.cells:
                continue
            both = [
                area
                for area in self.cells.index
                if all(
                    not pd.isna(self.cells.loc[area, c])
                    or _flagged(self.cells.loc[[area]], c).iloc[0]
                    for c in (n, d)
                )
                and _number(self.cells.loc[area, d]) != 0
            ]
            value = _number(self.row.get(indicator.key))
            if value is not None:
                self._ratio([("lsoas", a, self.cells.loc[a]) for a in both], indicator, value)
                self._ratio([("wards", self.ward, self.row)], indicator, value)
            for area in both:
                shown = _number(self.cells.loc[area, indicator.key])
                if shown is not None:
                    self._ratio([("lsoas", area, self.cells.loc[area])], indicator, shown)

    def _solve(self, objective: np.ndarray) -> float:
        constraints = (
            [
                LinearConstraint(
                    np.array([r[0] for r in self.rows]),
                    [r[1] for r in self.rows],
                    [r[2] for r in self.rows],
                )
            ]
            if self.rows
            else []
        )
        result = milp(
            objective,
            constraints=constraints,
            bounds=Bounds(self.lower, self.upper),
            integrality=np.ones(len(self.unknowns)),
        )
        assert result.status == 0, f"ward {self.ward}: the attacker's model is infeasible"
        return float(objective @ result.x)

    def range_of(self, n: int) -> tuple[float, float]:
        unit = np.zeros(len(self.unknowns))
        unit[n] = 1.0
        return self._solve(unit), -self._solve(-unit)

    def check_against(self, truth: dict[str, pd.DataFrame]) -> None:
        """The true counts satisfy every relation: the attacker reasons only from facts."""
        real = np.array([float(truth[layer].loc[a, c]) for layer, a, c in self.unknowns])
        assert np.all(real >= self.lower - 1e-9) and np.all(real <= self.upper + 1e-9), (
            self.ward,
            list(zip(self.unknowns, real, self.lower, self.upper, strict=True)),
        )
        for vector, low, high in self.rows:
            assert low - 1e-6 <= vector @ real <= high + 1e-6, (self.ward, vector, low, high)


def every_attack(release: Release, truth: Release) -> tuple[list, int]:
    shown = published(release)
    real = true_counts(truth)
    cells = suppressed_cells(shown)
    leaks = (
        attack_cells(shown, real)
        + attack_recorded_figures(shown, real)
        + attack_differencing(shown, real, shown.metadata["disclosure"])
    )
    return [str(leak) for leak in leaks] + attack_formats(shown), len(cells)


# --- the tests ------------------------------------------------------------------------


def test_no_blanked_count_can_be_recovered(region_base: Release, truth: Release) -> None:
    leaks, blanked = every_attack(region_base, truth)
    assert blanked >= 200, "the threshold should blank hundreds of cells for the attack"
    assert not leaks, f"{len(leaks)} blanked count(s) recovered:\n" + "\n".join(leaks[:40])


def test_no_blanked_count_can_be_recovered_from_the_nation_base(
    nation_base: Release, truth: Release
) -> None:
    """The nation is the region itself, uncapped: its extremes are the region's own."""
    leaks, blanked = every_attack(nation_base, truth)
    assert blanked >= 200
    assert not leaks, f"{len(leaks)} blanked count(s) recovered:\n" + "\n".join(leaks[:40])


def _moved(region: Path, one: str, other: str) -> None:
    """One Pension Credit claimant moved from one LSOA to another in the DWP file."""
    path = region / DWP
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for n, line in enumerate(lines):
        for code, step in ((one, -1), (other, +1)):
            if line.startswith(f"{code} :"):
                head, value = line.rstrip("\n").rsplit(",", 1)
                lines[n] = f"{head},{int(value) + step}\n"
    path.write_text("".join(lines), encoding="utf-8")


def _same_release(first: Path, second: Path, sources: tuple[Path, Path]) -> list[str]:
    """The files two releases publish, compared as a reader sees them: byte for byte, less
    what differs between any two builds (versions, folium's random element ids, the
    GeoPackage's timestamps, the source folders' paths)."""
    differences = []
    for path in sorted(p for p in first.rglob("*") if p.is_file()):
        name = path.relative_to(first).as_posix()
        twin = second / name
        if path.suffix == ".gpkg":
            for layer in gpd.list_layers(path)["name"]:
                a = gpd.read_file(path, layer=layer)
                b = gpd.read_file(twin, layer=layer)
                if not a.equals(b):
                    differences.append(name)
        elif name == "datapackage.json":
            if (
                json.loads(path.read_text())["placeintel"]
                != json.loads(twin.read_text())["placeintel"]
            ):
                differences.append(name)
        elif name == "catalog.jsonld":  # the release's version and time, and nothing else
            stamp = re.compile(rf"{first.name}|{second.name}|\d{{4}}-\d\d-\d\dT[\d:]+Z")
            if stamp.sub("", path.read_text()) != stamp.sub("", twin.read_text()):
                differences.append(name)
        elif name == "validation-report.json":
            a = path.read_text().replace(str(sources[0]), "")
            b = twin.read_text().replace(str(sources[1]), "")
            if a != b:
                differences.append(name)
        elif path.suffix == ".html":
            # the CSP meta holds hashes of the inline scripts, which carry folium's ids
            strip = re.compile(
                rf'[0-9a-f]{{32}}|{first.name}|{second.name}|<meta name="placeintel-csp"[^>]*>'
            )
            if strip.sub("", path.read_text()) != strip.sub("", twin.read_text()):
                differences.append(name)
        elif path.read_bytes() != twin.read_bytes():
            differences.append(name)
    return differences


def test_blanked_counts_change_nothing_published(
    root: Path, nation_base: Release, truth: Release
) -> None:
    """Non-interference: move a claimant between two blanked LSOAs of one ward, so every
    published count and total stays what it was. If anything a release publishes (ranks,
    hot spots, rank intervals, the nation's bounds, the map) were computed from a blanked
    count, it would change."""
    shown = published(nation_base).levels["lsoas"]
    real = true_counts(truth)["lsoas"]["pension_credit_claimants"]
    blank = shown.index[_flagged(shown, "pension_credit_claimants")]
    movable = [a for a in blank if 2 <= real[a] <= THRESHOLD - 2]
    pairs = [
        (a, b)
        for a in movable
        for b in movable
        if a < b and shown.loc[a, "ward_code"] == shown.loc[b, "ward_code"]
    ]
    assert pairs, "the demo should have two blanked claimant counts in one ward"
    region = _region(root, "moved", THRESHOLD, nation=True)
    _moved(region, *pairs[0])
    moved = _build(region, root)
    again = pd.read_csv(moved.path / "lsoas.csv").set_index("lsoa21_code")
    assert (again.index == shown.index).all()
    # The true counts did change (the nation's files are the region's own, so the nation
    # base's bounds saw them too), and nothing published did.
    before = (DATASETS_DIR / "demo" / DWP).read_text(encoding="utf-8").splitlines()
    after = (region / DWP).read_text(encoding="utf-8").splitlines()
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 2
    assert _same_release(nation_base.path, moved.path, (root / "nation-base", region)) == []


def test_the_record_counts_what_was_blanked(region_base: Release) -> None:
    """datapackage.json says how many cells each table blanked, and why: it matches the
    flags a reader sees, and at this threshold some cells were blanked only to protect
    others (complementary suppression)."""
    shown = published(region_base)
    record = shown.metadata["disclosure"]
    flags = collections.Counter(f"{layer}.{count}" for layer, _, count in suppressed_cells(shown))
    assert record["suppressed_cells"] == dict(flags)
    assert record["minimum_count"] == THRESHOLD
    assert sum(record["complementary_cells"].values()) > 0
    assert "complementary suppression" in record["rule"]
    assert "computed from the published values" in record["rule"]


# --- the rule on small, hand-made wards -------------------------------------------------


def _tables(counts: dict[str, list[float]], keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One ward's LSOAs and the ward, computed by the build's own arithmetic."""
    codes = [f"E01{n:06d}" for n in range(len(next(iter(counts.values()))))]
    table = pd.DataFrame(counts, index=codes, dtype=float)
    groups = pd.Series("E05000001", index=codes)
    lsoas = pd.concat([table, indicator_values(table, keys)], axis=1)
    lsoas = lsoas.rename_axis("lsoa21_code").reset_index()
    lsoas["ward_code"] = "E05000001"
    wards = pd.concat([rolled_counts(table, groups), indicator_values(table, keys, groups)], axis=1)
    wards = wards.rename_axis("ward_code").reset_index()
    for frame in (lsoas, wards):
        frame["lad_code"] = "E08000001"
    return wards, lsoas


def _differencing(rule: DisclosureRule, wards, lsoas) -> list[str]:
    protected_wards, protected_lsoas = rule.protect(wards, lsoas)
    shown = Published(
        {
            "wards": protected_wards.set_index("ward_code"),
            "lsoas": protected_lsoas.set_index("lsoa21_code"),
        },
        pd.DataFrame(),
        {},
    )
    truth = {"wards": wards.set_index("ward_code"), "lsoas": lsoas.set_index("lsoa21_code")}
    described = {"keep_zero": rule.keep_zero, "minimum_count": rule.minimum_count}
    return [str(leak) for leak in attack_differencing(shown, truth, described)]


def test_a_ward_ratio_over_part_of_the_ward_is_withheld(monkeypatch) -> None:
    """Greater Manchester's city centre: an LSOA with 3 people aged 65+ also has its IDAOPI
    numerator suppressed at source, so the ward's IDAOPI rate is over the other LSOAs
    only. With the ward's 65+ total published, that rate gives back the 3."""
    wards, lsoas = _tables(
        {
            "population": [1800, 1500, 1600, 1400, 1700],
            "aged_65_plus": [3, 14, 25, 160, 210],
            "idaopi_numerator": [np.nan, 10, 15, 40, 55],
        },
        ["pct_aged_65_plus", "idaopi_per_1000_65_plus"],
    )
    unguarded = DisclosureRule(10, keep_zero=True)
    monkeypatch.setattr(DisclosureRule, "_withheld", lambda self, *args: {})
    assert _differencing(unguarded, wards, lsoas), "the attack should work without the rule"
    monkeypatch.undo()
    rule = DisclosureRule(10, keep_zero=True)
    assert _differencing(rule, wards, lsoas) == []
    assert rule.withheld == {"wards.idaopi_per_1000_65_plus": 1}
    # The 3 and the next smallest count, 14, are both blanked; the ward's total stays.
    assert rule.suppressed == {"lsoas.aged_65_plus": 2}
    assert rule.complementary == {"lsoas.aged_65_plus": 1}


def test_one_blanked_lsoa_takes_the_next_smallest_with_it() -> None:
    wards, lsoas = _tables(
        {"population": [900, 950, 1000, 1100], "aged_75_plus": [4, 60, 45, 0]},
        ["pct_aged_75_plus"],
    )
    rule = DisclosureRule(10, keep_zero=True)
    protected_wards, protected = rule.protect(wards, lsoas)
    assert protected["aged_75_plus_suppressed"].tolist() == [True, False, True, False]
    assert protected["aged_75_plus"].isna().tolist() == [True, False, True, False]
    assert protected["pct_aged_75_plus"].isna().tolist() == [True, False, True, False]
    assert protected_wards["aged_75_plus"].tolist() == [109]  # the ward's total stays
    assert _differencing(DisclosureRule(10, keep_zero=True), wards, lsoas) == []


def test_blanked_cells_that_total_below_the_threshold_take_a_third() -> None:
    """Two blanked LSOAs holding 2 and 3 people tell a reader that 5 live in the two: a
    count below the threshold again. The next smallest LSOA is blanked with them."""
    wards, lsoas = _tables(
        {"population": [900, 950, 1000, 1100], "aged_75_plus": [2, 3, 45, 80]},
        ["pct_aged_75_plus"],
    )
    rule = DisclosureRule(10, keep_zero=True)
    _, protected = rule.protect(wards, lsoas)
    assert protected["aged_75_plus_suppressed"].tolist() == [True, True, True, False]


def test_when_no_lsoa_is_left_the_wards_count_goes() -> None:
    """Two LSOAs of 1 and one of 0 (published, as zeros are kept): the two blanked cells
    sum to the ward's 2, and each can only be 1. Nothing is left to blank but the ward."""
    wards, lsoas = _tables(
        {"population": [900, 950, 1000], "aged_75_plus": [1, 1, 0]}, ["pct_aged_75_plus"]
    )
    rule = DisclosureRule(2, keep_zero=True)
    protected_wards, protected = rule.protect(wards, lsoas)
    assert protected["aged_75_plus_suppressed"].tolist() == [True, True, False]
    assert protected_wards["aged_75_plus_suppressed"].tolist() == [True]
    assert protected_wards["pct_aged_75_plus"].isna().all()
    assert rule.complementary == {"wards.aged_75_plus": 1}
    assert _differencing(DisclosureRule(2, keep_zero=True), wards, lsoas) == []


def test_a_rule_that_blanks_nothing_changes_nothing() -> None:
    wards, lsoas = _tables(
        {"population": [900, 950], "aged_75_plus": [40, 60]}, ["pct_aged_75_plus"]
    )
    rule = DisclosureRule(10, keep_zero=True)
    protected_wards, protected = rule.protect(wards, lsoas)
    assert protected_wards is wards and protected is lsoas
    assert rule.suppressed == {} and rule.describe()["suppressed_cells"] == {}
    unruled_wards, unruled = DisclosureRule(0).protect(wards, lsoas)
    assert unruled_wards is wards and unruled is lsoas


def test_the_nation_base_leaves_out_the_regions_blanked_values() -> None:
    nation = pd.DataFrame(
        {"pct_aged_65_plus": [0.1, 5.0, 9.0]}, index=["E01000000", "E01000001", "E09"]
    )
    raw = pd.DataFrame({"lsoa21_code": ["E01000000", "E01000001"], "pct_aged_65_plus": [0.1, 5.0]})
    shown = raw.assign(pct_aged_65_plus=[np.nan, 5.0])
    left = DisclosureRule.without_blanked(nation, raw, shown)
    assert left["pct_aged_65_plus"].isna().tolist() == [True, False, False]
    assert nation["pct_aged_65_plus"].notna().all()  # the caller's frame is untouched


@pytest.mark.parametrize("value", ["ten", -1, 2.5, True, [10]])
def test_a_threshold_that_is_not_a_whole_number_names_its_key(value) -> None:
    with pytest.raises(DataError, match="minimum_count") as raised:
        DisclosureRule.from_manifest({"disclosure": {"minimum_count": value}})
    assert raised.value.field == "publish.disclosure.minimum_count"
