"""MRR forecast (SPEC "Plan", "MRR forecast"): the base model, the scenarios and the back-test, by hand."""

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics.forecast import backtest, base_forecast, basis_months, ets_forecast, mrr_forecast

P = pd.Period


def _bridge(rows, first="2025-01"):
    """A bridge from (starting, new, expansion, reactivation, contraction, churn) rows; ending = the sum."""
    b = pd.DataFrame(rows, columns=["starting_mrr", "new", "expansion", "reactivation", "contraction", "churn"],
                     dtype="float64")
    b.insert(0, "month", pd.period_range(first, periods=len(b), freq="M"))
    b["ending_mrr"] = b["starting_mrr"] + b[["new", "expansion", "reactivation"]].sum(axis=1) \
        - b[["contraction", "churn"]].sum(axis=1)
    return b


def _fourteen():
    """14 months, Jan 2025 to Feb 2026. Jan 2025 starts from 0 with 5,000 new; then 500 new a month to
    10,000 at Nov 2025. The last three months (the base model's window at Feb 2026):
    Dec: 10,000 + 600 new + 100 expansion − 50 contraction (0.5 %) − 150 churn (1.5 %) = 10,500
    Jan: 10,500 + 900 + 200 + 100 reactivation − 0 (0 %) − 525 (5 %) = 11,175
    Feb: 11,175 + 300 + 200 reactivation − 111.75 (1 %) − 447 (4 %) = 11,116.25"""
    rows = [(0, 5000, 0, 0, 0, 0)] + [(5000 + 500 * i, 500, 0, 0, 0, 0) for i in range(10)]
    rows += [(10000, 600, 100, 0, 50, 150), (10500, 900, 200, 100, 0, 525), (11175, 300, 0, 200, 111.75, 447)]
    return _bridge(rows)


def test_the_fixture_ties():
    b = _fourteen()
    assert len(b) == 14 and b["month"].iloc[-1] == P("2026-02", "M")
    assert b["ending_mrr"].iloc[10] == 10000 and b["ending_mrr"].iloc[-1] == pytest.approx(11116.25)
    assert (b["starting_mrr"].iloc[1:].to_numpy() == b["ending_mrr"].iloc[:-1].to_numpy()).all()


def test_base_forecast_one_and_two_months_ahead_by_hand():
    # gains: (700 + 1,200 + 500) / 3 = 800 a month; contraction rate (0.5 + 0 + 1) / 3 = 0.5 %,
    # churn rate (1.5 + 5 + 4) / 3 = 3.5 %: 4 % of MRR lost a month
    # month 1: 11,116.25 + 800 − 4 % × 11,116.25 = 11,471.6; month 2: 11,471.6 + 800 − 458.864 = 11,812.736
    f = base_forecast(_fourteen(), P("2026-02", "M"), 2)
    assert list(f.index) == [P("2026-03", "M"), P("2026-04", "M")] and f.name == "mrr"
    assert f.to_numpy() == pytest.approx([11471.6, 11812.736])


def test_base_forecast_is_fitted_on_months_up_to_the_origin_only():
    b = _fourteen()
    later = _bridge([(11116.25, 90000, 0, 0, 0, 11000)] * 3, first="2026-03")
    f = base_forecast(pd.concat([b, later], ignore_index=True), P("2026-02", "M"), 2)
    assert f.to_numpy() == pytest.approx([11471.6, 11812.736])


def test_trailing_window_skips_months_without_starting_mrr_in_the_rates():
    # at Feb 2025 the window is Dec 2024 (not in the bridge), Jan (gain 5,000, no starting MRR: no
    # rate) and Feb (gain 500, rates 0): gains 2,750 a month, nothing lost: 5,500 + 2,750 = 8,250
    f = base_forecast(_fourteen(), P("2025-02", "M"), 2)
    assert f.to_numpy() == pytest.approx([8250.0, 11000.0])
    assert base_forecast(_fourteen(), P("2025-01", "M"), 1).isna().all()  # no month with a rate: n/a


def test_churn_rate_zero_grows_by_the_gains():
    b = _bridge([(1000 * i, 1000, 0, 0, 0, 0) for i in range(5)])
    assert base_forecast(b, P("2025-05", "M"), 3).to_numpy() == pytest.approx([6000.0, 7000.0, 8000.0])


def test_unknown_movements_are_skipped_and_all_unknown_is_na():
    b = _fourteen()
    cols = ["new", "expansion", "reactivation", "contraction", "churn"]
    b.loc[b["month"] == P("2025-12", "M"), cols] = np.nan
    # Jan and Feb only: gains (1,200 + 500) / 2 = 850; rates (0 + 1) / 2 + (5 + 4) / 2 = 5 %
    assert base_forecast(b, P("2026-02", "M"), 1).to_numpy() == pytest.approx([11116.25 + 850 - 0.05 * 11116.25])
    b.loc[b["month"] >= P("2025-12", "M"), cols] = np.nan
    assert base_forecast(b, P("2026-02", "M"), 3).isna().all()
    assert mrr_forecast(b, P("2026-02", "M"))["mrr"].isna().all()


def test_origin_outside_the_bridge_or_an_empty_bridge_is_na():
    assert base_forecast(_fourteen(), P("2026-05", "M"), 2).isna().all()
    assert base_forecast(_fourteen().iloc[0:0], P("2026-02", "M"), 2).isna().all()
    no_mrr = pd.DataFrame(columns=["month", "ending_mrr", "customers", "new_customers", "arpu"])  # a client without MRR
    assert mrr_forecast(no_mrr, P("2026-02", "M"))["mrr"].isna().all()
    assert (backtest(no_mrr, P("2026-02", "M"))["n"] == 0).all()
    with pytest.raises(ValueError, match="trailing"):
        base_forecast(_fourteen(), P("2026-02", "M"), 2, trailing=0)


def test_scenarios_widen_linearly_to_the_uplift_at_twelve_months():
    f = mrr_forecast(_fourteen(), P("2026-02", "M"), months=12, uplift=0.05)
    assert list(f.columns) == ["month", "scenario", "mrr"] and len(f) == 36
    assert f["scenario"].tolist() == ["base"] * 12 + ["target"] * 12 + ["worst"] * 12
    wide = f.pivot(index="month", columns="scenario", values="mrr")
    assert wide.index[0] == P("2026-03", "M") and wide.index[-1] == P("2027-02", "M")
    assert wide.loc[P("2026-03", "M"), "base"] == pytest.approx(11471.6)
    assert wide.loc[P("2026-03", "M"), "target"] == pytest.approx(11471.6 * (1 + 0.05 / 12))
    assert wide.loc[P("2026-04", "M"), "worst"] == pytest.approx(11812.736 * (1 - 0.05 * 2 / 12))
    last = wide.loc[P("2027-02", "M")]
    assert last["target"] == pytest.approx(last["base"] * 1.05) and last["worst"] == pytest.approx(last["base"] * 0.95)


def test_worst_never_below_zero():
    f = mrr_forecast(_fourteen(), P("2026-02", "M"), months=12, uplift=2.0)
    assert (f.loc[f["scenario"] == "worst", "mrr"] >= 0).all()
    assert f.loc[f["scenario"] == "worst", "mrr"].iloc[-1] == 0


def _linear(months=16):
    """MRR 1,000, 1,100, …: 100 new MRR a month (the first month 1,000 new), nothing lost, so the base
    model forecasts it exactly and the naive one is off by 100 × h."""
    return _bridge([(0, 1000, 0, 0, 0, 0)] + [(1000 + 100 * i, 100, 0, 0, 0, 0) for i in range(months - 1)])


def test_backtest_on_a_constant_growth_series_by_hand():
    b = _linear(16)  # months 0..15 (Jan 2025 .. Apr 2026), MRR 1,000 + 100 i
    r = backtest(b, b["month"].iloc[-1]).set_index(["model", "horizon"])
    # origins with 12 months of MRR: months 11..14 (month 15 has nothing after it)
    # h = 1: naive off by 100 / 2,200, 100 / 2,300, 100 / 2,400, 100 / 2,500
    assert r.loc[("naive", 1), "n"] == 4
    assert r.loc[("naive", 1), "mape"] == pytest.approx(np.mean([1 / 22, 1 / 23, 1 / 24, 1 / 25]))
    # h = 3: origins 11 and 12 (3 months on is at most month 15): 300 / 2,400 and 300 / 2,500
    assert r.loc[("naive", 3), "n"] == 2
    assert r.loc[("naive", 3), "mape"] == pytest.approx(np.mean([3 / 24, 3 / 25]))
    # h = 6: no origin with 6 months after it: n 0, MAPE n/a
    assert r.loc[("naive", 6), "n"] == 0 and np.isnan(r.loc[("naive", 6), "mape"])
    assert r.loc[("base", 1), "mape"] == pytest.approx(0) and r.loc[("base", 3), "mape"] == pytest.approx(0)
    assert r.loc[("base", 1), "n"] == 4 and r.loc[("base", 6), "n"] == 0


def test_backtest_uses_no_actual_after_the_last_full_month():
    b = _linear(16)
    r = backtest(b, b["month"].iloc[12], horizons=(1,)).set_index("model")
    assert r.loc["naive", "n"] == 1 and r.loc["naive", "mape"] == pytest.approx(1 / 22)  # origin 11 → 12


def test_backtest_needs_twelve_months_of_mrr():
    b = _linear(12)  # origin 11 has 12 months but no month after it
    r = backtest(b, b["month"].iloc[-1])
    assert list(r.columns) == ["model", "horizon", "mape", "n"] and len(r) == 6
    assert (r["n"] == 0).all() and r["mape"].isna().all()
    assert r["model"].tolist() == ["base"] * 3 + ["naive"] * 3 and r["horizon"].tolist() == [1, 3, 6] * 2
    assert (backtest(_linear(16), P("2026-04", "M"), min_history=16)["n"] == 0).all()


def test_backtest_leaves_out_an_actual_of_zero():
    b = _linear(16)
    b.loc[12, "ending_mrr"] = 0.0  # month 12 at 0 (everyone churned that month)
    r = backtest(b, b["month"].iloc[12], horizons=(1,)).set_index("model")
    # origins 11 and 12: 11 → 12 has actual 0 (left out), 12 has no month after it up to the last
    assert r.loc["naive", "n"] == 0 and np.isnan(r.loc["naive", "mape"])
    r = backtest(b, b["month"].iloc[13], horizons=(1,)).set_index("model")
    # 12 → 13 (from 0): naive 0 against 2,300 is off by 100 %
    assert r.loc["naive", "n"] == 1 and r.loc["naive", "mape"] == pytest.approx(1.0)


def test_backtest_scores_the_models_on_the_same_pairs():
    b = _linear(16)
    b.loc[b.index < 12, ["new", "expansion", "reactivation", "contraction", "churn"]] = np.nan  # rebuilt history
    r = backtest(b, b["month"].iloc[-1], horizons=(1,)).set_index("model")
    # origin 11's window (months 9..11) is all unknown: no base forecast, so naive leaves it out too
    assert r.loc["base", "n"] == r.loc["naive", "n"] == 3
    assert r.loc["naive", "mape"] == pytest.approx(np.mean([1 / 23, 1 / 24, 1 / 25]))
    with pytest.raises(ValueError, match="unknown forecast model"):
        backtest(b, b["month"].iloc[-1], models=("base", "arima"))


def test_ets_follows_a_trend_and_needs_history():
    b = _linear(16)
    f = ets_forecast(b, P("2026-04", "M"), 3)
    assert list(f.index) == list(pd.period_range("2026-05", periods=3, freq="M"))
    assert f.to_numpy() == pytest.approx([2600.0, 2700.0, 2800.0], rel=0.02)
    assert ets_forecast(b, P("2025-06", "M"), 3).isna().all()  # 6 months: too few to fit
    r = backtest(b, b["month"].iloc[-1], horizons=(1, 3), models=("naive", "ets")).set_index(["model", "horizon"])
    assert r.loc[("ets", 3), "n"] == r.loc[("naive", 3), "n"] == 2
    assert r.loc[("ets", 3), "mape"] < r.loc[("naive", 3), "mape"]


def test_basis_months_counts_the_known_months_of_the_window():
    b = _fourteen()
    assert basis_months(b, P("2026-02", "M")) == 3
    b.loc[b["month"] <= P("2026-01", "M"), ["new", "expansion", "reactivation", "contraction", "churn"]] = np.nan
    assert basis_months(b, P("2026-02", "M")) == 1 and basis_months(b, P("2026-01", "M")) == 0


def test_the_demos_base_model_beats_the_naive_forecast_at_three_months():
    """Issue 30's done-when, on the demo client's own bridge (base 4.3 % against naive 17.4 %, n 20)."""
    from pathlib import Path

    from kpi_kit.data import load_client
    from kpi_kit.metrics import compute
    from kpi_kit.params import load_params

    e = compute(load_client(load_params(Path(__file__).parents[2] / "data" / "clients" / "demo.yaml"))).economics
    r = backtest(e.bridge, e.ctx.last).set_index(["model", "horizon"])
    assert r.loc[("base", 3), "n"] == r.loc[("naive", 3), "n"] >= 12
    assert r.loc[("base", 3), "mape"] < r.loc[("naive", 3), "mape"]
