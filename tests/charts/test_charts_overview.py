"""Overview charts over hand-made frames: panels, titles, colours, targets and month axes (never pixels)."""

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import same_color

from kpi_kit import charts
from kpi_kit.charts import style as kp


@pytest.fixture(autouse=True)
def style(kit_style):
    yield


def _series():
    months = pd.period_range("2024-01", periods=36, freq="M")
    s = pd.DataFrame({"leads": np.arange(36) * 100.0, "mrr": np.arange(36) * 1000.0, "logo_churn_rate": 0.02,
                      "sessions": np.nan}, index=months)
    s.loc[: pd.Period("2025-06", "M"), ["leads", "mrr", "logo_churn_rate"]] = np.nan  # data starts Jul 2025
    return s


def _targets():
    return pd.DataFrame({"metric": ["leads", "leads", "leads", "bookings"],
                         "period_start": pd.to_datetime(["2025-01-01", "2026-11-01", "2026-10-01", "2027-01-01"]),
                         "period_end": pd.to_datetime(["2025-01-31", "2026-11-30", "2026-12-31", "2027-03-31"]),
                         "target": [50.0, 3000.0, 9000.0, 90_000.0]})


SPEC = [("leads", "Leads", "count", "leading"), ("mrr", "MRR", "money", "lagging"),
        ("logo_churn_rate", "Logo churn", "percent", "lagging", True), ("sessions", "Sessions", "count", "leading")]


def test_indicator_chart_small_multiples():
    """One small figure per indicator (a Grid: three to a row on a laptop, one on a phone)."""
    grid = charts.indicator_chart(_series(), SPEC, targets=_targets(), currency="EUR")
    assert isinstance(grid, charts.Grid) and len(grid) == 4 and grid.legend is None
    axes = grid.axes
    assert len({ax.figure for ax in axes}) == 4 and all(len(ax.figure.axes) == 1 for ax in axes)
    assert [ax.get_title(loc="left") for ax in axes] == ["Leads · leading", "MRR · lagging",
                                                         "Logo churn · lagging", "Sessions · leading"]
    assert same_color(axes[0].lines[0].get_color(), kp.ACCENT) and same_color(axes[1].lines[0].get_color(), kp.GOOD)
    assert axes[0].yaxis.get_major_formatter()(50000, 0) == "50,000"
    assert axes[1].yaxis.get_major_formatter()(50000, 0) == "€50k"
    assert axes[2].yaxis.get_major_formatter()(0.025, 0) == "2.5%"
    # months from the first with data (Jul 2025) to the last; only the one-month target inside them is drawn
    lo, hi = (mdates.num2date(v).strftime("%Y-%m") for v in axes[0].get_xlim())
    assert (lo, hi) == ("2025-07", "2026-12")
    assert [line.get_label() for line in axes[0].lines[1:]] == ["target"]
    assert list(axes[0].lines[1].get_ydata()) == [3000.0]
    assert grid.caption.startswith("From the top of the funnel to revenue")
    assert all(tuple(ax.figure.get_size_inches()) == pytest.approx(kp.PANEL) for ax in axes)
    # the panels line up: the same plotting area in every figure
    assert len({tuple(np.round(ax.get_position().bounds, 6)) for ax in axes}) == 1


def test_indicator_panels_start_at_zero():
    """Counts, money, rates and durations from zero: 120–130 s of time on site is not a steep climb."""
    s = pd.DataFrame({"time": np.linspace(120.0, 130.0, 12), "mrr": np.linspace(9e5, 1e6, 12),
                      "net": np.linspace(-0.02, 0.01, 12)}, index=pd.period_range("2026-01", periods=12, freq="M"))
    grid = charts.indicator_chart(s, [("time", "Avg time on site (s)", "number", "leading"),
                                      ("mrr", "MRR", "money", "lagging"), ("net", "Net churn", "percent", "lagging")])
    (t, m, n) = grid.axes
    assert t.get_ylim()[0] == 0 and t.get_ylim()[1] >= 130
    assert m.get_ylim()[0] == 0
    assert n.get_ylim()[0] == pytest.approx(-0.02)  # below zero where the data is


def test_indicator_chart_months_window():
    grid = charts.indicator_chart(_series().ffill().bfill(), SPEC[:2], months=6)
    assert len(grid) == 2
    lo, hi = (mdates.num2date(v).strftime("%Y-%m") for v in grid.axes[0].get_xlim())
    assert (lo, hi) == ("2026-07", "2026-12")
    with pytest.raises(ValueError):
        charts.indicator_chart(_series(), [])


def test_forecast_chart_bars_targets_and_month_ticks():
    f = pd.DataFrame({"month": pd.period_range("2026-11", periods=5, freq="M"),
                      "expected": [1e6, 3.7e5, 4e5, 2.5e4, 2e4]})
    _, mine = plt.subplots()
    ax = charts.forecast_chart(f, targets=_targets(), currency="USD", ax=mine)
    assert ax is mine
    assert len(ax.patches) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Bookings target per month",  # lines list first
                                                                   "Expected bookings (amount × probability)"]
    steps = [line for line in ax.get_lines() if len(line.get_xdata())]
    assert len(steps) == 1 and list(steps[0].get_ydata()) == [30_000.0] * 3  # a quarter's target over its months
    assert ax.get_title(loc="left") == "Weighted pipeline forecast by expected close month"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Expected close month", "Expected bookings (USD)")
    assert ax.yaxis.get_major_formatter()(1e6, 0) == "$1M"
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Nov 2026", "Dec 2026", "Jan 2027", "Feb 2027", "Mar 2027"]
    plain = charts.forecast_chart(f)
    assert tuple(plain.figure.get_size_inches()) == pytest.approx((kp.WIDTH, 3.6))
    assert [t.get_text() for t in plain.get_legend().get_texts()] == ["Expected bookings (amount × probability)"]
