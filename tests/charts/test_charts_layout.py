"""Layout of every chart: legends outside the data, values in heatmap cells where they fit, axes
that fit their data (measured on the drawn figure, never pixels)."""

import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from kpi_kit import charts
from kpi_kit.charts import style as kp


@pytest.fixture(autouse=True)
def style(kit_style):
    yield


MONTHS = pd.period_range("2025-01", periods=24, freq="M")
N = np.arange(24, dtype=float)


def _bridge():
    b = pd.DataFrame({"month": MONTHS, "new": 1000 + 40 * N, "expansion": 200.0, "reactivation": 50.0,
                      "contraction": 100.0, "churn": 300 + 5 * N, "customers": (20 + N).astype(int),
                      "logo_churn_rate": 0.02 + 0.001 * N, "gross_revenue_churn": 0.015,
                      "net_revenue_churn": -0.01 + 0.001 * N})
    b.loc[5, "new"] = 6000.0  # one tall stack, as a big month
    net = b[["new", "expansion", "reactivation"]].sum(axis=1) - b[["contraction", "churn"]].sum(axis=1)
    b["ending_mrr"] = 10_000 + net.cumsum()
    b["starting_mrr"] = b["ending_mrr"] - net
    return b


def _channels_monthly():
    rows = [{"month": m, "channel": c, "leads": 10.0 + j + 5 * k, "opportunities": 2.0 + k, "spend": 900.0 * k,
             "cpl": 90.0 * k / (10 + j) if k else np.nan, "cac": 400.0 * k if k else np.nan}
            for j, m in enumerate(MONTHS[-12:])
            for k, c in enumerate(("Email", "Paid Search", "Paid Social", "Events", "Organic Search", "Direct"))]
    return pd.DataFrame(rows)


def _retention_curve():
    return pd.DataFrame({"period": np.arange(24), "rate": 0.97 ** N, "cohorts": 24 - np.arange(24)})


def _volumes():
    return pd.DataFrame([{"month": m, "stage": s, "actual": 100.0 / (i + 1) + j, "target": 90.0 if s == "lead" else np.nan}
                         for i, s in enumerate(("lead", "mql", "sql", "customer")) for j, m in enumerate(MONTHS)])


CHARTS = {
    "waterfall": lambda: charts.waterfall_chart(_bridge()),
    "mrr": lambda: charts.mrr_chart(_bridge()),
    "churn": lambda: charts.churn_chart(_bridge()),
    "cac": lambda: charts.cac_chart(pd.DataFrame({"month": MONTHS, "cac": 3000 + 100 * N, "paid_cac": 900.0,
                                                  "cac_trailing": 3100 + 90 * N, "paid_cac_trailing": 950.0})),
    "ltv_cac": lambda: charts.ltv_cac_chart(pd.DataFrame({"ltv_to_cac": [4.2, 1.5, 8.0], "payback_months": [8.0, 20.0, 3.0]},
                                                         index=["Email", "Events", "Paid Search"]),
                                            cac_basis="fully loaded"),  # guides (and their legend) on a fully loaded CAC
    "cost_to_serve": lambda: charts.cost_to_serve_chart(
        pd.DataFrame({"month": MONTHS, "cost_to_serve": 1300 - 40 * N, "arpu": 1800.0}), gross_margin=0.8),
    "cpl_cac": lambda: charts.cpl_cac_chart(pd.DataFrame({"cpl": [100.0, 40.0, 70.0], "cac": [4000.0, 900.0, 2000.0],
                                                          "spend": [5e4, 1e4, 2e4]},
                                                         index=["Paid Search", "Email", "Events"]),
                                            {"cpl": 80.0, "cac": 2500.0}),
    "trend": lambda: charts.trend_chart(_channels_monthly(), [("leads", "Leads", "Leads", "count"),
                                                              ("spend", "Spend", "Spend", "money"),
                                                              ("cpl", "CPL", "CPL", "money")]),
    "pipeline_share": lambda: charts.pipeline_share_chart(_channels_monthly()),
    "attribution": lambda: charts.attribution_chart(
        pd.DataFrame({m: [5e5, 2e5, 1e5] for m in charts.channel.MODEL_LABELS}, index=["Email", "Events", "Direct"])),
    "spend_revenue": lambda: charts.spend_revenue_chart(
        pd.DataFrame({"spend": [2.32e5, 7e4, 5e3], "revenue": [6.5e5, 5.7e5, 4.4e5]},
                     index=["Paid Search", "Events", "Email"]), model="linear"),
    "average_retention": lambda: charts.average_retention_chart(_retention_curve(),
                                                                _retention_curve().assign(rate=1.0 + 0.002 * N)),
    "retention_curves": lambda: charts.retention_curves_chart(pd.concat(
        [_retention_curve().assign(channel=c, customers=50, rate=0.97 ** (N * (k + 1)))
         for k, c in enumerate(("Email", "Events", "Direct", "Paid Search", "Referral"))])),
    "conversion_curves": lambda: charts.conversion_curves_chart(pd.DataFrame(
        [{"cohort": c, "months_since": k, "rate": 0.14 * (1 - 0.8 ** (k + 1))}
         for c in MONTHS for k in range(24 - MONTHS.get_loc(c))])),
    "volumes": lambda: charts.volumes_chart(_volumes()),
    "deals": lambda: charts.deals_chart(pd.DataFrame({"quarter": ["2026Q1", "2026Q2", "2026Q3 (to date)"],
                                                      "bookings": [9e5, 1.2e6, 3e5], "win_rate": [1.0, 1.0, 1.0]})),
    "forecast": lambda: charts.forecast_chart(pd.DataFrame({"month": MONTHS[-5:], "expected": [9e5, 3e5, 4e5, 2e4, 1e4]}),
                                              targets=pd.DataFrame({"metric": ["bookings"], "target": [1.5e6],
                                                                    "period_start": pd.to_datetime(["2026-08-01"]),
                                                                    "period_end": pd.to_datetime(["2026-10-31"])})),
    "series_with_target": lambda: kp.series_with_target(pd.Series(MONTHS), pd.Series(N * 10), pd.Series(N * 9 + 5),
                                                        title="Leads", ylabel="Leads"),
}


def _figure(made):
    if isinstance(made, charts.Grid):  # small multiples: the legend is a figure of its own
        return made.legend
    first = made if hasattr(made, "figure") else np.ravel(made)[0]
    return first.figure


def _legends(fig):
    return [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_legend_lies_outside_every_plotting_area_and_its_labels(name):
    fig = _figure(CHARTS[name]())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = _legends(fig)
    assert legends, f"{name} draws a legend"
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    for legend in legends:
        assert isinstance(legend, kp.LegendBelow) or not panels  # the one placement (or a legend figure of its own)
        box = legend.get_window_extent(renderer)
        for ax in panels:
            assert not _overlaps(box, ax.bbox), f"{name}: legend over the data of {ax.get_title(loc='left')!r}"
            for part in (ax.xaxis, ax.yaxis):  # nor over tick labels and axis labels
                extent = part.get_tightbbox(renderer)
                assert extent is None or not _overlaps(box, extent), f"{name}: legend over an axis' labels"
            if ax.title.get_text():
                assert not _overlaps(box, ax.title.get_window_extent(renderer))


@pytest.mark.parametrize("name", ["churn", "volumes", "cpl_cac", "spend_revenue"])
def test_legends_hang_under_the_labels_inside_the_saved_image(name):
    """Under the lowest x labels of the chart, and inside what the report shows (figure_png)."""
    fig = _figure(CHARTS[name]())
    png = Image.open(io.BytesIO(kp.figure_png(fig)))
    renderer = fig.canvas.get_renderer()
    labels = [ax.xaxis.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    lowest_label = min(b.y0 for b in labels if b is not None)
    drawn = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)  # what a tight savefig keeps
    for legend in _legends(fig):
        box = legend.get_window_extent(renderer)
        assert box.y1 <= lowest_label
        assert drawn.y0 - 0.5 <= box.y0 and box.y1 <= drawn.y1 + 0.5
        assert png.size[1] >= drawn.y1 - box.y0  # the image reaches from the title down to the legend


def test_legend_below_follows_labels_set_after_it():
    """Made before the x labels were rotated, the legend still hangs under them when drawn."""
    ax = kp.series_with_target(pd.Series(MONTHS), pd.Series(N), pd.Series(N), title="t", ylabel="y")
    kp.month_axis(ax)
    ax.tick_params(axis="x", labelrotation=60)
    ax.set_xlabel("A month label\non two lines")
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).y1 < ax.xaxis.get_tightbbox(renderer).y0


def test_legend_below_fits_its_columns_to_the_width():
    _, ax = plt.subplots(figsize=(4, 3))
    for i in range(7):
        ax.plot([0, 1], [i, i], label=f"A rather long channel name {i}")
    legend = kp.legend_below(ax)
    width = legend.get_window_extent(ax.figure.canvas.get_renderer()).width
    assert width <= ax.figure.bbox.width
    assert legend._ncols < 7
    _, few = plt.subplots()
    few.plot([0, 1], label="a")
    few.plot([0, 1], label="b")
    assert kp.legend_below(few)._ncols == 2  # short labels: one row
    _, none = plt.subplots()
    assert kp.legend_below(none) is None


# -- heatmaps ------------------------------------------------------------------------------------------------------
def _cohorts(n=24, ages=30):
    rows = [{"cohort": c, "period": k, "customers": 5 if i == 1 else 20, "logo_rate": 0.985 ** k * (1 - 0.01 * i),
             "revenue_rate": 1.004 ** k} for i, c in enumerate(pd.period_range("2024-01", periods=n, freq="M"))
            for k in range(ages - i)]
    return pd.DataFrame(rows)


def _cells(ax):
    """(row, column) -> Text of each annotated cell."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}


@pytest.mark.parametrize("value", ["logo_rate", "revenue_rate"])
def test_retention_heatmap_carries_percent_values_in_its_25_columns(value):
    """25 ages at the kit's width: "87%" does not fit a cell at a readable size, "87" does, and the colour
    bar's label says the values are in %. Readable: at least 6 pt (8.3 px at 100 dpi) at the size shown."""
    ax = charts.retention_heatmap(_cohorts(), value=value)
    data = ax.images[0].get_array()
    assert data.shape == (24, 25)
    cells = _cells(ax)
    assert len(cells) == int((~np.ma.getmaskarray(data)).sum())  # every cell with a value, none without
    colorbar = ax.figure.axes[-1]
    assert colorbar.get_ylabel().endswith("(cell values in %)")
    for (i, j), text in cells.items():  # formatted like the colour bar, without its "%": "87"
        assert text.get_text() == colorbar.yaxis.get_major_formatter()(float(data[i, j]), 0).rstrip("%")
        assert text.get_fontsize() >= kp.CELL_FONT[0]
        assert text.get_fontsize() * ax.figure.dpi / 72 >= 8  # pixels at the size shown (1280 px, A4)
    # readable: each value fits its cell
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    cell_width = ax.bbox.width / data.shape[1]
    longest = max(len(t.get_text()) for t in cells.values())
    widest = max(t.get_window_extent(renderer).width for t in cells.values() if len(t.get_text()) == longest)
    assert widest < cell_width


def test_a_heatmap_keeps_the_percent_sign_where_it_fits():
    ax = charts.retention_heatmap(_cohorts().query("period <= 8"), value="logo_rate")
    assert all(t.get_text().endswith("%") for t in ax.texts) and ax.texts
    assert not ax.figure.axes[-1].get_ylabel().endswith("(cell values in %)")


def _contrast(a, b) -> float:
    la, lb = (kp._luminance(matplotlib.colors.to_rgb(c)) for c in (a, b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_heatmap_values_contrast_with_their_cells_and_greyed_rows():
    table = pd.DataFrame(np.linspace(0, 1, 60).reshape(6, 10))
    ax = kp.heatmap(table, title="t", xlabel="x", ylabel="y", mask_rows=[False] * 5 + [True])
    im = ax.images[0]
    for (i, j), text in _cells(ax).items():
        cell = np.asarray(im.cmap(im.norm(table.iat[i, j])))[:3]
        if i == 5:  # under the white veil of a greyed-out row
            cell = 0.45 * cell + 0.55
        assert _contrast(text.get_color(), cell) >= 3.5, (i, j, text.get_text())
    assert _cells(ax)[(0, 0)].get_color() == kp.INK and _cells(ax)[(4, 9)].get_color() == "white"
    assert _cells(ax)[(5, 9)].get_color() == kp.INK  # the darkest value, greyed out


def test_heatmap_leaves_cells_too_small_to_read_empty():
    ax = kp.heatmap(pd.DataFrame(np.full((10, 60), 0.5)), title="t", xlabel="x", ylabel="y")
    assert len(ax.texts) == 0
    ax = charts.cohort_heatmap(pd.DataFrame({"Lead": [0.9, 0.95], "Customer": [0.03, 0.01]},
                                            index=["2026-01", "2026-02"]))
    assert sorted(t.get_text() for t in ax.texts) == ["1%", "3%", "90%", "95%"]
    assert all(t.get_fontsize() == kp.CELL_FONT[1] for t in ax.texts)  # big cells: the largest size


# -- axes fit their data ---------------------------------------------------------------------------------------
def _fits(limit: float, top: float, margin: float = 0.15) -> bool:
    """The axis reaches past the data's top, by no more than ``margin`` of it."""
    return top <= limit <= top * (1 + margin)


def test_spend_and_revenue_axes_each_fit_their_own_data():
    ax = CHARTS["spend_revenue"]()
    assert _fits(ax.get_xlim()[1], 2.32e5) and ax.get_xlim()[0] == 0
    assert _fits(ax.get_ylim()[1], 6.5e5) and ax.get_ylim()[0] == 0
    assert kp.upper_limit([0, 0]) == 1.0 and kp.upper_limit([]) == 1.0


def test_the_waterfall_leaves_a_margin_above_its_tallest_stack():
    b = _bridge()
    ax = charts.waterfall_chart(b)
    gains = b[["new", "expansion", "reactivation"]].sum(axis=1).max()
    losses = b[["contraction", "churn"]].sum(axis=1).max()
    low, high = ax.get_ylim()
    assert gains < high <= gains + 0.1 * (gains + losses)
    assert -losses - 0.1 * (gains + losses) <= low < -losses


def test_the_win_rate_axis_fits_the_win_rate():
    twin = [a for a in CHARTS["deals"]().figure.axes if a.get_ylabel() == "Win rate"][0]
    assert _fits(twin.get_ylim()[1], 1.0, margin=kp.DATA_MARGIN)


@pytest.mark.parametrize("name", ["mrr", "cac", "cost_to_serve", "churn", "forecast", "average_retention"])
def test_line_and_bar_axes_fit_their_data(name):
    made = CHARTS[name]()
    for ax in _figure(made).axes:
        tops = [np.nanmax(np.asarray(line.get_ydata(), dtype=float)) for line in ax.get_lines()
                if line.get_label() != "_child0" and len(line.get_ydata()) > 1]
        tops += [p.get_y() + p.get_height() for p in ax.patches]
        if not tops:
            continue
        low, high = ax.get_ylim()
        assert max(tops) <= high <= max(tops) + 0.15 * (high - low), (name, ax.get_ylabel())
