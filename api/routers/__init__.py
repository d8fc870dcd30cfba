"""Routers of the API, one per topic."""
