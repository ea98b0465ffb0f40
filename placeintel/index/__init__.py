"""The Digital Exclusion Risk Index: scaling, weighting, components, score and rank."""

from placeintel.index.deri import IndexResult, IndexSettings, compute_index

__all__ = ["IndexResult", "IndexSettings", "compute_index"]
