"""Database URLs (SQLAlchemy style): which database, the password rule, ``${VAR}`` expansion from the
environment, and the form shown to people (never with a password).

    duckdb:///warehouse.duckdb           a file, relative to the client YAML's folder
    duckdb:////data/warehouse.duckdb     an absolute path
    postgresql://kit@db.example.com:5432/warehouse?sslmode=require
    postgresql://kit:${WAREHOUSE_PASSWORD}@db.example.com/warehouse

Credentials come from the environment only: libpq's own variables (``PGPASSWORD``, ``PGUSER``,
``PGHOST``, ``~/.pgpass``, ...), or ``${NAME}`` placeholders expanded when the kit connects. A password
written into the URL itself is refused, so it cannot end up in a report, ``metrics.json`` or a log.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..exceptions import KpiKitError

KINDS = {"duckdb": "duckdb", "postgresql": "postgresql", "postgres": "postgresql"}
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
SOURCE_FIX = ("write it like duckdb:///warehouse.duckdb (relative to the YAML's folder), "
              "duckdb:////absolute/path.duckdb or postgresql://user@host:5432/database")


def kind_of(url: str) -> str:
    """``duckdb`` or ``postgresql``; a ValueError (which never repeats the URL) for anything else."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"not a database URL; {SOURCE_FIX}")
    scheme = url.split("://", 1)[0].lower()
    kind = KINDS.get(scheme.split("+", 1)[0])
    if kind is None:
        raise ValueError(f"unsupported database '{scheme}' (supported: duckdb, postgresql); {SOURCE_FIX}")
    return kind


def check_url(url: str) -> str:
    """Validate a source URL as written: a supported database, no password in it."""
    kind = kind_of(url)
    if has_literal_password(url):
        raise ValueError("the URL holds a password. Credentials come from the environment only: remove it "
                         "and set PGPASSWORD (or ~/.pgpass), or write the password as ${VARIABLE}")
    if kind == "duckdb":
        duckdb_path(url)
    return url


def has_literal_password(url: str) -> bool:
    """A password written into the URL (``user:secret@``, ``?password=secret``); ``${VAR}`` is not one."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return ":" in url.split("://", 1)[-1].split("@", 1)[0] and "@" in url
    if password and not VAR.fullmatch(unquote(password)):
        return True
    return any(k.lower() == "password" and v and not VAR.fullmatch(v)
               for k, v in parse_qsl(parts.query, keep_blank_values=True))


def duckdb_path(url: str) -> str:
    """The file path of a ``duckdb:///`` URL (relative or absolute, unexpanded)."""
    rest = url.split("://", 1)[1].split("?", 1)[0]
    if not rest.startswith("/") or rest in ("/", "/:memory:"):
        raise ValueError("a DuckDB URL names a file: duckdb:///warehouse.duckdb (relative to the YAML's "
                         "folder) or duckdb:////absolute/path.duckdb")
    return unquote(rest[1:])


def resolve(url: str, base: Path) -> str:
    """A ``duckdb:///relative.duckdb`` URL made absolute against ``base`` (the client YAML's folder);
    other URLs unchanged."""
    try:
        if kind_of(url) != "duckdb":
            return url
        path = duckdb_path(url)
    except ValueError:
        return url  # reported when the parameters are validated
    if path.startswith(("/", "~", "${")):
        return url
    return "duckdb:///" + str((base / path).resolve())


def redact(url: str) -> str:
    """The URL as shown to people: no password (neither ``user:pw@`` nor ``password=``)."""
    if kind_of(url) == "duckdb":
        return url
    try:
        parts = urlsplit(url)
        user, host = parts.username, parts.netloc.rpartition("@")[2]
    except ValueError:
        return url.split("://", 1)[0] + "://…"
    netloc = f"{quote(unquote(user), safe='${}')}@{host}" if user else host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def expand(url: str, label: str) -> tuple[str, list[str]]:
    """``${VAR}`` placeholders replaced from the environment (percent-encoded in the user and password
    part); returns the URL and the secrets it now holds, to keep them out of any message."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise KpiKitError(f"{label}: environment variable {name} is not set. Fix: export {name} "
                              "before the run (credentials come from the environment).")
        return os.environ[name]

    head, sep, tail = url.partition("://")
    netloc, slash, rest = tail.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    secrets: list[str] = []
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if VAR.search(password):
            secrets += [os.environ.get(m.group(1), "") for m in VAR.finditer(password)]
        userinfo = VAR.sub(lambda m: quote(value(m), safe=""), user) + colon + \
            VAR.sub(lambda m: quote(value(m), safe=""), password)
    query = rest.partition("?")[2]
    secrets += [os.environ.get(m.group(1), "") for k, v in parse_qsl(query) if k.lower() == "password"
                for m in VAR.finditer(v)]
    expanded = head + sep + userinfo + at + VAR.sub(value, hostport) + slash + VAR.sub(value, rest)
    return expanded, [s for s in secrets if s]


def is_duckdb_target(target) -> bool:
    """A path or URL that names a DuckDB file (``warehouse.duckdb``, ``duckdb:///...``), not a folder."""
    text = str(target)
    return text.lower().startswith("duckdb:") or Path(text).suffix.lower() in DUCKDB_SUFFIXES


def scrub(text: str, secrets) -> str:
    """``text`` with every secret (and its percent-encoded form) replaced by ``***``."""
    for s in secrets:
        if s:
            text = text.replace(s, "***").replace(quote(s, safe=""), "***")
    return text
