"""Reading a client's contract tables from a database into the same raw frames the files give.

:func:`open_tables` connects, finds each contract table (a name or a SELECT) and checks it can be
queried (its result's columns, no rows: a missing table, a syntax error or a column type that cannot hold the contract's
values stops here, before anything large is read). Each table is then read when the loader asks for
it (:meth:`SourceTable.read_frame`), straight from the database's Arrow result into pandas, and goes
through :func:`kpi_kit.data.parse_frame` and the contract rules like a file; the connection closes
after the last one.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..contract import CONTRACT, FileSpec
from ..exceptions import DataError
from ._connect import connect
from ._database import Database
from .spec import is_query

NUMERIC_KINDS = ("money", "count", "probability", "number", "months")


class _Lease:
    """Closes a database once every table opened on it was read (or when it is dropped)."""

    def __init__(self, db: Database, tables: int):
        self.db, self.pending = db, tables
        self._finalizer = weakref.finalize(self, db.close)
        if not tables:
            self._finalizer()

    def done(self) -> None:
        self.pending -= 1
        if self.pending <= 0:
            self._finalizer()


@dataclass
class SourceTable:
    """One contract table of a database source; the loader reads it like a file.

    ``name`` labels it in messages (``table contacts (duckdb:////…/warehouse.duckdb)``); ``suffix`` is
    empty, so row numbers count the result's rows from 1 (a file's count its lines)."""

    stem: str
    text: str  # the table or view name, or the SELECT, as written in source.tables
    db: Database
    name: str = ""
    suffix: str = ""
    lease: _Lease | None = field(default=None, repr=False)

    def __post_init__(self):
        if is_query(self.text):
            self.name = f"query for {self.stem} ({self.db.label})"
        elif self.text.replace('"', "") == self.stem:
            self.name = f"table {self.stem} ({self.db.label})"
        else:
            self.name = f"table {self.text} as {self.stem} ({self.db.label})"

    @property
    def sql(self) -> str:
        return self.text if is_query(self.text) else f"SELECT * FROM {self.text}"

    def probe(self) -> None:
        """Query no rows: the table exists, the SELECT runs, and every contract column's type fits."""
        for f in self.db.schema(self.sql, self.name):
            _coerce(pa.chunked_array([], type=f.type), f, CONTRACT[self.stem], self.name)

    def read_frame(self) -> pd.DataFrame:
        """Every row, as the raw frame :func:`kpi_kit.data.parse_frame` checks and parses."""
        try:
            table = self.db.query(self.sql, self.name)
        finally:
            if self.lease is not None:
                self.lease.done()
        return to_frame(table, CONTRACT[self.stem], self.name)


def open_tables(params) -> dict[str, SourceTable | None]:
    """The client's contract tables in its ``source`` database (None for a table it does not have)."""
    source = params.source
    db = connect(source.url)
    try:
        if source.tables is not None:
            names = dict(source.tables)
        else:
            present = db.table_names()
            names = {stem: stem for stem in CONTRACT if stem in present}
            if "contacts" not in names:
                raise DataError(f"source {db.label}", None, "no contacts table (required) in the database",
                                "load the client's data with `kpi-kit db load CLIENT.yaml FILE.duckdb`, or name "
                                "the contacts table, view or SELECT under source.tables")
        tables = {stem: SourceTable(stem, names[stem], db) for stem in CONTRACT if stem in names}
        for t in tables.values():
            t.probe()
    except BaseException:
        db.close()
        raise
    lease = _Lease(db, len(tables))
    for t in tables.values():
        t.lease = lease
    return {stem: tables.get(stem) for stem in CONTRACT}


# -- Arrow -> pandas -------------------------------------------------------------------------------
def _type_name(f: pa.Field) -> str:
    meta = f.metadata or {}
    return (meta.get(b"POSTGRESQL:type") or meta.get(b"ADBC:postgresql:typname") or b"").decode() or str(f.type)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _coerce(col: pa.ChunkedArray, f: pa.Field, spec: FileSpec, label: str) -> pa.ChunkedArray:
    """A database column in the form the contract's parsing takes: numbers as float64, ids and text as
    text, dates as dates or text; a type that cannot hold the column's values is an error."""
    if isinstance(col.type, pa.BaseExtensionType):  # PostgreSQL's numeric and other opaque types: their text
        col = pa.chunked_array([c.storage for c in col.chunks], type=col.type.storage_type)
    column = spec.column(f.name.strip())
    t = col.type
    if column is None:
        return col
    if pa.types.is_null(t):
        target = pa.timestamp("us") if column.kind == "date" else pa.float64() if column.kind in NUMERIC_KINDS \
            else pa.string()
        return col.cast(target)
    if column.kind == "date":
        if pa.types.is_date(t) or pa.types.is_timestamp(t) or _is_text(t):
            return col
        raise DataError(label, f.name, f"the database type {_type_name(f)} cannot hold a date",
                        "store dates as DATE or TIMESTAMP (or ISO text YYYY-MM-DD), or convert the column in a SELECT")
    if column.kind in NUMERIC_KINDS:
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            return col.cast(pa.float64())
        if _is_text(t):
            try:  # PostgreSQL's numeric arrives as text
                return col.cast(pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return col  # parse_frame names the value that is not a number
        raise DataError(label, f.name, f"the database type {_type_name(f)} is not a number",
                        "store amounts and counts as numbers (INTEGER, NUMERIC, DOUBLE), or convert the column in a SELECT")
    if _is_text(t):
        return col
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_boolean(t):
        return col.cast(pa.string())  # numeric ids are ids, their text
    raise DataError(label, f.name, f"the database type {_type_name(f)} cannot hold an id or text",
                    "store ids and text as TEXT / VARCHAR (or integers), or convert the column in a SELECT")


def to_frame(table: pa.Table, spec: FileSpec, label: str) -> pd.DataFrame:
    """Arrow result -> pandas, each contract column coerced (:func:`_coerce`), no Python loop over rows."""
    columns = [_coerce(col, f, spec, label) for col, f in zip(table.columns, table.schema)]
    names = [f.name for f in table.schema]
    del table
    out = pa.table(columns, names=names)
    del columns
    return out.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """A parsed contract frame (:func:`kpi_kit.data.parse_frame`) as an Arrow table for a database:
    dates as DATE, numbers as DOUBLE, ids and text as text."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            # contract dates are whole days (parse_frame truncates them)
            col = table.column(i)
            if f.type.tz is not None:
                col = col.cast(pa.timestamp(f.type.unit))
            table = table.set_column(i, f.name, pc.cast(col, pa.date32()))
        elif pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
        elif pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table
