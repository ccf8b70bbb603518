"""Alt text read from a chart's data: hand-built figures with known numbers -> the sentence a screen
reader says (kind, title, what the axes measure, the key numbers formatted like the axis). Over the
kit's own charts the key numbers are asserted, their titles read from the chart (they are the charts'
tests' business)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from kpi_kit import charts
from kpi_kit.charts import style as kp
from kpi_kit.charts._alt import MAX_CHARS, alt_text, set_alt_text


@pytest.fixture(autouse=True)
def style(kit_style):
    yield


def _months(n=12, start="2025-11"):
    return pd.period_range(start, periods=n, freq="M").to_timestamp()


def _mrr_line(values):
    fig, ax = plt.subplots()
    ax.plot(_months(len(values)), values)
    ax.set_title("MRR per month")
    ax.set_ylabel("MRR (USD)")
    kp.money_axis(ax)
    kp.month_axis(ax)
    return fig, ax


def test_a_line_says_its_first_and_last_point_in_the_axis_format():
    fig, ax = _mrr_line(np.linspace(418_000, 695_000, 12))
    assert alt_text(fig) == "Line chart: MRR per month. MRR (USD) from $418k in Nov 2025 to $695k in Oct 2026."
    assert alt_text(ax) == alt_text(np.array([ax])) == alt_text(fig)  # a Figure, an Axes or an array of Axes


def test_the_numbers_come_from_the_drawn_data():
    fig, _ = _mrr_line([1_200.0, np.nan, 950.0, np.nan])  # unknown months are not the first or last point
    assert alt_text(fig) == "Line chart: MRR per month. MRR (USD) from $1.2k in Nov 2025 to $950 in Jan 2026."


def test_named_lines_and_percent_axes():
    fig, ax = plt.subplots()
    x = _months(3)
    ax.plot(x, [0.021, 0.025, 0.0183], label="Logo churn")
    ax.plot(x, [-0.01, 0.0, -0.005], label="Net revenue churn")
    ax.plot(x, [0.5, 0.5, 0.5], alpha=0.45)  # faint monthly points under a bold average: not a series
    ax.axhline(0, label="Zero")  # a guide: named after the series
    kp.percent_axis(ax, decimals=1)
    ax.set_title("Churn")
    assert alt_text(fig) == ("Line chart: Churn. Logo churn from 2.1% in Nov 2025 to 1.8% in Jan 2026; "
                             "Net revenue churn from −1% in Nov 2025 to −0.5% in Jan 2026; Zero.")


def test_many_lines_name_the_highest_and_lowest_where_most_of_them_are_compared():
    fig, ax = plt.subplots()
    x = _months(4)
    for i, name in enumerate(["Email", "Events", "Paid Search", "Referral", "Direct"]):
        ax.plot(x, [10.0 * i, 11.0 * i, 12.0 * i, 20.0 + i], label=name)
    kp.count_axis(ax)
    ax.set_title("Leads per month")
    assert alt_text(fig) == ("Line chart: Leads per month. 5 lines; in Feb 2026 highest Direct 24, lowest Email 20.")


def test_a_numeric_x_axis_names_its_unit_once():
    fig, ax = plt.subplots()
    ax.plot([0, 6, 12], [1.0, 0.9, 0.8], label="SMB")
    kp.percent_axis(ax)
    ax.set_title("Logo retention by segment")
    ax.set_xlabel("Months since first payment")
    assert alt_text(fig) == ("Line chart: Logo retention by segment. "
                             "SMB from 100% at 0 to 80% at 12 months since first payment.")


def test_bars_say_the_largest_and_smallest_with_their_category():
    fig, ax = plt.subplots()
    ax.bar(["2026Q1", "2026Q2", "2026Q3"], [900_000, 1_530_000, 567_000])
    kp.money_axis(ax)
    ax.set_title("Bookings by quarter")
    ax.set_ylabel("Bookings (USD)")
    assert alt_text(fig) == "Bar chart: Bookings by quarter. Bookings (USD): highest $1.53M (2026Q2), lowest $567k (2026Q3)."


def test_horizontal_bars_on_ticks_set_with_labels():
    ax = charts.funnel_chart(pd.Series({"Lead": 900, "MQL": 300, "Customer": 20}), title="Funnel")
    assert alt_text(ax) == f"Horizontal bar chart: Funnel. {ax.get_xlabel()}: highest 900 (Lead), lowest 20 (Customer)."


def test_bars_on_a_month_axis_and_a_line_on_a_twin():
    q = pd.DataFrame({"quarter": ["2026Q2", "2026Q3", "2026Q4 (to date)"], "bookings": [9e5, 1.2e6, 3e5],
                      "win_rate": [0.25, 0.311, 0.2]})
    ax = charts.deals_chart(q, currency="EUR")
    text = alt_text(ax)
    assert text.startswith(f"Bar and line chart: {ax.get_title(loc='left')}. ")
    assert "highest €1.2M (2026Q3), lowest €300k (2026Q4 (to date))" in text
    assert text.endswith(" from 25% in 2026Q2 to 20% in 2026Q4 (to date).")


def test_stacked_bars_say_their_largest_and_smallest_stack():
    fig, ax = plt.subplots()
    x = _months(3)
    ax.bar(x, [100.0, 300.0, 200.0], 20, label="New")
    ax.bar(x, [50.0, 50.0, 10.0], 20, bottom=[100.0, 300.0, 200.0], label="Expansion")
    ax.bar(x, [-40.0, -30.0, -20.0], 20, label="Churn")
    kp.money_axis(ax)
    kp.month_axis(ax)
    ax.set_title("MRR movements")
    ax.set_ylabel("MRR change (USD)")
    assert alt_text(fig) == ("Stacked bar chart: MRR movements. MRR change (USD), 3 stacked series (New, Expansion, "
                             "Churn): net highest $320 (Dec 2025), lowest $110 (Nov 2025).")


def test_grouped_bars_name_the_bar_and_its_series():
    credit = pd.DataFrame({"first_touch": [5e5, 2e5, 1e5], "linear": [3e5, 4e5, 5e4]},
                          index=["Email", "Events", "Referral"])
    ax = charts.attribution_chart(credit)
    assert alt_text(ax) == (f"Grouped bar chart: {ax.get_title(loc='left')}. 2 series by {ax.get_xlabel().lower()}; "
                            "highest $500k (Email, First touch), lowest $50k (Referral, Linear).")


def test_a_heatmap_says_its_cells_and_their_range():
    m = pd.DataFrame({"Lead": [0.9, 0.955, np.nan], "Customer": [0.03, 0.012, np.nan]},
                     index=["2026-01", "2026-02", "2026-03"])
    ax = kp.heatmap(m, title="Cohort conversion", xlabel="Stage reached", ylabel="Creation month")
    assert alt_text(ax) == ("Heatmap: Cohort conversion. 3 × 2 cells, creation month by stage reached; "
                            "values from 1.2% to 95.5%.")
    empty = kp.heatmap(m.iloc[2:], title="Cohort conversion", xlabel="Stage reached", ylabel="Creation month")
    assert alt_text(empty) == "Heatmap: Cohort conversion. 1 × 2 cells, creation month by stage reached, no values."
    plain = kp.heatmap(m * 1000, title="Counts", xlabel="", ylabel="", fmt="{:.0f}")  # no percent colour bar
    assert alt_text(plain) == "Heatmap: Counts. 3 × 2 cells; values from 12 to 955."


def test_a_scatter_names_its_highest_and_lowest_point():
    d = pd.DataFrame({"spend": [2e5, 5e4, 1e5], "revenue": [6e5, 2e4, 1.5e5]}, index=["Paid Search", "Display", "Email"])
    ax = charts.spend_revenue_chart(d, model="linear")
    text = alt_text(ax)
    assert text.startswith(f"Scatter chart: {ax.get_title(loc='left')}. 3 points, ")
    assert "; highest Paid Search $600k against $200k, lowest Display $20k against $50k" in text


def test_a_stacked_area_names_its_largest_and_smallest_layer_at_the_end():
    monthly = pd.DataFrame({"month": pd.PeriodIndex(["2026-01"] * 2 + ["2026-02"] * 2, freq="M"),
                            "channel": ["Email", "Events"] * 2, "opportunities": [1, 3, 3, 1]})
    ax = charts.pipeline_share_chart(monthly)
    assert alt_text(ax) == (f"Stacked area chart: {ax.get_title(loc='left')}. 2 layers; in Feb 2026 "
                            "largest Email 75%, smallest Events 25%.")


def test_panels_are_described_one_by_one_with_their_measure():
    g = pd.DataFrame({"ltv_to_cac": [4.2, 1.5], "payback_months": [8.0, 20.0]}, index=["Email", "Events"])
    fig, axes = plt.subplots(1, 2, sharey=True)
    axes[0].barh(g.index, g["ltv_to_cac"])
    axes[0].axvline(3, label="3:1 guide")
    axes[0].set_title("LTV:CAC")
    axes[0].set_xlabel("LTV ÷ CAC")
    axes[1].barh(g.index, g["payback_months"])
    axes[1].set_title("CAC payback")
    axes[1].set_xlabel("Months")
    fig.suptitle("LTV:CAC and payback by channel")
    assert alt_text(axes) == ("Horizontal bar charts, 2 panels: LTV:CAC and payback by channel. "
                              "LTV:CAC (LTV ÷ CAC): highest 4.2 (Email), lowest 1.5 (Events), 3:1 guide; "
                              "CAC payback (months): highest 20 (Events), lowest 8 (Email).")
    assert "highest 4.2 (Email), lowest 1.5 (Events)" in alt_text(charts.ltv_cac_chart(g))


def _grid(panels: int, rows: int, cols: int):
    fig, axes = plt.subplots(rows, cols, squeeze=False)
    x = _months(24, "2024-11")
    for i, ax in enumerate(axes.flat):
        if i >= panels:
            ax.set_visible(False)  # hidden cells are not panels
            continue
        ax.plot(x, np.arange(24.0) * (i + 1))
        ax.set_title(f"Indicator number {i}", loc="left")
        kp.count_axis(ax)
    fig.suptitle("Leading and lagging indicators")
    return fig, axes


def test_small_multiples_list_their_titles_within_the_cap():
    fig, axes = _grid(18, 3, 7)
    text = alt_text(axes)
    assert len(text) <= MAX_CHARS
    assert text.startswith("Small multiples, 18 panels: Leading and lagging indicators. Indicator number 0, "
                           "Indicator number 1, ")
    assert text.endswith(" more.")
    _, few = _grid(2, 1, 3)
    assert alt_text(few) == ("Line charts, 2 panels: Leading and lagging indicators. "
                             "Indicator number 0: from 0 in Nov 2024 to 23 in Oct 2026; "
                             "Indicator number 1: from 0 in Nov 2024 to 46 in Oct 2026.")
    _, four = _grid(4, 2, 2)  # a few panels too long for all their numbers: the first panels' numbers
    text = alt_text(four, limit=200)
    assert len(text) <= 200 and "Indicator number 0: from 0 in Nov 2024 to 23 in Oct 2026" in text
    assert text.endswith("Indicator number 3.")


def test_a_long_description_keeps_its_first_facts_within_the_cap():
    fig, ax = plt.subplots()
    for i in range(3):
        ax.plot(_months(2), [1.0, 2.0], label=f"A very long series name that goes on and on and on and on, number {i}")
    ax.set_title("Lines")
    text = alt_text(fig)
    assert len(text) <= MAX_CHARS and text.count("from 1 in Nov 2025 to 2 in Dec 2025") == 2
    assert len(alt_text(fig, limit=60)) <= 60


def test_empty_charts():
    fig, ax = plt.subplots()
    ax.set_title("Nothing yet")
    assert alt_text(fig) == "Chart: Nothing yet. No data drawn."
    ax.plot([], [], label="Target")  # a legend entry without data is not a series
    assert alt_text(fig) == "Chart: Nothing yet. No data drawn."
    assert alt_text(plt.figure()) == "Empty chart."
    assert alt_text("not a chart") == ""


def test_a_chart_can_carry_its_own_text():
    fig, ax = _mrr_line([1.0, 2.0])
    assert set_alt_text(ax, "Funnel: 900 leads, 300 MQLs, 20 customers") is ax
    assert alt_text(fig) == "Funnel: 900 leads, 300 MQLs, 20 customers"
    set_alt_text(fig, None)
    assert alt_text(fig).startswith("Line chart: MRR per month.")
    with pytest.raises(TypeError):
        set_alt_text("nope", "text")


def test_alt_text_does_not_draw(monkeypatch):
    from matplotlib.figure import Figure

    g = pd.DataFrame({"ltv_to_cac": [4.2, 1.5], "payback_months": [8.0, 20.0]}, index=["Email", "Events"])
    figs = [charts.ltv_cac_chart(g)[0].figure, _mrr_line([1.0, 2.0])[0],
            charts.cohort_heatmap(pd.DataFrame({"Lead": [0.9]}, index=["2026-01"])).figure]

    def no_draw(*args, **kwargs):
        raise AssertionError("alt_text drew the figure")

    monkeypatch.setattr(Figure, "draw", no_draw)
    assert all(alt_text(f) for f in figs)


def test_one_bar_one_stack_one_value():
    fig, ax = plt.subplots()
    ax.bar([0], [233.0])
    ax.set_title("Customers")
    assert alt_text(fig) == "Bar chart: Customers. 233 (0)."
    fig, ax = plt.subplots()
    x = _months(1, "2018-01")
    ax.bar(x, [1000.0], 20, label="New")
    ax.bar(x, [-131_000.0], 20, label="Churn")
    ax.bar(x, [-500.0], 20, bottom=[-131_000.0], label="Contraction")
    kp.money_axis(ax)
    kp.month_axis(ax)
    ax.set_title("MRR movements")
    assert alt_text(fig).endswith("3 stacked series (New, Churn, Contraction): net −$130k (Jan 2018).")
    one = kp.heatmap(pd.DataFrame({0: [1.0]}, index=["2018-01"]), title="Retention", xlabel="", ylabel="")
    assert alt_text(one) == "Heatmap: Retention. 1 × 1 cells; every value 100%."
