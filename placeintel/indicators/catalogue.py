"""The DERI indicators: what each measures, from which counts, and its default weight.

Each indicator is a ratio of two summed counts so that aggregation never
averages percentages: a ward's value is (sum of numerators) / (sum of denominators).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    """One DERI indicator and how to compute it from counts."""

    key: str
    component: str
    label: str
    numerator: str
    denominator: str | None
    scale: float = 100.0
    higher_is_worse: bool = True
    default_weight: int = 1
    unit: str = "%"
    #: Counts of people, which disclosure control may blank. Premises and lines are
    #: published by Ofcom at output-area level already, and services and distances
    #: are not about people, so those are never suppressed.
    disclosive: bool = True


COMPONENTS = ("demography", "broadband", "deprivation", "access")
#: GMCA DERI defaults. Access to help is not part of DERI, so it is computed and
#: shown but weighs nothing in `deri_score` unless a region gives it a weight.
DEFAULT_COMPONENT_WEIGHTS = {"demography": 3, "broadband": 3, "deprivation": 3, "access": 0}

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "pct_aged_65_plus",
        "demography",
        "% aged 65+",
        "aged_65_plus",
        "population",
        default_weight=5,
    ),
    Indicator(
        "pct_aged_75_plus",
        "demography",
        "% aged 75+",
        "aged_75_plus",
        "population",
        default_weight=5,
    ),
    Indicator(
        "pct_activities_limited",
        "demography",
        "% whose day-to-day activities are limited",
        "activities_limited",
        "disability_base",
        default_weight=2,
    ),
    Indicator(
        "pct_social_grade_de",
        "demography",
        "% in social grade DE",
        "social_grade_de",
        "social_grade_base",
        default_weight=2,
    ),
    Indicator(
        "pct_premises_below_30mbit",
        "broadband",
        "% of premises unable to receive 30 Mbit/s",
        "premises_below_30mbit",
        "all_premises",
        default_weight=3,
        disclosive=False,
    ),
    Indicator(
        "pct_connections_below_10mbit",
        "broadband",
        "% of connections under 10 Mbit/s",
        "connections_below_10mbit",
        "connections_total",
        default_weight=3,
        disclosive=False,
    ),
    Indicator(
        "avg_download_mbit",
        "broadband",
        "Average download speed (Mbit/s)",
        "download_mbit_x_connections",
        "connections_with_speed",
        scale=1.0,
        higher_is_worse=False,
        default_weight=3,
        unit="Mbit/s",
        disclosive=False,
    ),
    Indicator(
        "imd_score",
        "deprivation",
        "IMD 2019 score (population-weighted)",
        "imd_score",
        None,
        scale=1.0,
        default_weight=2,
        unit="score",
    ),
    Indicator(
        "pct_no_qualifications",
        "deprivation",
        "% of adults with no qualifications",
        "no_qualifications",
        "qualifications_base",
        default_weight=4,
    ),
    Indicator(
        "pct_unemployed",
        "deprivation",
        "% of adults unemployed",
        "unemployed",
        "economic_base",
        default_weight=2,
    ),
    Indicator(
        "pension_credit_per_1000_65_plus",
        "deprivation",
        "Pension Credit claimants per 1,000 people aged 65+",
        "pension_credit_claimants",
        "aged_65_plus",
        scale=1000.0,
        default_weight=2,
        unit="per 1,000",
    ),
    Indicator(
        "support_distance_m",
        "access",
        "Population-weighted distance to the nearest digital-support service (m)",
        "distance_x_population",
        "population_for_distance",
        scale=1.0,
        default_weight=2,
        unit="m",
        disclosive=False,
    ),
    Indicator(
        "support_within_1km",
        "access",
        "Digital-support services within 1 km of the ward",
        "support_within_1km",
        None,
        scale=1.0,
        higher_is_worse=False,
        default_weight=1,
        unit="services",
        disclosive=False,
    ),
    Indicator(
        "support_within_2km",
        "access",
        "Digital-support services within 2 km of the ward",
        "support_within_2km",
        None,
        scale=1.0,
        higher_is_worse=False,
        default_weight=1,
        unit="services",
        disclosive=False,
    ),
)
BY_KEY = {i.key: i for i in INDICATORS}
