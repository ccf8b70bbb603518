"""Coverage (SPEC "Real data: coverage"): the months each file, and each metric counted from it,
has data for. A month outside a metric's coverage has no data (null, a gap in a chart, "no data" on
a card), never 0; a comparison whose base is not covered, or overlaps the current period, is n/a.

The kit's choices, for a file's dates up to ``as_of``:

- a file's coverage starts in the month of its first *entry* date (``ENTRY``: a contact's
  ``created_at``, a spend row's ``date``, ...): a later stage has real zeros before its first date
  (no one had converted yet), but nothing can be counted before the first contact exists;
- a metric's coverage runs to ``as_of`` unless the column it is counted from has *stopped*: its last
  date lies more than a month before ``as_of`` and, at the column's own pace (its dates per month
  from its first date to ``as_of``, the silence included), a silence that long would happen by
  chance less than once in a hundred times (Poisson: P(no date in the gap) < 1 %). Then its coverage ends in the
  month of its last date and the report header names it. The olist MQL export (about 670 a month)
  stopping in May 2018 while its won deals run to November has stopped; a client that wins five
  customers a year and none in the last two months has not (P = 50 %): those months are zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .._dates import Window
from ..contract import CONTRACT

# the column that says when a row entered each file (the contract's)
ENTRY = {stem: spec.entry for stem, spec in CONTRACT.items()}
FULL, PARTIAL, NONE = "full", "partial", "none"


@dataclass(frozen=True)
class Span:
    """The months ``first`` to ``last`` (both included) a metric has data for."""

    first: pd.Period
    last: pd.Period

    def status(self, window: Window) -> str:
        """``full`` when every month of ``window`` is covered, ``none`` when none is, else ``partial``.

        Examples
        --------
        >>> s = Span(pd.Period("2018-01", "M"), pd.Period("2018-05", "M"))
        >>> s.status(Window(pd.Period("2018-02", "M"), pd.Period("2018-04", "M")))
        'full'
        >>> s.status(Window(pd.Period("2018-05", "M"), pd.Period("2018-06", "M")))
        'partial'
        >>> s.status(Window(pd.Period("2018-06", "M"), pd.Period("2018-06", "M")))
        'none'
        """
        if window.first >= self.first and window.last <= self.last:
            return FULL
        if window.last < self.first or window.first > self.last:
            return NONE
        return PARTIAL

    def mask(self, months: pd.PeriodIndex):
        """True for the months of ``months`` inside the span."""
        return (months >= self.first) & (months <= self.last)


def ends_early(last_date: pd.Timestamp, as_of: pd.Timestamp) -> bool:
    """True when ``as_of`` lies more than a month past ``last_date``.

    Examples
    --------
    >>> ends_early(pd.Timestamp("2018-05-31"), pd.Timestamp("2018-11-30"))
    True
    >>> ends_early(pd.Timestamp("2018-10-31"), pd.Timestamp("2018-11-30")), ends_early(
    ...     pd.Timestamp("2018-10-29"), pd.Timestamp("2018-11-30"))
    (False, True)
    """
    return as_of > last_date + pd.DateOffset(months=1)


def has_stopped(first_date: pd.Timestamp, last_date: pd.Timestamp, count: int, as_of: pd.Timestamp,
                *, chance: float = 0.01) -> bool:
    """Whether a date column has stopped: its last date lies more than a month before ``as_of`` and
    no date in that gap has a Poisson chance below ``chance`` at the column's pace (``count`` dates
    from ``first_date`` to ``as_of``: counting the silence in keeps one early date from looking like
    a fast pace).

    Examples
    --------
    Olist's MQLs: 7,999 from 14 Jun 2017 to 30 Nov 2018 (17.5 months: 457 a month), none for the
    6 months since 31 May 2018: P = exp(-457 × 6) ≈ 0.

    >>> has_stopped(pd.Timestamp("2017-06-14"), pd.Timestamp("2018-05-31"), 7999, pd.Timestamp("2018-11-30"))
    True

    Five customers from Jan 2025 to Dec 2025, none to the end of Feb 2026: 5 / 13.9 months = 0.36 a
    month, P = exp(-0.36 × 1.9) = 0.50.

    >>> has_stopped(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31"), 5, pd.Timestamp("2026-02-28"))
    False
    """
    if not ends_early(last_date, as_of):
        return False
    # dates expected in the silence at the column's pace: count × silence / (first date to as_of);
    # the Poisson chance of none of them is exp(-expected)
    expected = count * (as_of - last_date).days / (as_of - first_date).days
    return bool(math.exp(-expected) < chance)


def span(first_date: pd.Timestamp, last_date: pd.Timestamp, as_of: pd.Timestamp, count: int) -> Span:
    """The months from ``first_date`` to ``as_of``, or to ``last_date`` when the column has stopped
    (:func:`has_stopped`, ``count`` dates from ``first_date`` to ``last_date``).

    Examples
    --------
    >>> span(pd.Timestamp("2017-06-14"), pd.Timestamp("2018-05-31"), pd.Timestamp("2018-11-30"), 7999)
    Span(first=Period('2017-06', 'M'), last=Period('2018-05', 'M'))
    >>> span(pd.Timestamp("2017-06-14"), pd.Timestamp("2018-11-14"), pd.Timestamp("2018-11-30"), 841).last
    Period('2018-11', 'M')
    """
    end = last_date if has_stopped(first_date, last_date, count, as_of) else as_of
    return Span(first_date.to_period("M"), end.to_period("M"))


class Coverage:
    """The coverage of one client run, from each file's date ranges (``DataQuality.date_range``).

    Examples
    --------
    >>> c = Coverage({"contacts": {"created_at": (pd.Timestamp("2017-06-14"), pd.Timestamp("2018-05-31"), 7999),
    ...                            "customer_at": (pd.Timestamp("2017-12-05"), pd.Timestamp("2018-11-14"), 841)}},
    ...              pd.Timestamp("2018-11-30"))
    >>> c.of("contacts", "customer_at")
    Span(first=Period('2017-06', 'M'), last=Period('2018-11', 'M'))
    >>> c.ended()
    [('contacts', 'created_at', Timestamp('2018-05-31 00:00:00'))]
    """

    def __init__(self, date_range: dict, as_of: pd.Timestamp):
        self.date_range = date_range
        self.as_of = as_of

    def of(self, stem: str, column: str | None = None) -> Span | None:
        """Coverage of what ``stem`` counts by ``column`` (its entry column by default); None when
        the file has no date to say (no file, no rows, or only dates after ``as_of``)."""
        ranges = self.date_range.get(stem) or {}
        entry = ENTRY.get(stem)
        column = column or entry
        if column not in ranges:
            return None
        first = min(ranges[entry][0], ranges[column][0]) if entry in ranges else ranges[column][0]
        _, last, count = ranges[column]
        return span(first, last, self.as_of, count)

    def ended(self) -> list[tuple[str, str, pd.Timestamp]]:
        """(file, column, last date) of every date column that has stopped (:func:`has_stopped`):
        the report header names each."""
        out = []
        for stem, ranges in self.date_range.items():
            for column in ranges:
                s = self.of(stem, column)
                last = ranges[column][1]
                if s is not None and s.last < self.as_of.to_period("M") and s.last == last.to_period("M"):
                    out.append((stem, column, last))
        return out
