"""Heavy analyses as jobs on Dask distributed, never in the process that answers riders."""
