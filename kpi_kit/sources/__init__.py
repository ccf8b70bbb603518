"""A client's data in a database instead of a folder (SPEC: ``source:`` in place of ``data_dir``).

DuckDB (a local ``.duckdb`` file, the embedded default) and PostgreSQL (through ADBC) are read into
the same raw frames the CSV and Parquet files give, so the same contract checks, messages and
``as_of`` view apply (:func:`kpi_kit.data.load_client` does the rest). ``kpi-kit db load`` writes a
client folder's files into a database, ``kpi-kit import ... --into FILE.duckdb`` merges importer output
into one.

Examples
--------
>>> from kpi_kit.sources.load import load_database
>>> load_database("data/clients/demo.yaml", "build/demo.duckdb")  # doctest: +SKIP
>>> params = load_params("data/clients/examples/demo-duckdb.yaml")  # doctest: +SKIP
>>> load_client(params)["contacts"].shape  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from ._url import is_duckdb_target, redact, resolve
from .spec import Source

# Writing into a database (`kpi-kit db load`, `kpi-kit import --into`, `kpi-kit db tables`) reads client
# files and parameters, so it lives in kpi_kit.sources.load, which this package's face does not import:
# the parameters import this package for the `source:` model.
__all__ = ["Source", "is_duckdb_target", "open_tables", "redact", "resolve_source"]


def resolve_source(raw, base: Path):
    """The ``source`` mapping of a client YAML with a relative DuckDB path made absolute against
    ``base`` (the YAML's folder); anything else is left to :class:`Source` to validate."""
    if isinstance(raw, dict) and isinstance(raw.get("url"), str):
        return {**raw, "url": resolve(raw["url"].strip(), base)}
    return raw


def open_tables(params):
    """``{contract table: SourceTable or None}`` of a client whose parameters have a ``source``."""
    from ._read import open_tables as _open

    return _open(params)
