"""Writing a client's data into a database: ``kpi-kit db load`` (a client folder's files as typed
tables), ``kpi-kit import ... --into FILE.duckdb`` (importer output merged into a table) and ``kpi-kit db
tables``."""

from __future__ import annotations

from pathlib import Path

from ..exceptions import KpiKitError
from ._url import has_literal_password, kind_of, redact

__all__ = ["list_tables", "load_database", "merge_into_database"]


def _target_url(target) -> str:
    """A DuckDB file path or a database URL, as a URL (no password allowed)."""
    text = str(target)
    if "://" not in text:
        return "duckdb:///" + str(Path(text).expanduser().resolve())
    try:
        kind_of(text)
    except ValueError as exc:
        raise KpiKitError(f"{text.split('://', 1)[0]}://…: {exc}.") from None
    if has_literal_password(text):
        raise KpiKitError(f"{redact(text)}: the URL holds a password. Fix: remove it and set PGPASSWORD "
                          "(or ~/.pgpass), or write it as ${VARIABLE}.")
    return text


def _client_folder(client) -> Path:
    from ..params import load_params

    path = Path(client)
    if path.is_dir():
        return path
    if not path.exists():
        raise KpiKitError(f"{path}: not found. Fix: give a client YAML file or a data folder.")
    params = load_params(path)
    if params.data_dir is None:
        raise KpiKitError(f"{path}: its data is already in a database ({redact(params.source.url)}). "
                          "Fix: give a client whose YAML has data_dir, or its data folder.")
    folder = Path(params.data_dir)
    if not folder.is_dir():
        raise KpiKitError(f"{folder}: data folder not found. Fix: point data_dir in {path} at the client's files.")
    return folder


def load_database(client, target, *, schema: str | None = None) -> dict[str, int]:
    """Write every contract file of a client folder (or of the ``data_dir`` of a client YAML) into a
    database: a DuckDB file (created if missing) or a PostgreSQL URL. Each file is checked and parsed
    as a run would (column by column: dates, numbers, ids), so the tables hold typed columns (DATE,
    DOUBLE, VARCHAR); each table is replaced, all of them in one transaction. Returns rows per table."""
    from ..contract import CONTRACT
    from ..data import find_file, parse_frame, read_raw
    from ..exceptions import DataError
    from ._read import to_arrow

    folder = _client_folder(client)
    url = _target_url(target)
    tables = {}
    for stem, spec in CONTRACT.items():
        path = find_file(folder, stem)
        if path is None:
            continue
        try:
            raw = read_raw(path)
        except Exception as exc:
            raise DataError(path.name, None, f"cannot be read ({exc})", "export the file again as UTF-8 CSV") from None
        tables[stem] = to_arrow(parse_frame(raw, spec, path.name, path.suffix))
    if "contacts" not in tables:
        raise DataError(str(folder / "contacts.csv"), None, "required file is missing",
                        "add contacts.csv (or .parquet) to the folder")
    if kind_of(url) == "duckdb":
        from ._duckdb import file_of, write_tables

        write_tables(file_of(url, str(target)), tables)
    else:
        from ._postgres import write_tables

        write_tables(url, tables, schema)
    return {stem: t.num_rows for stem, t in tables.items()}


def merge_into_database(target, stem: str, new, report) -> None:
    """An importer's validated rows merged into table ``stem`` of a DuckDB file, by the same keys and
    rules as a folder import (:func:`kpi_kit.importers._base.merge_into`): importing the same export
    twice changes nothing, a later export replaces the rows it overlaps."""
    from ..importers._base import MERGE_KEYS
    from ._duckdb import file_of, merge_table
    from ._read import to_arrow

    url = _target_url(target)
    if kind_of(url) != "duckdb":
        raise KpiKitError(f"{redact(url)}: imports go into a DuckDB file. Fix: --into FILE.duckdb "
                          "(then `kpi-kit db load` or your own tools move the data further).")
    path = file_of(url, str(target))
    keys = [k for k in MERGE_KEYS[stem] if k in new.columns]
    counts = merge_table(path, stem, to_arrow(new.reset_index(drop=True)), keys)
    if counts is None:
        report.say(f"{stem}: {len(new)} row(s) written to a new table in {path.name}")
    else:
        fresh, replaced, kept = counts
        report.say(f"{stem}: {len(new)} row(s) imported into {path.name}: {fresh} new, {replaced} already present "
                   f"(replaced by the import), {kept} kept")


def list_tables(target) -> dict[str, int]:
    """Tables of a database (a DuckDB file, a URL, or a client YAML with a ``source``) and their rows."""
    from ._connect import connect

    text = str(target)
    if text.endswith((".yaml", ".yml")):
        from ..params import load_params

        params = load_params(text)
        if params.source is None:
            raise KpiKitError(f"{text}: the client's data is a folder ({params.data_dir}), not a database. "
                              "Fix: give a client YAML with a source: block, a .duckdb file or a database URL.")
        url = params.source.url
    else:
        url = _target_url(text)
    db = connect(url)
    try:
        names = sorted(db.table_names())
        quoted = {n: '"' + n.replace('"', '""') + '"' for n in names}
        return {n: db.query(f"SELECT count(*) FROM {quoted[n]}", f"table {n}").column(0)[0].as_py() for n in names}
    finally:
        db.close()
