"""CSV cells safe to open in a spreadsheet (OWASP "CSV injection"; README "Faults").

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets: a channel named ``=cmd|' /C calc'!A0`` would run when an
analyst opens ``kpis.csv``. Every CSV the kit writes (a run's ``kpis.csv``, the portfolio
``kpis.csv``, the files an import writes) goes through :func:`neutralise`: such a cell gets a
leading ``'``, which spreadsheets show as text. Numbers are left alone (``-0.31`` is a number, not a
formula), and so are cells of numeric columns.

The rule is reversible, so the kit reads back exactly what it was given (:func:`restore`): a cell
that already starts with quotes followed by one of those characters (``'=x``) gets one quote more
(``''=x``), and reading removes one quote from any cell of that form. A hand-written ``'=x`` in a
contract CSV is therefore read as ``=x``, as a spreadsheet shows it.

Examples
--------
>>> neutralise_text("=cmd|' /C calc'!A0"), neutralise_text("-0.31"), neutralise_text("'=x"), neutralise_text("Paid")
("'=cmd|' /C calc'!A0", '-0.31', "''=x", 'Paid')
>>> restore_text(neutralise_text("@SUM(A1)")), restore_text("'=x")
('@SUM(A1)', '=x')
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

import pandas as pd

TRIGGERS = "=+-@\t\r"
_NEEDS = re.compile(r"'*[=+\-@\t\r]")  # matched at the start of a cell
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_text(value: str) -> str:
    """One cell (see the module's docstring)."""
    if _NEEDS.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_text(value: str) -> str:
    """The inverse of :func:`neutralise_text`."""
    return value[1:] if _NEUTRALISED.match(value) else value


def _candidates(frame: pd.DataFrame):
    """(column, its cells, mask of the text cells starting with a quote or a trigger character) for
    each text column with such a cell: a first cheap pass on the first character only."""
    starts = set(TRIGGERS) | {"'"}
    for name in frame.columns:
        s = frame[name]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        try:
            first = s.str[:1]
        except AttributeError:  # an object column without text
            continue
        mask = first.isin(starts).fillna(False).astype(bool)
        if mask.any():
            yield name, s, mask


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula neutralised (a copy
    when anything changed); numeric columns and cells holding a number are left as they are."""
    out = frame
    for name, s, mask in _candidates(frame):
        cells = s[mask].astype(str)
        needs = cells.map(lambda v: bool(_NEEDS.match(v)) and not _NUMBER.fullmatch(v))
        if needs.any():
            out = out.copy() if out is frame else out
            column = out[name].astype(object)
            column[needs[needs].index] = "'" + cells[needs]
            out[name] = column
    return out


def restore(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every neutralised cell read back as it was (in place; returned)."""
    for name, s, mask in _candidates(frame):
        cells = s[mask].astype(str)
        marked = cells.map(lambda v: bool(_NEUTRALISED.match(v)))
        if marked.any():
            column = s.astype(object)
            column[marked[marked].index] = cells[marked].str[1:]
            frame[name] = column.astype(s.dtype) if pd.api.types.is_string_dtype(s.dtype) else column
    return frame


def may_hold_neutralised(path: Path) -> bool:
    """Whether a CSV file may hold a neutralised cell: a ``'`` at the start of a cell (after a
    separator, a line break or a quote). A cheap scan in C of the file's bytes, so loading a large
    file without one costs no pass over its cells."""
    with open(path, "rb") as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            return False
        with data:
            if data[:1] == b"'" or data[:4] == b"\xef\xbb\xbf'":
                return True
            return any(data.find(marker) != -1 for marker in (b",'", b"\n'", b"\"'", b";'", b"\t'"))


def csv_text(frame: pd.DataFrame, **kwargs) -> str:
    """``frame.to_csv(index=False)`` with its text cells neutralised: what the kit writes as a report CSV."""
    return neutralise(frame).to_csv(index=False, **kwargs)
