"""Unit-economics charts over hand-made frames: titles, labels, formats, bars, lines and log scale."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import same_color

from kpi_kit import charts
from kpi_kit.charts import style as kp
from kpi_kit.charts.economics import MOVEMENT_COLOURS


@pytest.fixture(autouse=True)
def style(kit_style):
    yield


def _bridge(months=12):
    month = pd.period_range("2025-11", periods=months, freq="M")
    n = np.arange(months, dtype=float)
    b = pd.DataFrame({"month": month, "new": 1000 + 10 * n, "expansion": 200.0, "reactivation": 50.0,
                      "contraction": 100.0, "churn": 300 + n, "customers": (20 + n).astype(int),
                      "logo_churn_rate": 0.02 + 0.001 * n, "gross_revenue_churn": 0.015, "net_revenue_churn": -0.01})
    net = b[["new", "expansion", "reactivation"]].sum(axis=1) - b[["contraction", "churn"]].sum(axis=1)
    b["ending_mrr"] = 10_000 + net.cumsum()
    b["starting_mrr"] = b["ending_mrr"] - net
    return b


def _x_labels(ax):
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_waterfall_chart_stacks_movements_and_draws_the_net_line():
    b = _bridge()
    ax = charts.waterfall_chart(b, currency="EUR")
    assert len(ax.patches) == 5 * len(b)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Net new MRR", "New", "Expansion", "Reactivation",
                                                                   "Contraction", "Churn"]  # lines list first
    assert same_color(ax.patches[0].get_facecolor(), MOVEMENT_COLOURS["new"])
    assert ax.patches[-1].get_height() == pytest.approx(-b["churn"].iloc[-1])  # losses below zero
    net = ax.get_lines()[0].get_ydata()
    assert np.allclose(net, b["ending_mrr"] - b["starting_mrr"])
    assert ax.get_title(loc="left") == "MRR movements per month"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Month", "MRR change (EUR)")
    assert ax.yaxis.get_major_formatter()(-1500, 0) == "−€1.5k"
    assert all(len(label.split()) == 2 for label in _x_labels(ax))  # "Jan 2026"
    assert tuple(ax.figure.get_size_inches()) == pytest.approx((kp.WIDTH, 4.4))
    _, mine = plt.subplots()
    assert charts.waterfall_chart(b, ax=mine) is mine


def test_mrr_chart_mrr_area_and_customers_on_a_twin_axis():
    _, mine = plt.subplots()
    ax = charts.mrr_chart(_bridge(), currency="USD", ax=mine)
    assert ax is mine
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert ax.get_title(loc="left") == "MRR and paying customers at month end"
    assert (ax.get_ylabel(), twin.get_ylabel(), ax.get_xlabel()) == ("MRR (USD)", "Paying customers", "Month")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["MRR (left)", "Paying customers (right)"]
    assert ax.yaxis.get_major_formatter()(12_000, 0) == "$12k"
    assert twin.yaxis.get_major_formatter()(1200, 0) == "1,200"
    assert ax.get_ylim()[0] == 0 and twin.get_ylim()[0] == 0


def test_churn_chart_draws_trailing_averages():
    b = _bridge()
    ax = charts.churn_chart(b, window_months=3)
    assert len(ax.get_lines()) == 7  # monthly and trailing line per rate, and the zero line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Logo churn (3-mo avg)", "Gross revenue churn (3-mo avg)", "Net revenue churn (3-mo avg)"]
    assert np.allclose(ax.get_lines()[1].get_ydata(), b["logo_churn_rate"].rolling(3, min_periods=1).mean())
    assert ax.yaxis.get_major_formatter()(0.025, 0) == "2.5%"
    assert ax.get_title(loc="left") == "Monthly churn rates with their trailing average"
    assert ax.get_ylabel() == "Share of starting base"


def test_cac_chart_reads_the_trailing_cac_columns():
    m = pd.DataFrame({"month": pd.period_range("2026-01", periods=4, freq="M"), "cac": [900.0, 1200, 800, 1000],
                      "paid_cac": [300.0, 400, 250, 350], "cac_trailing": [900.0, 1000, 950, 980],
                      "paid_cac_trailing": [300.0, 350, 320, 330]})
    ax = charts.cac_chart(m, currency="USD")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Fully loaded (trailing 3 months)",
                                                                   "Paid only (trailing 3 months)"]
    lines = ax.get_lines()
    assert len(lines) == 4
    assert np.allclose(lines[1].get_ydata(), m["cac_trailing"]) and np.allclose(lines[3].get_ydata(), m["paid_cac_trailing"])
    assert ax.get_title(loc="left") == "CAC by month: acquisition cost per new customer"
    assert ax.get_ylabel() == "CAC (USD)"
    assert ax.yaxis.get_major_formatter()(950, 0) == "$950"
    _, mine = plt.subplots()
    assert charts.cac_chart(m, ax=mine) is mine


def test_ltv_cac_chart_by_channel_names_paid_media_cac_and_draws_no_guide():
    g = pd.DataFrame({"ltv_to_cac": [4.2, np.nan], "payback_months": [8.0, 20.0]}, index=["Email", "Events"])
    axes = charts.ltv_cac_chart(g, by="channel")
    assert axes.shape == (2,)
    assert axes[0].get_xscale() == "linear" and axes[0].get_xlabel() == "LTV ÷ paid-media CAC"
    assert [ax.get_title(loc="left") for ax in axes] == ["LTV : paid-media CAC", "CAC payback on paid-media CAC"]
    # the 3:1 and 12-month guides assume a fully loaded CAC: none against paid media alone
    assert all(ax.get_legend() is None and not ax.get_lines() for ax in axes)
    assert [len(ax.patches) for ax in axes] == [2, 2]
    assert axes[0].patches[1].get_width() == 0  # unknown ratio: an empty bar
    assert same_color(axes[0].patches[0].get_facecolor(), kp.channel_colour("Email"))
    assert axes[0].get_ylabel() == "Channel" and axes[1].get_xlabel() == "Months"
    assert axes[0].figure.get_suptitle() == "LTV : paid-media CAC and payback by channel"


def test_ltv_cac_chart_draws_the_guides_against_a_fully_loaded_cac():
    g = pd.DataFrame({"ltv_to_cac": [4.2, 1.5], "payback_months": [8.0, 20.0]}, index=["A", "B"])
    axes = charts.ltv_cac_chart(g, by="segment", cac_basis="fully loaded")
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["3:1 guide"]
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["12-month guide"]
    assert axes[0].get_lines()[0].get_xdata()[0] == 3 and axes[1].get_lines()[0].get_xdata()[0] == 12


def test_ltv_cac_chart_turns_logarithmic_for_a_far_outlier():
    g = pd.DataFrame({"ltv_to_cac": [400.0, 2.0], "payback_months": [0.3, 30.0]}, index=["SMB", "Enterprise"])
    fig = plt.figure()
    axes = charts.ltv_cac_chart(g, by="segment", fig=fig)
    assert all(ax.figure is fig for ax in axes)
    assert axes[0].get_xscale() == "log" and axes[0].get_xlabel() == "LTV ÷ fully loaded CAC (log scale)"
    assert axes[0].xaxis.get_major_formatter()(10, 0) == "10×"
    assert same_color(axes[0].patches[0].get_facecolor(), kp.STAGE_COLOURS[1])
    assert axes[0].get_ylabel() == "Segment"
    assert fig.get_suptitle() == "LTV : fully loaded CAC and payback by segment"


def test_cost_to_serve_chart_against_arpu_times_margin():
    c = pd.DataFrame({"month": pd.period_range("2026-01", periods=3, freq="M"), "cost_to_serve": [120.0, 110, 100],
                      "arpu": [500.0, 520, 540]})
    ax = charts.cost_to_serve_chart(c, gross_margin=0.8, currency="USD")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Cost to serve per customer", "ARPU × gross margin"]
    assert np.allclose(ax.get_lines()[1].get_ydata(), [400, 416, 432])
    assert ax.get_title(loc="left") == "Cost to serve per paying customer, per month"
    assert ax.get_ylabel() == "Per customer per month (USD)"
    assert ax.get_ylim()[0] == 0
    _, mine = plt.subplots()
    assert charts.cost_to_serve_chart(c, ax=mine) is mine
