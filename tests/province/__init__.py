"""Province runs: city samples and coverage partitioned by city on Dask."""
