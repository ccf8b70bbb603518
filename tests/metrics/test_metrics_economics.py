"""MRR, movements, bridge and unit economics against hand-computed values (SPEC "MRR" ff.)."""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics import economics as mr

AS_OF = "2026-06-30"


def subs(*rows):
    """rows: (customer, start, end or None, amount, period months[, discount])"""
    df = pd.DataFrame([r + (None,) * (6 - len(r)) for r in rows],
                      columns=["customer_id", "start_date", "end_date", "amount", "billing_period_months", "discount"])
    for col in ("start_date", "end_date"):
        df[col] = pd.to_datetime(df[col])
    df["discount"] = df["discount"].astype(float)
    return df


def series(cmrr, customer):
    c = cmrr[cmrr["customer_id"] == customer]
    return dict(zip(c["month"].astype(str), c["mrr"]))


def test_annual_plan_is_a_twelfth_per_month():
    c = mr.customer_mrr(subs(("a", "2026-01-15", None, 1200.0, 12)), AS_OF)
    assert set(series(c, "a").values()) == {100.0}  # $1,200 / yr = $100 MRR
    assert list(series(c, "a")) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def test_discount_is_deducted_per_billing_period():
    c = mr.customer_mrr(subs(("a", "2026-01-01", None, 100.0, 1, 20.0), ("b", "2026-01-01", None, 1200.0, 12, 120.0)),
                        AS_OF)
    assert series(c, "a")["2026-03"] == 80.0  # 100 − 20
    assert series(c, "b")["2026-03"] == 90.0  # (1200 − 120) / 12


def test_active_on_month_end_rule():
    c = mr.customer_mrr(subs(("a", "2026-01-31", "2026-03-31", 50.0, 1),  # active Jan 31, Feb 28; not Mar 31
                             ("b", "2026-02-03", "2026-02-20", 70.0, 1),  # starts and ends in Feb: never counted
                             ("c", "2026-01-10", "2026-04-01", 30.0, 1)), AS_OF)  # active on Mar 31 (d < end)
    assert series(c, "a") == {"2026-01": 50.0, "2026-02": 50.0, "2026-03": 0.0, "2026-04": 0.0, "2026-05": 0.0,
                              "2026-06": 0.0}
    assert "b" not in set(c["customer_id"])
    assert series(c, "c")["2026-03"] == 30.0 and series(c, "c")["2026-04"] == 0.0


def test_dates_after_as_of():
    c = mr.customer_mrr(subs(("a", "2026-01-01", "2026-08-15", 40.0, 1),  # ends after as_of: still active
                             ("b", "2026-07-02", None, 99.0, 1)), AS_OF)  # starts after as_of: does not exist
    assert series(c, "a")["2026-06"] == 40.0
    assert "b" not in set(c["customer_id"])
    assert str(c["month"].max()) == "2026-06"  # the last full month


def test_last_full_month_when_as_of_is_mid_month():
    c = mr.customer_mrr(subs(("a", "2026-01-01", None, 40.0, 1)), "2026-06-29")
    assert str(c["month"].max()) == "2026-05"


def test_movements_contraction_not_churn_and_reactivation_not_new():
    s = subs(("a", "2026-01-01", None, 100.0, 1), ("a", "2026-01-01", "2026-03-15", 40.0, 1),  # add-on cancelled
             ("b", "2026-01-01", "2026-02-10", 60.0, 1), ("b", "2026-04-01", None, 60.0, 1))  # churn then return
    mv = mr.mrr_movements(mr.customer_mrr(s, AS_OF)).set_index(["customer_id", "month"])
    a = mv.loc["a"]["movement"].tolist()
    assert a == ["new", "none", "contraction", "none", "none", "none"]
    assert mv.loc[("a", pd.Period("2026-03", "M")), "amount"] == -40.0
    assert mv.loc["b"]["movement"].tolist() == ["new", "churn", "none", "reactivation", "none", "none"]


def test_bridge_hand_computed():
    s = subs(("a", "2026-01-01", None, 100.0, 1), ("a", "2026-03-01", None, 50.0, 1),  # expansion in Mar
             ("b", "2026-01-01", "2026-02-10", 60.0, 1), ("b", "2026-04-01", None, 60.0, 1),  # churn Feb, back Apr
             ("c", "2026-02-01", None, 1200.0, 12))  # new in Feb, annual
    b = mr.mrr_bridge(mr.customer_mrr(s, AS_OF)).set_index("month")
    feb, mar, apr = (pd.Period(m, "M") for m in ("2026-02", "2026-03", "2026-04"))
    assert b.loc[feb, ["starting_mrr", "new", "churn", "ending_mrr"]].tolist() == [160.0, 100.0, 60.0, 200.0]
    assert b.loc[feb, "churned_customers"] == 1 and b.loc[feb, "logo_churn_rate"] == 0.5  # 1 of 2 at Jan end
    assert b.loc[mar, ["expansion", "ending_mrr", "customers"]].tolist() == [50.0, 250.0, 2]
    assert b.loc[apr, ["reactivation", "new", "ending_mrr", "reactivated_customers"]].tolist() == [60.0, 0.0, 310.0, 1]
    assert b.loc[feb, "gross_revenue_churn"] == pytest.approx(60 / 160)
    assert b.loc[apr, "net_revenue_churn"] == pytest.approx(-60 / 250)
    assert b.loc[apr, "nrr"] == pytest.approx(1 + 60 / 250)
    assert b.loc[feb, "quick_ratio"] == pytest.approx(100 / 60)
    assert math.isnan(b.loc[mar, "quick_ratio"])  # nothing lost: undefined, not infinity
    assert b.loc[apr, "arpu"] == pytest.approx(310 / 3)


def test_month_without_paying_customers_at_start_has_nan_churn():
    s = subs(("a", "2026-01-01", "2026-02-15", 10.0, 1), ("a", "2026-04-01", None, 10.0, 1))
    b = mr.mrr_bridge(mr.customer_mrr(s, AS_OF)).set_index("month")
    assert b.loc[pd.Period("2026-02", "M"), "logo_churn_rate"] == 1.0
    assert math.isnan(b.loc[pd.Period("2026-03", "M"), "logo_churn_rate"])  # nobody paying at Feb end
    assert math.isnan(b.loc[pd.Period("2026-03", "M"), "gross_revenue_churn"])


def test_bridge_identity_on_random_data():
    rng = np.random.default_rng(7)
    n = 400
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 800, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(1, 700, n), unit="D")
    df = pd.DataFrame({"customer_id": rng.integers(0, 200, n).astype(str), "start_date": start,
                       "end_date": end.where(rng.random(n) < 0.6), "amount": rng.uniform(10, 3000, n).round(2),
                       "billing_period_months": rng.choice([1, 3, 12], n),
                       "discount": np.where(rng.random(n) < 0.3, 5.0, np.nan)})
    b = mr.mrr_bridge(mr.customer_mrr(df, "2026-06-30"))
    lhs = b["starting_mrr"] + b["new"] + b["reactivation"] + b["expansion"] - b["contraction"] - b["churn"]
    np.testing.assert_allclose(lhs, b["ending_mrr"], atol=1e-6)
    np.testing.assert_allclose(b["starting_mrr"].iloc[1:], b["ending_mrr"].iloc[:-1].to_numpy(), atol=1e-6)


def test_mrr_table_path_equals_subscription_path():
    s = subs(("a", "2026-01-01", None, 100.0, 1), ("b", "2026-02-01", "2026-04-10", 1200.0, 12))
    from_subs = mr.customer_mrr(s, AS_OF)
    table = from_subs[from_subs["mrr"] > 0].assign(month=lambda d: d["month"].dt.start_time)
    from_table = mr.customer_mrr_from_table(table, AS_OF)
    pd.testing.assert_frame_equal(from_subs.reset_index(drop=True), from_table.reset_index(drop=True))


def test_unit_economics_seed_example_ltv_10000():
    b = pd.DataFrame({"month": pd.period_range("2026-01", periods=6, freq="M"), "ending_mrr": 5000.0,
                      "customers": 100, "arpu": 50.0, "logo_churn_rate": 0.005, "nrr": 1.0, "grr": 1.0,
                      "quick_ratio": 2.0})
    s = mr.unit_economics(b, "2026-06-30", churn_window_months=6, gross_margin=1.0, cac=2500.0)
    assert s["ltv"] == pytest.approx(10_000.0)  # $50 / 0.5 %
    assert s["ltv_to_cac"] == pytest.approx(4.0)
    assert s["cac_payback_months"] == pytest.approx(50.0)  # 2500 / 50


def test_zero_churn_gives_undefined_ltv_and_mean_skips_undefined_months():
    b = pd.DataFrame({"month": pd.period_range("2026-01", periods=6, freq="M"), "ending_mrr": 100.0,
                      "customers": 2, "arpu": 50.0, "logo_churn_rate": [np.nan, 0.5, 0, 0, 0, 0],
                      "nrr": 1.0, "grr": 1.0, "quick_ratio": np.nan})
    s = mr.unit_economics(b, "2026-06-30", churn_window_months=4, gross_margin=0.8, cac=100.0)
    assert s["logo_churn_rate"] == 0.0 and math.isnan(s["ltv"]) and math.isnan(s["ltv_to_cac"])
    assert s["cac_payback_months"] == pytest.approx(2.5)  # 100 / (50 × 0.8)
    assert math.isnan(s["quick_ratio"])
    s6 = mr.unit_economics(b, "2026-06-30", churn_window_months=6)
    assert s6["logo_churn_rate"] == pytest.approx(0.5 / 5)  # NaN month skipped


def test_trailing_retention():
    s = subs(("a", "2025-01-01", None, 100.0, 1), ("a", "2025-06-01", None, 50.0, 1),  # expands
             ("b", "2025-01-01", "2025-09-01", 100.0, 1),  # churns
             ("c", "2025-06-01", None, 80.0, 1))  # not in the Jan base
    t = mr.trailing_retention(mr.customer_mrr(s, "2026-01-31"), months=12).set_index("month")
    jan = pd.Period("2026-01", "M")
    assert t.loc[jan, "nrr"] == pytest.approx(150 / 200)
    assert t.loc[jan, "grr"] == pytest.approx(100 / 200)  # a capped at 100
    assert t["nrr"].isna().sum() == 12


def test_costs_cac_cost_to_serve_and_magic_number():
    costs = pd.DataFrame({"month": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-04-01", "2026-04-01"]),
                          "category": ["salaries", "hosting", "salaries", "hosting"], "amount": [900.0, 60.0, 1200.0, 90.0]})
    spend = pd.DataFrame({"date": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-02-05"]), "spend": [50.0, 50.0, 300.0]})
    groups = {"salaries": "acquisition", "hosting": "service"}
    acq = mr.acquisition_costs(costs, spend, groups).set_index("month")
    assert acq.loc[pd.Period("2026-01", "M"), ["costs", "spend", "total"]].tolist() == [900.0, 100.0, 1000.0]
    s = subs(("a", "2026-01-01", None, 100.0, 1), ("b", "2026-01-05", None, 100.0, 1), ("c", "2026-04-01", None, 40.0, 1))
    b = mr.mrr_bridge(mr.customer_mrr(s, AS_OF))
    cac = mr.cac_by_month(acq.reset_index(), b).set_index("month")
    assert cac.loc[pd.Period("2026-01", "M"), "cac"] == 500.0  # 1000 / 2 new customers
    assert math.isnan(cac.loc[pd.Period("2026-02", "M"), "cac"])  # 300 spent, no new customer: n/a
    cts = mr.cost_to_serve(mr.service_costs(costs, groups), b).set_index("month")
    assert cts.loc[pd.Period("2026-04", "M"), "cost_to_serve"] == 30.0  # 90 / 3 customers
    magic = mr.magic_number(b, acq.reset_index()).set_index("quarter")
    q2 = magic.loc[pd.Period("2026Q2", "Q")]
    assert q2["magic_number"] == pytest.approx(40 * 12 / 1300)  # net new 40 × 12 / Q1 acquisition (1000 + 300)
    with pytest.raises(ValueError, match="rent"):
        mr.acquisition_costs(costs.assign(category="rent"), None, groups)
