"""Shared machinery of the importers: read an export, clean its values, map its columns to a
contract file, validate with the kit's own contract checks, and merge into a data folder.

An importer is a :class:`Source`: a small declarative table of :class:`Field` mappings plus,
where a source needs one, a conversion hook. Nothing is changed or dropped silently: every
cleaning step that touches rows adds a line to the :class:`ImportReport`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._cells import csv_text, restore
from .._files import write_all_atomic
from .._inputs import bom_encoding, check_cells, check_file_size, decode_export, local_days, regular_file, utf16_without_bom
from ..contract import CONTRACT
from ..data import IMPORT_LOG, parse_frame, rule_violations
from ..exceptions import DataError
from ..params import Params

# the loader's defaults (kpi_kit.params): an import holds an export to them, so what it writes loads
DEFAULT_MAX_CELL_CHARS = Params.model_fields["max_cell_chars"].default
DEFAULT_MAX_FILE_MB = Params.model_fields["max_file_mb"].default
EMPTY = {"", "--", "-", "n/a", "N/A", "NA", "null", "None", "(not set)"}
# rows of a contract file are the same row when these columns are equal (ids, else natural keys)
MERGE_KEYS = {
    "contacts": ["contact_id"], "deals": ["deal_id"], "revenue": ["date", "channel"], "subscriptions": ["subscription_id"],
    "customers": ["customer_id"], "mrr": ["customer_id", "month"], "spend": ["date", "channel", "campaign"],
    "traffic": ["date", "channel"], "touches": ["contact_id", "touched_at", "channel"],
    "costs": ["month", "category"], "engagement": ["date", "metric"],
    "targets": ["metric", "period_start", "period_end"],
}


@dataclass(frozen=True)
class Field:
    """One contract column: from the first present ``source`` column (or a constant ``value``),
    cleaned as ``kind`` (text, date, money, number, percent), optionally through ``values`` (a map
    of export values to contract values)."""

    target: str
    source: str | tuple[str, ...] | None = None
    kind: str = "text"
    value: object = None
    values: dict | None = None
    required: bool = True
    default: object = None  # fills blank cells (each fill is reported)
    drop_if_empty: bool | str = False  # a row without this value is left out (each drop is reported; a text
    # says why, for the report's data-quality section)
    zero_is_unknown: bool | str = False  # the export writes 0 where it does not know the number (Maven's lost
    # deals): such cells are left empty (unknown, never summed as a known 0), counted and, with a text, why


@dataclass
class Source:
    name: str
    target: str
    description: str
    fields: tuple[Field, ...]
    convert: Callable | None = None  # (frame, report, options) -> frame, after the mapping


LOG_FORMAT = 1
SET_ASIDE, FILLED, UNKNOWN, RESHAPED = "set aside", "filled", "left empty", "reshaped"
CONVERTED = "converted"  # an export read in another encoding than UTF-8 (Windows-1252, UTF-16) and converted


@dataclass
class ImportReport:
    """What an import mapped, changed or left out: ``lines`` to read, and ``log``, the rows set aside
    and cells filled, each ``{"export", "kind", "issue", "rows", "action"}`` (``kind`` one of
    ``set aside``, ``filled``, ``left empty`` (a value the export does not give), ``reshaped``,
    ``converted`` (an export not in UTF-8, converted)),
    which the import writes beside the data as ``import_log.json`` (:func:`import_log_text`) for the
    report's data-quality section."""

    lines: list[str] = field(default_factory=list)
    counts: dict[str, dict] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)  # export -> the encoding it was converted from

    def say(self, text: str) -> None:
        self.lines.append(text)

    def record(self, export: str, kind: str, issue: str, rows: int, action: str) -> None:
        """Record ``rows`` rows (or cells) of ``export`` set aside, filled or reshaped, and why."""
        if rows:
            self.log.append({"export": export, "kind": kind, "issue": issue, "rows": int(rows), "action": action})

    def __str__(self) -> str:
        return "\n".join(self.lines)


# -- reading ---------------------------------------------------------------------------------------
MAX_COLUMNS = 2000  # exports have dozens to a few hundred; more is not a table of records
_SAMPLE = 64 * 1024


def _refuse_unreadable(path: Path, raw: bytes) -> None:
    """Stop early, with a short message, on what is not a CSV export: an empty file, a binary one
    (a zip, an image, a database file), a header of absurd width."""
    if not raw.strip():
        raise DataError(path.name, None, "the file is empty", "export it again: a CSV needs a header line and rows")
    sample = raw[:_SAMPLE]
    if b"\x00" in sample or sample.startswith((b"PK\x03\x04", b"\x89PNG", b"%PDF", b"SQLite format")):
        raise DataError(path.name, None, "this is a binary file, not a CSV export",
                        "export the data as CSV (or .xlsx for Excel workbooks)")
    header, newline, _ = sample.partition(b"\n")
    widest = max(header.count(sep) for sep in (b",", b";", b"\t")) + 1
    if widest > MAX_COLUMNS:
        counted = f"{widest:,}" if newline or len(raw) <= _SAMPLE else f"more than {widest:,}"
        raise DataError(path.name, None, f"the header has {counted} columns (at most {MAX_COLUMNS:,} are read)",
                        "export only the columns the import needs")


def read_export(path: Path, report: ImportReport, *, sheet=None) -> pd.DataFrame:
    """CSV (UTF-8 with or without BOM, CRLF, ``,``/``;``/tab sniffed, ``#`` comment lines skipped)
    or Excel; every cell as text."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        try:
            return pd.read_excel(path, sheet_name=sheet or 0, dtype=str)
        except ImportError as exc:
            raise DataError(path.name, None, f"cannot read Excel ({exc})", "pip install openpyxl, or save as CSV") from None
        except Exception as exc:  # not a workbook after all (a renamed CSV, a damaged file)
            raise DataError(path.name, None, f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})",
                            "open it in Excel and save it again as .xlsx, or export CSV") from None
    size = regular_file(path, path.name).st_size  # a FIFO or a device would hang the read
    check_file_size(path, size, DEFAULT_MAX_FILE_MB, path.name)
    raw = path.read_bytes()
    if not raw.strip():
        _refuse_unreadable(path, raw)
    bom = bom_encoding(raw[:4])
    wide = (bom is not None and bom[0] != "utf-8-sig") or utf16_without_bom(raw[:4096]) is not None
    if not wide:  # UTF-16 and UTF-32 hold NUL bytes: checked once decoded
        _refuse_unreadable(path, raw)
    text, converted, detail = decode_export(raw, path.name)
    if converted:
        report.encodings[path.name] = converted
        report.say(f"{path.name}: read as {converted}{detail} and converted to UTF-8")
        _refuse_unreadable(path, text.encode("utf-8"))
    elif raw.startswith(b"\xef\xbb\xbf"):
        report.say(f"{path.name}: removed the UTF-8 byte-order mark")
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    if comments:
        report.say(f"{path.name}: skipped {len(comments)} comment line(s) starting with '#'")
    body = "\n".join(ln for ln in lines if not ln.startswith("#"))
    try:
        dialect = csv.Sniffer().sniff(body.split("\n", 1)[0], delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    df = pd.read_csv(io.StringIO(body), sep=sep, dtype=str, keep_default_na=False)
    df.attrs["repeated"] = _repeated(body, sep, path.name)
    df.columns = [str(c).strip() for c in df.columns]
    filled = (~_blank(df)).sum(axis=1) if len(df.columns) > 1 else pd.Series(2, index=df.index)
    data_rows = np.flatnonzero(filled.to_numpy() > 1)
    last = data_rows[-1] + 1 if len(data_rows) else 0
    if last < len(df):  # Salesforce ends its exports with a blank line, a copyright and "Generated By"
        report.say(f"{path.name}: dropped {len(df) - last} footer line(s) after the last data row "
                   f"(e.g. '{next((v for v in df.iloc[last:, 0] if str(v).strip()), '')}')")
        df = df.iloc[:last]
    df.attrs["comment_lines"] = len(comments)
    if converted:
        report.record(path.name, CONVERTED, f"encoding {converted}{detail}", len(df),
                      "converted to UTF-8 at import (accented characters kept)")
    return df


def _repeated(body: str, sep: str, label: str) -> dict[str, str]:
    """Header names given more than once (case and spacing ignored, as the mapping reads them):
    {normalised name: "'Name' (columns 2 and 7 of file.csv)"}."""
    try:
        header = next(csv.reader(io.StringIO(body), delimiter=sep), [])
    except csv.Error:  # a header cell above the csv module's limit: max_cell_chars names it later
        return {}
    seen: dict[str, int] = {}
    out = {}
    for i, name in enumerate(header):
        if not name.strip():
            continue
        key = _norm(name)
        if key in seen and key not in out:
            out[key] = f"'{name.strip()}' (columns {seen[key] + 1} and {i + 1} of {label})"
        seen.setdefault(key, i)
    return out


def join_export(df: pd.DataFrame, path: Path, on: str, key: str, report: ImportReport, label: str) -> pd.DataFrame:
    """Left-join the columns of a second export (say, won deals onto leads) by ``on`` = ``key``."""
    if not path.exists():
        raise DataError(path.name, None, "file to join not found", f"put it next to {label}")
    other = read_export(path, report)
    for frame, col, name in ((df, on, label), (other, key, path.name)):
        if col not in frame:
            raise DataError(name, col, "join column not found", f"join on a column of both files (found: "
                            f"{', '.join(frame.columns)})")
    dup = other[key].duplicated(keep=False) & ~_blank(other[key])
    if dup.any():
        raise DataError(path.name, key, "repeated key: a join would duplicate rows", "keep one row per key",
                        (np.flatnonzero(dup) + 2).tolist())
    extra = [c for c in other.columns if c not in df.columns]
    merged = df.merge(other[[key, *extra]], how="left", left_on=on,
                      right_on=key, suffixes=("", "_joined"), validate="many_to_one")
    if key != on:
        merged = merged.drop(columns=key)
    matched = df[on].isin(set(other[key]))
    report.say(f"{label}: joined {path.name} on {on}: {int(matched.sum())} of {len(df)} row(s) matched, "
               f"{len(other) - int(other[key].isin(set(df[on])).sum())} row(s) of {path.name} matched none")
    merged.index = df.index
    merged.attrs = df.attrs | {"repeated": {**other.attrs.get("repeated", {}), **df.attrs.get("repeated", {})}}
    return merged.fillna("")


# -- cleaning ------------------------------------------------------------------------------------
_NUM = re.compile(r"[^\d,.\-]")


def _blank(s):
    """Empty cells and the placeholders exports write for them; a Series or a whole DataFrame."""
    if isinstance(s, pd.DataFrame):
        return s.isna() | s.apply(lambda c: c.astype(str).str.strip().isin(EMPTY))
    return s.isna() | s.astype(str).str.strip().isin(EMPTY)


def clean_number(s: pd.Series, *, decimal: str = ".", percent: bool = False) -> pd.Series:
    """'$1,234.50', 'R$ 1.234,50' (decimal=','), '45%' -> floats; blanks and '--' -> NaN."""
    text = s.astype(str).str.strip().where(~_blank(s))
    had_pct = text.str.endswith("%").fillna(False)
    text = text.str.replace(_NUM, "", regex=True)
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    out = pd.to_numeric(text, errors="coerce")
    if percent:
        out = out.where(~(had_pct | (out > 1)), out / 100)
    return out


def clean_date(s: pd.Series, *, date_format: str | None = None) -> pd.Series:
    """ISO dates and timestamps, 'YYYYMMDD' (GA4), US 'MM/DD/YYYY', and Excel serial numbers."""
    text = s.astype(str).str.strip().where(~_blank(s))
    serial = text.str.fullmatch(r"\d{5}(\.\d+)?").fillna(False)
    compact = text.str.fullmatch(r"\d{8}").fillna(False)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if serial.any():
        out[serial] = pd.to_datetime("1899-12-30") + pd.to_timedelta(text[serial].astype(float).round(), unit="D")
    if compact.any():
        out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    rest = ~serial & ~compact & text.notna()
    if rest.any():
        us = text[rest].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}(?:[ T].*)?").all()
        if date_format:
            parsed = pd.to_datetime(text[rest], format=date_format, errors="coerce")
        elif us:  # US exports (Salesforce, HubSpot, Excel CSV): the day is all a report needs
            parsed = pd.to_datetime(text[rest].str.split(r"[ T]", n=1, regex=True).str[0], format="%m/%d/%Y",
                                    errors="coerce")
        else:
            parsed = local_days(text[rest])  # a timestamp's own calendar day, offset dropped (not moved to UTC)
        out[rest] = parsed.dt.normalize()
    return out


def split_expected_close(frame: pd.DataFrame, is_open) -> int:
    """CRMs write one close date for every deal: for an open deal it is the expected close. Move those
    to ``expected_close_at`` (a kit addition to the contract); returns how many moved."""
    frame["expected_close_at"] = frame["closed_at"].where(is_open)
    frame["closed_at"] = frame["closed_at"].where(~is_open)
    return int(frame["expected_close_at"].notna().sum())


# -- mapping, validation, merge ------------------------------------------------------------------------
def _norm(name: str) -> str:
    return " ".join(str(name).lower().split())


def map_fields(df: pd.DataFrame, fields, report: ImportReport, label: str, *, decimal: str = ".",
               date_format: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Build the contract columns; returns the frame and {contract column: export column}."""
    out, origin = pd.DataFrame(index=df.index), {}
    out["_row"] = df.index + 2 + df.attrs.get("comment_lines", 0)  # the export's own line numbers
    by_name = {_norm(c): c for c in df.columns}  # exports differ in case and spacing between versions
    repeated = df.attrs.get("repeated", {})
    used = {_norm(c) for f in fields for c in ((f.source,) if isinstance(f.source, str) else (f.source or ()))}
    if unused := [v for k, v in repeated.items() if k not in used]:
        report.say(f"{label}: column(s) given twice, not read by this import: {'; '.join(unused)}")
    for f in fields:
        sources = (f.source,) if isinstance(f.source, str) else (f.source or ())
        if twice := [repeated[_norm(c)] for c in sources if _norm(c) in repeated]:
            raise DataError(label, twice[0].split("'")[1], f"the column is in the export twice: {twice[0]}",
                            "remove or rename one of the two (or map the one you mean in a mapping YAML): "
                            "the import will not guess which one holds the data")
        present = list(dict.fromkeys(by_name[_norm(c)] for c in sources if _norm(c) in by_name))
        col = present[0] if present else None
        if col is None and f.value is None:
            if f.required:
                raise DataError(label, " or ".join(sources), "column not found in the export",
                                f"export it again with that column (found: {', '.join(df.columns)})")
            continue
        if col is None:
            s = pd.Series(f.value, index=df.index)
        else:  # several alternatives present (old and new HubSpot stage dates): first non-blank wins
            s = df[col]
            for other in present[1:]:
                s = s.where(~_blank(s), df[other])
        origin[f.target] = " | ".join(present) or f"(constant {f.value!r})"
        if f.values is not None:
            mapped = s.astype(str).str.strip().map(f.values)
            unknown = mapped.isna() & ~_blank(s)
            if unknown.any():
                raise DataError(label, col, f"unknown value '{s[unknown].iloc[0]}'",
                                f"map it under values: ({', '.join(map(str, f.values))})",
                                out.loc[unknown, "_row"].tolist())
            s = mapped
        if f.kind in ("money", "number", "count", "percent"):
            cleaned = clean_number(s, decimal=decimal, percent=f.kind == "percent")
            bad = cleaned.isna() & ~_blank(s)
        elif f.kind == "date":
            cleaned = clean_date(s, date_format=date_format)
            bad = cleaned.isna() & ~_blank(s)
        else:
            cleaned, bad = s.astype(str).str.strip().where(~_blank(s)), pd.Series(False, index=s.index)
        if bad.any():
            raise DataError(label, col, f"unparsable {f.kind} (e.g. '{s[bad].iloc[0]}')",
                            "fix the cell or the export's number/date format", out.loc[bad, "_row"].tolist())
        decorated = s.astype(str).str.strip().str.contains(r"[^\d.\-]", regex=True)
        changed = (~_blank(s)) & decorated if f.kind in ("money", "number", "percent") \
            else pd.Series(False, index=s.index)
        if changed.any():
            report.say(f"{label}: {col}: removed currency symbols, thousands separators or '%' from "
                       f"{int(changed.sum())} value(s)")
        blanks = _blank(s) & s.notna() & (s.astype(str).str.strip() != "")
        if blanks.any():
            report.say(f"{label}: {col}: read {int(blanks.sum())} placeholder(s) such as '--' as empty")
        if f.drop_if_empty and cleaned.isna().any():
            report.say(f"{label}: {col}: left out {int(cleaned.isna().sum())} row(s) without a value")
            why = f": {f.drop_if_empty}" if isinstance(f.drop_if_empty, str) else ""
            report.record(label, SET_ASIDE, f"{col} empty", int(cleaned.isna().sum()), "row left out" + why)
            keep = cleaned.notna()  # later fields are read from the remaining rows only
            out, df, cleaned = out.loc[keep], df.loc[keep], cleaned.loc[keep]
        if f.zero_is_unknown and f.kind in ("money", "number", "count", "percent") and (zero := cleaned == 0).any():
            why = f": {f.zero_is_unknown}" if isinstance(f.zero_is_unknown, str) else ""
            by = ""
            if "status" in out:  # fields mapped before this one (the status is mapped first where it matters)
                counts = out.loc[zero, "status"].astype(str).value_counts()
                by = " (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"
            report.say(f"{label}: {col}: {int(zero.sum())} value(s) of 0{by} read as unknown and left empty{why}")
            report.record(label, UNKNOWN, f"{col} recorded as 0 for an unknown amount{by}", int(zero.sum()),
                          "left empty (unknown, not 0), left out of sums and counted" + why)
            cleaned = cleaned.mask(zero)
        if f.default is not None and cleaned.isna().any():
            if f.kind in ("money", "number", "count", "percent") and f.default == 0:
                # SPEC "Real data": an importer never fills an unknown number with 0
                raise DataError(label, col, "default 0 for a number: an empty cell is unknown, not zero",
                                "remove the default (an empty cell stays empty, and the reports count it), "
                                "or leave such rows out with drop_if_empty")
            report.say(f"{label}: {col}: filled {int(cleaned.isna().sum())} empty value(s) with {f.default!r}")
            report.record(label, FILLED, f"{col} empty", int(cleaned.isna().sum()), f"filled with {f.default!r}")
            cleaned = cleaned.fillna(f.default)
        out[f.target] = cleaned
    return out, origin


def validate(frame: pd.DataFrame, stem: str, label: str, origin: dict, report: ImportReport | None = None, *,
             drop_bad_rows: bool = False, id_column: str | None = None) -> pd.DataFrame:
    """The kit's own contract checks (:func:`~kpi_kit.data.parse_frame` and
    :func:`~kpi_kit.data.rule_violations`); an error names the export's own column and its rows.

    With ``drop_bad_rows`` a row that breaks a rule across columns (a stage dated before creation,
    say) is left out and listed in the report instead of stopping the import."""
    rows = frame.pop("_row") if "_row" in frame else pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    try:
        check_cells(frame, label, DEFAULT_MAX_CELL_CHARS)  # what the loader would refuse under the defaults
        parsed = parse_frame(frame, CONTRACT[stem], label, ".csv")
    except DataError as err:  # parse_frame numbers rows by position; give the export's own line numbers
        col = origin.get(err.column, err.column)
        lines = [int(rows.iloc[r - 2]) for r in err.rows] if err.rows else err.rows
        raise DataError(label, col, err.problem, err.fix, lines) from None
    violations = list(rule_violations(stem, parsed))
    keep = np.ones(len(parsed), dtype=bool)
    for v in violations:
        col = origin.get(v.column, v.column)
        if not drop_bad_rows:
            raise DataError(label, col, v.problem, v.fix + " (or set bad_rows: drop to leave such rows out)",
                            rows[v.mask].astype(int).tolist())
        ids = parsed.loc[v.mask, id_column].astype(str).tolist() if id_column in parsed else []
        listed = f" ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})" if ids else ""
        report.say(f"{label}: {col}: {v.problem}: left out {int(v.mask.sum())} row(s)" + listed)
        report.record(label, SET_ASIDE, f"{col}: {v.problem}", int((v.mask & keep).sum()), "row left out" + listed)
        keep &= ~v.mask
    if report is not None:
        _say_unknown(parsed.loc[keep], stem, label, origin, report)
    return parsed.loc[keep]


def _say_unknown(parsed: pd.DataFrame, stem: str, label: str, origin: dict, report: ImportReport) -> None:
    """Say how many cells of a column that may be unknown (a deal's amount) are empty: they stay empty,
    never 0 (SPEC "Real data"); the loader counts them again for the report."""
    for c in CONTRACT[stem].columns:
        if c.unknown_ok and c.name in parsed and (empty := parsed[c.name].isna()).any():
            by = ""
            if "status" in parsed:
                counts = parsed.loc[empty, "status"].astype(str).str.lower().value_counts()
                by = " (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"
            report.say(f"{label}: {origin.get(c.name, c.name)}: {int(empty.sum())} row(s) without a value{by}: "
                       "left empty (unknown, not 0): left out of sums and counted in the reports")


def _format(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


def merge_into(out_dir: Path, stem: str, new: pd.DataFrame, report: ImportReport) -> str:
    """Merge ``new`` rows into ``out_dir/<stem>.csv`` by the file's key; returns the CSV text."""
    path = out_dir / f"{stem}.csv"
    keys = [k for k in MERGE_KEYS[stem] if k in new.columns]
    new = _format(new)
    if path.exists():
        regular_file(path, f"{out_dir.name}/{path.name}")
        old = restore(pd.read_csv(path, dtype=str, keep_default_na=False))  # cells as imported (see _cells)
        cols = list(dict.fromkeys([*old.columns, *new.columns]))
        old, new_t = old.reindex(columns=cols), new.astype(object).where(new.notna(), "").reindex(columns=cols)
        key_old = old[keys].astype(str).agg("|".join, axis=1)
        key_new = new_t[keys].astype(str).agg("|".join, axis=1)
        replaced = key_old.isin(set(key_new))
        merged = pd.concat([old[~replaced], new_t], ignore_index=True)
        report.say(f"{stem}: {len(new_t)} row(s) imported: {int((~key_new.isin(set(key_old))).sum())} new, "
                   f"{int(replaced.sum())} already present (replaced by the import), {int((~replaced).sum())} kept")
    else:
        merged = new.astype(object).where(new.notna(), "")
        report.say(f"{stem}: {len(merged)} row(s) written to a new file")
    merged = merged.sort_values(keys, kind="stable").fillna("")
    return csv_text(merged, lineterminator="\n")  # a cell such as '=cmd...' is written as text, not a formula


def write_atomically(files: dict[Path, str]) -> None:
    """Write every file to a temporary name first, then rename: a failure leaves the folder as it was
    (and a replaced file keeps its permissions)."""
    write_all_atomic(files)


# -- the import log ----------------------------------------------------------------------------------
def export_entry(target: str, export: str, source: str, rows_in_export: int, rows_imported: int,
                 report: ImportReport, start: int) -> dict:
    """One export's line of the import log: its rows, those set aside, and what was set aside or filled
    (the report's log entries from position ``start`` on that name this export). Rows in the export =
    rows imported + rows set aside; an export whose rows were summed or spread (ad exports) imports
    its rows into a different number of the file's rows, which its ``reshaped`` issue states."""
    issues = [{k: v for k, v in e.items() if k != "export"} for e in report.log[start:] if e["export"] == export]
    set_aside = sum(i["rows"] for i in issues if i["kind"] == SET_ASIDE)
    if any(i["kind"] == RESHAPED for i in issues):  # summed or spread: the export's rows that went in
        rows_imported = rows_in_export - set_aside
    entry = {"file": target, "export": export, "source": source, "rows_in_export": int(rows_in_export),
             "rows_set_aside": set_aside, "rows_imported": int(rows_imported), "issues": issues}
    if export in report.encodings:  # read as Windows-1252 or UTF-16 and converted (the issue says how it was told)
        entry["encoding"] = report.encodings[export]
    return entry


def import_log_text(out_dir: Path, target: str, exports: list[dict], csv_text: str) -> str:
    """The folder's ``import_log.json`` after this import: earlier imports of other exports are kept, an
    export imported again replaces its own entry, and the file written is recorded by row count and
    SHA-256 (the loader ignores the log of a file changed since). Deterministic: no timestamps, so
    an unchanged re-import changes no byte (and no incremental-run fingerprint)."""
    path = Path(out_dir) / IMPORT_LOG
    old: dict = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if not isinstance(old, dict) or old.get("format") != LOG_FORMAT:
            old = {}
    names = {(e["file"], e["export"]) for e in exports}
    kept = [e for e in old.get("imports", []) if (e.get("file"), e.get("export")) not in names]
    files = dict(old.get("files", {}))
    rows = sum(1 for _ in csv.reader(io.StringIO(csv_text))) - 1  # quoted cells may hold line breaks
    files[target] = {"name": f"{target}.csv", "rows": max(rows, 0),
                     "sha256": hashlib.sha256(csv_text.encode("utf-8")).hexdigest()}
    log = {"format": LOG_FORMAT,
           "about": "written by kpi-kit import: rows each export had, rows set aside and cells filled at import, "
                    "and why; read by the reports' data-quality section. Not a contract file.",
           "imports": sorted([*kept, *exports], key=lambda e: (e["file"], e["export"])),
           "files": dict(sorted(files.items()))}
    return json.dumps(log, indent=1, ensure_ascii=False) + "\n"
