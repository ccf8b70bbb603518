"""The one place that picks a source's database kind from its URL."""

from __future__ import annotations

from ._database import Database
from ._url import kind_of


def connect(url: str) -> Database:
    """A :class:`Database` for ``url``: DuckDB or PostgreSQL (each driver loads only when used)."""
    if kind_of(url) == "duckdb":
        from ._duckdb import DuckDB

        return DuckDB(url)
    from ._postgres import Postgres

    return Postgres(url)
