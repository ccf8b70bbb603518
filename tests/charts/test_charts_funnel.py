"""Funnel charts over hand-made frames: titles, labels, formats and panels (never pixels)."""

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


def _volumes(stages=("lead", "mql", "customer"), months=12):
    month = pd.period_range("2025-11", periods=months, freq="M")
    rows = [{"month": m, "stage": s, "actual": 100.0 / (i + 1) + j, "target": 90.0 if s == "lead" else np.nan}
            for i, s in enumerate(stages) for j, m in enumerate(month)]
    return pd.DataFrame(rows)


def test_funnel_chart_titles_the_window_and_uses_a_passed_ax():
    counts = pd.Series({"Lead": 900, "MQL": 300, "Customer": 30})
    ax = charts.funnel_chart(counts, window_label="Jan 2026 – Dec 2026")
    assert ax.get_title(loc="left") == "Cohort view: contacts created Jan 2026 – Dec 2026, stage reached by the report date"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Lead", "MQL", "Customer"]
    assert len(ax.patches) == 3
    assert tuple(ax.figure.get_size_inches()) == pytest.approx((kp.WIDTH, 0.55 * 3 + 1.2))
    _, mine = plt.subplots()
    assert charts.funnel_chart(counts, ax=mine) is mine
    assert mine.get_title(loc="left") == "Funnel"


def test_cohort_heatmap_greys_immature_cohorts():
    m = pd.DataFrame({"Lead": [0.9, 0.95, 0.92], "Customer": [0.03, 0.02, 0.0]}, index=["2026-01", "2026-02", "2026-03"])
    _, mine = plt.subplots()
    ax = charts.cohort_heatmap(m, immature=[False, True, True], ax=mine)
    assert ax is mine
    assert ax.get_title(loc="left") == "Cohort conversion: share of each month's contacts reaching a stage"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Stage reached by the report date", "Creation month (cohort)")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Lead", "Customer"]
    assert len(ax.patches) == 2  # one grey band per immature row
    colorbar = ax.figure.axes[-1]
    assert colorbar.get_ylabel() == "share of cohort"
    assert colorbar.yaxis.get_major_formatter()(0.5, 0) == "50%"


def test_volumes_chart_grid_titles_targets_and_shared_month_labels():
    axes = charts.volumes_chart(_volumes(), stages=["lead", "mql", "customer"])
    assert axes.shape == (2, 2)
    assert [ax.get_title(loc="left") for ax in axes.flat[:3]] == ["Leads per month", "MQLs per month",
                                                                  "New customers per month"]
    assert not axes[1, 1].get_visible()
    fig = axes[0, 0].figure
    assert tuple(fig.get_size_inches()) == pytest.approx((kp.WIDTH, 6.0))
    assert fig.get_suptitle() == "Monthly volumes against target (dashed)"
    # the lead panel has a target, the others do not: one legend for the grid, under it
    assert all(ax.get_legend() is None for ax in axes.flat)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Actual", "Target"]
    for i, ax in enumerate(axes.flat[:3]):
        assert same_color(ax.lines[0].get_color(), kp.STAGE_COLOURS[i + 1])
        assert ax.get_ylabel() == "Contacts"
        assert ax.yaxis.get_major_formatter()(20000, 0) == "20,000"
    # the month axis is labelled under the bottom row, and under the top-right panel that has nothing below
    assert axes[0, 0].get_xlabel() == "" and axes[1, 0].get_xlabel() == "Month"
    fig.canvas.draw()
    assert any(t.get_text() for t in axes[0, 1].get_xticklabels())
    assert not any(t.get_text() for t in axes[0, 0].get_xticklabels())
    assert all(len(t.get_text().split()) == 2 for t in axes[1, 0].get_xticklabels() if t.get_text())  # "Jan 2026"


def test_volumes_chart_draws_into_a_passed_figure_and_sizes_the_grid():
    fig = plt.figure()
    axes = charts.volumes_chart(_volumes(("lead", "customer")), fig=fig)
    assert axes.shape == (1, 2) and all(ax.figure is fig for ax in axes.flat)
    assert charts.volumes_chart(_volumes(("lead",))).shape == (1, 1)
    with pytest.raises(ValueError):
        charts.volumes_chart(_volumes(("lead", "mql", "sal", "sql", "customer")))


def test_deals_chart_bars_win_rate_twin_axis_and_formats():
    q = pd.DataFrame({"quarter": ["2026Q1", "2026Q2", "2026Q3 (to date)"], "bookings": [9e5, 1.2e6, 3e5],
                      "win_rate": [0.25, 0.6, np.nan]})
    ax = charts.deals_chart(q, currency="EUR")
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert ax.get_title(loc="left") == "Bookings and win rate by quarter closed"
    assert (ax.get_xlabel(), ax.get_ylabel(), twin.get_ylabel()) == ("Quarter closed", "Bookings (EUR)", "Win rate")
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026Q1", "2026Q2", "2026Q3\n(to date)"]
    assert ax.yaxis.get_major_formatter()(1.2e6, 0) == "€1.2M"
    assert twin.yaxis.get_major_formatter()(0.25, 0) == "25%"
    assert twin.get_ylim() == pytest.approx((0, 0.6 * (1 + kp.DATA_MARGIN)))  # the best win rate and a margin
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Bookings (left)", "Win rate (right)"]
    assert tuple(ax.figure.get_size_inches()) == pytest.approx((kp.WIDTH, 3.6))
    _, mine = plt.subplots()
    assert charts.deals_chart(q, ax=mine) is mine
