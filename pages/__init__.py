"""Web pages for people: the riders' station finder (server-rendered, with a small script)."""
