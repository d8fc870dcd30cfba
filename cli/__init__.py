"""The ``yizhan`` command line: set-up, data, users, and serving the API (not HTTP itself)."""
