"""Routing on the road graph: compiled arrays, snapping, nearest stations, routes, isochrones."""
