"""Importers: turn the exports analysts have into the data contract's files.

``import_files(source, files, out_dir)`` maps, cleans and validates (with the kit's own contract
checks) every file first, then merges into ``out_dir`` atomically: importing the same file twice
changes nothing, and a malformed export leaves ``out_dir`` as it was.

Examples
--------
>>> report = import_files("google-ads", ["google_ads.csv"], "data/acme")  # doctest: +SKIP
>>> print(report)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import CONTRACT
from ..exceptions import KpiKitError
from ..sources import is_duckdb_target
from ..sources.load import merge_into_database
from . import ads, ga4, hubspot, salesforce, stripe
from ._base import (
    IMPORT_LOG,
    MERGE_KEYS,
    SET_ASIDE,
    ImportReport,
    Source,
    clean_number,
    export_entry,
    import_log_text,
    join_export,
    map_fields,
    merge_into,
    read_export,
    validate,
    write_atomically,
)

LOCK_WAIT_SECONDS = 600.0  # how long an import waits for another one into the same folder (kpi-kit import --wait)


@contextlib.contextmanager
def import_lock(target, report: ImportReport, wait: float = LOCK_WAIT_SECONDS):
    """Hold the import lock of a data folder (or of the folder of a DuckDB file) while an import reads,
    merges and writes: ``flock`` on the folder itself, so two imports into one folder run one after
    the other instead of each merging into the file as it was before the other (which lost the first
    one's rows) and no lock file is left behind. The lock goes with the process: a killed import
    never leaves it held. Waits up to ``wait`` seconds, then stops with a message."""
    folder = Path(target)
    if is_duckdb_target(target):
        if "://" in str(target):
            from ..sources._duckdb import file_of

            folder = file_of(str(target), str(target))
        folder = folder.expanduser().resolve().parent
    if not folder.is_dir():  # a DuckDB file in a missing folder: the merge says so in its own words
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - start >= wait:
                    raise KpiKitError(
                        f"{folder}: another kpi-kit import has been writing into this folder for {wait:g} s or more; "
                        "nothing was written. Fix: run this import again once the other one has finished "
                        "(or give it longer with --wait SECONDS)") from None
                time.sleep(0.05)
        waited = time.monotonic() - start
        if waited >= 0.1:
            report.say(f"waited {waited:.1f} s for another import into {folder} to finish")
        yield
    finally:
        os.close(fd)  # releases the lock


SOURCES: dict[str, Source] = {s.name: s for s in (
    hubspot.CONTACTS, hubspot.DEALS, salesforce.LEADS, salesforce.OPPORTUNITIES, stripe.SUBSCRIPTIONS,
    ga4.GA4, ads.GOOGLE, ads.LINKEDIN, ads.FACEBOOK)}
SOURCE_NAMES = [*SOURCES, "mapping"]


def import_files(source: str, files, out_dir, *, period: str | None = None, mapping=None,
                 bad_rows: str = "stop", report: ImportReport | None = None,
                 wait: float = LOCK_WAIT_SECONDS) -> ImportReport:
    """Import ``files`` of ``source`` (one of :data:`SOURCE_NAMES`) into the data folder ``out_dir``;
    returns the report of what was mapped, changed or left out (``report`` to add to an existing one).

    ``bad_rows="drop"`` leaves out (and lists) rows that break a rule across columns, such as a stage
    dated before creation, instead of stopping; a mapping YAML can say the same with ``bad_rows: drop``.

    Another import into the same folder (or DuckDB file) at the same time is waited for, up to
    ``wait`` seconds (:func:`import_lock`): two imports at once keep the rows of both.
    """
    options: dict = {"period": period, "bad_rows": bad_rows}
    if source == "mapping":
        if not mapping:
            raise KpiKitError("the mapping source needs a mapping YAML. Fix: pass --mapping FILE.")
        from .mapping import load_mapping

        spec, extra = load_mapping(mapping)
        options |= extra
    elif source in SOURCES:
        spec = SOURCES[source]
    else:
        raise KpiKitError(f"unknown source '{source}'. Fix: use one of {', '.join(SOURCE_NAMES)}.")
    out = Path(out_dir)
    report = report if report is not None else ImportReport()
    frames, labels, exports = [], [], []
    for f in map(Path, files):
        label = f.name
        start = len(report.log)
        raw = read_export(f, report, sheet=options.get("sheet"))
        report.say(f"{label}: {len(raw)} row(s), columns {', '.join(raw.columns)}")
        for join in options.get("join", ()):
            left, right = join["by"] if isinstance(join["by"], list) else (join["by"], join["by"])
            raw = join_export(raw, f.parent / join["file"], left, right, report, label)
        frame, origin = map_fields(raw, spec.fields, report, label, decimal=options.get("decimal", "."),
                                   date_format=options.get("date_format"))
        report.say(f"{label}: mapped " + ", ".join(f"{src} -> {dst}" for dst, src in origin.items()))
        if spec.convert:
            frame = spec.convert(frame, report, options | {"label": label})
        frames.append(validate(frame, spec.target, label, origin, report, drop_bad_rows=options["bad_rows"] == "drop",
                               id_column=CONTRACT[spec.target].columns[0].name))
        labels.append(label)
        exports.append(export_entry(spec.target, label, source, len(raw), len(frames[-1]), report, start))
    start = len(report.log)
    new = _later_file_wins(frames, spec.target, report, labels)
    for e in exports:  # rows replaced by a later file of this import are set aside too
        later = [i for i in report.log[start:] if i["export"] == e["export"]]
        e["issues"] += [{k: v for k, v in i.items() if k != "export"} for i in later]
        e["rows_set_aside"] += sum(i["rows"] for i in later)
        e["rows_imported"] -= sum(i["rows"] for i in later)
    if not is_duckdb_target(out_dir):  # a DuckDB file (kpi-kit import --into) is not a folder
        out.mkdir(parents=True, exist_ok=True)  # only now: a failed import leaves no empty folder behind
    with import_lock(out_dir, report, wait):  # read, merge and write as one step: a concurrent import waits
        if is_duckdb_target(out_dir):  # the same merge, into a table of a DuckDB file (kpi_kit/sources)
            merge_into_database(out_dir, spec.target, new, report)
            return report
        text = merge_into(out, spec.target, new, report)  # everything validated before anything is written
        write_atomically({out / f"{spec.target}.csv": text,
                          out / IMPORT_LOG: import_log_text(out, spec.target, exports, text)})
    return report


def _later_file_wins(frames: list[pd.DataFrame], target: str, report: ImportReport,
                     labels: list[str] | None = None) -> pd.DataFrame:
    """The files' rows in one frame. A key in more than one file (two exports listing one contact)
    keeps the later file's rows, as when the files are imported by two commands; rows repeated within
    one file are the merge's business, as before."""
    new = pd.concat(frames, ignore_index=True)
    keys = [k for k in MERGE_KEYS[target] if k in new.columns]
    if len(frames) < 2 or not keys:
        return new
    file_no = pd.Series(np.repeat(np.arange(len(frames)), [len(f) for f in frames]), index=new.index)
    last_file = file_no.groupby([new[k] for k in keys], dropna=False).transform("max")
    replaced = file_no < last_file
    if replaced.any():
        report.say(f"{target}: {int(replaced.sum())} row(s) share their {', '.join(keys)} with a row of a later file "
                   "in this import: the later file's row is kept (as an import by a later command would replace it)")
        for i, n in replaced.groupby(file_no).sum().items():
            report.record(labels[i] if labels else f"file {i + 1}", SET_ASIDE, f"{', '.join(keys)} also in a later file",
                          int(n), "row left out: the later file's row is kept")
    return new.loc[~replaced]


def import_frame(frame: pd.DataFrame, target: str, out_dir, *, label: str, report: ImportReport | None = None,
                 bad_rows: str = "stop", wait: float = LOCK_WAIT_SECONDS) -> ImportReport:
    """Validate a frame already in the contract's shape for ``target`` and merge it into ``out_dir``,
    like :func:`import_files` does: for recipes that reshape an export in a few lines of pandas.

    Examples
    --------
    >>> weekly = pd.DataFrame({"date": ["2019-01-07"], "channel": ["tv"], "spend": [1000.0]})
    >>> print(import_frame(weekly, "spend", "data/acme", label="media.csv"))  # doctest: +SKIP
    spend: 1 row(s) written to a new file
    """
    if target not in CONTRACT:
        raise KpiKitError(f"unknown contract file '{target}'. Fix: use one of {', '.join(CONTRACT)}.")
    report = report if report is not None else ImportReport()
    out = Path(out_dir)
    if not is_duckdb_target(out_dir):
        out.mkdir(parents=True, exist_ok=True)
    start = len(report.log)
    parsed = validate(frame.copy(), target, label, {}, report, drop_bad_rows=bad_rows == "drop",
                      id_column=CONTRACT[target].columns[0].name)
    with import_lock(out_dir, report, wait):
        if is_duckdb_target(out_dir):
            merge_into_database(out_dir, target, parsed, report)
            return report
        text = merge_into(out, target, parsed, report)
        entry = export_entry(target, label, "frame", len(frame), len(parsed), report, start)
        write_atomically({out / f"{target}.csv": text, out / IMPORT_LOG: import_log_text(out, target, [entry], text)})
    return report


__all__ = ["IMPORT_LOG", "SOURCES", "SOURCE_NAMES", "ImportReport", "clean_number", "import_files", "import_frame", "read_export"]
