"""PostgreSQL through ADBC's PostgreSQL driver (libpq underneath, so libpq's environment variables and
``~/.pgpass`` work): each table is fetched as one Arrow result (binary COPY), no row-by-row Python."""

from __future__ import annotations

import os
import re

import pyarrow as pa

from ..exceptions import DataError
from ._database import Database
from ._url import expand, redact, scrub

CONNECT_TIMEOUT = 10  # seconds; an unreachable host fails instead of hanging the run


def libpq_uri(url: str) -> str:
    """``postgresql+driver://`` / ``postgres://`` as libpq takes it, with a connect timeout."""
    scheme, rest = url.split("://", 1)
    uri = "postgresql://" + rest
    if "connect_timeout=" not in rest:
        uri += ("&" if "?" in rest else "?") + f"connect_timeout={CONNECT_TIMEOUT}"
    return uri


def _message(exc: Exception, secrets) -> str:
    """The server's or libpq's message, on one line, without ADBC's prefixes or the echoed query."""
    text = str(exc)
    state = re.search(r"SQLSTATE: (\w+)", text)
    text = text.split("\nQuery was:", 1)[0]
    text = re.sub(r"^[A-Z_]+: (\[libpq\] )?", "", text.strip())
    text = re.sub(r"^(Failed to (connect|prepare query|execute query)[^:]*): ", "", text)
    lines = []
    for ln in text.splitlines():
        if ln.startswith(("LINE ", " ")) and lines:
            break
        if ln.strip():
            lines.append(ln.strip())
    out = re.sub(r"\s+", " ", " ".join(lines)) or type(exc).__name__
    if state:
        out += f" (SQLSTATE {state.group(1)})"
    return scrub(out, secrets)


# SQLSTATE class 08 (connection exception), and the server shutting down, crashing or not accepting
# sessions (57P01-57P03); libpq's own words when the socket closes under it
_LOST_STATES = re.compile(r"SQLSTATE: (08\w{3}|57P0[123])")
_LOST_WORDS = ("server closed the connection", "no connection to the server", "terminating connection",
               "connection to server", "could not receive data from server", "SSL SYSCALL error")


def connection_lost(text: str) -> bool:
    """Whether a driver error says the connection to the server was lost (not that the query is wrong)."""
    return bool(_LOST_STATES.search(text)) or any(w in text for w in _LOST_WORDS)


def _connect_fix(message: str) -> str:
    if "password" in message or "authentication" in message:
        return ("check the user in source.url and the password in the environment (PGPASSWORD, ~/.pgpass, "
                "or the ${VARIABLE} the URL names)")
    if "does not exist" in message and "database" in message:
        return "correct the database name in source.url"
    return "check the host and port in source.url, and that the server is running and reachable from here"


class Postgres(Database):
    def __init__(self, url: str):
        import adbc_driver_postgresql.dbapi as pg

        self.label = redact(url)
        where = f"source {self.label}"
        uri, secrets = expand(url, where)
        self.secrets = [*secrets, os.environ.get("PGPASSWORD", "")]
        try:
            self.con = pg.connect(libpq_uri(uri), autocommit=True)
        except Exception as exc:  # adbc_driver_manager.Error and its subclasses
            message = _message(exc, self.secrets)
            raise DataError(where, None, f"cannot connect: {message}", _connect_fix(message)) from None
        try:
            with self.con.cursor() as cur:  # the kit only reads: the session refuses writes
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except Exception as exc:
            self.close()
            raise DataError(where, None, f"cannot start a session: {_message(exc, self.secrets)}",
                            "check the user's rights on the database") from None

    def query(self, sql: str, what: str) -> pa.Table:
        def fetch(cur):
            cur.execute(sql)
            return cur.fetch_arrow_table()

        return self._run(fetch, what)

    def schema(self, sql: str, what: str) -> pa.Schema:
        return self._run(lambda cur: cur.adbc_execute_schema(sql), what)  # prepared, not executed

    def _run(self, step, what: str):
        try:
            with self.con.cursor() as cur:
                return step(cur)
        except Exception as exc:
            message = _message(exc, self.secrets)
            if connection_lost(str(exc)):  # the server went away mid-read: nothing wrong with the query
                raise DataError(what, None, f"the server closed the connection ({message})",
                                "run again; if it happens again, check that the server is up and reachable "
                                "from here (its log says why it closed)") from None
            raise DataError(what, None, f"the database refused the query: {message}",
                            "correct the table name (schema.table) or the SELECT under source.tables") from None

    def table_names(self) -> set[str]:
        table = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
                           f"source {self.label}")
        return set(table.column(0).to_pylist())

    def close(self) -> None:
        con, self.con = getattr(self, "con", None), None
        if con is not None:
            con.close()


def write_tables(url: str, tables: dict[str, pa.Table], schema: str | None = None) -> None:
    """Create or replace each table (in ``schema``) with ADBC's bulk ingest (COPY), in one transaction."""
    import adbc_driver_postgresql.dbapi as pg

    label = redact(url)
    where = f"target {label}"
    uri, secrets = expand(url, where)
    secrets = [*secrets, os.environ.get("PGPASSWORD", "")]
    try:
        con = pg.connect(libpq_uri(uri))
    except Exception as exc:
        message = _message(exc, secrets)
        raise DataError(where, None, f"cannot connect: {message}", _connect_fix(message)) from None
    try:
        with con.cursor() as cur:
            if schema:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for name, table in tables.items():
                cur.adbc_ingest(name, table, mode="replace", db_schema_name=schema)
        con.commit()
    except Exception as exc:
        con.rollback()
        raise DataError(where, None, f"cannot write the tables: {_message(exc, secrets)}",
                        "check the user may create tables there") from None
    finally:
        con.close()
