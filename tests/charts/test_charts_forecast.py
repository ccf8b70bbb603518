"""The MRR forecast chart over hand-made frames: title, labels, zero-based money axis, three scenarios."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import same_color

from kpi_kit import charts
from kpi_kit.charts import style as kp


@pytest.fixture(autouse=True)
def style(kit_style):
    yield


def _history(months=30):
    return pd.Series(100_000 + 5_000 * np.arange(months, dtype=float),
                     index=pd.period_range("2024-05", periods=months, freq="M"))


def _forecast(first="2026-11", months=12):
    month = pd.period_range(first, periods=months, freq="M")
    base = 250_000 + 6_000 * np.arange(1, months + 1)
    k = np.arange(1, months + 1) / 12
    return pd.DataFrame({"month": np.tile(month, 3), "scenario": np.repeat(["base", "target", "worst"], months),
                         "mrr": np.concatenate([base, base * (1 + 0.05 * k), base * (1 - 0.05 * k)])})


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_title_labels_and_a_zero_based_money_axis():
    ax = charts.mrr_forecast_chart(_history(), _forecast(), currency="EUR")
    assert ax.get_title(loc="left") == "MRR forecast, next 12 months"
    assert ax.get_ylabel() == "MRR (EUR)" and ax.get_xlabel() == "Month"
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= _forecast()["mrr"].max()
    ax.figure.canvas.draw()
    assert any("€" in t.get_text() for t in ax.get_yticklabels())


def test_history_then_three_scenarios_base_solid_others_dashed():
    ax = charts.mrr_forecast_chart(_history(), _forecast())
    lines = _lines(ax)
    assert list(lines) == ["Actual MRR", "Base forecast", "Target scenario", "Worst scenario"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(lines)
    assert len(lines["Actual MRR"].get_xdata()) == 24  # the last 24 of 30 months
    assert lines["Base forecast"].get_linestyle() == "-"
    assert lines["Target scenario"].get_linestyle() == lines["Worst scenario"].get_linestyle() == "--"
    assert same_color(lines["Base forecast"].get_color(), kp.ACCENT)
    # each scenario starts at the last actual month and MRR, then its 12 months
    for label in ("Base forecast", "Target scenario", "Worst scenario"):
        y = lines[label].get_ydata()
        assert len(y) == 13 and y[0] == _history().iloc[-1]
    assert lines["Target scenario"].get_ydata()[-1] == pytest.approx(322_000 * 1.05)
    assert lines["Worst scenario"].get_ydata()[-1] == pytest.approx(322_000 * 0.95)
    assert len(ax.collections) == 1  # the band between worst and target


def test_a_forecast_that_is_na_draws_only_the_history():
    f = _forecast().assign(mrr=np.nan)
    ax = charts.mrr_forecast_chart(_history(12), f)
    assert list(_lines(ax)) == ["Actual MRR"] and not ax.collections
    assert ax.get_ylim()[0] == 0


def test_a_forecast_not_following_the_history_is_not_joined_to_it():
    ax = charts.mrr_forecast_chart(_history(), _forecast(first="2027-02"))
    assert len(_lines(ax)["Base forecast"].get_ydata()) == 12
