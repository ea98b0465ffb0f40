"""The DERI indicators: what each measures, from which counts, and its default weight.

Each indicator is a ratio of two summed counts so that aggregation never
averages percentages: a ward's value is (sum of numerators) / (sum of denominators).
Where a source publishes only a score or a rate per small area (the IMD score,
IoD2025's domain rates), the indicator names a `weight`, a population, and a
ward's value is the population-weighted mean of its LSOAs, as MHCLG computes its
own local-authority averages.

A substitute stands in for official inputs a region lacks (NS-SeC for social
grade, IoD2025's IDAOPI numerator for Pension Credit claimants, ...). It is used
only when none of the indicators it replaces can be computed, and its note
says what it is and why; the release records both.
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
    #: For a published score or rate: the population that weights it when areas combine.
    weight: str | None = None
    #: The official indicators this one stands in for, and why it is a fair stand-in.
    substitute_for: tuple[str, ...] = ()
    note: str = ""


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
        "pct_nssec_l12_l14",
        "demography",
        "% in NS-SeC L12-L14 (semi-routine, routine, never worked or long-term unemployed)",
        "nssec_l12_l14",
        "nssec_base",
        default_weight=2,
        substitute_for=("pct_social_grade_de",),
        note="Census 2021 NS-SeC (TS062) groups L12 semi-routine, L13 routine and L14 never "
        "worked or long-term unemployed, over residents aged 16+: the Census classification "
        "nearest to approximated social grade DE (semi-skilled and unskilled manual workers, "
        "the unemployed and those on the lowest grade occupations), used when the region has "
        "no approximated social grade table.",
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
        "digital_connectivity",
        "broadband",
        "Digital connectivity (broadband download and upload speeds; higher = slower)",
        "digital_connectivity",
        None,
        scale=1.0,
        default_weight=3,
        unit="score",
        disclosive=False,
        weight="area_population",
        substitute_for=(
            "pct_premises_below_30mbit",
            "pct_connections_below_10mbit",
            "avg_download_mbit",
        ),
        note="The English Indices of Deprivation 2025 digital-connectivity indicator (File 8, "
        "Barriers to Housing and Services domain): a standardised score of the broadband "
        "download and upload speeds of lines in use, oriented like the other IoD indicators "
        "so that a higher value means more deprived (slower). Used only when the region has "
        "no Ofcom Connected Nations files; Ofcom's three indicators replace it whenever "
        "present.",
    ),
    Indicator(
        "imd_score",
        "deprivation",
        "IMD score",
        "imd_score",
        None,
        scale=1.0,
        default_weight=2,
        unit="score",
        disclosive=False,
        weight="area_population",
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
        "employment_deprivation_pct",
        "deprivation",
        "Employment deprivation (% of working-age adults out of work)",
        "employment_deprivation_rate",
        None,
        scale=100.0,
        default_weight=2,
        disclosive=False,
        weight="area_population",
        substitute_for=("pct_unemployed",),
        note="The IoD2025 Employment domain rate: the share of working-age adults involuntarily "
        "out of work (claiming Universal Credit or the legacy out-of-work benefits, or "
        "Carer's Allowance), an administrative measure close to the Census 2021 unemployment "
        "share (TS066), used when the region has no TS066 table.",
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
        "idaopi_per_1000_65_plus",
        "deprivation",
        "Income-deprived people aged 60+ (IDAOPI numerator) per 1,000 aged 65+",
        "idaopi_numerator",
        "aged_65_plus",
        scale=1000.0,
        default_weight=2,
        unit="per 1,000",
        substitute_for=("pension_credit_per_1000_65_plus",),
        note="The IoD2025 IDAOPI numerator counts people aged 60+ in income-deprived "
        "families, chiefly Pension Credit (Guarantee Credit) recipients; DWP's Pension "
        "Credit counts by LSOA are not in the region's files. The numerator covers ages 60+ "
        "while the denominator is Census 2021 residents aged 65+, so values can exceed "
        "1,000 per 1,000; MHCLG suppresses small numerators, which are then missing.",
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
        "Digital-support services within 1 km of the area",
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
        "Digital-support services within 2 km of the area",
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
#: What each published count or measure is (the columns beside the indicators).
MEASURES = {
    "population": "Usual residents (Census 2021, the age table's total)",
    "aged_65_plus": "Residents aged 65 and over (Census 2021)",
    "aged_75_plus": "Residents aged 75 and over (Census 2021)",
    "activities_limited": "Residents whose day-to-day activities are limited a lot or a little "
    "(disabled under the Equality Act; Census 2021 TS038)",
    "disability_base": "Usual residents (TS038's own total)",
    "social_grade_de": "Residents 16+ in households in approximated social grade DE",
    "social_grade_base": "Residents 16+ in households (the social grade table's own total)",
    "nssec_l12_l14": "Residents 16+ in NS-SeC L12 semi-routine, L13 routine or L14 never "
    "worked / long-term unemployed (Census 2021 TS062)",
    "nssec_base": "Residents 16+ (TS062's own total)",
    "no_qualifications": "Residents 16+ with no qualifications (Census 2021 TS067)",
    "qualifications_base": "Residents 16+ (TS067's own total)",
    "unemployed": "Residents 16+ unemployed (Census 2021 TS066)",
    "economic_base": "Residents 16+ (TS066's own total)",
    "pension_credit_claimants": "Pension Credit claimants (DWP)",
    "idaopi_numerator": "People aged 60+ in income-deprived families (IoD IDAOPI numerator; "
    "MHCLG rounds to 5 and suppresses small values)",
    "income_numerator": "People in income deprivation (IoD Income domain numerator)",
    "employment_numerator": "Working-age people in employment deprivation (IoD Employment "
    "domain numerator)",
    "income_deprivation_rate": "IoD Income domain rate (0-1): share of people in income "
    "deprivation",
    "employment_deprivation_rate": "IoD Employment domain rate (0-1): share of working-age "
    "adults in employment deprivation",
    "population_total": "Population denominator published with the deprivation file",
    "area_population": "Population weighting the deprivation scores and rates when LSOAs "
    "combine into wards",
    "all_premises": "All premises (Ofcom)",
    "premises_below_30mbit": "Premises unable to receive 30 Mbit/s (Ofcom)",
    "premises_with_sfbb": "Premises where superfast broadband (30 Mbit/s+) is available (Ofcom)",
    "connections_total": "Fixed broadband connections (Ofcom)",
    "connections_below_10mbit": "Connections under 10 Mbit/s (Ofcom)",
    "download_mbit_x_connections": "Sum of average download speed x connections, over "
    "connections reporting a speed (Ofcom)",
    "connections_with_speed": "Connections for which Ofcom reports a speed",
    "distance_x_population": "Sum of people x metres to the nearest digital-support service",
    "population_for_distance": "People counted in the distance to help",
    "population_raster": "People from the population raster (exact zonal sum)",
}

#: The official indicator -> the substitutes that may stand in for it.
SUBSTITUTES = {
    official: [i.key for i in INDICATORS if official in i.substitute_for]
    for official in {o for i in INDICATORS for o in i.substitute_for}
}
