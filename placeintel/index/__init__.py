"""The Digital Exclusion Risk Index: scaling, weighting, components, score and rank."""

from __future__ import annotations

from typing import Any

__all__ = ["IndexResult", "IndexSettings", "compute_index"]


def __getattr__(name: str) -> Any:
    # deri.py imports scipy.stats (~0.5 s): only on first use, so that importing a light
    # submodule (classes.SCHEMES for the CLI's options) does not pay for it.
    if name in __all__:
        from placeintel.index import deri

        return getattr(deri, name)
    raise AttributeError(f"module 'placeintel.index' has no attribute {name!r}")
