"""yizhan domain and analysis: database, sample, road networks, routing, coverage (no web)."""
