"""The KPI table and metrics.json read one value per KPI (hand-computed on tests/fixtures/tiny)."""

import math

import pytest

from kpi_kit import load_client
from kpi_kit._math import wilson_interval
from kpi_kit.metrics import compute
from kpi_kit.metrics.economics import unit_economics, unit_economics_by_month
from kpi_kit.metrics.kpis import KPI_COLUMNS, PREVIOUS


def test_win_rate_row_has_its_base_and_wilson_interval(tiny):
    book = compute(tiny).book
    w = book.get("win_rate", "window")
    assert w.value == 0.5 and w.n == 2  # D1 won, D2 lost, closed Jan–Mar
    assert (w.low, w.high) == pytest.approx((0.0945, 0.9055), abs=1e-4)
    assert w.period_start.strftime("%Y-%m-%d") == "2026-01-01" and w.period_end.strftime("%Y-%m-%d") == "2026-03-31"
    assert book.value("win_rate", PREVIOUS) == 1.0  # Oct–Dec 2025: D6 won, nothing lost


def test_wilson_interval_by_hand():
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_metrics_json_scalars_are_the_kpi_rows(tiny):
    m = compute(tiny)
    scalars = m.scalars()
    for name, (metric, period) in m.scalar_keys().items():
        want, got = m.book.value(metric, period), scalars[name]
        assert (math.isnan(want) and math.isnan(got)) or got == want, name
    # every scalar by hand (window Jan–Mar 2026; tiny has no subscriptions, no spend, no revenue history):
    defined = {k: v for k, v in scalars.items() if not math.isnan(v)}
    assert defined == {
        "cac": 500.0,  # acquisition costs in the window (salaries 1000, January) / 2 new customers (C1 Feb, C6 Mar)
        "win_rate": 0.5,  # D1 won, D2 lost, closed in the window
        "avg_deal_size": 1000.0,  # D1
        "avg_sales_cycle_days": 41.0,  # D1: its contact C1 created Jan 5, closed Feb 15
        "weighted_pipeline": 1750.0,  # D3 2000 × 0.5 + D5 3000 × 0.25 (closes after as_of: open); D4 has none
        "lead_to_close_cvr": 0.5,  # 2 new customers / 4 leads (C1, C2, C3, C4)
        "required_coverage": 2.0,  # 1 / win rate 0.5
        # 3 open deals on as_of (D3, D4, D5; D7 is created after it) × 0.5 × 1000 / 41 days
        "pipeline_velocity": pytest.approx(3 * 0.5 * 1000 / 41),
    }  # the rest is undefined: MRR-based values without MRR data, paid CAC without spend, no data a year earlier,
    # pipeline coverage without a bookings target for 2026Q2 (no targets row, no complete year of bookings)
    assert list(m.kpis().columns) == KPI_COLUMNS


def test_metrics_are_computed_once_per_data(tiny, tiny_params):
    assert compute(tiny) is compute(tiny)
    assert compute(load_client(tiny_params)) is not compute(tiny)  # another load: other frames
    tiny.frames.pop("deals")
    assert math.isnan(compute(tiny).scalars()["win_rate"])  # a frame dropped after loading: computed afresh


def test_unit_economics_by_month_is_the_scalar_function_month_by_month():
    import pandas as pd

    b = pd.DataFrame({"month": pd.period_range("2026-01", periods=4, freq="M"),
                      "ending_mrr": [100.0, 110.0, 90.0, 120.0], "customers": [2, 2, 2, 3], "arpu": [50.0, 55.0, 45.0, 40.0],
                      "logo_churn_rate": [float("nan"), 0.0, 0.5, 0.25], "nrr": [1.0, 1.1, 0.8, 1.0],
                      "grr": [1.0, 1.0, 0.8, 0.9], "quick_ratio": [2.0, 3.0, 0.5, 1.0]})
    by = unit_economics_by_month(b, churn_window_months=2, gross_margin=0.8)
    for month in b["month"]:
        one = unit_economics(b, month.end_time.normalize(), churn_window_months=2, gross_margin=0.8)
        assert one["ltv"] == pytest.approx(by.loc[month, "ltv"], nan_ok=True)
    # March: churn mean of Feb 0.0 and Mar 0.5 = 0.25 -> LTV 45 × 0.8 / 0.25 = 144
    assert by.loc[pd.Period("2026-03", "M"), "ltv"] == pytest.approx(144.0)
    assert math.isnan(by.loc[pd.Period("2026-01", "M"), "ltv"])  # no churn defined yet: undefined, not 0
