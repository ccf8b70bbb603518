"""Chart helpers: titles, labels and formats (not pixels), and the one-draw PNG of a figure."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from kpi_kit.charts import style as kp  # noqa: E402


@pytest.fixture(autouse=True)
def style(kit_style):
    yield


def _tick_texts(axis):
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_funnel_chart_labels_stages_and_conversions():
    ax = kp.funnel_chart(pd.Series({"lead": 200, "mql": 50, "customer": 5}), title="Funnel")
    assert ax.get_title(loc="left") == "Funnel"  # the style puts titles on the left
    assert ax.get_xlabel() == "Contacts reaching each stage (bar width)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Lead", "MQL", "Customer"]
    texts = [t.get_text() for t in ax.texts]
    assert "200" in texts and "25% of previous" in texts and "10% of previous" in texts


def test_series_with_target_formats_counts_and_months():
    months = pd.Series(pd.period_range("2025-01", periods=24, freq="M"))
    ax = kp.series_with_target(months, pd.Series(np.arange(24) * 1000.0), pd.Series(np.full(24, 5000.0)),
                               title="Leads per month", ylabel="Leads")
    kp.month_axis(ax)
    assert (ax.get_title(loc="left"), ax.get_ylabel(), ax.get_xlabel()) == ("Leads per month", "Leads", "Month")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Actual", "Target"]
    assert "20,000" in _tick_texts(ax.yaxis)
    assert all(len(label.split()) == 2 for label in _tick_texts(ax.xaxis))  # "Jan 2025"


def test_money_and_percent_axes():
    _, ax = plt.subplots()
    ax.plot([0, 1], [0, 1_500_000])
    kp.money_axis(ax, "EUR")
    ax.set_yticks([0, 50_000, 1_500_000])
    assert _tick_texts(ax.yaxis) == ["€0", "€50k", "€1.5M"]
    _, ax = plt.subplots()
    ax.plot([0, 1], [0, 0.5])
    kp.percent_axis(ax)
    assert "50%" in _tick_texts(ax.yaxis)


def _drawn_box(png: bytes) -> tuple[int, int, int, int, int, int]:
    """(top, bottom, left, right) blank margins and (height, width) of what is drawn."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    drawn = (pixels < 250).any(axis=2)
    ys, xs = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    return (ys[0], len(drawn) - 1 - ys[-1], xs[0], drawn.shape[1] - 1 - xs[-1], ys[-1] - ys[0], xs[-1] - xs[0])


def _tight(fig) -> bytes:
    buf = io.BytesIO()
    fig.canvas.print_figure(buf, format="png", bbox_inches="tight", dpi=fig.dpi)
    return buf.getvalue()


def _month_chart():
    months = pd.Series(pd.period_range("2025-01", periods=24, freq="M"))
    ax = kp.series_with_target(months, pd.Series(np.arange(24) * 10.0), title="Leads", ylabel="Leads")
    kp.month_axis(ax)
    ax.tick_params(axis="x", labelrotation=30)  # reaches below the figure's own edge
    return ax.figure


def _legend_below():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4], label="a")
    ax.set_title("Legend below")
    fig.legend(loc="lower center", bbox_to_anchor=(0.5, -0.15))
    return fig


def _heatmap():
    table = pd.DataFrame(np.linspace(0, 1, 36).reshape(6, 6), index=[f"2025-{m:02d}" for m in range(1, 7)])
    return kp.heatmap(table, title="Cohorts", xlabel="Month", ylabel="Cohort").figure


@pytest.mark.parametrize("make", [_month_chart, _legend_below, _heatmap])
def test_figure_png_shows_what_a_tight_savefig_shows(make):
    """The same drawing as matplotlib's bbox_inches="tight", including what reaches past the
    figure's edge, with savefig.pad_inches of blank on every side."""
    fig = make()
    ours, tight = _drawn_box(kp.figure_png(fig)), _drawn_box(_tight(fig))
    pad = round(matplotlib.rcParams["savefig.pad_inches"] * fig.dpi)
    assert all(abs(margin - pad) <= 1 for margin in ours[:4])  # ±1: faint anti-aliased edge pixels
    assert abs(ours[4] - tight[4]) <= 1 and abs(ours[5] - tight[5]) <= 1


def _count_tight_saves(monkeypatch, fig) -> list[str]:
    saves = []
    original = type(fig.canvas).print_figure
    monkeypatch.setattr(type(fig.canvas), "print_figure", lambda self, *a, **k: saves.append(k.get("bbox_inches"))
                        or original(self, *a, **k))
    return saves


def test_figure_png_draws_once(monkeypatch):
    fig = _legend_below()
    saves = _count_tight_saves(monkeypatch, fig)
    kp.figure_png(fig)
    assert len(saves) == 1 and saves[0] != "tight"


@pytest.mark.parametrize("place", ["text far below", "legend far right", "long label across the margin"])
def test_figure_png_draws_again_at_the_tight_size_what_lies_beyond_its_margin(monkeypatch, place):
    """Measured on its first drawing, then drawn once more at the size "tight" gives (which would draw twice)."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2], [3, 4], label="a line")
    if place == "text far below":
        fig.text(0.5, -0.9, "nearly three inches below the figure")
    elif place == "legend far right":
        ax.legend(loc="center left", bbox_to_anchor=(2.0, 0.5))
    else:
        ax.set_yticks([3, 4], ["a very long category name that runs far past the figure's left edge", "b"])
    saves = _count_tight_saves(monkeypatch, fig)
    ours = kp.figure_png(fig)
    assert len(saves) == 2 and "tight" not in saves
    assert np.asarray(Image.open(io.BytesIO(ours))).shape[:2] == np.asarray(Image.open(io.BytesIO(_tight(fig)))).shape[:2]


def test_figure_png_keeps_versions_out_and_skips_empty_figures():
    fig = _month_chart()
    info = Image.open(io.BytesIO(kp.figure_png(fig))).info
    assert "Software" not in info
    assert kp.figure_png(plt.figure()) is None


@pytest.mark.parametrize("step, expected", [
    (1, ["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01"]),
    (3, ["2026-01-01"]),
    (12, ["2026-01-01"]),
])
def test_month_start_locator_ticks_first_days_of_months(step, expected):
    locator = kp.MonthStartLocator(step)
    lo, hi = matplotlib.dates.datestr2num(["2025-10-15", "2026-03-10"])
    ticks = [matplotlib.dates.num2date(t).strftime("%Y-%m-%d") for t in locator.tick_values(lo, hi)]
    assert ticks == expected


def test_month_axis_thins_ticks_to_the_axis_width():
    _, ax = plt.subplots(figsize=(3, 2))
    x = pd.date_range("2023-01-01", periods=36, freq="MS")
    ax.plot(x, np.arange(36))
    kp.month_axis(ax)
    labels = _tick_texts(ax.xaxis)
    assert 2 <= len(labels) <= 6 and all(label.startswith(("Jan", "Jul")) for label in labels)


def test_month_axis_counts_the_labels_it_would_draw():
    """Two years on a panel with room for four labels: Jan and Jul of each year, not only Januaries
    (the axis' margins add a fraction of a month that must not tip it to yearly ticks)."""
    _, ax = plt.subplots(figsize=(4.5, 2.5))  # an axes about 3.5 in wide
    x = pd.date_range("2024-11-01", periods=24, freq="MS")
    ax.plot(x, np.arange(24))
    kp.month_axis(ax)
    assert _tick_texts(ax.xaxis) == ["Jan 2025", "Jul 2025", "Jan 2026", "Jul 2026"]


def test_unit_axis_formats_by_unit(kit_style):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    for ax, unit in zip(axes, ("money", "percent", "ratio")):
        ax.set_ylim(0, 2000 if unit != "percent" else 0.5)
        kp.unit_axis(ax, unit, "EUR")
    fig.canvas.draw()
    labels = [[t.get_text() for t in ax.get_yticklabels()] for ax in axes]
    assert "€2k" in labels[0] or "€2,000" in labels[0]
    assert "50%" in labels[1]
    assert "2000" in labels[2]  # a ratio keeps plain ticks
