"""Generators of the synthetic parts of a region sample, over its real data."""

#: what every answer on the sample says of its data
SAMPLE_NOTICE = (
    "Sample data: stations, grids, members and roads are synthetic (generated), not real records."
)
