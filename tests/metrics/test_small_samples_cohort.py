"""Small samples in retention cohorts and per-group LTV (SPEC "Small samples", issue #15 item 6): the
customers behind each age of the pooled curves, the marking threshold at exactly ``min_sample``,
Wilson intervals of logo retention, the churn events behind each group's LTV. Expected values by hand.

The customer-month grid used below (MRR 100 a month while paying, dense as kpi_kit.mrr builds it):
  Jan cohort, ten customers  j0..j9: all pay Jan; j9 stops after Jan; j8 after Feb
                                     -> paying Jan 10, Feb 9, Mar 8
  Feb cohort, ``feb`` customers f0..: all pay Feb; three stop after Feb -> paying Feb feb, Mar feb - 3
"""

import math

import pandas as pd
import pytest

from kpi_kit.metrics import cohort as co

JAN, FEB, MAR = (pd.Period(m, "M") for m in ("2026-01", "2026-02", "2026-03"))


def grid(feb: int = 20) -> pd.DataFrame:
    rows = []
    for i in range(10):
        paying = {JAN: True, FEB: i < 9, MAR: i < 8}
        rows += [(f"j{i}", m, 100.0 if p else 0.0) for m, p in paying.items()]
    for i in range(feb):
        paying = {JAN: False, FEB: True, MAR: i >= 3}
        rows += [(f"f{i}", m, 100.0 if p else 0.0) for m, p in paying.items()]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


def test_the_pooled_curve_carries_the_customers_behind_each_age():
    logo = co.average_curve(co.retention_cohorts(grid()), "logo_rate", min_sample=30).set_index("period")
    # age 0: Jan (10) + Feb (20) = 30 customers, all paying
    # age 1: Jan at Feb (9 of 10) + Feb at Mar (17 of 20) = 26 of 30
    # age 2: only the Jan cohort is that old: Jan at Mar, 8 of 10
    assert logo["cohorts"].tolist() == [2, 2, 1]
    assert logo["customers"].tolist() == [30, 30, 10]
    assert logo["active"].tolist() == [30, 26, 8]
    assert logo["rate"].tolist() == pytest.approx([1.0, 26 / 30, 0.8])
    assert logo["small"].tolist() == [False, False, True]  # 30 is enough, 10 is not


def test_an_age_over_29_customers_is_marked_and_over_30_is_not():
    # a Feb cohort of 19: ages 0 and 1 rest on 10 + 19 = 29 customers, one short of min_sample
    at29 = co.average_curve(co.retention_cohorts(grid(feb=19)), "logo_rate", min_sample=30)
    assert at29["customers"].tolist() == [29, 29, 10] and at29["small"].tolist() == [True, True, True]
    at30 = co.average_curve(co.retention_cohorts(grid(feb=20)), "logo_rate", min_sample=30)
    assert at30["customers"].tolist() == [30, 30, 10] and at30["small"].tolist() == [False, False, True]
    # without min_sample nothing is marked (the old behaviour)
    assert not co.average_curve(co.retention_cohorts(grid(feb=19)), "logo_rate")["small"].any()


def test_logo_retention_has_a_wilson_interval_and_revenue_retention_none():
    logo = co.average_curve(co.retention_cohorts(grid()), "logo_rate", min_sample=30).set_index("period")
    # Wilson 95 %, z = 1.96: p = 8/10 -> centre (0.8 + z²/20) / (1 + z²/10) = 0.99207 / 1.38415 = 0.7167,
    # half width z·sqrt(0.8·0.2/10 + z²/400) / (1 + z²/10) = 1.96 × 0.16001 / 1.38415 = 0.2266
    # -> 0.4902 .. 0.9433
    assert (logo.loc[2, "low"], logo.loc[2, "high"]) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # 26 of 30: centre (26/30 + z²/60) / (1 + z²/30) = 0.93069 / 1.12805 = 0.8250,
    # half z·sqrt((26/30)(4/30)/30 + z²/3600) / 1.12805 = 1.96 × 0.070135 / 1.12805 = 0.1219 -> 0.7032 .. 0.9469
    assert (logo.loc[1, "low"], logo.loc[1, "high"]) == pytest.approx((0.7032, 0.9469), abs=1e-4)
    rev = co.average_curve(co.retention_cohorts(grid()), "revenue_rate", min_sample=30).set_index("period")
    # revenue retention is MRR over MRR, not a share of customers: its n, but no interval
    assert rev.loc[1, "rate"] == pytest.approx(2600 / 3000) and rev.loc[1, "customers"] == 30
    assert math.isnan(rev.loc[1, "low"]) and math.isnan(rev.loc[1, "high"])


def test_retention_by_counts_the_customers_and_churn_events_behind_each_rate():
    customers = pd.DataFrame({"customer_id": [f"j{i}" for i in range(10)] + [f"f{i}" for i in range(20)],
                              "segment": ["A"] * 10 + ["B"] * 20})
    r = co.retention_by(grid(), customers, by="segment", months=(1, 2)).set_index("segment")
    # A (the Jan cohort): 10 customers at least 1 month old, 9 paying at age 1; 10 at least 2 old, 8 paying
    assert r.loc["A", ["customers_1m", "retained_1m", "customers_2m", "retained_2m"]].tolist() == [10, 9, 10, 8]
    # B (the Feb cohort): 20 at age 1, 17 paying; none is 2 months old (rate n/a over 0 customers)
    assert r.loc["B", ["customers_1m", "retained_1m", "customers_2m", "retained_2m"]].tolist() == [20, 17, 0, 0]
    assert math.isnan(r.loc["B", "logo_retention_2m"])
    # churn events: A loses j9 in Feb and j8 in Mar = 2; exposure = paying at the previous month end:
    # Feb 10 + Mar 9 = 19 customer-months. B loses 3 in Mar over 20 customer-months.
    assert r.loc["A", ["churn_events", "paying_months"]].tolist() == [2, 19]
    assert r.loc["B", ["churn_events", "paying_months"]].tolist() == [3, 20]
    assert r.loc["A", "churn_rate"] == pytest.approx(2 / 19)
    # LTV = ARPU 100 × margin 1 / churn: A 100 × 19 / 2 = 950, resting on 2 churn events
    assert r.loc["A", "ltv"] == pytest.approx(950.0)


def test_first_small_age_is_where_the_curve_stops_being_read():
    m = co.CohortMetrics.__new__(co.CohortMetrics)  # the helper needs no run
    curve = pd.DataFrame({"period": [0, 1, 2, 3], "small": [False, False, True, True]})
    assert m.first_small_age(curve) == 2
    assert m.first_small_age(curve.assign(small=False)) is None  # the last point is read: nothing cut
    assert m.first_small_age(curve.assign(small=True)) == 0
