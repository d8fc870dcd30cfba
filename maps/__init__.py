"""Folium map builders: data in, ``folium.Map`` out; no analysis, no HTTP."""
