"""The ``source:`` block of a client YAML: a database in place of ``data_dir``.

```yaml
source:
  url: postgresql://analyst@warehouse.example.com:5432/analytics   # password from PGPASSWORD
  tables:                       # contract table -> table, view (schema.table) or a SELECT
    contacts: crm.contacts
    deals: crm.deals_view
    spend: "SELECT day AS date, source AS channel, cost AS spend FROM ads.daily"
```

Without ``tables`` every contract table is looked up under its own name in the database's default
schema (``main`` in DuckDB, ``current_schema()`` in PostgreSQL). With ``tables`` only the tables it
names are read; the others are absent, like a missing optional file. ``contacts`` is required.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..contract import CONTRACT
from ._url import check_url

_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
TABLE_NAME = re.compile(rf"\s*{_IDENT}(?:\.{_IDENT}){{0,2}}\s*")
QUERY = re.compile(r"\s*\(?\s*(select|with)\b", re.IGNORECASE)


def is_query(text: str) -> bool:
    return bool(QUERY.match(text))


class Source(BaseModel):
    """Where a client's contract tables live in a database (README "Data in a database")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="duckdb:///file.duckdb (relative to the YAML) or postgresql://user@host:port/db; "
                                 "no password (it comes from the environment)")
    tables: dict[str, str] | None = Field(
        default=None, description="contract table -> table or view (schema.table) or a SELECT; "
                                  "omitted: every contract table under its own name")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return check_url(url.strip())

    @field_validator("tables")
    @classmethod
    def _tables(cls, tables: dict[str, str] | None) -> dict[str, str] | None:
        if tables is None:
            return None
        unknown = [t for t in tables if t not in CONTRACT]
        if unknown:
            raise ValueError(f"unknown contract table(s) {', '.join(map(repr, unknown))}; choose from {', '.join(CONTRACT)}")
        if "contacts" not in tables:
            raise ValueError("contacts is required: name its table, view or SELECT under tables")
        for stem, text in tables.items():
            if not text or not text.strip():
                raise ValueError(f"{stem}: give a table name or a SELECT (or leave {stem} out)")
            if not is_query(text) and not TABLE_NAME.fullmatch(text):
                raise ValueError(f"{stem}: '{text}' is neither a table name (table, schema.table) nor a SELECT")
        return {stem: text.strip().rstrip(";").strip() for stem, text in tables.items()}
