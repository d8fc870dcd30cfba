"""Planners' analysis: demand layers, coverage by travel time, gaps, new sites, scenarios."""
