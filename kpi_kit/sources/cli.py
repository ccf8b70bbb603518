"""``kpi-kit db``: put a client's files into a database, and list what a database holds.

Errors are raised as :class:`~kpi_kit.exceptions.KpiKitError`: the ``kpi-kit`` command group prints them
as one line (no import of the command line from here, which imports this module)."""

from __future__ import annotations

import click


@click.group("db")
def db():
    """Client data in a database (DuckDB file or PostgreSQL) instead of a folder."""


@db.command("load")
@click.argument("client", type=click.Path())
@click.argument("target")
@click.option("--schema", default=None, help="PostgreSQL schema for the tables (created if missing).")
def load(client, target, schema):
    """Write the contract files of CLIENT (a client YAML with data_dir, or a data folder) into TARGET:
    a DuckDB file (created if missing; `warehouse.duckdb` or `duckdb:///...`) or a PostgreSQL URL
    (`postgresql://user@host:5432/db`, password from PGPASSWORD). Each table is replaced.

    \b
    Example:
      kpi-kit db load data/clients/demo.yaml build/demo.duckdb
    """
    from ._url import redact
    from .load import _target_url, load_database

    rows = load_database(client, target, schema=schema)
    url = _target_url(target)
    for stem, n in rows.items():
        click.echo(f"{stem:14s} {n:>10,d} rows")
    tables = "" if not schema else ", tables: {" + ", ".join(f"{s}: {schema}.{s}" for s in rows) + "}"
    click.echo(f"\nwrote {len(rows)} table(s) to {redact(url)}. A client YAML reads them with, in place of data_dir:\n"
               f"  source: {{url: \"{redact(url)}\"{tables}}}")


@db.command("tables")
@click.argument("target")
def tables(target):
    """List the tables (and their rows) of TARGET: a DuckDB file, a database URL, or a client YAML with a source."""
    from .load import list_tables

    found = list_tables(target)
    for name, n in found.items():
        click.echo(f"{name:24s} {n:>10,d} rows")
    if not found:
        click.echo("no tables.")
