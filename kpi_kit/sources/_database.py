"""A database connection of a source: what the DuckDB and PostgreSQL readers implement."""

from __future__ import annotations

import pyarrow as pa


class Database:
    """One open connection of a source: ``query`` returns an Arrow table, errors are DataErrors."""

    label: str  # the URL as shown to people (no password)

    def query(self, sql: str, what: str) -> pa.Table:  # pragma: no cover - interface
        raise NotImplementedError

    def schema(self, sql: str, what: str) -> pa.Schema:  # pragma: no cover - interface
        """The result's columns, without reading its rows (the query's own errors, as DataErrors)."""
        raise NotImplementedError

    def table_names(self) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError
