"""Overview metrics on fixtures that tell the definitions apart (issue #21): the actual of every target
metric over a period that ends before as_of, month-end MRR summed into 12-month revenue periods, the
open pipeline at month ends (a deal created or closed on the month-end day, deals without an amount),
the pipeline forecast's fallbacks, lags, snapshots and alerts. Every expected value is worked out by
hand below.

Client ``ov`` (as_of 2026-06-30, last full month Jun 2026, window Apr-Jun 2026, every stage,
revenue_uplift 0.1):

contacts                created     lead        mql         sal         sql         opportunity  customer
    K1                  2026-03-20  2026-03-20  2026-04-02  2026-04-03  2026-04-10  2026-05-31   2026-06-05
    K2                  2026-04-01  2026-04-01  2026-04-15  2026-06-01
    K3                  2026-05-31  2026-05-31
    K4                  2026-06-10  2026-06-10
  In [2026-04-01, 2026-05-31]: contacts K2 K3 = 2, leads K2 K3 = 2, mqls K1 K2 = 2, sals K1 = 1 (K2's is
  June), sqls K1 = 1, opportunities K1 = 1 (on the last day). (New customers come from the subscriptions.)

subscriptions (monthly, amount = MRR)
    a 100 from 2021-07-01; b 50 from 2024-07-01; c 30 from 2025-01-01; d 20 from 2026-05-01;
    e 10 from 2026-03-01 ending 2026-04-15
  Month-end MRR: Jul 2021 - Jun 2024 100, Jul 2024 - Dec 2024 150, Jan 2025 - Feb 2026 180,
  Mar 2026 190 (e new: new MRR 10), Apr 2026 180 (e churned), May 2026 200 (d new: new MRR 20), Jun 2026 200.
  New customers (month end of the first paying month): a Jul 2021, b Jul 2024, c Jan 2025, e Mar 2026,
  d May 2026 (2026-05-31).

traffic: 2026-03-31 1000, 2026-04-01 10, 2026-05-31 20, 2026-06-01 300 sessions
spend:   2026-03-31 1000, 2026-04-01 7, 2026-05-31 8, 2026-06-01 500

deals              created     status  amount  closed      cycle (days)
    W0             2025-02-24  won       50    2026-03-31  400
    W1             2026-03-22  won      100    2026-04-01   10
    W2             2026-05-11  won      200    2026-05-31   20
    W3             2026-05-02  won      400    2026-06-01   30
    L1             2026-04-01  lost    5000    2026-04-10
    O1             2026-06-25  open    1000    (probability 0.5, no expected close date)
  Sales cycle of the deals won in the window (Apr-Jun): (10 + 20 + 30) / 3 = 20 days; over every won
  deal it would be (400 + 10 + 20 + 30) / 4 = 115 days.
"""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit.metrics import compute
from kpi_kit.metrics import overview as ov
from kpi_kit.metrics.volumes import monthly_amount

T = pd.Timestamp
P = lambda m: pd.Period(m, "M")  # noqa: E731

OV_FILES = {
    "contacts": "contact_id,created_at,channel,lead_at,mql_at,sal_at,sql_at,opportunity_at,customer_at\n"
                "K1,2026-03-20,web,2026-03-20,2026-04-02,2026-04-03,2026-04-10,2026-05-31,2026-06-05\n"
                "K2,2026-04-01,web,2026-04-01,2026-04-15,2026-06-01,,,\n"
                "K3,2026-05-31,ads,2026-05-31,,,,,\n"
                "K4,2026-06-10,ads,2026-06-10,,,,,\n",
    "subscriptions": "subscription_id,customer_id,start_date,end_date,amount,billing_period_months\n"
                     "s1,a,2021-07-01,,100,1\ns2,b,2024-07-01,,50,1\ns3,c,2025-01-01,,30,1\n"
                     "s4,d,2026-05-01,,20,1\ns5,e,2026-03-01,2026-04-15,10,1\n",
    "traffic": "date,channel,sessions\n2026-03-31,web,1000\n2026-04-01,web,10\n2026-05-31,web,20\n"
               "2026-06-01,web,300\n",
    "spend": "date,channel,spend\n2026-03-31,ads,1000\n2026-04-01,ads,7\n2026-05-31,ads,8\n2026-06-01,ads,500\n",
    "deals": "deal_id,created_at,status,amount,closed_at,probability\n"
             "W0,2025-02-24,won,50,2026-03-31,\nW1,2026-03-22,won,100,2026-04-01,\n"
             "W2,2026-05-11,won,200,2026-05-31,\nW3,2026-05-02,won,400,2026-06-01,\n"
             "L1,2026-04-01,lost,5000,2026-04-10,\nO1,2026-06-25,open,1000,,0.5\n",
}
OV_YAML = """client: ov
data_dir: ov
as_of: 2026-06-30
currency: EUR
window_months: 3
revenue_uplift: 0.1
stages: [lead, mql, sal, sql, opportunity, customer]
"""

# Client ``lean`` (as_of 2026-06-30, stages lead and customer, no deals, no subscriptions):
#   L1 created and lead 2025-01-10, customer 2025-03-10 -> leads: 1 in Jan 2025, new customers: 1 in Mar 2025
#   traffic: 100 sessions on the 1st of every month Jul 2024 - Jun 2025, except 200 in Nov 2024
LEAN_FILES = {
    "contacts": "contact_id,created_at,channel,lead_at,customer_at\nL1,2025-01-10,web,2025-01-10,2025-03-10\n",
    "traffic": "date,channel,sessions\n" + "".join(
        f"{m.start_time:%Y-%m-%d},web,{200 if str(m) == '2024-11' else 100}\n"
        for m in pd.period_range("2024-07", "2025-06", freq="M")),
}
LEAN_YAML = """client: lean
data_dir: lean
as_of: 2026-06-30
currency: EUR
window_months: 3
stages: [lead, customer]
"""

# Client ``dealsonly`` (as_of 2026-06-30, no subscriptions): won deals 2024-07-15 300, 2025-03-10 200,
# 2025-08-20 500, 2026-06-30 100; a lost deal 2026-01-05 9000.
DEALS_FILES = {
    "contacts": "contact_id,created_at,channel,lead_at,customer_at\nZ1,2024-07-01,web,2024-07-01,\n",
    "deals": "deal_id,created_at,status,amount,closed_at\nD1,2024-07-01,won,300,2024-07-15\n"
             "D2,2025-01-01,won,200,2025-03-10\nD3,2025-08-01,won,500,2025-08-20\n"
             "D4,2026-06-01,won,100,2026-06-30\nD5,2025-12-01,lost,9000,2026-01-05\n",
}
DEALS_YAML = LEAN_YAML.replace("lean", "dealsonly")


def _client(root, name, yaml, files, previous_metrics=None):
    (root / name).mkdir()
    for stem, text in files.items():
        (root / name / f"{stem}.csv").write_text(text)
    (root / f"{name}.yaml").write_text(yaml)
    return compute(load_client(load_params(root / f"{name}.yaml")), previous_metrics=previous_metrics)


@pytest.fixture  # per test, so mutmut maps every test to the code it runs
def om(tmp_path):
    return _client(tmp_path, "ov", OV_YAML, OV_FILES)


@pytest.fixture
def lean(tmp_path):
    return _client(tmp_path, "lean", LEAN_YAML, LEAN_FILES)


# -- _actual ------------------------------------------------------------------------------------------
def test_actual_counts_over_a_period_that_ends_before_as_of(om):
    o = om.overview
    apr, may = T("2026-04-01"), T("2026-05-31")
    got = {m: o._actual(m, apr, may) for m in ("contacts", "leads", "mqls", "sals", "sqls", "opportunities")}
    assert got == {"contacts": (2.0, 0.0), "leads": (2.0, 0.0), "mqls": (2.0, 0.0), "sals": (1.0, 0.0),
                   "sqls": (1.0, 0.0), "opportunities": (1.0, 0.0)}
    # new_customers = new (MRR) customers: d, dated 2026-05-31; e (2026-03-31) is before the period
    assert o._actual("new_customers", apr, may) == (1.0, 0.0)
    assert o._actual("new_customers", T("2026-03-01"), may) == (2.0, 0.0)
    # customers = paying customers, a level like MRR: a, b, c, d paying at the end of May (e ended
    # Apr 15); a, b, c, e at the end of March, the month before the period: (4, from 4)
    assert o._actual("customers", apr, may) == (4.0, 4.0)
    assert o._actual("customers", T("2026-03-01"), may) == (4.0, 3.0)  # end of Feb: a, b, c
    # a period running past as_of stops at as_of: K4 (2026-06-10) counts, nothing later exists
    assert o._actual("leads", apr, T("2026-12-31")) == (3.0, 0.0)


def test_actual_sums_from_the_data_files(om):
    o = om.overview
    apr, may = T("2026-04-01"), T("2026-05-31")
    assert o._actual("sessions", apr, may) == (30.0, 0.0)  # 10 + 20; Mar 31 and Jun 1 outside
    assert o._actual("spend", apr, may) == (15.0, 0.0)  # 7 + 8
    assert o._actual("bookings", apr, may) == (300.0, 0.0)  # W1 100 + W2 200; lost L1 and W0, W3 outside
    assert o._actual("sessions", T("2026-06-01"), T("2026-09-30")) == (300.0, 0.0)


def test_actual_mrr_metrics_from_the_bridge(om):
    o = om.overview
    apr, may = T("2026-04-01"), T("2026-05-31")
    assert o._actual("new_mrr", apr, may) == (20.0, 0.0)  # Apr 0 + May 20
    assert o._actual("new_mrr", T("2026-03-01"), T("2026-04-30")) == (10.0, 0.0)  # Mar 10 + Apr 0
    assert o._actual("revenue", apr, may) == (380.0, 0.0)  # 180 + 200
    # level: the latest month-end MRR (May 200), start value the month before the period (Mar 190)
    assert o._actual("mrr", apr, may) == (200.0, 190.0)
    assert o._actual("mrr", T("2026-03-01"), may) == (200.0, 180.0)  # Mar 190, Apr 180, May 200; Feb 180
    assert o._actual("mrr", T("2021-07-01"), T("2021-12-31")) == (100.0, 0.0)  # no month before the data
    value, start = o._actual("mrr", T("2026-07-01"), T("2026-09-30"))  # no full month yet
    assert math.isnan(value) and start == 200.0  # June's 200 is the month before
    value, start = o._actual("unknown_metric", apr, may)
    assert math.isnan(value) and start == 0.0


def test_targets_table_reads_the_actuals(tmp_path):
    files = OV_FILES | {"targets": "metric,period_start,period_end,target\nleads,2026-04-01,2026-05-31,4\n"
                                   "mrr,2026-04-01,2026-06-30,250\nbookings,2026-07-01,2026-09-30,10\n"}
    t = _client(tmp_path, "ov", OV_YAML, files).overview.targets
    assert t["status"].tolist() == ["missed", "missed", "not started"]
    assert t["actual"].tolist()[:2] == [2.0, 200.0]  # leads Apr-May 2; MRR at June end 200


# -- yearly revenue and the revenue goal ----------------------------------------------------------------
def test_yearly_revenue_from_month_end_mrr(om):
    """Jul 2022-Jun 2023: 12 × 100; Jul 2023-Jun 2024: 12 × 100; Jul 2024-Jun 2025: 12 × 100 + 12 × 50
    + 6 × 30 = 1980; Jul 2025-Jun 2026: 1200 + 600 + 360 + 20 × 2 (d) + 10 (e, March) = 2210. At most four
    periods (Jul 2021-Jun 2022 would be a fifth)."""
    y = om.overview.yearly_revenue()
    assert y.to_dict() == {"Jul 2022 – Jun 2023": 1200.0, "Jul 2023 – Jun 2024": 1200.0,
                           "Jul 2024 – Jun 2025": 1980.0, "Jul 2025 – Jun 2026": 2210.0}
    assert list(y.index) == ["Jul 2022 – Jun 2023", "Jul 2023 – Jun 2024", "Jul 2024 – Jun 2025",
                             "Jul 2025 – Jun 2026"]


def test_revenue_goal_uses_the_clients_uplift(om):
    # growth 0, 780 / 1200 = 0.65, 230 / 1980; target = 2210 × (1 + mean + 0.1)
    g = om.overview.revenue_goal()
    growth = (0.0 + 0.65 + 230 / 1980) / 3
    assert g["uplift"] == 0.1 and g["last_year"] == 2210.0
    assert g["growth"] == pytest.approx(growth)
    assert g["target"] == pytest.approx(2210 * (1 + growth + 0.1))


def test_yearly_revenue_from_won_deals(tmp_path):
    """No subscriptions: bookings by month closed. First won deal Jul 2024, so Jul 2024 - Jun 2025 is
    the first complete period (it starts on the data's first month): 300 + 200 = 500; Jul 2025 -
    Jun 2026: 500 + 100 = 600 (the lost 9000 does not count)."""
    y = _client(tmp_path, "dealsonly", DEALS_YAML, DEALS_FILES).overview.yearly_revenue()
    assert y.to_dict() == {"Jul 2024 – Jun 2025": 500.0, "Jul 2025 – Jun 2026": 600.0}
    assert list(y.index) == ["Jul 2024 – Jun 2025", "Jul 2025 – Jun 2026"]


def test_yearly_revenue_without_won_deals_or_revenue_data(tmp_path, lean):
    files = DEALS_FILES | {"deals": "deal_id,created_at,status,amount,closed_at\nD5,2025-12-01,lost,9000,2026-01-05\n"}
    none_won = _client(tmp_path, "dealsonly", DEALS_YAML, files).overview.yearly_revenue()
    assert none_won.empty
    nothing = lean.overview.yearly_revenue()  # no deals, no subscriptions
    assert nothing.empty and nothing.dtype == np.float64


# -- open pipeline at month ends ----------------------------------------------------------------------
def test_open_pipeline_at_month_ends(om):
    """P1 created on Apr 30 (open at April's end), closed on May 31 (not open at May's end); P2 open
    from May 15 without an amount; P3 40 open from Jun 1.
    Mar: nothing open, 0; Apr: P1 100; May: only P2, amount unknown -> NaN; Jun: P2 (unknown) + P3 = 40."""
    deals = pd.DataFrame({"created_at": pd.to_datetime(["2026-04-30", "2026-05-15", "2026-06-01"]),
                          "closed_at": pd.to_datetime(["2026-05-31", None, None]),
                          "amount": [100.0, np.nan, 40.0]}, index=[5, 6, 7])
    s = om.overview._open_pipeline_at_month_ends(deals)
    assert list(s.index) == list(pd.period_range("2023-07", "2026-06", freq="M"))
    assert s[P("2026-03")] == 0.0 and s[P("2026-04")] == 100.0
    assert math.isnan(s[P("2026-05")]) and s[P("2026-06")] == 40.0
    assert (s[: P("2026-03")] == 0.0).all()
    # without closed_at every deal stays open: Apr 100, May 100 (P2 unknown), Jun 140
    s = om.overview._open_pipeline_at_month_ends(deals.drop(columns="closed_at"))
    assert s[P("2026-03")] == 0.0 and s[P("2026-04")] == 100.0 and s[P("2026-05")] == 100.0
    assert s[P("2026-06")] == 140.0


# -- _monthly -----------------------------------------------------------------------------------------
def test_monthly_without_data_is_unknown_every_month(om):
    o = om.overview
    months = pd.period_range("2023-07", "2026-06", freq="M")
    for df in (None, pd.DataFrame({"date": pd.to_datetime([]), "x": []})):
        s = o._monthly(df, "date", "x")
        assert list(s.index) == list(months) and s.isna().all() and s.dtype == np.float64
    s = o._monthly(pd.DataFrame({"date": pd.to_datetime(["2026-06-02", "2026-06-20"]), "x": [1.0, 2.0]}),
                   "date", "x")
    assert list(s.index) == list(months) and s[P("2026-06")] == 3.0 and s[: P("2026-05")].isna().all()


def test_pipeline_created_zero_without_deals_unknown_without_amounts(om):
    """Apr: one deal of 100; May: one deal without an amount (unknown); Jun: 50 + 70; every other month
    has no deal: 0."""
    deals = pd.DataFrame({"created_at": pd.to_datetime(["2026-04-10", "2026-05-03", "2026-06-01", "2026-06-20"]),
                          "amount": [100.0, np.nan, 50.0, 70.0]})
    s = monthly_amount(deals["created_at"], deals["amount"], om.overview.months)
    assert list(s.index) == list(pd.period_range("2023-07", "2026-06", freq="M"))
    assert s[P("2026-04")] == 100.0 and math.isnan(s[P("2026-05")]) and s[P("2026-06")] == 120.0
    assert (s[: P("2026-03")] == 0.0).all()


# -- lags ---------------------------------------------------------------------------------------------
def test_lags_on_pulses_two_months_apart(lean):
    """Leads: 1 in Jan 2025, 0 every other month; new customers: 1 in Mar 2025. Differences: leads +1 Jan,
    -1 Feb; customers +1 Mar, -1 Apr: shifted by 2 they are identical (correlation 1). Sessions 100 a month
    Jul 2024 - Jun 2025 with 200 in Nov 2024: differences +100 Nov, -100 Dec, two months before the leads'
    +1 Jan, -1 Feb: lag 2, correlation 1. MQLs (no such stage) and pipeline / bookings (no deals) are left out."""
    lags = lean.overview.lags()
    assert list(lags.columns) == ["pair", "lag_months", "correlation"]
    assert lags["pair"].tolist() == ["Leads → new customers", "Sessions → leads"]
    assert lags["lag_months"].tolist() == [2, 2]
    assert lags["correlation"].tolist() == pytest.approx([1.0, 1.0])


def test_lags_name_every_pair_with_data(om):
    assert om.overview.lags()["pair"].tolist() == ["Leads → new customers", "MQLs → new customers",
                                                   "Pipeline created → bookings", "Sessions → leads"]


# -- forecast -----------------------------------------------------------------------------------------
def test_forecast_uses_the_windows_sales_cycle(om, lean):
    """O1 has no expected close: created 2026-06-25 + 20 days (the window's cycle) = 2026-07-15 -> July
    (with every won deal's 115 days it would be October). 1000 × 0.5 = 500."""
    f = om.overview.forecast()
    assert f.to_dict("records") == [{"month": P("2026-07"), "open_deals": 1, "pipeline": 1000.0, "expected": 500.0,
                                     "without_probability": 0, "without_amount": 0, "slipped_deals": 0,
                                     "slipped_expected": 0.0}]
    assert lean.overview.forecast() is None  # no deals file


def test_pipeline_forecast_without_a_sales_cycle_and_with_unknowns():
    """as_of 2026-10-15, no sales cycle (NaN: a deal without an expected close falls due on its creation day).
    F0 won (left out). Nov: F1 1000 × 0.5, F2 2000 × 0.25 (expected on as_of itself: overdue), F6 300 × 1 (created
    on as_of, no expected close) -> 3 deals, 3300, 1300. Dec: F3 (amount unknown), F4 800 (no probability), F7 100 × 1
    (created 2026-12-20, after as_of, no expected close) -> 3 deals, pipeline 900, expected 100, 1 without
    probability, 1 without amount. Jan 2027: F8 unknown amount -> pipeline unknown, expected 0. Feb 2027: F9 50 × 0.4."""
    deals = pd.DataFrame({
        "status": ["won", "open", "open", "open", "open", "open", "open", "open", "open"],
        "amount": [9999.0, 1000.0, 2000.0, np.nan, 800.0, 300.0, 100.0, np.nan, 50.0],
        "probability": [0.9, 0.5, 0.25, 0.5, np.nan, 1.0, 1.0, 0.2, 0.4],
        "created_at": pd.to_datetime(["2026-01-01", "2026-09-01", "2026-08-01", "2026-10-01", "2026-10-01",
                                      "2026-10-15", "2026-12-20", "2026-01-01", "2026-01-01"]),
        "expected_close_at": pd.to_datetime(["2026-02-01", "2026-11-15", "2026-10-15", "2026-12-01", "2026-12-10",
                                             None, None, "2027-01-15", "2027-02-01"]),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing deprecated on the way
        f = ov.pipeline_forecast(deals, "2026-10-15", cycle_days=np.nan)
    assert list(f.columns) == ["month", "open_deals", "pipeline", "expected", "without_probability", "without_amount",
                               "slipped_deals", "slipped_expected"]
    assert f["month"].tolist() == [P("2026-11"), P("2026-12"), P("2027-01"), P("2027-02")]
    assert f["open_deals"].tolist() == [3, 3, 1, 1]
    assert f["pipeline"].tolist()[:2] == [3300.0, 900.0] and math.isnan(f["pipeline"][2]) and f["pipeline"][3] == 50.0
    assert f["expected"].tolist() == pytest.approx([1300.0, 100.0, 0.0, 20.0])
    assert f["without_probability"].tolist() == [0, 1, 0, 0]
    assert f["without_amount"].tolist() == [0, 1, 1, 0]
    # slipped (expected close on or before as_of, moved to November): F2 (due on as_of) 2000 × 0.25 and F6
    # (created on as_of, no cycle: due that day) 300 × 1 -> 2 deals, 800 of November's 1300
    assert f["slipped_deals"].tolist() == [2, 0, 0, 0]
    assert f["slipped_expected"].tolist() == pytest.approx([800.0, 0.0, 0.0, 0.0])


def test_pipeline_forecast_without_probability_or_expected_close_columns():
    """as_of 2026-10-31, cycle 45 days. G0 won (left out). G1 400 created 2026-10-20 -> due 2026-12-04 (Dec);
    G2 600 created 2026-09-01 -> due 2026-10-16, past -> Nov. No probability column: nothing weighted."""
    deals = pd.DataFrame({"status": ["won", "open", "open"], "amount": [70.0, 400.0, 600.0],
                          "created_at": pd.to_datetime(["2026-01-01", "2026-10-20", "2026-09-01"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = ov.pipeline_forecast(deals, "2026-10-31", cycle_days=45)
    assert f.to_dict("records") == [
        {"month": P("2026-11"), "open_deals": 1, "pipeline": 600.0, "expected": 0.0, "without_probability": 1,
         "without_amount": 0, "slipped_deals": 1, "slipped_expected": 0.0},
        {"month": P("2026-12"), "open_deals": 1, "pipeline": 400.0, "expected": 0.0, "without_probability": 1,
         "without_amount": 0, "slipped_deals": 0, "slipped_expected": 0.0}]


# -- snapshot -----------------------------------------------------------------------------------------
def test_snapshot_against_a_previous_run(tmp_path):
    """lean's cohorts now: 2025-01 created 1, lead 1, customer 1; 2025-02 all 0. The previous run had
    2024-12 (gone), 2025-01 (1, 1, 0) and 2025-02 (2, 1, 0)."""
    prev = tmp_path / "previous.json"
    prev.write_text(json.dumps({"as_of": "2026-05-31", "tables": {"funnel_cohorts": [
        {"cohort": "2024-12", "created": 5, "lead": 5, "customer": 5},
        {"cohort": "2025-01", "created": 1, "lead": 1, "customer": 0},
        {"cohort": "2025-02", "created": 2, "lead": 1, "customer": 0}]}}))
    d = _client(tmp_path, "lean", LEAN_YAML, LEAN_FILES, previous_metrics=str(prev)).overview.snapshot()
    assert d.attrs["previous_as_of"] == "2026-05-31"
    assert list(d.columns) == ["cohort", "created_then", "created_now", "created_change", "lead_then", "lead_now",
                               "lead_change", "customer_then", "customer_now", "customer_change"]
    assert d.values.tolist() == [["2025-01", 1, 1, 0, 1, 1, 0, 0, 1, 1], ["2025-02", 2, 0, -2, 1, 0, -1, 0, 0, 0]]


def test_snapshot_without_a_usable_previous_run(tmp_path, lean):
    assert lean.overview.snapshot() is None  # no previous run given
    missing = _client(tmp_path, "a", LEAN_YAML.replace("lean", "a"), LEAN_FILES,
                      previous_metrics=str(tmp_path / "nowhere.json"))
    assert missing.overview.snapshot() is None
    for i, content in enumerate(({"as_of": "2026-05-31"}, {"as_of": "2026-05-31", "tables": {"funnel_cohorts": []}})):
        prev = tmp_path / f"prev{i}.json"
        prev.write_text(json.dumps(content))
        m = _client(tmp_path, f"c{i}", LEAN_YAML.replace("lean", f"c{i}"), LEAN_FILES, previous_metrics=str(prev))
        assert m.overview.snapshot() is None


def test_snapshot_diff_only_compares_columns_both_runs_have():
    cur = [{"cohort": "2026-01", "lead": 3, "mql": 2}]
    prev = [{"cohort": "2026-01", "lead": 1}]
    d = ov.snapshot_diff(cur, prev, ["lead", "mql"])  # no "created" and no "mql" before
    assert d.to_dict("records") == [{"cohort": "2026-01", "lead_then": 1, "lead_now": 3, "lead_change": 2}]
    bare = ov.snapshot_diff([{"cohort": "2026-01", "x": 1}], [{"cohort": "2026-01", "x": 2}], [])
    assert bare.to_dict("records") == [{"cohort": "2026-01"}]
    both = ov.snapshot_diff([{"cohort": "2026-01", "created": 4}], [{"cohort": "2026-01", "created": 3}], [])
    assert both.to_dict("records") == [{"cohort": "2026-01", "created_then": 3, "created_now": 4, "created_change": 1}]


# -- divergence alert -----------------------------------------------------------------------------------
def test_divergence_alert_compares_the_last_two_months():
    idx = pd.period_range("2026-08", periods=3, freq="M")
    # Aug -> Sep flat, Sep -> Oct leads 400 -> 500 (+25 %, Poisson p < .01), MQLs 200 of 400 -> 125 of 500
    # (50 % -> 25 %, -25 pp, z = 7.7): the first month must not be used
    leads = pd.Series([400.0, 400.0, 500.0], idx)
    a = ov.divergence_alert("leads", leads, pd.Series([400.0, 200.0, 125.0], idx), leads, threshold=0.1,
                            volume_label="Leads", rate_label="lead-to-MQL rate")
    assert a == {"alert": "leads", "month": "2026-10", "volume_change": 0.25, "rate_before": 0.5, "rate_now": 0.25,
                 "rate_change_pp": -25.0,
                 "text": "Leads +25% month over month (400 → 500) while lead-to-MQL rate fell 25.0 pp to 25.0% "
                         "(125 of 500 against 200 of 400; significant at 5 %)"}
    back = pd.Series([500.0, 400.0, 400.0], idx)
    quiet = ov.divergence_alert("leads", back, pd.Series([125.0, 400.0, 400.0], idx), back, threshold=0.1,
                                volume_label="Leads", rate_label="rate")
    assert quiet is None


def test_divergence_alert_thresholds_are_strict():
    idx = pd.period_range("2026-09", periods=2, freq="M")
    kw = {"threshold": 0.25, "volume_label": "V", "rate_label": "r"}
    big = lambda a, b: pd.Series([a, b], idx)  # noqa: E731
    # exactly +25 % volume (400 -> 500) with the rate halved: not more than the threshold
    assert ov.divergence_alert("v", big(400.0, 500.0), big(200.0, 125.0), big(400.0, 500.0), **kw) is None
    # volume +50 %, rate exactly -25 % (50 % -> 37.5 %)
    assert ov.divergence_alert("v", big(400.0, 600.0), big(200.0, 225.0), big(400.0, 600.0), **kw) is None
    # volume +50 %, rate flat
    assert ov.divergence_alert("v", big(400.0, 600.0), big(200.0, 300.0), big(400.0, 600.0), **kw) is None
    # one month of volume: nothing to compare
    assert ov.divergence_alert("v", pd.Series([600.0], idx[1:]), big(200.0, 150.0), big(400.0, 600.0), **kw) is None
    # a rate above 100 % (more successes than its base) is no share: no alert
    assert ov.divergence_alert("v", big(400.0, 600.0), big(900.0, 450.0), big(400.0, 600.0), **kw) is None
    # an amount's rise (volume_unit "money") needs no count test: 4 -> 6 with the rate 50 % -> 25 % on 400 / 600
    money = ov.divergence_alert("v", big(4.0, 6.0), big(200.0, 150.0), big(400.0, 600.0), volume_unit="money", **kw)
    assert money is not None and money["text"].startswith("V +50% month over month while r fell 25.0 pp")
    # the same amounts read as counts: 4 -> 6 is no significant rise
    assert ov.divergence_alert("v", big(4.0, 6.0), big(200.0, 150.0), big(400.0, 600.0), **kw) is None


# -- revenue target -------------------------------------------------------------------------------------
def test_revenue_target_result_keys():
    assert ov.revenue_target(pd.Series([], dtype=float), uplift=0.2).keys() == {
        "last_year", "growth", "growth_rates", "uplift", "target", "why"}
    empty = ov.revenue_target(pd.Series([np.nan]), uplift=0.2)
    assert empty["growth_rates"] == [] and empty["uplift"] == 0.2 and math.isnan(empty["last_year"])
    assert math.isnan(empty["growth"]) and math.isnan(empty["target"])
    r = ov.revenue_target(pd.Series([100.0, 150.0]), uplift=0.2)
    # growth 0.5; target 150 × (1 + 0.5 + 0.2) = 255
    assert r.keys() == {"last_year", "growth", "growth_rates", "uplift", "target", "why"}
    assert r["last_year"] == 150.0 and r["growth"] == 0.5 and r["growth_rates"] == [0.5] and r["uplift"] == 0.2
    assert r["target"] == pytest.approx(255.0)


def test_revenue_target_leaves_out_growth_from_zero():
    # 0 -> -50: -inf (left out); -50 -> 100: 100 / -50 - 1 = -3
    r = ov.revenue_target(pd.Series([0.0, -50.0, 100.0]), uplift=0.0)
    assert r["growth_rates"] == [-3.0] and r["growth"] == -3.0
    r = ov.revenue_target(pd.Series([0.0, 50.0, 100.0]), uplift=0.0)  # +inf left out, then 1.0
    assert r["growth_rates"] == [1.0] and r["target"] == 200.0


# -- estimate_lag ---------------------------------------------------------------------------------------
def _pulse(n, at):
    return pd.Series([1.0 if i == at else 0.0 for i in range(n)])


def test_estimate_lag_at_zero_and_at_max_lag():
    """A pulse and the same pulse k steps later: differences +1, -1 shifted by k: correlation 1 at lag k."""
    x = _pulse(12, 3)
    same = ov.estimate_lag(x, x, max_lag=3)
    assert same["lag"] == 0 and same["correlation"] == pytest.approx(1.0)
    assert sorted(same["scores"]) == [0, 1, 2, 3]
    late = ov.estimate_lag(x, _pulse(12, 6), max_lag=3)
    assert late["lag"] == 3 and late["correlation"] == pytest.approx(1.0)
    beyond = ov.estimate_lag(x, _pulse(12, 7), max_lag=3)  # the true lag 4 is out of range
    assert sorted(beyond["scores"]) == [0, 1, 2, 3] and beyond["lag"] != 4
    assert beyond.keys() == {"lag", "correlation", "scores"}


def test_estimate_lag_overlap_and_constant_series():
    # 7 values -> 6 differences: exactly min_overlap = 6 at lag 0 (5 at lag 1: left out)
    x = pd.Series([0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0])
    e = ov.estimate_lag(x, x, max_lag=1, min_overlap=6)
    assert sorted(e["scores"]) == [0] and e["lag"] == 0 and e["correlation"] == pytest.approx(1.0)
    # 5 differences only: nothing
    short = ov.estimate_lag(x.iloc[:6], x.iloc[:6], max_lag=1, min_overlap=6)
    assert math.isnan(short["lag"]) and math.isnan(short["correlation"]) and short["scores"] == {}
    assert short.keys() == {"lag", "correlation", "scores"}
    # a constant lagging series has no correlation at any lag
    flat = ov.estimate_lag(_pulse(12, 3), pd.Series([5.0] * 12), max_lag=2)
    assert math.isnan(flat["lag"]) and flat["scores"] == {}


# -- pace -----------------------------------------------------------------------------------------------
def test_pace_before_the_period_starts():
    p = ov.pace(100.0, 0.0, "2026-07-01", "2026-07-31", "2026-06-30")
    assert p["elapsed_share"] == 0.0 and p["pace_to_date"] == 0.0 and p["on_track"] is None
    assert math.isnan(p["projected"]) and not p["finished"]


def test_pace_exactly_on_pace_is_on_track_and_flow_ignores_a_start_value():
    # 10-day period, 5 days elapsed: share 0.5, pace 200 × 0.5 = 100; actual 100 is on track
    p = ov.pace(200.0, 100.0, "2026-01-01", "2026-01-10", "2026-01-05")
    assert p["elapsed_share"] == 0.5 and p["pace_to_date"] == 100.0 and p["on_track"] is True
    # a flow metric (level not given) ignores start_value: pace 100, projection 100 / 0.5 = 200
    # (as a level from 50 it would be 50 + 150 × 0.5 = 125)
    f = ov.pace(200.0, 100.0, "2026-01-01", "2026-01-10", "2026-01-05", start_value=50.0)
    assert f["pace_to_date"] == 100.0 and f["projected"] == 200.0


# -- changes --------------------------------------------------------------------------------------------
def test_changes_columns():
    c = ov.changes(pd.Series([1.0, 2.0], index=pd.period_range("2026-01", periods=2, freq="M")))
    assert list(c.columns) == ["value", "mom", "yoy"]
    assert c["value"].tolist() == [1.0, 2.0] and c["mom"].iloc[1] == 1.0


# -- documented defaults ----------------------------------------------------------------------------------
def test_defaults_of_the_pure_functions():
    # revenue_target: uplift 5 %: 150 × (1 + 0.5 + 0.05) = 232.5
    assert ov.revenue_target(pd.Series([100.0, 150.0]))["target"] == pytest.approx(232.5)
    # pace of a level metric from 0: 10-day period, 5 days: pace 200 × 0.5 = 100, projection 60 / 0.5 = 120
    p = ov.pace(200.0, 60.0, "2026-01-01", "2026-01-10", "2026-01-05", level=True)
    assert p["pace_to_date"] == 100.0 and p["projected"] == 120.0
    # divergence_alert: threshold 10 %: volume +20 % (5,000 -> 6,000), rate -20 % (50 % -> 40 %) is an alert
    idx = pd.period_range("2026-09", periods=2, freq="M")
    v = pd.Series([5000.0, 6000.0], idx)
    a = ov.divergence_alert("v", v, pd.Series([2500.0, 2400.0], idx), v, volume_label="V", rate_label="r")
    assert a is not None and a["volume_change"] == pytest.approx(0.2)
    # estimate_lag: lags 0..6, at least 6 overlapping differences (7 values give exactly 6 at lag 0)
    assert sorted(ov.estimate_lag(_pulse(20, 3), _pulse(20, 10))["scores"]) == [0, 1, 2, 3, 4, 5, 6]
    x = pd.Series([0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0])
    assert sorted(ov.estimate_lag(x, x)["scores"]) == [0]


# -- yearly revenue without a complete year --------------------------------------------------------------
YEAR_YAML = """client: yr
data_dir: yr
as_of: 2026-06-15
window_months: 3
stages: [lead, customer]
"""
YEAR_CONTACTS = "contact_id,created_at,channel,lead_at\nK1,2024-01-05,web,2024-01-05\n"


@pytest.mark.parametrize("subscription", ["s1,a,2026-06-01,,100,1", "s1,a,2026-01-01,,0,1"])
def test_subscriptions_without_a_paying_month_end_are_no_mrr_yet(fixture_client, subscription):
    """as_of Jun 15: the last full month is May 2026. A subscription starting on Jun 1, or one of 0 a
    month since January: nobody pays at a month end up to May, so the client has no MRR yet (every MRR
    section is not shown, as without the file), no year of revenue, and its metrics compute (both
    crashed: an empty customer-month table broke the movements, a never-paying one the cohorts)."""
    subs = "subscription_id,customer_id,start_date,end_date,amount,billing_period_months\n" + subscription + "\n"
    _, m = fixture_client(YEAR_YAML, {"contacts": YEAR_CONTACTS, "subscriptions": subs})
    assert m.ctx.cmrr is not None and not m.ctx.has_mrr
    assert m.overview.yearly_revenue().empty
    assert m.compute_all().metrics_json()["client"] == "yr"


def test_movements_of_an_empty_customer_month_table():
    """No customer-month yet: no movement (an empty table with the movement columns), not an error."""
    from kpi_kit.metrics.economics import mrr_movements

    empty = pd.DataFrame({"customer_id": pd.Series(dtype=object), "month": pd.PeriodIndex([], freq="M"),
                          "mrr": pd.Series(dtype="float64")})
    mv = mrr_movements(empty)
    assert mv.empty and mv.columns.tolist() == ["customer_id", "month", "previous", "current", "movement", "amount"]


def test_yearly_revenue_without_any_booking_or_closing_date(fixture_client):
    """No MRR. A header-only deals file: no deal, so no start date and no year. Deals that are all
    still open: no closing date, so the bookings have no coverage, and no won deal: no year either."""
    header = "deal_id,created_at,status,amount,closed_at\n"
    _, m = fixture_client(YEAR_YAML, {"contacts": YEAR_CONTACTS, "deals": header})
    assert m.overview.yearly_revenue().empty
    _, m = fixture_client(YEAR_YAML, {"contacts": YEAR_CONTACTS,
                                      "deals": header + "D1,2024-02-01,open,500,\nD2,2025-03-01,open,700,\n"})
    assert m.volumes.booking_coverage() is None and m.overview.yearly_revenue().empty
