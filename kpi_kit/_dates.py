"""Month arithmetic and the reporting window shared by every metric.

Conventions (SPEC "Time"): a month is a ``pandas.Period`` with freq ``"M"``; a
month is *full* when its last day is on or before ``as_of``; the reporting
window is the last ``window_months`` full months.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd


def to_day(value) -> pd.Timestamp:
    """Parse a date (ISO string, date, or timestamp) and truncate it to the day."""
    return pd.Timestamp(value).normalize()


def last_full_month(as_of) -> pd.Period:
    """The last month whose last day is on or before ``as_of``.

    Examples
    --------
    >>> str(last_full_month("2026-10-31")), str(last_full_month("2026-10-30"))
    ('2026-10', '2026-09')
    """
    day = to_day(as_of)
    month = day.to_period("M")
    return month if day == month.end_time.normalize() else month - 1


@dataclass(frozen=True)
class Window:
    """A closed range of full months ``[first, last]``."""

    first: pd.Period
    last: pd.Period

    @cached_property  # a KPI table asks each window's bounds once per row: 180k times for 10,000 channels
    def start(self) -> pd.Timestamp:
        """First day of the window."""
        return self.first.start_time

    @cached_property
    def end(self) -> pd.Timestamp:
        """Last day of the window (inclusive)."""
        return self.last.end_time.normalize()

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.first, self.last, freq="M")

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask: which ``dates`` fall inside the window (NaT is False)."""
        return (dates >= self.start) & (dates <= self.end)

    def shift(self, months: int) -> Window:
        """The same-length window ``months`` earlier (negative) or later."""
        return Window(self.first + months, self.last + months)

    def label(self) -> str:
        return f"{self.first.strftime('%b %Y')} – {self.last.strftime('%b %Y')}"


def reporting_window(as_of, window_months: int = 12) -> Window:
    """The last ``window_months`` full months before ``as_of``.

    Examples
    --------
    >>> w = reporting_window("2026-10-31", 12)
    >>> str(w.first), str(w.last)
    ('2025-11', '2026-10')
    """
    last = last_full_month(as_of)
    return Window(last - (window_months - 1), last)


NO_PERIOD = np.iinfo("int64").min  # the ordinal pandas stores for NaT


def ordinals(values) -> np.ndarray:
    """Period ordinals (int64) of a Period series, or of the months of a datetime series, without a
    Python loop; missing values are :data:`NO_PERIOD`.

    Examples
    --------
    >>> ordinals(pd.Series(pd.to_datetime(["1970-03-15", None]))).tolist() == [2, NO_PERIOD]
    True
    """
    s = pd.Series(values)
    if not isinstance(s.dtype, pd.PeriodDtype):
        s = s.dt.to_period("M")
    return s.array.asi8.copy()


def month_label(period: pd.Period) -> str:
    """``Period('2026-01')`` -> ``'2026-01'`` (the key format of metrics.json)."""
    return period.strftime("%Y-%m")
