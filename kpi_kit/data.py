"""Load a client's data folder, check it against the contract, and see it as of ``as_of``.

Bad input raises :class:`~kpi_kit.exceptions.DataError` (file, column, rows, fix);
recoverable oddities are counted in :class:`DataQuality` for the report's
data-quality section.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._cells import may_hold_neutralised, restore
from ._dates import to_day
from ._inputs import (
    ENCODING_FIX,
    bom_encoding,
    check_cells,
    check_file_size,
    encoding_problem,
    local_days,
    regular_file,
    utf16_without_bom,
)
from .contract import CONTRACT, UNKNOWN, FileSpec
from .exceptions import DataError
from .params import Params

READERS = {".csv": "csv", ".parquet": "parquet"}
# Larger numbers are export errors, not amounts: a million rows of them still sum far below overflow.
MAX_NUMBER = 1e15
UNMAPPED_LISTED = 25  # unmapped channels named one by one in the data-quality notes (the most rows first)


@dataclass
class DataQuality:
    """What was read, what was set aside and which recoverable oddities were found."""

    rows_read: dict[str, int] = field(default_factory=dict)
    latest_date: dict[str, pd.Timestamp | None] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)
    unmapped_channels: dict[str, int] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)  # required files the client does not have
    rows_used: dict[str, int] = field(default_factory=dict)  # rows read less those set aside at load
    imports: list[dict] = field(default_factory=list)  # the folder's import log: one entry per export
    stages_without_data: list[str] = field(default_factory=list)  # configured, but no contact has a date
    # first and last date up to as_of of each date column, per file (kpi_kit.metrics.coverage)
    date_range: dict[str, dict[str, tuple[pd.Timestamp, pd.Timestamp, int]]] = field(default_factory=dict)

    def note(self, file: str, issue: str, rows: int, action: str) -> None:
        """Record ``rows`` rows of ``file`` with ``issue`` and what the kit did about it."""
        if rows:
            self.notes.append({"file": file, "issue": issue, "rows": int(rows), "action": action})

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.notes, columns=["file", "issue", "rows", "action"])

    def import_table(self) -> pd.DataFrame:
        """What the imports set aside, filled or reshaped (from the folder's import log), one row each:
        file, export, issue, rows, action."""
        rows = [{"file": e["file"], "export": e["export"], "issue": i["issue"], "rows": int(i["rows"]),
                 "action": i["action"]}
                for e in self.imports for i in e.get("issues", [])]
        return pd.DataFrame(rows, columns=["file", "export", "issue", "rows", "action"])

    def rows_table(self) -> pd.DataFrame:
        """Rows per file: with an import log, rows in the exports = rows imported + set aside at import;
        always, rows read = rows used + set aside at load."""
        out = pd.DataFrame({"file": list(self.rows_read), "rows read": list(self.rows_read.values())})
        out["set aside at load"] = [n - self.rows_used.get(f, n) for f, n in self.rows_read.items()]
        out["rows used"] = out["rows read"] - out["set aside at load"]
        if self.imports:
            by = pd.DataFrame(self.imports).groupby("file")[["rows_in_export", "rows_set_aside", "rows_imported"]].sum()
            by.columns = ["rows in exports", "set aside at import", "rows imported"]
            out = by.reindex(out["file"]).reset_index().merge(out, on="file")
        return out

    def reshaped(self) -> list[str]:
        """Files whose import reshaped rows (summed or spread), so that the rows imported from the
        exports and the rows of the file differ."""
        return sorted({e["file"] for e in self.imports for i in e.get("issues", []) if i["kind"] == "reshaped"})


@dataclass
class ClientData:
    """A client's validated frames, as of ``params.as_of``, with channels mapped."""

    params: Params
    frames: dict[str, pd.DataFrame]
    quality: DataQuality

    def __getitem__(self, stem: str) -> pd.DataFrame:
        return self.frames[stem]

    def get(self, stem: str) -> pd.DataFrame | None:
        return self.frames.get(stem)

    def has(self, *stems: str) -> bool:
        return all(s in self.frames and len(self.frames[s]) for s in stems)

    def warnings(self) -> list[str]:
        """What ``kpi-kit validate`` warns about: data that loads but leaves reports (nearly) empty."""
        out = [f"no {stem} file: every section built on {stem} is listed as not shown (SPEC: {stem} is "
               "required; the reports show what the other files support)" for stem in self.quality.missing_files]
        read = {stem: n for stem, n in self.quality.rows_read.items() if n}
        if read and not any(len(self.frames.get(stem, ())) for stem in read):
            out.append(f"as_of {self.params.as_of} is before every row of the data: the reports will show no data")
        if self.quality.stages_without_data:
            missing = ", ".join(self.quality.stages_without_data)
            out.append(f"no contact has a date for the stage(s) {missing}: the funnel is drawn without them and the "
                       "reports list them (add their <stage>_at columns to contacts, or remove them from stages)")
        return out


# -- reading ----------------------------------------------------------------------------
def find_file(data_dir: Path, stem: str) -> Path | None:
    """The file for ``stem`` in ``data_dir`` (CSV or Parquet); an error when both exist."""
    for ext in READERS:
        link = data_dir / f"{stem}{ext}"
        if link.is_symlink() and not link.exists():
            raise DataError(str(link), None, f"is a link to {os.readlink(link)}, which does not exist (or loops)",
                            "point the link at the real file, or copy the file here")
    found = [data_dir / f"{stem}{ext}" for ext in READERS if (data_dir / f"{stem}{ext}").exists()]
    if len(found) > 1:
        raise DataError(
            f"{data_dir}/{stem}.*", None, "both a CSV and a Parquet file exist",
            "keep one of them, so the kit cannot read the wrong version",
        )
    return found[0] if found else None


def read_raw(path: Path) -> pd.DataFrame:
    """Read a contract file with every column as text (parsing happens in :func:`parse_frame`).

    A file that is not a regular file (a FIFO, a device, a folder) is refused before it is opened; a
    CSV that is not UTF-8 stops with a message naming the encoding it has; a cell the kit neutralised
    when writing the file (:mod:`kpi_kit._cells`: ``'=...``) is read back as it was."""
    if hasattr(path, "read_frame"):  # a table of a database source (kpi_kit/sources), typed columns
        return path.read_frame()
    regular_file(path, path.name)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    with open(path, "rb") as f:
        head = f.read(4096)
    if (found := bom_encoding(head[:4])) and found[0] != "utf-8-sig" or utf16_without_bom(head):
        raise DataError(path.name, None, encoding_problem(path), ENCODING_FIX)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path.name, None, encoding_problem(path) or "is not UTF-8", ENCODING_FIX) from None
    if any(re.fullmatch(r".+\.\d+", str(c)) for c in raw.columns):  # pandas renames a repeated name "x.1"
        _check_header(path)
    return restore(raw) if may_hold_neutralised(path) else raw


def _check_header(path: Path) -> None:
    """Stop on a CSV whose header names one column twice (pandas would read the second as ``x.1``
    and the kit would silently use the first)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        try:
            header = next(csv.reader(f), [])
        except csv.Error:
            return
    duplicated(header, path.name)


def duplicated(names, label: str) -> None:
    """A :class:`DataError` naming the first column name given twice (spaces around names ignored)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(str(n).strip() for n in names):
        if name in seen:
            raise DataError(label, name, f"the column appears twice in the header (columns {seen[name] + 1} and "
                            f"{i + 1})", "remove or rename one of the two: the kit will not guess which one you meant")
        seen[name] = i


def read_bounded(path: Path, params: Params, spec: FileSpec | None = None) -> pd.DataFrame:
    """:func:`read_raw` within the client's limits: a file above ``max_file_mb`` is refused before it
    is read, a column name or a cell (of a contract column of ``spec``) above ``max_cell_chars`` right
    after, naming file, column and rows, so neither reaches a notebook."""
    size = None
    if not hasattr(path, "read_frame"):
        size = regular_file(path, path.name).st_size
        check_file_size(path, size, params.max_file_mb, path.name)
    raw = read_raw(path)
    duplicated(raw.columns, path.name)
    if size is None or size > params.max_cell_chars:  # a file smaller than the limit has no cell above it
        offset = 2 if getattr(path, "suffix", "") == ".csv" else 1
        check_cells(raw.iloc[:0], path.name, params.max_cell_chars, offset)  # column names
        if spec is not None:  # the cells the kit uses (a column of the client's own is carried, never shown)
            ours = {c.name for c in spec.columns}
            raw_cols = [c for c in raw.columns if str(c).strip() in ours]
            check_cells(raw[raw_cols], path.name, params.max_cell_chars, offset)
        else:
            check_cells(raw, path.name, params.max_cell_chars, offset)
    return raw


def _row_numbers(mask: pd.Series, path_suffix: str) -> list[int]:
    """1-based line numbers as seen in an editor (CSV header is line 1)."""
    offset = 2 if path_suffix == ".csv" else 1
    return (np.flatnonzero(np.asarray(mask)) + offset).tolist()


def parse_frame(raw: pd.DataFrame, spec: FileSpec, label: str, suffix: str = ".csv") -> pd.DataFrame:
    """Check columns and parse every contract column by its kind; raise on the first problem."""
    duplicated(raw.columns, label)
    raw = raw.rename(columns=lambda c: str(c).strip())
    missing = [c for c in spec.required_columns if c not in raw.columns]
    if missing:
        raise DataError(
            label, missing[0], "required column is missing",
            f"add the column (required in {spec.stem}: {', '.join(spec.required_columns)}); "
            f"found: {', '.join(map(str, raw.columns)) or 'no columns'}",
        )
    out = raw.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        text = _is_text(s)
        blank = (s.isna() | (s.astype("string").str.strip() == "")).fillna(True) if text else s.isna()
        rows = lambda mask: _row_numbers(mask, suffix)  # noqa: E731
        if col.required and not col.unknown_ok and blank.any():
            raise DataError(label, col.name, "required value is empty", "fill every row", rows(blank))
        if col.kind == "date":
            parsed = _parse_dates(s)
            bad = parsed.isna() & ~blank
            if bad.any():
                first = s[bad].iloc[0]
                raise DataError(
                    label, col.name, f"unparsable date (e.g. '{first}')",
                    "write dates as YYYY-MM-DD", rows(bad),
                )
            out[col.name] = parsed
        elif col.kind in ("money", "count", "probability", "number", "months"):
            parsed = (pd.to_numeric(s.astype("string").str.strip(), errors="coerce") if text
                      else s.astype("float64"))
            bad = parsed.isna() & ~blank
            if bad.any():
                first = s[bad].iloc[0]
                raise DataError(
                    label, col.name, f"unparsable number (e.g. '{first}')",
                    "write plain numbers: no currency symbols, thousands separators or '%'", rows(bad),
                )
            parsed = parsed.astype("float64")
            absurd = ~np.isfinite(parsed.fillna(0)) | (parsed.abs() > MAX_NUMBER)
            if absurd.any():
                raise DataError(label, col.name, f"number not finite or above {MAX_NUMBER:.0e} (e.g. '{s[absurd].iloc[0]}')",
                                "write the real value; 'inf' or an overflowing number would turn every total into "
                                "infinity", rows(absurd))
            if col.kind in ("money", "count") and (parsed < 0).any():
                raise DataError(label, col.name, "negative value", "amounts and counts must be >= 0",
                                rows(parsed < 0))
            if col.kind == "probability" and ((parsed < 0) | (parsed > 1)).any():
                mask = (parsed < 0) | (parsed > 1)
                raise DataError(label, col.name, "probability outside 0..1",
                                "write probabilities as fractions (60 % -> 0.6)", rows(mask))
            if col.kind == "months" and ((parsed < 1) | (parsed % 1 != 0)).any():
                mask = (parsed < 1) | (parsed % 1 != 0)
                raise DataError(label, col.name, "billing period must be a whole number of months >= 1",
                                "use 1 for monthly, 3 for quarterly, 12 for annual plans", rows(mask))
            out[col.name] = parsed
        else:
            out[col.name] = s.astype("string").str.strip()
        if col.unique:
            dup = out[col.name].duplicated(keep=False) & out[col.name].notna()
            if dup.any():
                raise DataError(label, col.name, "duplicate id",
                                "make every id unique (remove repeated rows)", rows(dup))
    return out


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)


def _parse_dates(s: pd.Series) -> pd.Series:
    """Dates and timestamps as days. A timestamp keeps its own calendar day: an offset it carries
    (``2026-01-31T23:30:00-05:00``) is dropped, not converted to UTC (which would move that contact
    into February); a typed column with a time zone keeps the day of its zone's clock."""
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s
    else:
        parsed = local_days(s.astype("string").str.strip())
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize().astype("datetime64[ns]")


# -- cross-column rules -------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    """Rows of a contract file that break a rule across columns."""

    column: str
    problem: str
    fix: str
    mask: np.ndarray


def rule_violations(stem: str, df: pd.DataFrame, params: Params | None = None):
    """Yield every cross-column rule ``df`` breaks. Without ``params`` (an import, before a client
    exists) every stage is checked and the client-specific cost categories are not."""
    stages = params.stages if params is not None else ["lead", "mql", "sal", "sql", "opportunity", "customer"]
    if stem == "contacts":
        for stage in stages:
            col = f"{stage}_at"
            if col in df and (early := (df[col] < df["created_at"]).to_numpy()).any():
                yield Violation(col, "stage date before created_at",
                                "correct the date, or created_at, so no stage precedes creation", early)
    elif stem == "deals":
        status = df["status"].str.lower()
        if (bad := ~status.isin(["open", "won", "lost"]).to_numpy()).any():
            yield Violation("status", f"unknown status '{df['status'][bad].iloc[0]}'", "use open, won or lost", bad)
        closed = status.isin(["won", "lost"]).to_numpy()
        no_close = closed & (df["closed_at"].isna().to_numpy() if "closed_at" in df else True)
        if np.any(no_close):
            yield Violation("closed_at", "won or lost deal without a close date",
                            "add closed_at for every won or lost deal", no_close)
        if "closed_at" in df and (early := (df["closed_at"] < df["created_at"]).to_numpy()).any():
            yield Violation("closed_at", "close date before created_at", "correct the dates", early)
    elif stem == "subscriptions":
        if "end_date" in df and (early := (df["end_date"] < df["start_date"]).to_numpy()).any():
            yield Violation("end_date", "end_date before start_date", "correct the dates", early)
        if "discount" in df and (big := (df["discount"].fillna(0) > df["amount"]).to_numpy()).any():
            yield Violation("discount", "discount larger than amount",
                            "give the discount per billing period, in money, not above the amount", big)
    elif stem == "costs" and params is not None:
        if (unmapped := ~df["category"].isin(list(params.cost_groups)).to_numpy()).any():
            cats = sorted(df.loc[unmapped, "category"].unique())
            yield Violation("category", f"categories not in cost_groups: {', '.join(cats)}",
                            "map each category to acquisition or service under cost_groups in the "
                            "client's YAML (a cost left out of CAC would be a wrong report)", unmapped)
    elif stem == "targets":
        if (early := (df["period_end"] < df["period_start"]).to_numpy()).any():
            yield Violation("period_end", "period_end before period_start", "correct the dates", early)
    if "date_end" in df and "date" in df and (early := (df["date_end"] < df["date"]).to_numpy()).any():
        yield Violation("date_end", "date_end before date",
                        "give the last day the row covers, on or after its date (or leave it empty)", early)


def _check_rules(stem: str, df: pd.DataFrame, label: str, suffix: str, params: Params) -> None:
    for v in rule_violations(stem, df, params):
        raise DataError(label, v.column, v.problem, v.fix, _row_numbers(v.mask, suffix))
    if stem == "deals":
        df["status"] = df["status"].str.lower()


# -- rows that cover several days -----------------------------------------------------------
SOURCE_ROW = "_source_row"  # position in the file of a row spread over its days (dropped after the load)


def row_end(df: pd.DataFrame, grain: str = "day") -> pd.Series:
    """The last day each row covers (included): ``date_end`` where given, else the row's ``date``
    plus the file's ``grain`` (``day``: the date itself; ``week``: the date and the 6 days after it;
    ``month``: to the day before the same date a month later).

    Examples
    --------
    >>> df = pd.DataFrame({"date": pd.to_datetime(["2019-09-30", "2019-10-01"]),
    ...                    "date_end": pd.to_datetime([None, "2019-10-02"])})
    >>> row_end(df, "week").dt.strftime("%Y-%m-%d").tolist()
    ['2019-10-06', '2019-10-02']
    >>> row_end(df, "month").dt.strftime("%Y-%m-%d").tolist()[0]
    '2019-10-29'
    """
    date = df["date"]
    if grain == "week":
        end = date + pd.Timedelta(days=6)
    elif grain == "month":
        end = date + pd.DateOffset(months=1) - pd.Timedelta(days=1)
    else:
        end = date
    if "date_end" in df:
        end = df["date_end"].where(df["date_end"].notna(), end)
    return end.astype("datetime64[ns]")


def spread_rows(stem: str, df: pd.DataFrame, params: Params, as_of: pd.Timestamp, q: DataQuality) -> pd.DataFrame:
    """Spread every row that covers several days evenly over them (SPEC "Multi-day rows"): one row a
    day, dated by the day, each carrying ``1/n`` of the row's amounts and counts (the file's
    ``spread`` columns; an unknown amount stays unknown) and the row's other values as they are. Monthly
    and quarterly totals then give each month its days' share: a week of 70 from Monday 29 Sep puts
    20 in September and 50 in October. Days after ``as_of`` have not happened: left out (a row whose
    first day is after it is left whole for :func:`_as_of_view`). ``_source_row`` keeps each day's row
    of the file (rows used and unknown amounts are counted by it). A file of one-day rows is returned
    as it is.

    Examples
    --------
    >>> from kpi_kit.params import Params
    >>> p = Params(client="x", data_dir=".", as_of="2019-10-31", row_grain={"spend": "week"})
    >>> df = pd.DataFrame({"date": pd.to_datetime(["2019-09-25"]), "channel": ["tv"], "spend": [70.0]})
    >>> out = spread_rows("spend", df, p, pd.Timestamp("2019-10-31"), DataQuality())
    >>> out.groupby(out["date"].dt.to_period("M"))["spend"].sum().tolist()
    [60.0, 10.0]
    """
    spec = CONTRACT[stem]
    if not spec.spread or "date" not in df:
        return df
    grain = params.row_grain.get(stem, "day")
    end = row_end(df, grain)
    days = ((end - df["date"]).dt.days + 1).fillna(1).astype("int64").to_numpy()
    df = df.drop(columns="date_end", errors="ignore")
    if not (days > 1).any():
        return df
    # days after as_of of a row that started by then have not happened: cut here (whole rows later)
    started = (df["date"] <= as_of).to_numpy()
    kept = np.where(started, np.minimum(days, ((as_of - df["date"]).dt.days + 1).clip(lower=1).to_numpy()), 1)
    many = days > 1
    lengths = days[many]
    each = f"{lengths[0]} days each" if (lengths == lengths[0]).all() else f"{lengths.min()} to {lengths.max()} days"
    q.note(stem, f"rows covering several days ({each})", int(many.sum()),
           "spread evenly over their days before monthly and quarterly totals")
    q.note(stem, f"rows running past {as_of:%d %b %Y} (the report date)", int((started & (kept < days)).sum()),
           "their days after it left out (not yet happened)")
    idx = np.repeat(np.arange(len(df)), kept)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(kept) - kept, kept)
    out = df.iloc[idx].reset_index(drop=True)
    out["date"] = out["date"] + pd.to_timedelta(offset, unit="D")
    share = np.where(started, 1.0 / days, 1.0)[idx]  # an unstarted row is kept whole (left out later)
    for col in spec.spread:
        if col in out:
            out[col] = out[col].to_numpy(dtype="float64") * share
    out[SOURCE_ROW] = idx
    return out


# -- as-of view and channel mapping --------------------------------------------------------
# contract date columns as the data-quality notes name them to a client (SPEC "Vocabulary": "Language")
FIELD_WORDS = {"created_at": "created date", "closed_at": "close date", "expected_close_at": "expected close date",
               "touched_at": "touch date", "start_date": "start date", "end_date": "end date", "date": "date",
               "month": "month"}


def field_words(column: str) -> str:
    """A contract column as a client reads it: ``created_at`` -> "created date", ``mql_at`` -> "MQL date".

    Examples
    --------
    >>> field_words("created_at"), field_words("mql_at"), field_words("opportunity_at"), field_words("amount")
    ('created date', 'MQL date', 'opportunity date', 'amount')
    """
    if column in FIELD_WORDS:
        return FIELD_WORDS[column]
    if column.endswith("_at"):  # a stage's date
        stage = column[:-3]
        return f"{stage.upper() if len(stage) <= 3 else stage} date".replace("_", " ")
    return column.replace("_", " ")


def after_as_of(column: str, as_of) -> str:
    """The data-quality issue of a date after the report date: "created date after 31 Oct 2026 (the report date)"."""
    return f"{field_words(column)} after {to_day(as_of):%d %b %Y} (the report date)"


def _as_of_view(stem: str, df: pd.DataFrame, as_of: pd.Timestamp, params: Params, q: DataQuality):
    """Treat anything dated after ``as_of`` as not yet happened (SPEC "Time")."""
    after = lambda col: df[col] > as_of  # noqa: E731
    drop_col = CONTRACT[stem].entry if stem in CONTRACT else None
    if drop_col:
        late = after(drop_col)
        q.note(stem, after_as_of(drop_col, as_of), _rows(df, late), "left out (not yet happened)")
        df = df.loc[~late].copy()
    if stem == "contacts":
        for stage in params.stages:
            col = f"{stage}_at"
            if col in df:
                late = after(col)
                q.note(stem, after_as_of(col, as_of), late.sum(), "stage treated as not reached")
                df.loc[late, col] = pd.NaT
    elif stem == "deals" and "closed_at" in df:
        late = after("closed_at")
        q.note(stem, after_as_of("closed_at", as_of), late.sum(), "deal treated as open")
        df.loc[late, "status"] = "open"
        df.loc[late, "closed_at"] = pd.NaT
    elif stem == "subscriptions" and "end_date" in df:
        late = after("end_date")
        q.note(stem, after_as_of("end_date", as_of), late.sum(), "subscription treated as active")
        df.loc[late, "end_date"] = pd.NaT
    return df


def _rows(df: pd.DataFrame, mask: pd.Series) -> int:
    """Rows of the file behind ``mask``: a row spread over its days (:func:`spread_rows`) counts once."""
    return int(df.loc[mask, SOURCE_ROW].nunique()) if SOURCE_ROW in df else int(mask.sum())


def map_channels(df: pd.DataFrame, params: Params, q: DataQuality, stem: str) -> pd.DataFrame:
    """Raw ``channel`` -> reporting ``channel`` and ``group``; keep the raw value in ``channel_raw``."""
    if "channel" not in df:
        return df
    required = CONTRACT[stem].column("channel").required if stem in CONTRACT else True
    # an empty optional channel (a deal without one) stays empty, so callers can fall back to the contact's
    raw = df["channel"].fillna(UNKNOWN) if required else df["channel"]
    mapped = _lookup(raw, params.channel_map)
    unmapped = mapped.isna() & raw.notna()
    for value, n in raw[unmapped].value_counts().items():
        q.unmapped_channels[value] = q.unmapped_channels.get(value, 0) + int(n)
    df = df.assign(channel_raw=raw, channel=mapped.fillna(raw))
    df["group"] = _lookup(df["channel"], params.channel_groups).fillna("other").where(df["channel"].notna())
    return df


def _lookup(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """``values.map(mapping)`` as text: an empty mapping (the README's minimal client file) would give
    a float series of NaN that cannot take text back."""
    return values.map(mapping).astype(values.dtype) if mapping else \
        pd.Series(pd.NA, index=values.index, dtype=values.dtype)


def _date_ranges(df: pd.DataFrame, columns: list[str], as_of) -> dict:
    """(first, last, count) of each date column's dates up to ``as_of``; a column without such a
    date is left out."""
    out = {}
    for col in columns:
        d = df[col][df[col] <= as_of]
        if d.notna().any():
            out[col] = (d.min(), d.max(), int(d.notna().sum()))
    return out


def stages_without_data(contacts: pd.DataFrame, stages: list[str]) -> list[str]:
    """The configured ``stages`` for which no contact has a date (no ``<stage>_at`` column, or an
    empty one) in the contacts file as exported: the reports leave them out of the funnel and list
    them. A stage dated only after ``as_of`` is recorded by the client: it stays (not reached yet).

    When no stage has a date at all (no contacts, or none with a stage date) none is left out: the
    funnel then shows its configured stages, empty, and says why.

    Examples
    --------
    >>> c = pd.DataFrame({"mql_at": pd.to_datetime(["2026-01-05", None]), "sal_at": pd.to_datetime([None, None])})
    >>> stages_without_data(c, ["lead", "mql", "sal", "customer"])
    ['lead', 'sal', 'customer']
    """
    empty = [s for s in stages if f"{s}_at" not in contacts or not contacts[f"{s}_at"].notna().any()]
    return [] if len(empty) == len(stages) else empty


def _stage_quality(df: pd.DataFrame, params: Params, q: DataQuality) -> None:
    """Count skipped stages and out-of-order pairs (recoverable; shown in the report)."""
    cols = [f"{s}_at" for s in params.stages if f"{s}_at" in df]
    for i, col in enumerate(cols[:-1]):
        later = df[cols[i + 1:]].notna().any(axis=1)
        q.note("contacts", f"skipped {field_words(col)[:-5]}", (df[col].isna() & later).sum(),
               "counted as passed (a later stage was reached)")
    for a, b in zip(cols, cols[1:]):
        q.note("contacts", f"{field_words(b)} before {field_words(a)}", (df[b] < df[a]).sum(),
               "pair left out of stage velocity")


def _empty(stem: str, params: Params) -> pd.DataFrame:
    """A typed, empty contract frame (with the client's stage columns) for a file the client lacks."""
    cols = {c.name: c for c in CONTRACT[stem].columns}
    names = [*CONTRACT[stem].required_columns, *(f"{s}_at" for s in params.stages if stem == "contacts")]
    df = pd.DataFrame({n: pd.Series(dtype="datetime64[ns]" if cols[n].kind == "date" else
                                    "float64" if cols[n].kind not in ("id", "text") else "string") for n in names})
    return df.assign(channel_raw=pd.Series(dtype="string"), group=pd.Series(dtype="string")) \
        if "channel" in df else df


def _note_unknown(stem: str, df: pd.DataFrame, q: DataQuality) -> None:
    """Count the empty cells of columns whose value may be unknown (a deal's amount): kept, left out
    of every sum over them (SPEC "Real data": unknown is not zero)."""
    for col in CONTRACT[stem].columns:
        if col.unknown_ok and col.name in df and (empty := df[col.name].isna()).any():
            by = ""
            if "status" in df:
                by = ": " + ", ".join(f"{k} {v:,}" for k, v in df.loc[empty, "status"].value_counts().items())
            q.note(stem, f"{col.name} empty (unknown){by}", _rows(df, empty),
                   "kept; left out of amount sums, counted on the pages")


IMPORT_LOG = "import_log.json"  # written by kpi-kit import beside the data (kpi_kit/importers); not a contract file


def read_import_log(data_dir: Path, found: dict, q: DataQuality) -> None:
    """Read what the imports set aside or filled (``<data_dir>/import_log.json``, when there is one)
    into ``q.imports``. The log of a contract file changed since its import (edited by hand, exported
    again by other means) no longer describes it: left out, and the data-quality notes say so."""
    path = data_dir / IMPORT_LOG
    if not path.is_file():
        return
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
        imports, files = list(log["imports"]), dict(log["files"])
    except (OSError, ValueError, KeyError, TypeError):
        q.note("all", f"{IMPORT_LOG} cannot be read", 1, "ignored: import set-asides not listed")
        return
    current = {}
    for stem, meta in files.items():
        p = found.get(stem)
        if p is None or not isinstance(meta, dict) or p.name != meta.get("name"):
            continue
        with open(p, "rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() == meta.get("sha256"):
                current[stem] = True
                continue
        q.note(stem, f"{p.name} changed since its import", q.rows_read.get(stem, 0),
               "its import log is ignored (import set-asides not listed): import it again to list them")
    q.imports = [e for e in imports if isinstance(e, dict) and current.get(e.get("file"))]


_PRELOADED: dict[str, ClientData] = {}


def preload(params: Params) -> ClientData:
    """Load a client once for a batch: every notebook run forked afterwards from this process
    gets it from memory instead of reading and validating the files again."""
    data = load_client(params)
    _PRELOADED[params.model_dump_json()] = data
    return data


def _check_data_dir(data_dir: Path) -> None:
    """One message for each way ``data_dir`` can fail to be a readable folder."""
    if not data_dir.is_dir():
        if data_dir.is_symlink():
            raise DataError(str(data_dir), None, "the data folder is a link that leads nowhere (a loop or a missing "
                            "target)", "point data_dir in the client's YAML at the real folder")
        if data_dir.exists():
            raise DataError(str(data_dir), None, "data_dir is a file, not a folder",
                            "point data_dir in the client's YAML at the folder holding contacts.csv")
        raise DataError(str(data_dir), None, "data folder not found",
                        "point data_dir in the client's YAML at the folder holding contacts.csv")
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise DataError(str(data_dir), None, "the data folder cannot be read (permission denied)",
                        "give the user running kpi-kit read access to it (chmod/chown)")


def load_client(params: Params) -> ClientData:
    """Read, validate and prepare every contract file found in ``params.data_dir``.

    Examples
    --------
    >>> from kpi_kit import load_params, load_client
    >>> data = load_client(load_params("data/clients/demo.yaml"))  # doctest: +SKIP
    >>> data["contacts"].columns[:3].tolist()  # doctest: +SKIP
    ['contact_id', 'created_at', 'channel']
    """
    if (cached := _PRELOADED.get(params.model_dump_json())) is not None:
        return ClientData(cached.params, dict(cached.frames), cached.quality)  # callers may drop frames
    if params.source is not None:  # a database instead of a folder, read into the same checks (kpi_kit/sources)
        from .sources import open_tables

        found = open_tables(params)
    else:
        data_dir = Path(params.data_dir)
        _check_data_dir(data_dir)
        found = {stem: find_file(data_dir, stem) for stem in CONTRACT}
    as_of = to_day(params.as_of)
    quality = DataQuality()
    frames: dict[str, pd.DataFrame] = {}
    for stem, spec in CONTRACT.items():
        path = found[stem]
        if path is None:
            # SPEC: contacts is required. A folder with other files but no contacts (a CRM export of
            # deals only, a billing export) still gets the sections its data supports; every
            # contact-based section says it is not shown. An empty folder stops here.
            if spec.required and not any(found.values()):
                raise DataError(f"{data_dir}/{stem}.csv", None, "required file is missing",
                                f"add {stem}.csv (or .parquet) with columns "
                                f"{', '.join(spec.required_columns)}")
            if spec.required:
                quality.missing_files.append(stem)
                frames[stem] = _empty(stem, params)
            continue
        label = path.name
        try:
            raw = read_bounded(path, params, spec)
        except DataError:  # a database table's own message (kpi_kit/sources)
            raise
        except Exception as exc:  # a corrupt file must still name itself
            raise DataError(label, None, f"cannot be read ({exc})", "export the file again as UTF-8 CSV") from None
        df = parse_frame(raw, spec, label, path.suffix)
        _check_rules(stem, df, label, path.suffix, params)
        quality.rows_read[stem] = len(df)
        df = spread_rows(stem, df, params, as_of, quality)  # rows covering several days: one row a day
        # freshness: the latest date seen, leaving out forward-looking dates (expected closes)
        dates = [c.name for c in spec.columns if c.kind == "date" and c.name in df and not c.name.startswith("expected")]
        latest = df[dates].max().max() if dates and len(df) else None
        quality.latest_date[stem] = None if pd.isna(latest) else latest
        quality.date_range[stem] = _date_ranges(df, dates, as_of)
        if stem == "contacts":  # on the file as exported: a stage dated only after as_of is still recorded
            quality.stages_without_data = stages_without_data(df, params.stages)
        df = _as_of_view(stem, df, as_of, params, quality)
        _note_unknown(stem, df, quality)
        df = map_channels(df, params, quality, stem)
        quality.rows_used[stem] = _rows(df, pd.Series(True, index=df.index))
        frames[stem] = df.drop(columns=SOURCE_ROW, errors="ignore").reset_index(drop=True)
    if "subscriptions" in frames and "mrr" in frames:
        quality.note("mrr", "both subscriptions and mrr given", len(frames.pop("mrr")),
                     "MRR derived from subscriptions; mrr file ignored")
        quality.rows_used["mrr"] = 0
    if params.source is None:
        read_import_log(Path(params.data_dir), found, quality)
    _stage_quality(frames["contacts"], params, quality)
    if any(len(frames.get(stem, ())) for stem in ("subscriptions", "mrr")):
        # customers come from the MRR data (SPEC: new customers = first `new` MRR movement): the stage has data
        quality.stages_without_data = [s for s in quality.stages_without_data if s != "customer"]
    for stage in quality.stages_without_data:
        quality.note("contacts", f"no {field_words(stage + '_at')} in any row (stage '{stage}' is configured)",
                     len(frames["contacts"]),
                     "stage not drawn: the funnel steps from the stage before it to the one after")
    unmapped = sorted(quality.unmapped_channels.items(), key=lambda kv: -kv[1])
    for value, n in unmapped[:UNMAPPED_LISTED]:
        quality.note("all", f"channel '{value}' has no reporting channel mapped", n, "kept under its raw name")
    if len(unmapped) > UNMAPPED_LISTED:  # an export of 10,000 campaign names is one line, not 10,000
        quality.note("all", f"{len(unmapped) - UNMAPPED_LISTED:,} more channels with no reporting channel mapped",
                     sum(n for _, n in unmapped[UNMAPPED_LISTED:]), "kept under their raw names")
    return ClientData(params, frames, quality)
