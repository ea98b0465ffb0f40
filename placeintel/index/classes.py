"""Risk classes: wards grouped by their score, the same way on the map and in release diffs."""

from __future__ import annotations

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
    import mapclassify  # imports matplotlib (~0.5 s): only when classes are made

    classifier = (
        mapclassify.NaturalBreaks(values[finite], k=k)
        if scheme == "natural-breaks"
        else mapclassify.Quantiles(values[finite], k=k)
    )
    classes[finite] = classifier.yb
    return classes, [float(b) for b in classifier.bins]
