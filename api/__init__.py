"""yizhan HTTP API (FastAPI): app factory, routers, error mapping, the command line."""
