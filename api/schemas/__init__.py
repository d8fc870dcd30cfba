"""Typed answers: the response models of every route, and the statuses each may answer.

Routers declare ``response_model=`` with these classes and ``responses=errors(...)`` with the
error statuses they can send; the OpenAPI document is built from both, and schemathesis
checks every answer against it (``tests/api/test_fuzz.py``).
"""
