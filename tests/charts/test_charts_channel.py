"""Channel charts over hand-made frames: titles, labels, formats, bars and lines (never pixels)."""

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


def _monthly(months=6):
    month = pd.period_range("2026-01", periods=months, freq="M")
    rows = []
    for j, m in enumerate(month):
        for c, spend in (("Paid Search", 1000.0), ("Email", 0.0), ("Events", 500.0)):
            leads = 10.0 + j
            rows.append({"month": m, "channel": c, "leads": leads, "opportunities": 0.0 if j == 0 else 2.0 + (c == "Email"),
                         "spend": spend, "cpl": spend / leads if spend else np.nan})
    return pd.DataFrame(rows)


def test_cpl_cac_chart_panels_bars_blended_lines_and_formats():
    costs = pd.DataFrame({"cpl": [100.0, 40.0, np.nan], "cac": [4000.0, 900.0, 1500.0]},
                         index=["Paid Search", "Email", "Events"])
    axes = charts.cpl_cac_chart(costs, {"cpl": 80.0, "cac": 2500.0}, currency="USD")
    assert axes.shape == (2,)
    assert [ax.get_title(loc="left") for ax in axes] == ["Cost per lead by channel", "Paid-media CAC by channel"]
    assert [ax.get_xlabel() for ax in axes] == ["Cost per lead (USD)", "Paid-media CAC (USD)"]
    assert axes[0].get_ylabel() == "Channel"
    assert [len(ax.patches) for ax in axes] == [2, 3]  # a channel without a CPL has no CPL bar
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["Email", "Paid Search"]  # cheapest at the bottom
    assert same_color(axes[0].patches[0].get_facecolor(), kp.channel_colour("Email"))
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["Blended $2,500"]
    assert axes[1].xaxis.get_major_formatter()(2500, 0) == "$2.5k"
    assert tuple(axes[0].figure.get_size_inches()) == pytest.approx((kp.WIDTH, 3.8))


def test_cpl_cac_chart_hides_an_empty_panel_and_uses_a_passed_figure():
    fig = plt.figure()
    costs = pd.DataFrame({"cpl": [np.nan], "cac": [900.0]}, index=["Events"])
    axes = charts.cpl_cac_chart(costs, pd.Series({"cpl": np.nan, "cac": 900.0}), fig=fig)
    assert all(ax.figure is fig for ax in axes)
    assert not axes[0].get_visible() and axes[1].get_visible()


def test_conversion_heatmap_steps_from_created():
    cohort = pd.DataFrame({"created_to_lead": [0.9, 0.8], "lead_to_mql": [0.4, 0.3], "mql_to_customer": [0.1, 0.2]},
                          index=["Email", "Events"])
    _, mine = plt.subplots()
    ax = charts.conversion_heatmap(cohort, ["lead", "mql", "customer"], ax=mine)
    assert ax is mine
    assert ax.get_title(loc="left") == "Cohort view: stage conversion by channel (contacts created in the window)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Step", "Channel")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["created→lead", "lead→mql", "mql→customer"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Email", "Events"]
    assert ax.images[0].norm.vmax == 1.0
    assert ax.figure.axes[-1].get_ylabel() == "conversion"


def test_trend_chart_panels_channels_and_formats():
    """One small figure per panel (a Grid: side by side on a laptop, one to a row on a phone) and one
    legend of channels for all of them."""
    panels = [("leads", "Leads per month", "Leads", "count"), ("spend", "Spend per month", "Spend (EUR)", "money"),
              ("cpl", "CPL per month", "CPL (EUR)", "money")]
    grid = charts.trend_chart(_monthly(), panels, currency="EUR", channels=["Paid Search", "Events", "Email"],
                              paid_channels=["Paid Search", "Events"])
    assert isinstance(grid, charts.Grid) and len(grid) == 3
    axes = grid.axes
    assert len({ax.figure for ax in axes}) == 3  # each panel a figure of its own
    assert [ax.get_title(loc="left") for ax in axes] == ["Leads per month", "Spend per month", "CPL per month"]
    assert [ax.get_ylabel() for ax in axes] == ["Leads", "Spend (EUR)", "CPL (EUR)"]
    assert [line.get_label() for line in axes[0].lines] == ["Paid Search", "Events", "Email"]
    assert [line.get_label() for line in axes[1].lines] == ["Paid Search", "Events"]  # money: paid channels only
    assert same_color(axes[0].lines[0].get_color(), kp.channel_colour("Paid Search"))
    assert axes[0].yaxis.get_major_formatter()(12000, 0) == "12,000"
    assert axes[1].yaxis.get_major_formatter()(1500, 0) == "€1.5k"
    assert all(ax.get_ylim()[0] == 0 for ax in axes)  # counts and money from zero
    assert [t.get_text() for t in grid.legend.legends[0].get_texts()] == ["Paid Search", "Events", "Email"]
    assert grid.images() == [grid.legend, *grid.figures]  # the legend first
    assert all(tuple(ax.figure.get_size_inches()) == pytest.approx(kp.WIDE_PANEL) for ax in axes)


def test_trend_chart_takes_a_formatter_function():
    grid = charts.trend_chart(_monthly(), [("leads", "Leads per month", "Leads", kp.count_axis)])
    assert len(grid) == 1
    assert [line.get_label() for line in grid.axes[0].lines] == ["Paid Search", "Email", "Events"]
    with pytest.raises(ValueError):
        charts.trend_chart(_monthly(), [])


def test_attribution_models_never_borrow_a_channels_colour():
    """Models are greys (the data-driven ones hatched), channels are hues: a bar's colour never reads as a channel."""
    credit = pd.DataFrame({m: [5e5, 2e5, 1e5] for m in charts.channel.MODEL_LABELS}, index=["Email", "Events", "Direct"])
    ax = charts.attribution_chart(credit)
    styles = [(bars.patches[0].get_facecolor(), bars.patches[0].get_hatch()) for bars in ax.containers]
    assert len({(tuple(np.round(c, 3)), h) for c, h in styles}) == 8  # eight models, eight looks
    channels = set(kp.CHANNEL_COLOURS.values()) | set(kp.PALETTE)
    for colour, _ in styles:
        assert not any(same_color(colour, c) for c in channels)
        r, g, b, _a = colour
        assert r == g == b  # a grey
    hatched = [h for _, h in styles if h]
    assert len(hatched) == 2  # Markov and Shapley


def test_pipeline_share_chart_stacks_shares_of_months_with_volume():
    ax = charts.pipeline_share_chart(_monthly())
    assert ax.get_title(loc="left") == "Share of new opportunities by channel"
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("Share of opportunities", "Month")
    assert ax.get_ylim() == (0, 1)
    assert ax.yaxis.get_major_formatter()(0.25, 0) == "25%"
    assert len(ax.collections) == 3  # one band per channel
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Email", "Events", "Paid Search"]
    # the first month has no opportunities, so no shares: the bands start in the second; stacked, they reach 100 %
    top = ax.collections[-1].get_paths()[0].vertices
    assert mdates.num2date(top[:, 0].min()).strftime("%Y-%m") == "2026-02"
    assert top[:, 1].max() == pytest.approx(1.0)
    _, mine = plt.subplots()
    assert charts.pipeline_share_chart(_monthly(), column="leads", noun="MQLs", ax=mine) is mine
    assert mine.get_title(loc="left") == "Share of new MQLs by channel"


def test_attribution_chart_groups_bars_by_model():
    credit = pd.DataFrame({"first_touch": [5e5, 2e5, 1e5], "last_touch": [3e5, 4e5, 1e5], "linear": [4e5, 3e5, 1e5]},
                          index=["Email", "Events", "Direct"])
    ax = charts.attribution_chart(credit, currency="GBP")
    assert len(ax.patches) == 9  # channels × models
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["First touch", "Last touch", "Linear"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Email", "Events", "Direct"]  # most credit first
    assert ax.get_title(loc="left") == "Revenue credited to each channel by attribution model"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Channel", "Attributed revenue (GBP)")
    assert ax.yaxis.get_major_formatter()(5e5, 0) == "£500k"
    assert tuple(ax.figure.get_size_inches()) == pytest.approx((kp.WIDTH, 4.2))
    _, mine = plt.subplots()
    assert charts.attribution_chart(credit, models=["linear"], model_labels={"linear": "Even"}, ax=mine) is mine
    assert [t.get_text() for t in mine.get_legend().get_texts()] == ["Even"]


def test_spend_revenue_chart_points_labels_and_break_even():
    d = pd.DataFrame({"spend": [2e5, 5e4], "revenue": [6e5, 2e4]}, index=["Paid Search", "Display"])
    ax = charts.spend_revenue_chart(d, model="position_based", currency="USD")
    assert ax.get_title(loc="left") == "Spend vs attributed revenue (position (40/20/40))"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Spend in window (USD)", "Attributed revenue (USD)")
    assert len(ax.collections[0].get_offsets()) == 2
    assert [t.get_text() for t in ax.texts] == ["Paid Search", "Display"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Break-even (ROI 0)"]
    # each axis fits its own data with a small margin (a shared limit ran spend to the revenue's top)
    assert ax.get_xlim() == pytest.approx((0, 2e5 * (1 + kp.DATA_MARGIN)))
    assert ax.get_ylim() == pytest.approx((0, 6e5 * (1 + kp.DATA_MARGIN)))
    paid_search, display = ax.texts
    assert paid_search.get_ha() == "right" and display.get_ha() == "left"  # names stay inside the axes
    assert ax.xaxis.get_major_formatter()(2e5, 0) == ax.yaxis.get_major_formatter()(2e5, 0) == "$200k"
    _, mine = plt.subplots()
    assert charts.spend_revenue_chart(d.rename(columns={"revenue": "credit"}), y="credit", ax=mine) is mine
    assert mine.get_title(loc="left") == "Spend vs attributed revenue"
