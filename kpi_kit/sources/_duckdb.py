"""DuckDB, the embedded default: a ``.duckdb`` file read read-only through the ``duckdb`` package
straight into Arrow (several runs can read one file at once), and written by ``kpi-kit db load`` and
``kpi-kit import --into``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..exceptions import DataError
from ._database import Database
from ._url import duckdb_path, expand, redact

CREATE_FIX = ("create it with `kpi-kit db load CLIENT.yaml FILE.duckdb` or `kpi-kit import ... --into FILE.duckdb`, "
              "or correct source.url")


def _message(exc: Exception) -> str:
    """DuckDB's own message, on one line, without the pointer lines under the SQL."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    kept = []
    for ln in lines:
        if ln.startswith("LINE "):
            break
        kept.append(ln)
    return " ".join(kept) or type(exc).__name__


DAMAGED_FIX = ("restore it or load it again with `kpi-kit db load CLIENT.yaml FILE.duckdb` (or `kpi-kit import ... "
               "--into FILE.duckdb`)")


_DAMAGE_WORDS = ("Corrupt database file", "Could not read enough bytes", "checksum", "not a valid DuckDB database")


def damaged(exc: Exception, reading: bool = True) -> bool:
    """A DuckDB error that says the file itself is damaged (truncated, blocks whose checksum fails, pages
    that do not parse), not that a query is wrong. ``reading``: the file opened, a table is being read (an
    I/O error now is the file's; on opening it may be a lock or a permission)."""
    import duckdb

    classes = duckdb.IOException | duckdb.SerializationException | duckdb.InternalException
    return (reading and isinstance(exc, classes)) or any(w in str(exc) for w in _DAMAGE_WORDS)


def file_of(url: str, label: str) -> Path:
    expanded, _ = expand(url, label)
    return Path(duckdb_path(expanded)).expanduser()


class DuckDB(Database):
    def __init__(self, url: str):
        import duckdb

        self.label = redact(url)
        where = f"source {self.label}"
        path = self.path = file_of(url, where)
        if not path.is_file():
            raise DataError(where, None, "database file not found", CREATE_FIX)
        with open(path, "rb") as f:
            if f.read(12)[8:12] != b"DUCK":  # a DuckDB file's magic bytes
                raise DataError(where, None, "not a DuckDB database file", "point source.url at a .duckdb file "
                                "(a folder of CSV or Parquet files goes under data_dir instead)")
        try:
            self.con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            if damaged(exc, reading=False):
                raise DataError(where, None, f"this file is damaged: {path} ({_message(exc)})", DAMAGED_FIX) from None
            raise DataError(where, None, f"cannot be opened ({_message(exc)})",
                            "point source.url at a DuckDB file, and wait for an import writing to it to finish") from None

    def query(self, sql: str, what: str) -> pa.Table:
        return self._run(lambda: self.con.sql(sql).to_arrow_table(), what)

    def schema(self, sql: str, what: str) -> pa.Schema:
        return self._run(lambda: self.con.sql(sql).limit(0).to_arrow_table().schema, what)

    def _run(self, step, what: str):
        import duckdb

        try:
            return step()
        except duckdb.Error as exc:
            if damaged(exc):  # not the query's fault: the table's blocks cannot be read back
                raise DataError(what, None, f"this file is damaged: {self.path} ({_message(exc)})", DAMAGED_FIX) \
                    from None
            raise DataError(what, None, f"the database refused the query: {_message(exc)}",
                            "correct the table name or the SELECT under source.tables "
                            "(`kpi-kit db tables` lists what the database holds)") from None

    def table_names(self) -> set[str]:
        rows = self.con.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                            "AND table_catalog = current_database()").fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        con, self.con = getattr(self, "con", None), None
        if con is not None:
            con.close()


# -- writing -------------------------------------------------------------------------------------
def _open_for_writing(path: Path):
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise DataError(str(path), None, f"cannot be opened for writing ({_message(exc)})",
                        "point at a DuckDB file (or a new one), and wait for the runs reading it to finish") from None


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_tables(path: Path, tables: dict[str, pa.Table]) -> list[str]:
    """Replace the tables of ``path`` named like ``tables``' keys, in one transaction; returns the names
    of other tables the file holds (left as they were)."""
    import duckdb

    con = _open_for_writing(path)
    try:
        con.begin()
        for i, (name, table) in enumerate(tables.items()):
            con.register(f"kpi_kit_new_{i}", table)
            con.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS SELECT * FROM kpi_kit_new_{i}")
            con.unregister(f"kpi_kit_new_{i}")
        con.commit()
        others = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                            "table_schema = current_schema()").fetchall()} - set(tables)
    except duckdb.Error as exc:
        raise DataError(str(path), None, f"cannot be written ({_message(exc)})", "check the disk and the file") from None
    finally:
        con.close()
    return sorted(others)


def merge_table(path: Path, stem: str, new: pa.Table, keys: list[str]) -> tuple[int, int, int] | None:
    """Merge ``new`` rows into table ``stem`` of ``path`` the way an import merges into a folder: rows
    whose key (``keys``, NULL matching NULL) is among the new rows are replaced, the rest kept, the table
    ordered by its key. One transaction. Returns (new, replaced, kept) counts, or None for a new table."""
    import duckdb

    con = _open_for_writing(path)
    t = quote(stem)
    order = ", ".join(f"{quote(k)} NULLS FIRST" for k in keys) or "ALL"
    try:
        con.begin()
        con.register("kpi_kit_new", new)
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                             "AND table_name = ?", [stem]).fetchone()[0]
        if not exists:
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM kpi_kit_new ORDER BY {order}")
            counts = None
        else:
            have = {r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()}
            types = {r[0]: r[1] for r in con.execute("DESCRIBE kpi_kit_new").fetchall()}
            for col in new.column_names:
                if col not in have:
                    con.execute(f"ALTER TABLE {t} ADD COLUMN {quote(col)} {types[col]}")
            match = " AND ".join(f"o.{quote(k)} IS NOT DISTINCT FROM n.{quote(k)}" for k in keys) or "TRUE"
            replaced = con.execute(f"SELECT count(*) FROM {t} o WHERE EXISTS "
                                   f"(SELECT 1 FROM kpi_kit_new n WHERE {match})").fetchone()[0]
            fresh = con.execute(f"SELECT count(*) FROM kpi_kit_new n WHERE NOT EXISTS "
                                f"(SELECT 1 FROM {t} o WHERE {match})").fetchone()[0]
            total = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            con.execute(f"DELETE FROM {t} o WHERE EXISTS (SELECT 1 FROM kpi_kit_new n WHERE {match})")
            con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM kpi_kit_new")
            con.execute(f"CREATE OR REPLACE TABLE {t} AS SELECT * FROM {t} ORDER BY {order}")
            counts = (fresh, replaced, total - replaced)
        con.unregister("kpi_kit_new")
        con.commit()
    except duckdb.Error as exc:
        raise DataError(f"{path} (table {stem})", None, f"cannot be merged into ({_message(exc)})",
                        "check the table's columns match the contract (or load it again with `kpi-kit db load`)") from None
    finally:
        con.close()
    return counts
