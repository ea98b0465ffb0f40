"""Benchmarks: `make bench` runs them all; each reports ratios against a same-run baseline."""
