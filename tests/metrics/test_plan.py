"""The plan (SPEC "Plan"): target cascade, pipeline coverage, velocity, ARR and concentration, each
worked by hand on a small client.

Client ``plan`` (as_of 2026-06-30, window Apr-Jun 2026, stages lead, opportunity, customer):

contacts  C0 created and lead 2025-07-01 (starts the file's coverage); L1..L10 created and lead
          2026-04-05, L1..L4 opportunity 2026-05-10 -> leads in the window 10, opportunities 4:
          lead -> opportunity period rate 4 / 10 = 0.4, Wilson (0.16818, 0.68733)
deals     D0 lost 2025-08-01; W1 won 1,000 (created 2026-03-02, closed 2026-04-01: 30 days);
          W2 won 3,000 (2026-04-01 -> 2026-05-21: 50 days); X1, X2 lost in June; O1 open 2,000 × 0.5,
          O2 open 6,000 × 0.25 -> win rate 2 / 4 = 0.5, Wilson (0.15004, 0.84996); deal size 2,000;
          mean cycle 40 days; open pipeline 8,000 over 2 open deals
traffic   2025-07-01 10 sessions, 2026-04-01 200 -> visits per lead 200 / 10 = 20
spend     2025-07-01 5, 2026-04-01 100 -> blended CPL 100 / 10 = 10
targets   bookings 2026-07-01 - 2026-09-30: 8,000 (the first planned quarter, 2026Q3)

Cascade for 2026Q3: bookings 8,000 -> won deals 8,000 / 2,000 = 4 -> opportunities 4 / 0.5 = 8
(4 / 0.84996 = 4.706 to 4 / 0.15004 = 26.66) -> leads 8 / 0.4 = 20 (4.706 / 0.68733 = 6.847 to
26.66 / 0.16818 = 158.5) -> sessions 20 × 20 = 400, spend 20 × 10 = 200.
Run-rate, the last four full quarters 2025Q3-2026Q2: bookings (0 + 0 + 0 + 4,000) / 4 = 1,000,
won deals 0.5, opportunities 1, leads (1 + 0 + 0 + 10) / 4 = 2.75, sessions (10 + 0 + 0 + 200) / 4 =
52.5, spend (5 + 0 + 0 + 100) / 4 = 26.25.
Coverage of 2026Q3: nothing booked yet, 8,000 to book: 8,000 / 8,000 = 1.0; needed 1 / 0.5 = 2.0.
Velocity: 2 open deals × 0.5 × 2,000 / 40 days = 50 a day.
"""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics import plan as pl

P = pd.Period
YAML = """client: plan
data_dir: plan
as_of: {as_of}
window_months: 3
stages: [lead, opportunity, customer]
"""
CONTACTS = ("contact_id,created_at,channel,lead_at,opportunity_at\nC0,2025-07-01,web,2025-07-01,\n"
            + "".join(f"L{i},2026-04-05,web,2026-04-05,{'2026-05-10' if i <= 4 else ''}\n" for i in range(1, 11)))
DEALS = ("deal_id,created_at,status,amount,closed_at,probability\n"
         "D0,2025-07-01,lost,100,2025-08-01,\nW1,2026-03-02,won,1000,2026-04-01,\nW2,2026-04-01,won,3000,2026-05-21,\n"
         "X1,2026-04-01,lost,500,2026-06-10,\nX2,2026-04-02,lost,500,2026-06-11,\n"
         "O1,2026-05-01,open,2000,,0.5\nO2,2026-05-02,open,6000,,0.25\n")
FILES = {"contacts": CONTACTS, "deals": DEALS,
         "traffic": "date,channel,sessions\n2025-07-01,web,10\n2026-04-01,web,200\n",
         "spend": "date,channel,spend\n2025-07-01,web,5\n2026-04-01,web,100\n",
         "targets": "metric,period_start,period_end,target\nbookings,2026-07-01,2026-09-30,8000\n"}


@pytest.fixture
def planned(fixture_client):
    return fixture_client(YAML.format(as_of="2026-06-30"), FILES)[1]


def test_cascade_of_the_first_quarter_by_hand(planned):
    p = planned.plan
    assert p.quarters == [P("2026Q3", "Q"), P("2026Q4", "Q"), P("2027Q1", "Q"), P("2027Q2", "Q")]
    assert p.past_quarters == [P("2025Q3", "Q"), P("2025Q4", "Q"), P("2026Q1", "Q"), P("2026Q2", "Q")]
    t = p.table[p.table["quarter"] == P("2026Q3", "Q")].set_index("stage")
    assert list(t.index) == ["bookings", "won_deals", "opportunity", "lead", "sessions", "spend"]
    assert t["required"].tolist() == pytest.approx([8000.0, 4.0, 8.0, 20.0, 400.0, 200.0])
    assert t.loc["opportunity", ["low", "high"]].tolist() == pytest.approx([4.706, 26.66], rel=1e-3)
    assert t.loc["lead", ["low", "high"]].tolist() == pytest.approx([6.847, 158.5], rel=1e-3)
    assert t.loc["sessions", ["low", "high"]].tolist() == pytest.approx([136.9, 3170.0], rel=1e-3)
    assert t["current"].tolist() == pytest.approx([1000.0, 0.5, 1.0, 2.75, 52.5, 26.25])
    assert t.loc["lead", "change"] == pytest.approx(20 / 2.75 - 1)
    assert t.loc["bookings", ["low", "high"]].tolist() == [8000.0, 8000.0]  # a target has no interval


def test_later_quarters_without_a_growth_rule_are_na_and_say_why(planned):
    """No complete year-over-year growth of bookings: only the targets file's quarter is planned."""
    b = planned.plan.bookings_targets.set_index("quarter")
    assert b.loc[P("2026Q3", "Q"), "source"] == "targets file" and b.loc[P("2026Q3", "Q"), "target"] == 8000.0
    assert b.loc[P("2026Q4", "Q"), "target"] != b.loc[P("2026Q4", "Q"), "target"]  # NaN
    assert "year" in b.loc[P("2026Q4", "Q"), "why"]
    later = planned.plan.table[planned.plan.table["quarter"] == P("2026Q4", "Q")]
    assert later["required"].isna().all()


def test_the_largest_rise_is_the_funnel_stage_furthest_above_its_run_rate(planned):
    """Changes: won deals 4 / 0.5 − 1 = 7, opportunities 8 / 1 − 1 = 7, leads 20 / 2.75 − 1 = 6.27:
    the first of the largest (won deals) is named; bookings, sessions and spend are not stages."""
    top = planned.plan.largest_rise()
    assert top["stage"] == "won_deals" and top["change"] == pytest.approx(7.0)


def test_coverage_and_velocity_by_hand(planned):
    c = planned.plan.coverage
    assert c["quarter"] == P("2026Q3", "Q") and c["booked"] == 0.0 and c["remaining"] == 8000.0
    assert c["coverage"] == pytest.approx(1.0) and c["required"] == pytest.approx(2.0)
    assert c["velocity"] == pytest.approx(50.0) and c["cycle_days"] == pytest.approx(40.0) and c["why"] == ""
    s = planned.scalars()
    assert (s["pipeline_coverage"], s["required_coverage"], s["pipeline_velocity"]) == pytest.approx((1.0, 2.0, 50.0))
    k = planned.book.get("plan_required", "2026-Q3", "stage", "lead")
    assert (k.value, k.unit) == (pytest.approx(20.0), "count") and k.low == pytest.approx(6.847, rel=1e-3)


def test_a_quarter_already_over_target_has_no_coverage(fixture_client):
    """as_of 2026-07-31: W3 won 9,000 on 2026-07-15 is booked in 2026Q3, over its 8,000 target:
    nothing left to book, coverage n/a (never infinite or negative), the needed coverage still 1 / win rate."""
    deals = DEALS + "W3,2026-07-01,won,9000,2026-07-15,\n"
    _, m = fixture_client(YAML.format(as_of="2026-07-31"), FILES | {"deals": deals})
    c = m.plan.coverage
    assert c["booked"] == 9000.0 and c["remaining"] == -1000.0
    assert math.isnan(c["coverage"]) and c["why"] == "the quarter's bookings target is already met"
    assert math.isnan(m.scalars()["pipeline_coverage"])


def test_win_rate_zero_leaves_every_stage_before_won_deals_na(fixture_client):
    """Every closed deal lost: win rate 0, so no number of opportunities reaches a won deal: the
    opportunities and leads needed are n/a, never infinite; the coverage needed 1 / 0 is n/a too."""
    deals = DEALS.replace(",won,", ",lost,")
    _, m = fixture_client(YAML.format(as_of="2026-06-30"), FILES | {"deals": deals})
    t = m.plan.table.set_index(["quarter", "stage"]).loc[P("2026Q3", "Q")]
    assert np.isnan(t.loc["won_deals", "required"])  # no won deal: no deal size either
    assert t.loc[["opportunity", "lead", "sessions", "spend"], "required"].isna().all()
    assert math.isnan(m.plan.coverage["required"]) and math.isnan(m.plan.coverage["velocity"])


def test_no_deals_no_plan(fixture_client):
    files = {k: v for k, v in FILES.items() if k != "deals"}
    _, m = fixture_client(YAML.format(as_of="2026-06-30"), files)
    assert m.plan.table.empty and m.plan.coverage["why"] == "no deals file"
    assert m.tables()["plan"] == [] and math.isnan(m.scalars()["pipeline_coverage"])  # n/a, never 0
    assert math.isnan(m.scalars()["pipeline_velocity"])


def test_cascade_rates_and_ranges():
    """A rate above 1 has no interval (it is no share); a zero rate stops the cascade."""
    assert pl.rate_with_interval(3, 2) == (1.5, 1.5, 1.5)
    assert all(math.isnan(x) for x in pl.rate_with_interval(1, 0))
    c = pl.cascade(1000.0, 100.0, [("opportunity", 0.5, 0.4, 0.6), ("lead", 0.0, 0.0, 0.1)]).set_index("stage")
    assert c.loc["opportunity", "required"] == 20.0 and math.isnan(c.loc["lead", "required"])
    assert "sessions" not in c.index  # no visits per lead given
    assert pl.pipeline_velocity(10, 0.3, 1000.0, 0.0) != pl.pipeline_velocity(10, 0.3, 1000.0, 0.0)  # n/a


def test_arr_concentration_and_churned_accounts(fixture_client):
    """Subscriptions, window Apr-Jun 2026: a 100 from Jan; b 50 from Jan, ended 2026-05-15 (churns in
    May, paid 50 in April); c 30 from May; d..m eleven customers of 1 from Jan. MRR Jun = 100 + 30 + 11
    = 141, ARR 1,692; net new ARR in June = 12 × (141 − 141) = 0, in May 12 × (141 − 161) = −240.
    The top 10 (a, c and eight of 1) bring 138 of 141 = 97.9 %. The one churned account: b, 50."""
    subs = ("subscription_id,customer_id,start_date,end_date,amount,billing_period_months\n"
            "s1,a,2026-01-01,,100,1\ns2,b,2026-01-01,2026-05-15,50,1\ns3,c,2026-05-01,,30,1\n"
            + "".join(f"t{i},x{i:02d},2026-01-01,,1,1\n" for i in range(11)))
    _, m = fixture_client(YAML.format(as_of="2026-06-30"), {"contacts": CONTACTS, "subscriptions": subs})
    a = m.plan.arr.set_index("month")
    assert a.loc[P("2026-06", "M"), "arr"] == 12 * 141.0 and a.loc[P("2026-06", "M"), "net_new_arr"] == 0.0
    assert a.loc[P("2026-05", "M"), "net_new_arr"] == 12 * (141.0 - 161.0)
    c = m.plan.concentration
    assert (c["customers"], c["top"]) == (13, 10) and c["share"] == pytest.approx(138 / 141)
    lost = m.plan.churned_accounts
    assert lost.to_dict("records") == [{"customer_id": "b", "month": P("2026-05", "M"), "mrr_lost": 50.0}]
    assert m.scalars()["mrr_top10_share"] == pytest.approx(138 / 141) and m.scalars()["arr"] == 12 * 141.0


def test_mrr_forecast_is_withheld_on_fewer_than_three_months_of_movements(fixture_client):
    """Subscriptions from Jan 2026, as_of 2026-02-28: the bridge has two months (Jan, Feb), so the base
    model would rest on two months of movements: no forecast (an empty table), and the back-test has
    no origin with 12 months behind it (n 0, MAPE n/a)."""
    subs = "subscription_id,customer_id,start_date,end_date,amount,billing_period_months\ns1,a,2026-01-01,,100,1\n"
    _, m = fixture_client(YAML.format(as_of="2026-02-28"), {"contacts": CONTACTS, "subscriptions": subs})
    assert m.plan.forecast_basis == 2 and m.plan.mrr_forecast.empty
    bt = m.plan.backtest
    assert (bt["n"] == 0).all() and bt["mape"].isna().all()
    assert m.tables()["forecast"] == []


def test_mrr_forecast_sentence_states_the_back_test_beside_the_forecast():
    from kpi_kit.reports.overview import mrr_forecast_sentence

    f = pd.DataFrame({"month": pd.PeriodIndex(["2027-10"] * 3, freq="M"), "scenario": ["base", "target", "worst"],
                      "mrr": [1000.0, 1050.0, 950.0]})
    b = pd.DataFrame({"model": ["base", "naive", "base"], "horizon": [3, 3, 6], "mape": [0.024, 0.051, 0.08],
                      "n": [18, 18, 15]})
    assert mrr_forecast_sentence(f, b, "USD") == (
        "At the last three months' pace MRR reaches $1,000 in Oct 2027 ($950 to $1,050 between the worst and target "
        "scenarios). On 18 past forecasts, 3-month forecasts were off by 2.4% on average; the naive forecast (MRR "
        "stays as it is) by 5.1%.")
    none = b.assign(mape=np.nan, n=0)
    assert mrr_forecast_sentence(f, none, "USD").endswith(
        "Too little history to check how far 3-month forecasts have been off (12 months needed).")


def test_the_bookings_rule_counts_complete_years_as_the_revenue_target_does(fixture_client):
    """Deals from 2024-07-23 (their first full month is Aug 2024): Jul 2024 - Jun 2025 covers one week of
    its first month, so only Jul 2025 - Jun 2026 (W1 1,000 + W2 3,000 = 4,000) is a complete year; one
    year gives no growth, so the later quarters have no bookings target (the same rule the revenue
    target uses without MRR: one function, OverviewMetrics.yearly_bookings)."""
    deals = DEALS + "E0,2024-07-23,won,700,2024-08-01,\n"
    _, m = fixture_client(YAML.format(as_of="2026-06-30"), FILES | {"deals": deals})
    assert m.plan.yearly_bookings.to_dict() == {"Jul 2025 – Jun 2026": 4000.0}
    assert m.plan.yearly_bookings.equals(m.overview.yearly_bookings())
    assert m.plan.bookings_targets["target"].isna().tolist() == [False, True, True, True]
