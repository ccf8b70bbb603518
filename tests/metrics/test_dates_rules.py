"""The date rules (SPEC "Time") at their edges (issue #21): a month is full when its last day is on or
before as_of; the window is the last ``window_months`` full months, both ends included."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpi_kit._dates import NO_PERIOD, Window, last_full_month, month_label, ordinals, reporting_window, to_day

P = lambda s: pd.Period(s, "M")  # noqa: E731


@pytest.mark.parametrize("as_of, last", [
    ("2026-10-31", "2026-10"),  # the last day: October is full
    ("2026-10-30", "2026-09"),  # one day short: September
    ("2026-11-01", "2026-10"),
    ("2024-02-29", "2024-02"),  # leap day is February's last day
    ("2023-02-28", "2023-02"),
    ("2024-02-28", "2024-01"),  # not the last day in a leap year
    ("2026-10-31T18:45:00", "2026-10"),  # a timestamp is truncated to the day
    (dt.date(2026, 12, 31), "2026-12"),
])
def test_last_full_month(as_of, last):
    assert last_full_month(as_of) == P(last)


def test_to_day_truncates_and_parses():
    assert to_day("2026-03-10T14:30:00") == pd.Timestamp("2026-03-10")
    assert to_day(dt.date(2026, 3, 10)) == pd.Timestamp("2026-03-10")
    assert to_day(pd.Timestamp("2026-03-10 23:59:59")) == pd.Timestamp("2026-03-10")


def test_reporting_window_lengths():
    w = reporting_window("2026-10-31", 12)
    assert (w.first, w.last) == (P("2025-11"), P("2026-10"))
    w3 = reporting_window("2026-03-15", 3)  # March is not full: Dec–Feb
    assert (w3.first, w3.last) == (P("2025-12"), P("2026-02"))
    w1 = reporting_window("2026-03-31", 1)
    assert w1.first == w1.last == P("2026-03")
    assert reporting_window("2026-10-31") == w  # the default is 12 months


def test_window_bounds_are_inclusive_days():
    w = Window(P("2026-01"), P("2026-03"))
    assert w.start == pd.Timestamp("2026-01-01") and w.end == pd.Timestamp("2026-03-31")
    dates = pd.Series(pd.to_datetime(["2025-12-31", "2026-01-01", "2026-02-15", "2026-03-31", "2026-04-01", None]))
    assert w.contains(dates).tolist() == [False, True, True, True, False, False]  # NaT is outside
    assert list(w.months) == [P("2026-01"), P("2026-02"), P("2026-03")]
    assert w.label() == "Jan 2026 – Mar 2026"


def test_window_shift_keeps_length():
    w = Window(P("2026-01"), P("2026-03"))
    assert w.shift(-12) == Window(P("2025-01"), P("2025-03"))
    assert w.shift(-3) == Window(P("2025-10"), P("2025-12"))
    assert w.shift(2) == Window(P("2026-03"), P("2026-05"))


def test_ordinals_of_periods_and_dates():
    days = pd.Series(pd.to_datetime(["1970-01-31", "1970-03-15", None, "2026-01-01"]))
    got = ordinals(days)
    assert got.tolist() == [0, 2, NO_PERIOD, P("2026-01").ordinal]
    assert got.dtype == np.int64
    periods = pd.Series(pd.PeriodIndex(["1970-02", None], freq="M"))
    assert ordinals(periods).tolist() == [1, NO_PERIOD]
    assert NO_PERIOD == np.iinfo("int64").min
    # a copy: writing into it leaves the input alone
    out = ordinals(periods)
    out[0] = 99
    assert ordinals(periods).tolist() == [1, NO_PERIOD]


def test_month_label():
    assert month_label(P("2026-01")) == "2026-01"
    assert month_label(P("2025-12")) == "2025-12"
