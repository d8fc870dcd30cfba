"""DDL whose names cannot be bound parameters, composed safely (psycopg's ``sql`` module).

Databases, extensions, triggers and tables are identifiers, which SQL cannot take as bound
parameters; :func:`ddl` quotes each one as an identifier and, for literals, as a literal —
never by string formatting.
"""

from __future__ import annotations

from psycopg import sql


def ddl(template: str, *names: str, literals: tuple[str, ...] = ()) -> str:
    """``template`` with ``{}`` filled by quoted identifiers, then by quoted ``literals``."""
    parts = [sql.Identifier(n) for n in names] + [sql.Literal(v) for v in literals]
    return sql.SQL(template).format(*parts).as_string(None)
