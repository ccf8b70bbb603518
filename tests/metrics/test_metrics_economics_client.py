"""A client run's unit economics and retention cohorts (EconomicsMetrics, CohortMetrics) on the
subscriptions of test_metrics_economics_cases.py (issue #21): gross margin 0.8 with churn, ARPU
that changes every month, a month with both a reactivation and a churn.

as_of 2026-06-30, window_months 3 (Apr–Jun 2026), churn_window_months 3, gross margin 0.8.
Bridge (see test_metrics_economics_cases.py): ending MRR Jan–Jun 160, 200, 140, 190, 210, 360;
customers 2, 3, 2, 2, 2, 3; logo churn n/a, 0, 1/3, 0, 1/2, 0; new customers a, b (Jan), c (Feb), d (Jun).

costs: Jan sales 500, Mar hosting 70, Apr sales 300, May sales 100, Jun hosting 90 (sales = acquisition,
hosting = service); spend: Jan 10 ads 40, Jun 15 ads 60.
Acquisition by month: Jan 540, Apr 300, May 100, Jun 60 (Feb and Mar: none).
customers: a ads SMB, b ads Enterprise, c web SMB; d is not in the customers file (unknown).
"""

import math

import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit.metrics import compute

SUBSCRIPTIONS = """subscription_id,customer_id,start_date,end_date,amount,billing_period_months
s1,a,2026-01-01,,100,1
s2,a,2026-04-01,2026-06-10,50,1
s3,b,2026-01-01,2026-03-15,60,1
s4,b,2026-05-01,,60,1
s5,c,2026-02-01,2026-05-20,40,1
s6,d,2026-06-01,,200,1
"""
FILES = {
    "subscriptions": SUBSCRIPTIONS,
    "customers": "customer_id,contact_id,channel,segment\na,K1,ads,SMB\nb,,ads,Enterprise\nc,K2,web,SMB\n",
    "contacts": "contact_id,created_at,channel,lead_at,customer_at\nK1,2025-12-10,ads,2025-12-10,2026-01-01\n"
                "K2,2025-12-20,web,2025-12-20,2026-02-01\n",
    "costs": "month,category,amount\n2026-01-01,sales,500\n2026-03-01,hosting,70\n2026-04-01,sales,300\n"
             "2026-05-01,sales,100\n2026-06-01,hosting,90\n",
    "spend": "date,channel,spend\n2026-01-10,ads,40\n2026-06-15,ads,60\n",
}
YAML = """client: saas
data_dir: saas
as_of: 2026-06-30
currency: USD
window_months: 3
churn_window_months: 3
gross_margin: 0.8
min_cohort_size: 2
stages: [lead, customer]
cost_groups: {sales: acquisition, hosting: service}
"""
JAN, FEB, MAR, APR, MAY, JUN = (pd.Period(f"2026-0{i}", "M") for i in range(1, 7))


def client(tmp_path, yaml=YAML, files=FILES):
    (tmp_path / "saas").mkdir()
    for stem, text in files.items():
        (tmp_path / "saas" / f"{stem}.csv").write_text(text)
    (tmp_path / "saas.yaml").write_text(yaml)
    return compute(load_client(load_params(tmp_path / "saas.yaml")))


@pytest.fixture
def m(tmp_path):
    return client(tmp_path)


def test_scalars_of_the_run(m):
    s = m.economics.scalars()
    assert s["mrr"] == 360.0 and s["customers"] == 3.0
    assert s["arpu"] == pytest.approx(120.0)  # June, not the churn window's mean ARPU
    assert s["logo_churn_rate"] == pytest.approx(1 / 6)  # (Apr 0 + May 1/2 + Jun 0) / 3
    assert s["ltv"] == pytest.approx(576.0)  # 120 × 0.8 / (1/6)
    assert s["quick_ratio"] == pytest.approx(2.75)  # (May 60/40 + Jun 200/50) / 2; April has nothing lost
    # CAC: acquisition in Apr–Jun (300 + 100 + 60 = 460) / new customers in the window (d) = 460
    assert s["cac"] == pytest.approx(460.0)
    assert s["ltv_to_cac"] == pytest.approx(576 / 460)
    assert s["cac_payback_months"] == pytest.approx(460 / 96)  # 460 / (120 × 0.8)
    assert s["cac_paid_only"] == pytest.approx(60.0)  # spend only: 60 / 1
    assert math.isnan(s["nrr_t12m"]) and math.isnan(s["grr_t12m"])  # six months of history: no trailing 12
    s["mrr"] = -1  # a copy: the run's own value stays
    assert m.economics.scalars()["mrr"] == 360.0


def test_cac_for_any_window(m):
    e = m.economics
    q1 = type(m.ctx.window)(JAN, MAR)
    assert e.acquisition_in(q1) == 540.0  # Jan: 500 sales + 40 spend; March's hosting is a service cost
    assert e.cac(q1) == pytest.approx(180.0)  # 540 / 3 new customers (a, b in Jan, c in Feb)
    assert e.cac() == pytest.approx(460.0)  # the reporting window by default


def test_monthly_ltv_cac_and_payback(m):
    mon = m.economics.monthly.set_index("month")
    assert list(mon.index) == [JAN, FEB, MAR, APR, MAY, JUN]
    # trailing 3-month CAC: Jan 540/2; Feb 540/3; Mar 540/3; Apr 300/1 (c, Feb); May 400/0 n/a; Jun 460/1
    cac = mon["cac_trailing"]
    assert cac[[JAN, FEB, MAR, APR, JUN]].tolist() == pytest.approx([270.0, 180.0, 180.0, 300.0, 460.0])
    assert math.isnan(cac[MAY])
    # LTV as it stood each month (3-month churn): Mar 70 × 0.8 / (1/6); Apr 95 × 0.8 / (1/9); Jun 576
    assert math.isnan(mon.loc[JAN, "ltv"]) and math.isnan(mon.loc[FEB, "ltv"])  # no churn yet: undefined
    assert mon.loc[MAR, "ltv"] == pytest.approx(336.0) and mon.loc[APR, "ltv"] == pytest.approx(684.0)
    assert mon.loc[JUN, "ltv"] == pytest.approx(576.0)  # the scalar's own value
    assert mon.loc[JUN, "ltv_to_cac"] == pytest.approx(576 / 460)
    assert mon.loc[APR, "cac_payback_months"] == pytest.approx(300 / (95 * 0.8))
    assert math.isnan(mon.loc[MAY, "ltv_to_cac"])


def test_quarterly_cac_counts_every_new_customer_of_the_quarter(m):
    q = m.economics.cac_quarterly.set_index("quarter")
    q1, q2 = q.loc[pd.Period("2026Q1", "Q")], q.loc[pd.Period("2026Q2", "Q")]
    # Q1: 540 / 3 new (a, b, c): February has no cost row but its new customer counts (same as cac(Q1))
    assert q1["new_customers"] == 3 and q1["cac"] == pytest.approx(180.0)
    assert q1["paid_cac"] == pytest.approx(40 / 3)
    assert q2["new_customers"] == 1 and q2["cac"] == pytest.approx(460.0) and q2["paid_cac"] == pytest.approx(60.0)
    assert q2["ltv_to_cac"] == pytest.approx(576 / 460) and q2["payback_months"] == pytest.approx(460 / 96)
    assert q2["magic_number"] == pytest.approx(220 * 12 / 540)  # Q2 net new 360 - 140, × 12 / Q1's 540
    assert q["partial"].tolist() == [False, False] and q["period"].tolist() == ["2026-Q1", "window"]  # Q2 = the window
    assert m.economics.last_magic() == (pytest.approx(220 * 12 / 540), "2026Q2")


def test_cac_monthly_trails_over_calendar_months(m):
    c = m.economics.cac_monthly.set_index("month")
    assert list(c.index) == [JAN, FEB, MAR, APR, MAY, JUN]  # months without a cost row add 0 to the sums
    assert c["new_customers"].tolist() == [2, 1, 0, 0, 0, 1]
    # February has no cost row: its own CAC is unknown (n/a), not 0; March: nobody new, n/a
    assert c.loc[JAN, "cac"] == 270.0 and math.isnan(c.loc[FEB, "cac"]) and math.isnan(c.loc[MAR, "cac"])
    # the same trailing 3-month CAC as the monthly LTV:CAC indicator
    assert c.loc[APR, "cac_trailing"] == pytest.approx(300.0) and c.loc[JUN, "cac_trailing"] == pytest.approx(460.0)
    assert c.loc[JUN, "paid_cac_trailing"] == pytest.approx(60.0)


def test_cost_to_serve_and_churn_drivers(m):
    e = m.economics
    assert e.last_cost_to_serve == pytest.approx(30.0)  # June: 90 hosting / 3 paying customers
    cts = e.cost_to_serve.set_index("month")["cost_to_serve"]
    assert cts.to_dict() == {MAR: 35.0, JUN: 30.0}  # 70 / 2
    d = e.churn_drivers("segment")
    # churn in Apr–Jun: c (SMB, 40 in May); MRR at the end of March (before the window): a 100 SMB, c 40 SMB
    assert d.loc["SMB", ["churned_mrr", "starting_mrr", "share_of_churned_mrr"]].tolist() == [40.0, 140.0, 1.0]
    assert d.loc["SMB", "share_of_mrr"] == 1.0
    assert e.churn_drivers("no_such_column") is None
    assert e.churn_drivers().equals(d) and d.index.name == "segment"  # by segment by default


def test_ltv_and_cac_by_channel_and_segment(m):
    g = m.economics.by_group
    ch, seg = g["channel"], g["segment"]
    # Churn, ARPU and LTV over the churn window (Apr-Jun), the headline LTV's basis. MRR by month:
    # a 100, 100, 100, 150, 150, 100; b 60, 60, 0, 0, 60, 60; c 0, 40, 40, 40, 0, 0; d June 200.
    # ads = a, b. Exposed (paying at the previous month end) in Apr-Jun: a Apr, May, Jun 3; b Jun 1 -> 4;
    # b's churn in March lies before the window: 0 churn events -> no churn, LTV undefined (not infinite).
    # ARPU over paying customer-months in Apr-Jun: (a 150 + 150 + 100 + b 60 + 60) / 5 = 104.
    assert ch.loc["ads", ["customers", "churn_rate", "arpu", "churn_events", "paying_months"]].tolist() == \
        pytest.approx([2, 0.0, 104.0, 0, 4])
    assert math.isnan(ch.loc["ads", "ltv"])
    # web = c: exposed Apr, May; churned May -> 1/2; ARPU Apr 40; LTV 40 × 0.8 × 2 = 64
    assert ch.loc["web", ["churn_rate", "arpu", "ltv"]].tolist() == pytest.approx([1 / 2, 40.0, 64.0])
    # unknown = d (June only): never exposed, no churn -> LTV undefined; its paid CAC: no spend -> n/a
    assert math.isnan(ch.loc["unknown", "ltv"]) and ch.loc["unknown", "new_in_window"] == 1
    # ads spent 60 in the window but won no new customer there: CAC n/a, never 0 or infinity
    assert ch.loc["ads", "new_in_window"] == 0 and math.isnan(ch.loc["ads", "cac"])
    assert set(ch["cac_basis"]) == {"paid spend"}
    # segments carry the blended fully loaded CAC of the window (460)
    assert seg["cac"].tolist() == [460.0, 460.0, 460.0] and set(seg["cac_basis"]) == {"blended"}
    # SMB = a, c: exposure 3 + 2, one churn (c, May) -> 1/5; ARPU (a 400 over 3 + c 40 over 1) / 4 = 110
    assert seg.loc["SMB", ["churn_rate", "arpu"]].tolist() == pytest.approx([1 / 5, 110.0])
    assert seg.loc["SMB", "ltv"] == pytest.approx(110 * 0.8 * 5)  # 440
    assert seg.loc["SMB", "ltv_to_cac"] == pytest.approx(440 / 460)
    assert seg.loc["SMB", "payback_months"] == pytest.approx(460 / (110 * 0.8))
    # Enterprise = b: exposed in June only, no churn in the window -> LTV undefined; ARPU 60
    assert seg.loc["Enterprise", ["churn_rate", "arpu"]].tolist() == pytest.approx([0.0, 60.0])
    assert math.isnan(seg.loc["Enterprise", "ltv"])
    assert seg.loc["unknown", "payback_months"] == pytest.approx(460 / 160)  # d: ARPU 200 × 0.8
    assert seg["new_in_window"].to_dict() == {"Enterprise": 0, "SMB": 0, "unknown": 1}


def test_tables_of_the_run(m):
    t = m.economics.tables()
    assert [r["month"] for r in t["mrr_bridge"]] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    may = t["mrr_bridge"][4]
    assert {k: may[k] for k in ("starting_mrr", "reactivation", "churn", "ending_mrr", "churned_customers",
                                "quick_ratio")} == {"starting_mrr": 190.0, "reactivation": 60.0, "churn": 40.0,
                                                    "ending_mrr": 210.0, "churned_customers": 1, "quick_ratio": 1.5}
    assert t["mrr_bridge"][0]["logo_churn_rate"] is None  # undefined is null
    assert set(t["mrr_bridge"][0]) == set(m.economics.BRIDGE_KEYS)
    assert [r["magic_number"] for r in t["magic_number"]] == [None, pytest.approx(220 * 12 / 540)]
    assert [(r["month"], r["cost_to_serve"]) for r in t["cost_to_serve"]] == [("2026-03", 35.0), ("2026-06", 30.0)]


def test_the_mrr_file_gives_the_same_economics(tmp_path):
    # the month-end MRR of every customer-month, as an mrr file (zero months left out)
    rows = {"a": [100, 100, 100, 150, 150, 100], "b": [60, 60, 0, 0, 60, 60], "c": [0, 40, 40, 40, 0, 0],
            "d": [0, 0, 0, 0, 0, 200]}
    text = "customer_id,month,mrr\n" + "".join(f"{c},2026-0{i + 1}-01,{v}\n" for c, vals in rows.items()
                                               for i, v in enumerate(vals) if v)
    files = {k: v for k, v in FILES.items() if k != "subscriptions"} | {"mrr": text}
    s = client(tmp_path, files=files).economics.scalars()
    assert (s["mrr"], s["arpu"], s["ltv"], s["cac"]) == (360.0, pytest.approx(120.0), pytest.approx(576.0),
                                                         pytest.approx(460.0))


def test_a_run_without_revenue_data(tmp_path):
    files = {k: v for k, v in FILES.items() if k != "subscriptions"}
    e = client(tmp_path, files=files).economics
    assert e.cmrr is None and e.movements is None and e.bridge.empty
    s = e.scalars()
    assert math.isnan(s["mrr"]) and math.isnan(s["ltv"]) and math.isnan(s["nrr_t12m"])
    # CAC needs no MRR: acquisition in Apr–Jun 460 / new customers from the contacts (customer_at): none in the window
    assert math.isnan(s["cac"])
    assert e.monthly.empty and list(e.monthly.columns) == ["month", "ltv", "cac_trailing", "ltv_to_cac",
                                                           "cac_payback_months"]
    assert e.cac_monthly is None and e.cac_quarterly is None and e.magic is None and e.cost_to_serve is None
    assert e.last_magic() == (pytest.approx(float("nan"), nan_ok=True), None)
    assert math.isnan(e.last_cost_to_serve) and e.by_group == {} and e.churn_drivers() is None
    assert e.tables() == {"mrr_bridge": []}


def test_a_run_without_costs_or_spend(tmp_path):
    files = {k: v for k, v in FILES.items() if k not in ("costs", "spend")}
    e = client(tmp_path, files=files).economics
    assert e.acquisition is None and e.service is None
    assert math.isnan(e.acquisition_in(e.ctx.window)) and math.isnan(e.cac())
    s = e.scalars()
    assert s["ltv"] == pytest.approx(576.0) and math.isnan(s["ltv_to_cac"]) and math.isnan(s["cac_payback_months"])
    assert e.cac_monthly is None and e.cac_quarterly is None and e.magic is None
    assert e.last_magic() == (pytest.approx(float("nan"), nan_ok=True), None) and math.isnan(e.last_cost_to_serve)
    assert set(e.tables()) == {"mrr_bridge"}


def test_last_magic_mid_quarter_uses_the_last_complete_quarter(tmp_path):
    e = client(tmp_path, yaml=YAML.replace("as_of: 2026-06-30", "as_of: 2026-05-31")).economics
    # May is the last full month: Q2 is not complete, so the last magic number is Q1's (no Q4 2025 costs: n/a)
    value, quarter = e.last_magic()
    assert quarter == "2026Q1" and math.isnan(value)
    assert e.cac_quarterly["partial"].tolist() == [False, True]  # Q2 to date
    assert math.isnan(e.last_cost_to_serve)  # no service cost in May


def test_cohort_metrics_of_the_run(m):
    c = m.cohort
    # cohorts: Jan (a, b), Feb (c), Jun (d); min_cohort_size 2 -> Feb and Jun are small, left out of the curves
    assert c.cohorts.groupby("cohort")["small"].first().tolist() == [False, True, True]
    # Jan cohort logo retention by month: a, b paying Jan, Feb; b away Mar, Apr; back May
    assert c.logo_curve["rate"].tolist() == pytest.approx([1, 1, 0.5, 0.5, 1, 1])
    assert c.at_age(c.logo_curve, 2) == 0.5 and math.isnan(c.at_age(c.logo_curve, 9))
    # revenue: Jan cohort MRR 160, 160, 100, 150, 210, 160
    assert c.revenue_curve["rate"].tolist() == pytest.approx([1, 1, 100 / 160, 150 / 160, 210 / 160, 1])
    assert c.by["segment"].set_index("segment").loc["SMB", "churn_rate"] == pytest.approx(1 / 5)  # Apr-Jun
    curves = c.curves_by("channel").set_index(["channel", "period"])
    assert curves.loc[("web", 2), "rate"] == 1.0 and curves.loc[("web", 3), "rate"] == 0.0  # c: paid Feb–Apr, not May
    t = c.tables()
    assert t["logo_retention"][:3] == [{"cohort": "2026-01", "month": 0, "rate": 1.0},
                                       {"cohort": "2026-01", "month": 1, "rate": 1.0},
                                       {"cohort": "2026-01", "month": 2, "rate": 0.5}]
    assert {"cohort": "2026-02", "month": 3, "rate": 0.0} in t["logo_retention"]  # c churned in May
    assert t["revenue_retention"][4] == {"cohort": "2026-01", "month": 4, "rate": pytest.approx(210 / 160)}
    # funnel cohorts: K1 (Dec 2025) and K2 (Dec 2025) became customers in Jan and Feb
    f = c.funnel_curves.set_index(["cohort", "months_since"])
    assert f.loc[(pd.Period("2025-12", "M"), 2), ["contacts", "converted"]].tolist() == [2, 2]
    assert c.has_conversions


def test_cohort_metrics_without_revenue_data(tmp_path):
    files = {k: v for k, v in FILES.items() if k not in ("subscriptions",)}
    c = client(tmp_path, files=files).cohort
    assert c.tables() == {"logo_retention": [], "revenue_retention": []} and c.by == {}
    assert not c.has_customers


def test_quarter_cohorts_of_the_run(tmp_path):
    c = client(tmp_path, yaml=YAML + "cohort_grain: quarter\n").cohort
    # quarter cohorts read at quarter ends (March, June): Q1 = a, b, c; Q2 = d
    r = c.cohorts.set_index(["cohort", "period"])
    q1 = pd.Period("2026Q1", "Q")
    assert r.loc[(q1, 0), ["customers", "active", "mrr"]].tolist() == [3, 2, 140.0]  # at March end: a 100, c 40
    assert r.loc[(q1, 1), ["active", "mrr"]].tolist() == [2, 160.0]  # at June end: a 100, b 60
    assert c.tables()["logo_retention"][0] == {"cohort": "2026Q1", "month": 0, "rate": pytest.approx(2 / 3)}


def test_by_group_skips_a_dimension_the_customers_file_lacks(tmp_path):
    files = FILES | {"customers": "customer_id,contact_id,channel\na,K1,ads\nb,,ads\nc,K2,web\n"}
    g = client(tmp_path, files=files).economics.by_group
    assert list(g) == ["channel"]  # no segment column: no segment table
    assert g["channel"].loc["web", "ltv"] == pytest.approx(64.0)


def test_churn_drivers_at_the_window_edges_with_an_unknown_segment(tmp_path):
    # added: e (no customers row) 30 from Jan, ends Apr 10 -> churns in April, the window's first month;
    # f (Enterprise) 20 from Feb, ends Jun 5 -> churns in June, its last month; g (Mid) 10 throughout, never churns
    subs = SUBSCRIPTIONS + "s7,e,2026-01-01,2026-04-10,30,1\ns8,f,2026-02-01,2026-06-05,20,1\ns9,g,2026-01-01,,10,1\n"
    customers = FILES["customers"] + "f,,ads,Enterprise\ng,,web,Mid\n"
    e = client(tmp_path, files=FILES | {"subscriptions": subs, "customers": customers}).economics
    d = e.churn_drivers()
    # churned in Apr–Jun: c 40 (SMB, May), e 30 (unknown, Apr), f 20 (Enterprise, Jun); MRR at the end of March:
    # SMB a 100 + c 40, unknown e 30 (+ d, not paying yet), Enterprise f 20 (b paid 0 then), Mid g 10
    assert d.index.tolist() == ["SMB", "unknown", "Enterprise", "Mid"]  # most churned MRR first
    assert d["churned_mrr"].tolist() == [40.0, 30.0, 20.0, 0.0]
    assert d["starting_mrr"].tolist() == [140.0, 30.0, 20.0, 10.0]
    # one churned customer behind each churned amount (c, e, f), none in Mid: counts, not floats
    assert d["churned_customers"].tolist() == [1, 1, 1, 0] and d["churned_customers"].dtype == "int64"
    assert d["share_of_churned_mrr"].tolist() == pytest.approx([4 / 9, 3 / 9, 2 / 9, 0.0])
    assert d["share_of_mrr"].tolist() == pytest.approx([140 / 200, 30 / 200, 20 / 200, 10 / 200])
    assert set(e.m.cohort.curves_by("segment").columns) >= {"segment", "period", "rate"}


def test_last_magic_without_a_complete_quarter(tmp_path):
    e = client(tmp_path, yaml=YAML.replace("as_of: 2026-06-30", "as_of: 2026-02-28")).economics
    assert e.last_magic() == (pytest.approx(float("nan"), nan_ok=True), None)  # Q1 is not over
