"""Cohort charts over hand-made frames: titles, labels, masks, lines and legends (never pixels)."""

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


def _cohorts(freq="M", n=4, ages=30):
    rows = []
    for i, cohort in enumerate(pd.period_range("2024-01", periods=n, freq=freq)):
        size = 5 if i == 1 else 20  # the second cohort is small
        for k in range(ages - i):
            rows.append({"cohort": cohort, "period": k, "customers": size, "logo_rate": 0.98 ** k,
                         "revenue_rate": 1.01 ** k})
    return pd.DataFrame(rows)


def test_retention_heatmap_labels_sizes_greys_small_cohorts_and_caps_ages():
    _, mine = plt.subplots()
    ax = charts.retention_heatmap(_cohorts(), min_cohort_size=10, ax=mine)
    assert ax is mine
    assert ax.get_title(loc="left") == "Logo retention by month of first payment"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Months since first payment", "Cohort (customers)")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024-01 (n=20)", "2024-02 (n=5)", "2024-03 (n=20)",
                                                            "2024-04 (n=20)"]
    assert len(ax.patches) == 1  # the small cohort's grey band
    assert ax.images[0].get_array().shape == (4, 25)  # ages 0..24
    assert ax.images[0].norm.vmax == 1.0
    assert ax.figure.axes[-1].get_ylabel().startswith("share of cohort")  # "(cell values in %)" where only "87" fits


def test_retention_heatmap_revenue_scale_and_quarters():
    ax = charts.retention_heatmap(_cohorts(freq="Q", ages=12), value="revenue_rate", unit="quarter", last=2)
    assert ax.get_title(loc="left") == "Revenue retention by quarter of first payment"
    assert ax.get_xlabel() == "Quarters since first payment"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024Q3 (n=20)", "2024Q4 (n=20)"]  # the last two
    assert ax.images[0].get_array().shape == (2, 9)  # ages 0..8
    assert ax.images[0].norm.vmax == pytest.approx(1.01 ** 8)
    assert ax.figure.axes[-1].get_ylabel() == "cohort MRR ÷ MRR at start"


def test_average_retention_chart_curves_over_cohort_bars():
    logo = pd.DataFrame({"period": [0, 1, 2], "rate": [1.0, 0.9, 0.85], "cohorts": [12, 11, 10]})
    revenue = pd.DataFrame({"period": [0, 1, 2], "rate": [1.0, 1.02, 1.05]})
    ax = charts.average_retention_chart(logo, revenue, unit="quarter")
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Logo retention", "Cohort revenue retention",
                                                                   "Cohorts behind each point (right)"]
    assert len(twin.patches) == 3 and twin.get_ylabel() == "Cohorts"
    assert ax.get_title(loc="left") == "Average retention by quarters since first payment (cohorts pooled)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Quarters since first payment", "Retention")
    assert ax.yaxis.get_major_formatter()(0.9, 0) == "90%"
    assert ax.get_zorder() > twin.get_zorder()
    _, mine = plt.subplots()
    assert charts.average_retention_chart(logo, ax=mine) is mine
    assert [line.get_label() for line in mine.get_lines() if not line.get_label().startswith("_")] == ["Logo retention"]


def test_retention_curves_chart_leaves_out_small_groups_and_ages():
    rows = [{"channel": c, "period": k, "rate": 0.97 ** k, "customers": n - k}
            for c, n in (("Email", 40), ("Events", 30), ("Direct", 5)) for k in range(30)]
    curves = pd.DataFrame(rows)
    ax = charts.retention_curves_chart(curves, pd.Series({"Email": 40, "Events": 30, "Direct": 5}), min_cohort_size=10)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Email (n=40)", "Events (n=30)"]
    email, events = ax.get_lines()
    assert email.get_xdata().max() == 24 and events.get_xdata().max() == 20  # 10 customers left at age 20
    assert same_color(email.get_color(), kp.channel_colour("Email"))
    assert ax.get_ylim() == (0, 1.05)
    assert ax.get_title(loc="left") == "Logo retention by channel"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Months since first payment", "Share still paying")
    _, mine = plt.subplots()
    by_segment = curves.rename(columns={"channel": "segment"})
    assert charts.retention_curves_chart(by_segment, by="segment", min_cohort_size=0, ax=mine) is mine
    assert len(mine.get_legend().get_texts()) == 3  # sizes from age 0
    assert mine.get_title(loc="left") == "Logo retention by segment"


def test_conversion_curves_chart_every_third_recent_cohort():
    rows = [{"cohort": c, "months_since": k, "rate": 0.001 * k * (i + 1)}
            for i, c in enumerate(pd.period_range("2025-01", periods=10, freq="M")) for k in range(6)]
    ax = charts.conversion_curves_chart(pd.DataFrame(rows), cohorts=2)
    assert [line.get_label() for line in ax.get_lines()] == ["2025-05", "2025-08"]
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "Creation month"
    assert ax.get_title(loc="left") == "Cumulative conversion to customer by months since contact creation"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Months since the contact was created",
                                                  "Share of cohort that became customers")
    assert ax.yaxis.get_major_formatter()(0.012, 0) == "1.2%"
    assert np.allclose(ax.get_lines()[-1].get_ydata(), 0.008 * np.arange(6))
    _, mine = plt.subplots()
    assert charts.conversion_curves_chart(pd.DataFrame(rows), ax=mine) is mine
