"""Risk classes: wards grouped by their score, the same way on the map and in release diffs."""

from __future__ import annotations

import warnings

import numpy as np

SCHEMES = ("quantiles", "natural-breaks")
#: Risk classes (quintiles by default).
CLASSES = 5


def risk_classes(
    values: np.ndarray, scheme: str = "quantiles", k: int = CLASSES
) -> tuple[np.ndarray, list[float]]:
    """Class index per value (0 = lowest risk, -1 for missing) and each class's upper bound."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    classes = np.full(values.shape, -1)
    if finite.sum() < k:
        return classes, []
    if scheme == "natural-breaks":
        import mapclassify  # imports matplotlib (~0.5 s): only when natural breaks are asked

        classifier = mapclassify.NaturalBreaks(values[finite], k=k)
        classes[finite] = classifier.yb
        return classes, [float(b) for b in classifier.bins]
    own, bins = quantile_classes(values[finite], k)
    classes[finite] = own
    return classes, [float(b) for b in bins]


def quantile_classes(y: np.ndarray, k: int = CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """`mapclassify.Quantiles(y, k)`'s `yb` and `bins`, computed as it computes them.

    mapclassify's class also works out summaries the build never reads (class lists, sums
    of squared deviations, goodness of fit), which were most of its time: the map classes
    each district's areas by each measure, 3,000-odd classifications nationally. Here are
    its steps alone: `mapclassify.classifiers.quantile` (scipy's scoreatpercentile at
    100/k, 200/k, ... 100 %, "fraction" interpolation, term for term on the sorted values;
    repeated bounds dropped, with mapclassify's warning) and `bin1d` (the first bound at
    or above each value). tests/index/test_classes.py compares both with mapclassify."""
    ordered = np.sort(np.asarray(y, dtype=float).ravel())
    step = 100.0 / k
    percents = np.arange(step, 100 + step, step)
    if percents[-1] > 100.0:
        percents[-1] = 100.0
    bounds = []
    for per in percents:
        idx = per / 100.0 * (len(ordered) - 1)
        i = int(idx)
        if i == idx:
            bounds.append(np.add.reduce(ordered[i : i + 1] * np.array(1)) / 1.0)
        else:
            weights = np.array([(i + 1 - idx), (idx - i)], float)
            bounds.append(np.add.reduce(ordered[i : i + 2] * weights) / weights.sum())
    bins = np.unique(np.array(bounds))
    if len(bins) < k:
        warnings.warn(
            f"Not enough unique values in array to form {k} classes. Setting k to {len(bins)}.",
            UserWarning,
            stacklevel=2,
        )
    return np.searchsorted(bins, np.asarray(y, dtype=float).ravel(), side="left"), bins
