"""Unit economics on a fixture that tells the definitions apart (issue #21): gross margin != 1 with
churn > 0, ARPU that changes every month, a month with both a reactivation and a churn, a contraction
and a new customer in the same month. Every expected value is worked out by hand below.

Subscriptions (monthly plans, amount = MRR), as_of 2026-06-30 (June is the last full month):

    a   100 from Jan;  + add-on 50 from 2026-04-01, ending 2026-06-10   -> expansion Apr, contraction Jun
    b    60 from Jan, ending 2026-03-15; back 2026-05-01                -> churn Mar, reactivation May
    c    40 from 2026-02-01, ending 2026-05-20                          -> new Feb, churn May
    d   200 from 2026-06-01                                             -> new Jun

Month-end MRR         Jan   Feb   Mar   Apr   May   Jun
    a                 100   100   100   150   150   100
    b                  60    60     0     0    60    60
    c                   0    40    40    40     0     0
    d                   0     0     0     0     0   200
    ending            160   200   140   190   210   360
    customers           2     3     2     2     2     3
    ARPU               80  66.67   70    95   105   120

Bridge (start + new + reactivation + expansion - contraction - churn = end):
    Jan:   0 + 160                       = 160   churned 0 of 0 paying at Dec end -> logo churn n/a
    Feb: 160 +  40                       = 200   0 of 2 -> 0
    Mar: 200                    - 60     = 140   1 of 3 -> 1/3; gross revenue churn 60/200
    Apr: 140 + 50 (expansion)            = 190   0 of 2 -> 0
    May: 190 + 60 (reactivation) - 40    = 210   1 of 2 -> 1/2
    Jun: 210 + 200 (new) - 50 (contr.)   = 360   0 of 2 -> 0
"""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics import economics as mr

AS_OF = "2026-06-30"
MONTHS = [pd.Period(m, "M") for m in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")]
JAN, FEB, MAR, APR, MAY, JUN = MONTHS


def subs() -> pd.DataFrame:
    rows = [("s1", "a", "2026-01-01", None, 100.0), ("s2", "a", "2026-04-01", "2026-06-10", 50.0),
            ("s3", "b", "2026-01-01", "2026-03-15", 60.0), ("s4", "b", "2026-05-01", None, 60.0),
            ("s5", "c", "2026-02-01", "2026-05-20", 40.0), ("s6", "d", "2026-06-01", None, 200.0)]
    df = pd.DataFrame(rows, columns=["subscription_id", "customer_id", "start_date", "end_date", "amount"])
    df["billing_period_months"] = 1.0
    for col in ("start_date", "end_date"):
        df[col] = pd.to_datetime(df[col])
    return df


@pytest.fixture  # per test: a module-scoped fixture hides the tests after the first from mutmut
def bridge():
    return mr.mrr_bridge(mr.customer_mrr(subs(), AS_OF)).set_index("month")


def test_bridge_movements_month_by_month(bridge):
    cols = ["starting_mrr", "new", "reactivation", "expansion", "contraction", "churn", "ending_mrr"]
    assert bridge[cols].to_dict("index") == {
        JAN: dict(zip(cols, [0.0, 160.0, 0.0, 0.0, 0.0, 0.0, 160.0])),
        FEB: dict(zip(cols, [160.0, 40.0, 0.0, 0.0, 0.0, 0.0, 200.0])),
        MAR: dict(zip(cols, [200.0, 0.0, 0.0, 0.0, 0.0, 60.0, 140.0])),
        APR: dict(zip(cols, [140.0, 0.0, 0.0, 50.0, 0.0, 0.0, 190.0])),
        MAY: dict(zip(cols, [190.0, 0.0, 60.0, 0.0, 0.0, 40.0, 210.0])),
        JUN: dict(zip(cols, [210.0, 200.0, 0.0, 0.0, 50.0, 0.0, 360.0])),
    }
    assert bridge["customers"].tolist() == [2, 3, 2, 2, 2, 3]
    assert list(bridge.reset_index().columns) == [
        "month", "starting_mrr", "new", "expansion", "contraction", "churn", "reactivation", "ending_mrr", "customers",
        "new_customers", "reactivated_customers", "churned_customers", "logo_churn_rate", "arpu", "gross_revenue_churn",
        "net_revenue_churn", "grr", "nrr", "quick_ratio"]
    assert bridge["new_customers"].tolist() == [2, 1, 0, 0, 0, 1]
    assert bridge["reactivated_customers"].tolist() == [0, 0, 0, 0, 1, 0]
    assert bridge["churned_customers"].tolist() == [0, 0, 1, 0, 1, 0]


def test_bridge_rates_month_by_month(bridge):
    assert math.isnan(bridge.loc[JAN, "logo_churn_rate"])  # nobody paying at the end of December
    assert bridge["logo_churn_rate"].iloc[1:].tolist() == pytest.approx([0.0, 1 / 3, 0.0, 1 / 2, 0.0])
    assert bridge["arpu"].tolist() == pytest.approx([160 / 2, 200 / 3, 140 / 2, 190 / 2, 210 / 2, 360 / 3])
    # gross revenue churn = (churn + contraction) / starting MRR
    assert bridge["gross_revenue_churn"].iloc[1:].tolist() == pytest.approx([0.0, 60 / 200, 0.0, 40 / 190, 50 / 210])
    # net = (churn + contraction - expansion - reactivation) / starting MRR
    assert bridge["net_revenue_churn"].iloc[1:].tolist() == pytest.approx(
        [0.0, 60 / 200, -50 / 140, (40 - 60) / 190, 50 / 210])
    assert bridge["grr"].iloc[1:].tolist() == pytest.approx([1.0, 1 - 60 / 200, 1.0, 1 - 40 / 190, 1 - 50 / 210])
    assert bridge["nrr"].iloc[1:].tolist() == pytest.approx([1.0, 1 - 60 / 200, 1 + 50 / 140, 1 + 20 / 190, 1 - 50 / 210])
    # quick ratio = (new + expansion + reactivation) / (churn + contraction); n/a when nothing is lost
    qr = bridge["quick_ratio"]
    assert math.isnan(qr[JAN]) and math.isnan(qr[FEB]) and math.isnan(qr[APR])
    assert qr[MAR] == 0.0  # 0 / 60
    assert qr[MAY] == pytest.approx(60 / 40)  # the reactivation counts: 1.5, not 0
    assert qr[JUN] == pytest.approx(200 / 50)  # 4


def test_unit_economics_margin_below_one_with_churn(bridge):
    b = bridge.reset_index()
    s = mr.unit_economics(b, AS_OF, churn_window_months=3, gross_margin=0.8, cac=240.0)
    assert s["mrr"] == 360.0 and s["customers"] == 3.0
    assert s["arpu"] == pytest.approx(120.0)  # June's 360 / 3, not the window mean (95 + 105 + 120) / 3
    assert s["logo_churn_rate"] == pytest.approx(1 / 6)  # mean of Apr 0, May 1/2, Jun 0
    assert s["ltv"] == pytest.approx(576.0)  # 120 × 0.8 / (1/6); margin ignored would be 720
    assert s["quick_ratio"] == pytest.approx(2.75)  # mean of May 1.5 and Jun 4 (Apr undefined, skipped)
    assert s["nrr"] == pytest.approx((1 + 50 / 140 + 1 + 20 / 190 + 1 - 50 / 210) / 3)
    assert s["grr"] == pytest.approx((1 + 1 - 40 / 190 + 1 - 50 / 210) / 3)
    assert s["cac"] == 240.0
    assert s["ltv_to_cac"] == pytest.approx(576 / 240)  # 2.4
    assert s["cac_payback_months"] == pytest.approx(2.5)  # 240 / (120 × 0.8)


def test_unit_economics_window_length_and_month(bridge):
    b = bridge.reset_index()
    # a 4-month window adds March: churn mean (1/3 + 0 + 1/2 + 0) / 4 = 5/24
    s4 = mr.unit_economics(b, AS_OF, churn_window_months=4, gross_margin=0.5)
    assert s4["logo_churn_rate"] == pytest.approx(5 / 24)
    assert s4["ltv"] == pytest.approx(120 * 0.5 / (5 / 24))  # 288
    assert s4["quick_ratio"] == pytest.approx((0 + 1.5 + 4) / 3)  # March's 0 counts, it is defined
    assert math.isnan(s4["ltv_to_cac"]) and math.isnan(s4["cac_payback_months"])  # no CAC given
    # as it stood at the end of May (as_of mid-June): May is the last full month
    may = mr.unit_economics(b, "2026-06-29", churn_window_months=3, gross_margin=1.0, cac=210.0)
    assert may["mrr"] == 210.0 and may["arpu"] == pytest.approx(105.0)
    assert may["logo_churn_rate"] == pytest.approx(5 / 18)  # (Mar 1/3 + Apr 0 + May 1/2) / 3
    assert may["ltv"] == pytest.approx(378.0)  # 105 / (5/18)
    assert may["cac_payback_months"] == pytest.approx(2.0)  # 210 / 105
    # a month the bridge does not reach: every scalar undefined
    none = mr.unit_economics(b, "2027-01-31", churn_window_months=3)
    assert math.isnan(none["mrr"]) and math.isnan(none["ltv"])


def test_unit_economics_by_month_is_the_scalar_of_each_month(bridge):
    u = mr.unit_economics_by_month(bridge.reset_index(), churn_window_months=2, gross_margin=0.5)
    assert list(u.index) == MONTHS
    assert u["arpu"].tolist() == pytest.approx([80, 200 / 3, 70, 95, 105, 120])
    # churn over 2 months: Jan n/a -> n/a; Feb mean(0) = 0; Mar (0 + 1/3) / 2; Apr (1/3 + 0) / 2; May 1/4; Jun 1/4
    assert math.isnan(u.loc[JAN, "logo_churn_rate"])
    assert u["logo_churn_rate"].iloc[1:].tolist() == pytest.approx([0, 1 / 6, 1 / 6, 1 / 4, 1 / 4])
    assert math.isnan(u.loc[JAN, "ltv"]) and math.isnan(u.loc[FEB, "ltv"])  # no churn: undefined, not infinity
    assert u["ltv"].iloc[2:].tolist() == pytest.approx([70 * 0.5 * 6, 95 * 0.5 * 6, 105 * 0.5 * 4, 120 * 0.5 * 4])


def test_a_gap_month_in_the_bridge_is_undefined_not_dropped():
    # a bridge with no row for March: the monthly table still has March (all n/a) and the 2-month
    # window ending in April holds only April
    b = pd.DataFrame({"month": [FEB, APR], "ending_mrr": [100.0, 90.0], "customers": [2, 1], "arpu": [50.0, 90.0],
                      "logo_churn_rate": [0.25, 0.5], "nrr": [1.0, 0.9], "grr": [1.0, 0.9], "quick_ratio": [2.0, 1.0]})
    u = mr.unit_economics_by_month(b, churn_window_months=2)
    assert list(u.index) == [FEB, MAR, APR]
    assert math.isnan(u.loc[MAR, "mrr"]) and u.loc[MAR, "logo_churn_rate"] == 0.25  # Feb only
    assert u.loc[APR, "logo_churn_rate"] == 0.5 and u.loc[APR, "ltv"] == pytest.approx(90 / 0.5)
    empty = mr.unit_economics_by_month(b.iloc[0:0], churn_window_months=2)
    assert empty.empty


def test_movements_of_the_fixture():
    mv = mr.mrr_movements(mr.customer_mrr(subs(), AS_OF)).set_index(["customer_id", "month"])
    assert mv.loc["a", "movement"].tolist() == ["new", "none", "none", "expansion", "none", "contraction"]
    assert mv.loc["b", "movement"].tolist() == ["new", "none", "churn", "none", "reactivation", "none"]
    assert mv.loc["c", "movement"].tolist() == ["none", "new", "none", "none", "churn", "none"]
    assert mv.loc["d", "movement"].tolist() == ["none"] * 5 + ["new"]
    assert mv.loc[("a", JUN), ["previous", "current", "amount"]].tolist() == [150.0, 100.0, -50.0]
    assert mv.loc[("b", MAY), ["previous", "current", "amount"]].tolist() == [0.0, 60.0, 60.0]


def test_movements_sort_unsorted_input_and_restart_per_customer():
    # rows out of order, and customer "b" starts paying right after "a" stopped: "b" is new, not a reactivation
    c = pd.DataFrame({"customer_id": ["b", "a", "b", "a", "a", "b"],
                      "month": [FEB, JAN, JAN, FEB, MAR, MAR], "mrr": [5.0, 10.0, 0.0, 0.0, 10.0, 5.0]})
    mv = mr.mrr_movements(c)
    assert mv["customer_id"].tolist() == ["a", "a", "a", "b", "b", "b"]
    assert mv["movement"].tolist() == ["new", "churn", "reactivation", "none", "new", "none"]
    assert mv["previous"].tolist() == [0.0, 10.0, 0.0, 0.0, 0.0, 5.0]
    # a customer-month table whose months are not periods is sorted too
    c2 = c.assign(month=c["month"].astype(str))
    assert mr.mrr_movements(c2)["movement"].tolist() == ["new", "churn", "reactivation", "none", "new", "none"]


def test_customer_mrr_rules_at_the_edges():
    df = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                       # b starts on as_of (exists, paying at June's end); e starts the day after (does not exist)
                       "start_date": pd.to_datetime(["2026-05-31", "2026-06-30", "2026-05-01", "2026-04-30", "2026-07-01"]),
                       # c ends on as_of: d < end is false on June 30 -> not active at June's end
                       # d ends on a month's last day (May 31): active at April's end only
                       "end_date": pd.to_datetime([None, None, "2026-06-30", "2026-05-31", None]),
                       "amount": [300.0, 30.0, 45.0, 12.0, 1.0], "billing_period_months": [3.0, 1.0, 1.0, 1.0, 1.0],
                       "discount": [30.0, None, 5.0, None, None]})
    c = mr.customer_mrr(df, AS_OF)
    got = {(r.customer_id, str(r.month)): r.mrr for r in c.itertuples()}
    assert got == {("a", "2026-04"): 0.0, ("a", "2026-05"): 90.0, ("a", "2026-06"): 90.0,  # (300 − 30) / 3
                   ("b", "2026-04"): 0.0, ("b", "2026-05"): 0.0, ("b", "2026-06"): 30.0,
                   ("c", "2026-04"): 0.0, ("c", "2026-05"): 40.0, ("c", "2026-06"): 0.0,  # 45 − 5
                   ("d", "2026-04"): 12.0, ("d", "2026-05"): 0.0, ("d", "2026-06"): 0.0}
    # an end after as_of has not happened: c ending 2026-07-15 is still active at June's end
    late = mr.customer_mrr(df.assign(end_date=pd.to_datetime([None, None, "2026-07-15", "2026-05-31", None])), AS_OF)
    assert late[(late["customer_id"] == "c")]["mrr"].tolist() == [0.0, 40.0, 40.0]
    # without end_date and discount columns: everything active, nothing deducted
    bare = mr.customer_mrr(df.drop(columns=["end_date", "discount"]), AS_OF)
    assert bare.groupby("customer_id")["mrr"].last().to_dict() == {"a": 100.0, "b": 30.0, "c": 45.0, "d": 12.0}


def test_cancelling_amounts_are_no_revenue_and_no_customer():
    # a credit that cancels the plan exactly (rounding noise included) is no MRR: f never becomes a customer
    df = pd.DataFrame({"customer_id": ["f", "f", "g"], "start_date": pd.to_datetime(["2026-05-01"] * 3),
                       "end_date": pd.NaT, "amount": [0.1 + 0.2, 0.3, 10.0], "billing_period_months": 1.0,
                       "discount": [0.0, 0.6, 0.0]})
    c = mr.customer_mrr(df, AS_OF)
    assert set(c["customer_id"]) == {"g"} and c["mrr"].tolist() == [10.0, 10.0]
    nobody = mr.customer_mrr(df[df["customer_id"] == "f"], AS_OF)
    assert nobody.empty and list(nobody.columns) == ["customer_id", "month", "mrr"]
    assert mr.customer_mrr(df.iloc[0:0], AS_OF).empty


def test_mrr_file_months_after_the_last_full_month_are_dropped_and_repeats_summed():
    t = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                      "month": pd.to_datetime(["2026-05-01", "2026-05-01", "2026-07-01", "2026-06-01"]),
                      "mrr": [10.0, 5.0, 99.0, 20.0]})
    c = mr.customer_mrr_from_table(t, AS_OF)
    assert {(r.customer_id, str(r.month)): r.mrr for r in c.itertuples()} == {
        ("a", "2026-05"): 15.0, ("a", "2026-06"): 0.0, ("b", "2026-05"): 0.0, ("b", "2026-06"): 20.0}


def test_trailing_retention_with_short_months():
    t = mr.trailing_retention(mr.customer_mrr(subs(), AS_OF), months=3).set_index("month")
    assert t.loc[[JAN, FEB, MAR], "nrr"].isna().all()
    # April vs January: base a 100 + b 60 = 160; now a 150, b 0 -> NRR 150/160, GRR min(150,100) / 160
    assert t.loc[APR, "nrr"] == pytest.approx(150 / 160) and t.loc[APR, "grr"] == pytest.approx(100 / 160)
    # June vs March: base a 100, c 40 = 140; now a 100, c 0 -> 100/140 both
    assert t.loc[JUN, "nrr"] == pytest.approx(100 / 140) and t.loc[JUN, "grr"] == pytest.approx(100 / 140)


def test_acquisition_and_service_costs_by_group():
    costs = pd.DataFrame({"month": pd.to_datetime(["2026-02-01", "2026-02-01", "2026-03-01"]),
                          "category": ["ads_team", "hosting", "ads_team"], "amount": [300.0, 70.0, 100.0]})
    spend = pd.DataFrame({"date": pd.to_datetime(["2026-03-31", "2026-04-01"]), "spend": [20.0, 5.0]})
    groups = {"ads_team": "acquisition", "hosting": "service"}
    acq = mr.acquisition_costs(costs, spend, groups)
    assert acq.to_dict("list") == {"month": [FEB, MAR, APR], "costs": [300.0, 100.0, 0.0], "spend": [0.0, 20.0, 5.0],
                                   "total": [300.0, 120.0, 5.0]}
    only_spend = mr.acquisition_costs(None, spend, groups)
    assert only_spend["total"].tolist() == [20.0, 5.0]
    assert mr.acquisition_costs(costs, None, groups)["total"].tolist() == [300.0, 100.0]
    svc = mr.service_costs(costs, groups)
    assert svc.to_dict("list") == {"month": [FEB], "service": [70.0]}
    with pytest.raises(ValueError, match="costs categories not in cost_groups: ads_team"):
        mr.service_costs(costs, {"hosting": "service"})


def test_cac_by_quarter_sums_before_dividing_and_magic_number_uses_the_previous_quarter(bridge):
    b = bridge.reset_index()
    acq = pd.DataFrame({"month": [JAN, FEB, MAR, APR], "costs": [100.0, 0.0, 60.0, 0.0],
                        "spend": [60.0, 40.0, 0.0, 10.0], "total": [160.0, 40.0, 60.0, 10.0]})
    m = mr.cac_by_month(acq, b).set_index("month")
    assert m.loc[JAN, "cac"] == 80.0 and m.loc[JAN, "paid_cac"] == 30.0  # 160 / 2 new, 60 / 2
    assert m.loc[FEB, "cac"] == 40.0 and math.isnan(m.loc[MAR, "cac"])  # 60 spent, nobody new: n/a
    q = mr.cac_by_quarter(acq, b).set_index("quarter")
    q1 = q.loc[pd.Period("2026Q1", "Q")]
    assert q1["total"] == 260.0 and q1["new_customers"] == 3
    assert q1["cac"] == pytest.approx(260 / 3) and q1["paid_cac"] == pytest.approx(100 / 3)  # not a mean of months
    # Q2 has cost rows for April only (10, nobody new in April): months without a cost row are not in the
    # quarter's sums, so its CAC is 10 / 0 = n/a
    assert q.loc[pd.Period("2026Q2", "Q"), "new_customers"] == 0 and math.isnan(q.loc[pd.Period("2026Q2", "Q"), "cac"])
    magic = mr.magic_number(b, acq).set_index("quarter")
    # Q1 net new MRR 140 (0 -> 140), no earlier quarter: n/a; Q2 net new 360 - 140 = 220, × 12 / Q1's 260
    assert math.isnan(magic.loc[pd.Period("2026Q1", "Q"), "magic_number"])
    assert magic.loc[pd.Period("2026Q2", "Q"), "net_new_mrr"] == 220.0
    assert magic.loc[pd.Period("2026Q2", "Q"), "magic_number"] == pytest.approx(220 * 12 / 260)
    assert magic["months"].tolist() == [3, 3]


def test_cost_to_serve_per_paying_customer(bridge):
    svc = pd.DataFrame({"month": [MAR, JUN], "service": [70.0, 90.0]})
    c = mr.cost_to_serve(svc, bridge.reset_index()).set_index("month")
    assert c["cost_to_serve"].tolist() == [35.0, 30.0]  # 70 / 2 customers, 90 / 3


def test_bridge_identity_holds_on_the_fixture(bridge):
    lhs = (bridge["starting_mrr"] + bridge["new"] + bridge["reactivation"] + bridge["expansion"]
           - bridge["contraction"] - bridge["churn"])
    np.testing.assert_allclose(lhs, bridge["ending_mrr"])


def test_trailing_retention_without_a_paying_base_is_undefined():
    c = pd.DataFrame({"customer_id": ["a"] * 3, "month": [JAN, FEB, MAR], "mrr": [10.0, 0.0, 10.0]})
    t = mr.trailing_retention(c, months=1).set_index("month")
    assert math.isnan(t.loc[JAN, "nrr"])  # no month before
    assert t.loc[FEB, "nrr"] == 0.0 and t.loc[FEB, "grr"] == 0.0  # a paid 10 in January, 0 now
    assert math.isnan(t.loc[MAR, "nrr"]) and math.isnan(t.loc[MAR, "grr"])  # nobody paid in February: n/a, not 0


def test_cac_by_month_without_costs_and_a_third_of_a_plan():
    b = mr.mrr_bridge(mr.customer_mrr(subs(), AS_OF))
    empty = pd.DataFrame({"month": pd.PeriodIndex([], freq="M"), "costs": [], "spend": [], "total": []})
    assert mr.cac_by_month(empty, b).empty
    # a quarterly plan of 100: MRR 33.333333 (rounded to 6 decimals)
    q = mr.customer_mrr(pd.DataFrame({"customer_id": ["q"], "start_date": pd.to_datetime(["2026-06-01"]),
                                      "end_date": pd.NaT, "amount": [100.0], "billing_period_months": [3.0]}), AS_OF)
    assert q["mrr"].tolist() == [33.333333]


def test_unit_economics_defaults_six_months_and_margin_one():
    # eight months of churn 0.1, 0.1, then 0.2 × 6: the default window (6) averages the last six -> 0.2;
    # seven months would take in one 0.1 (→ 1.3 / 7). ARPU 100, margin 1.0 by default -> LTV 500
    months = pd.period_range("2026-01", periods=8, freq="M")
    b = pd.DataFrame({"month": months, "ending_mrr": 1000.0, "customers": 10, "arpu": 100.0,
                      "logo_churn_rate": [0.1, 0.1] + [0.2] * 6, "nrr": 1.0, "grr": 1.0, "quick_ratio": 1.0})
    s = mr.unit_economics(b, "2026-08-31")
    assert s["logo_churn_rate"] == pytest.approx(0.2) and s["ltv"] == pytest.approx(500.0)
    assert math.isnan(s["cac"]) and math.isnan(s["ltv_to_cac"])  # no CAC by default
    u = mr.unit_economics_by_month(b)
    assert u.loc[months[-1], "logo_churn_rate"] == pytest.approx(0.2) and u.loc[months[-1], "ltv"] == pytest.approx(500.0)
    assert u.loc[months[6], "logo_churn_rate"] == pytest.approx((0.1 + 0.2 * 5) / 6)  # July: Feb–Jul
    assert (u.dtypes == "float64").all()  # counts included: one numeric type for every column


def test_movements_and_bridge_of_amounts_below_one():
    # a customer paying cents: 0.5 new, 0.75 expansion, 0.25 contraction, 0 churn, 0.5 reactivation
    months = pd.period_range("2026-01", periods=5, freq="M")
    c = pd.DataFrame({"customer_id": ["p"] * 5, "month": months, "mrr": [0.5, 0.75, 0.25, 0.0, 0.5]})
    mv = mr.mrr_movements(c)
    assert mv["movement"].tolist() == ["new", "expansion", "contraction", "churn", "reactivation"]
    b = mr.mrr_bridge(c).set_index("month")
    assert b["customers"].tolist() == [1, 1, 1, 0, 1]
    assert b["churned_customers"].tolist() == [0, 0, 0, 1, 0]
    assert b["logo_churn_rate"].iloc[1:4].tolist() == [0.0, 0.0, 1.0]
    assert math.isnan(b["logo_churn_rate"].iloc[4])  # nobody paying at April's end
    assert b["arpu"].iloc[:3].tolist() == [0.5, 0.75, 0.25]


def test_customer_mrr_grid_order_small_plans_and_a_cancelled_first_month():
    df = pd.DataFrame({"customer_id": ["z", "y", "x", "x"],
                       "start_date": pd.to_datetime(["2026-05-01", "2026-05-01", "2026-03-01", "2026-03-01"]),
                       "end_date": pd.to_datetime([None, None, "2026-04-15", "2026-04-15"]),
                       # z pays 1.00 and y 0.40 a month (small plans are revenue); x's plan (50) and a credit
                       # of the same size (0 − 50) cancel out in March and April: x never pays
                       "amount": [1.0, 0.4, 50.0, 0.0], "billing_period_months": 1.0, "discount": [0.0, 0.0, 0.0, 50.0]})
    c = mr.customer_mrr(df, AS_OF)
    # rows come sorted by customer, then month, from the first month anybody pays (May)
    assert c["customer_id"].tolist() == ["y", "y", "z", "z"]
    assert [str(m) for m in c["month"]] == ["2026-05", "2026-06", "2026-05", "2026-06"]
    assert c["mrr"].tolist() == [0.4, 0.4, 1.0, 1.0]


def test_quick_ratio_with_expansion_and_churn_in_one_month():
    # March: a expands 10 -> 30 (+20), b churns (−15), c is new (+5): quick ratio (5 + 20 + 0) / 15
    c = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c", "c"], "month": [FEB, MAR] * 3,
                      "mrr": [10.0, 30.0, 15.0, 0.0, 0.0, 5.0]})
    b = mr.mrr_bridge(c).set_index("month")
    assert b.loc[MAR, ["new", "expansion", "churn"]].tolist() == [5.0, 20.0, 15.0]
    assert b.loc[MAR, "quick_ratio"] == pytest.approx(25 / 15)
    # trailing retention of cents, with the default 12 months: nothing is 12 months old here
    assert mr.trailing_retention(c)["nrr"].isna().all()
    cents = pd.DataFrame({"customer_id": ["p", "p"], "month": [FEB, MAR], "mrr": [0.5, 0.25]})
    t = mr.trailing_retention(cents, months=1).set_index("month")
    assert t.loc[MAR, "nrr"] == 0.5 and t.loc[MAR, "grr"] == 0.5  # 0.25 of a 0.5 base


def test_unmapped_cost_categories_are_all_named():
    costs = pd.DataFrame({"month": pd.to_datetime(["2026-01-01"] * 3), "category": ["rent", "legal", "ads"],
                          "amount": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"^costs categories not in cost_groups: legal, rent$"):
        mr.acquisition_costs(costs, None, {"ads": "acquisition"})


def test_trailing_retention_looks_back_twelve_months_by_default():
    months = pd.period_range("2025-01", periods=13, freq="M")
    c = pd.DataFrame({"customer_id": "a", "month": months, "mrr": [10.0] * 12 + [15.0]})
    t = mr.trailing_retention(c).set_index("month")
    assert t["nrr"].isna().sum() == 12  # the first twelve months have no month twelve months earlier
    assert t.loc[months[-1], "nrr"] == 1.5 and t.loc[months[-1], "grr"] == 1.0  # January 2026 against January 2025


def test_a_month_without_a_cost_row_counts_its_customers_in_the_quarter_but_has_no_cac_of_its_own(bridge):
    b = bridge.reset_index()
    acq = pd.DataFrame({"month": [JAN, MAR], "costs": [100.0, 60.0], "spend": [60.0, 0.0], "total": [160.0, 60.0]})
    m = mr.cac_by_month(acq, b).set_index("month")
    assert m.loc[FEB, "total"] == 0.0 and m.loc[FEB, "new_customers"] == 1
    assert math.isnan(m.loc[FEB, "cac"]) and math.isnan(m.loc[FEB, "paid_cac"])  # unknown cost, not a CAC of 0
    assert m.loc[JAN, "cac"] == 80.0  # 160 / 2 new
    q1 = mr.cac_by_quarter(acq, b).set_index("quarter").loc[pd.Period("2026Q1", "Q")]
    assert q1["new_customers"] == 3 and q1["cac"] == pytest.approx(220 / 3)  # (160 + 60) / (2 + 1 + 0)


def test_mrr_growth_year_over_year_by_hand():
    months = pd.period_range("2025-01", periods=14, freq="M")
    bridge = pd.DataFrame({"month": months, "ending_mrr": [0.0, 200.0] + [210.0] * 10 + [250.0, 300.0]})
    # Feb 2026 against Feb 2025: 300 / 200 − 1
    assert mr.mrr_growth(bridge, pd.Period("2026-02", "M")) == pytest.approx(0.5)
    # Jan 2026 against Jan 2025, whose MRR is 0: no base, n/a (not infinity)
    assert np.isnan(mr.mrr_growth(bridge, pd.Period("2026-01", "M")))
    # the base month lies before the bridge: n/a; a 1-month span: 300 / 250 − 1
    assert np.isnan(mr.mrr_growth(bridge, pd.Period("2025-12", "M"), months=13))
    assert mr.mrr_growth(bridge, pd.Period("2026-02", "M"), months=1) == pytest.approx(0.2)
