"""Shared machinery of the importers: read an export, clean its values, map its columns to a
contract file, validate with the kit's own contract checks, and merge into a data folder.

An importer is a :class:`Source`: a small declarative table of :class:`Field` mappings plus,
where a source needs one, a conversion hook. Nothing is changed or dropped silently: every
cleaning step that touches rows adds a line to the :class:`ImportReport`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import CONTRACT
from ..data import parse_frame
from ..exceptions import DataError

EMPTY = {"", "--", "-", "n/a", "N/A", "NA", "null", "None", "(not set)"}
# rows of a contract file are the same row when these columns are equal (ids, else natural keys)
MERGE_KEYS = {
    "contacts": ["contact_id"], "deals": ["deal_id"], "subscriptions": ["subscription_id"],
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


@dataclass
class Source:
    name: str
    target: str
    description: str
    fields: tuple[Field, ...]
    convert: Callable | None = None  # (frame, report, options) -> frame, after the mapping


@dataclass
class ImportReport:
    lines: list[str] = field(default_factory=list)
    counts: dict[str, dict] = field(default_factory=dict)

    def say(self, text: str) -> None:
        self.lines.append(text)

    def __str__(self) -> str:
        return "\n".join(self.lines)


# -- reading ---------------------------------------------------------------------------------------
def read_export(path: Path, report: ImportReport, *, sheet=None) -> pd.DataFrame:
    """CSV (UTF-8 with or without BOM, CRLF, ``,``/``;``/tab sniffed, ``#`` comment lines skipped)
    or Excel; every cell as text."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        try:
            return pd.read_excel(path, sheet_name=sheet or 0, dtype=str)
        except ImportError as exc:
            raise DataError(path.name, None, f"cannot read Excel ({exc})", "pip install openpyxl, or save as CSV") from None
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        report.say(f"{path.name}: removed the UTF-8 byte-order mark")
    text = raw.decode("utf-8-sig", errors="replace")
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
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["comment_lines"] = len(comments)
    return df


# -- cleaning ------------------------------------------------------------------------------------
_NUM = re.compile(r"[^\d,.\-]")


def _blank(s: pd.Series) -> pd.Series:
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
        fmt = date_format or ("%m/%d/%Y" if text[rest].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all() else "ISO8601")
        parsed = pd.to_datetime(text[rest], format=fmt if fmt != "ISO8601" else "ISO8601", errors="coerce", utc=True)
        out[rest] = parsed.dt.tz_convert(None).dt.normalize()
    return out


# -- mapping, validation, merge ------------------------------------------------------------------------
def _norm(name: str) -> str:
    return " ".join(str(name).lower().split())


def map_fields(df: pd.DataFrame, fields, report: ImportReport, label: str, *, decimal: str = ".",
               date_format: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Build the contract columns; returns the frame and {contract column: export column}."""
    out, origin = pd.DataFrame(index=df.index), {}
    by_name = {_norm(c): c for c in df.columns}  # exports differ in case and spacing between versions
    for f in fields:
        sources = (f.source,) if isinstance(f.source, str) else (f.source or ())
        col = next((by_name[_norm(c)] for c in sources if _norm(c) in by_name), None)
        if col is None and f.value is None:
            if f.required:
                raise DataError(label, " or ".join(sources), "column not found in the export",
                                f"export it again with that column (found: {', '.join(df.columns)})")
            continue
        s = df[col] if col is not None else pd.Series(f.value, index=df.index)
        origin[f.target] = col or f"(constant {f.value!r})"
        if f.values is not None:
            mapped = s.astype(str).str.strip().map(f.values)
            unknown = mapped.isna() & ~_blank(s)
            if unknown.any():
                raise DataError(label, col, f"unknown value '{s[unknown].iloc[0]}'",
                                f"map it under values: ({', '.join(map(str, f.values))})",
                                (np.flatnonzero(unknown) + 2).tolist())
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
                            "fix the cell or the export's number/date format", (np.flatnonzero(bad) + 2).tolist())
        decorated = s.astype(str).str.strip().str.contains(r"[^\d.\-]", regex=True)
        changed = (~_blank(s)) & decorated if f.kind in ("money", "number", "percent") \
            else pd.Series(False, index=s.index)
        if changed.any():
            report.say(f"{label}: {col}: removed currency symbols, thousands separators or '%' from "
                       f"{int(changed.sum())} value(s)")
        blanks = _blank(s) & s.notna() & (s.astype(str).str.strip() != "")
        if blanks.any():
            report.say(f"{label}: {col}: read {int(blanks.sum())} placeholder(s) such as '--' as empty")
        if f.default is not None and cleaned.isna().any():
            report.say(f"{label}: {col}: filled {int(cleaned.isna().sum())} empty value(s) with {f.default!r}")
            cleaned = cleaned.fillna(f.default)
        out[f.target] = cleaned
    return out, origin


def validate(frame: pd.DataFrame, stem: str, label: str, origin: dict) -> pd.DataFrame:
    """The kit's contract checks; an error names the export's own column."""
    try:
        return parse_frame(frame, CONTRACT[stem], label, ".csv")
    except DataError as err:
        col = origin.get(err.column, err.column)
        raise DataError(label, col, err.problem, err.fix, err.rows) from None


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
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
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
    return merged.to_csv(index=False, lineterminator="\n")


def write_atomically(files: dict[Path, str]) -> None:
    """Write every file to a temporary name first, then rename: a failure leaves the folder as it was."""
    staged = []
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            staged.append((tmp, path))
    except Exception:
        for tmp, _ in staged:
            os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
