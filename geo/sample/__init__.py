"""Generators of the synthetic parts of a region sample, over its real data."""
