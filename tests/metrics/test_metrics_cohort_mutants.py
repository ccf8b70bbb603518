"""Retention cohorts' small-sample rules, pinned against mutants (issue #21): the point read off a pooled
curve at one age (CohortMetrics.point), where a curve stops being read (first_small_age), the integer
counts behind the curves and the per-group retention table, the columns of the curves by group. Expected
values by hand; each test computes on its own tiny fixture (no module-scoped fixtures: see
tests/mutation/README.md).

The customer-month grid used below (dense, as kpi_kit.mrr builds it):

              Jan  Feb  Mar
    a          10   10   10      Jan cohort
    b          20    0    0      Jan cohort (stops after January)
    c           0   40   40      Feb cohort

Jan cohort: 2 customers, MRR 30 at month 0; paying at age 1 (Feb): a; at age 2 (Mar): a.
Feb cohort: 1 customer, MRR 40 at month 0; paying at age 1 (Mar): c.

Pooled logo curve (min_sample = 3):
    age 0: 2 cohorts, 2 + 1 = 3 customers, 3 paying -> 1.0,  not small (3 is not < 3)
    age 1: 2 cohorts, 3 customers, a + c = 2 paying   -> 2/3,  not small
    age 2: 1 cohort (Jan), 2 customers, a = 1 paying   -> 1/2,  small (2 < 3)
Pooled revenue curve: age 1 = (10 + 40) / (30 + 40) = 5/7; no interval (MRR over MRR is no share).

Wilson 95 % intervals, z = 1.959964, z² = 3.841459:
    2 of 3: d = 1 + z²/3 = 2.280486; centre (2/3 + z²/6) / d = 1.306910 / 2.280486 = 0.573084;
            half z·sqrt((2/3)(1/3)/3 + z²/36) / d = 1.959964 × 0.425184 / 2.280486 = 0.365424
            -> 0.2077 .. 0.9385
    1 of 2: d = 1 + z²/2 = 2.920729; centre (1/2 + z²/4) / d = 0.5;
            half z·sqrt(0.25/2 + z²/16) / d = 1.959964 × 0.604228 / 2.920729 = 0.405469 -> 0.0945 .. 0.9055
"""

import math

import pandas as pd
import pytest

from kpi_kit.metrics import cohort as co

MONTHS = ("2026-01", "2026-02", "2026-03")
TABLE = {"a": [10, 10, 10], "b": [20, 0, 0], "c": [0, 40, 40]}
POINT_KEYS = ["rate", "customers", "active", "cohorts", "small", "low", "high"]


def cmrr(table: dict, months=MONTHS) -> pd.DataFrame:
    rows = [(c, pd.Period(m, "M"), float(v)) for c, values in table.items() for m, v in zip(months, values)]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


def helper() -> co.CohortMetrics:
    """A CohortMetrics without a run: point and first_small_age only read the curve they are given."""
    return co.CohortMetrics.__new__(co.CohortMetrics)


def logo_curve() -> pd.DataFrame:
    return co.average_curve(co.retention_cohorts(cmrr(TABLE)), "logo_rate", min_sample=3)


def test_point_reads_the_pooled_curve_at_one_age():
    p = helper().point(logo_curve(), 1)
    # age 1 (not the curve's first row): 2 of 3 customers over the two cohorts, enough customers
    assert list(p) == POINT_KEYS
    assert p["rate"] == pytest.approx(2 / 3) and type(p["rate"]) is float
    assert (p["customers"], p["active"], p["cohorts"]) == (3, 2, 2)
    assert all(type(p[k]) is int for k in ("customers", "active", "cohorts"))
    assert p["small"] is False
    assert (p["low"], p["high"]) == pytest.approx((0.2077, 0.9385), abs=1e-4)
    assert type(p["low"]) is float and type(p["high"]) is float


def test_point_of_an_age_resting_on_too_few_customers_is_small():
    p = helper().point(logo_curve(), 2)
    # age 2: only the Jan cohort is that old: 1 of its 2 customers pays, 2 < min_sample 3
    assert list(p) == POINT_KEYS
    assert (p["rate"], p["customers"], p["active"], p["cohorts"]) == (0.5, 2, 1, 1)
    assert p["small"] is True
    assert (p["low"], p["high"]) == pytest.approx((0.0945, 0.9055), abs=1e-4)


def test_point_of_an_age_no_cohort_has_reached():
    p = helper().point(logo_curve(), 3)
    # no cohort is 3 months old: a rate of NaN over 0 customers, small, no interval
    assert list(p) == POINT_KEYS
    assert (p["customers"], p["active"], p["cohorts"]) == (0, 0, 0)
    assert p["small"] is True
    assert math.isnan(p["rate"]) and math.isnan(p["low"]) and math.isnan(p["high"])


def test_point_of_a_revenue_curve_has_no_interval():
    rev = co.average_curve(co.retention_cohorts(cmrr(TABLE)), "revenue_rate", min_sample=3)
    p = helper().point(rev, 1)
    # (10 + 40) / (30 + 40): its n is still the 3 customers behind it
    assert p["rate"] == pytest.approx(5 / 7) and (p["customers"], p["active"], p["small"]) == (3, 2, False)
    assert math.isnan(p["low"]) and math.isnan(p["high"])


def test_the_counts_behind_a_pooled_curve_are_integers():
    curve = logo_curve()
    assert curve["customers"].tolist() == [3, 3, 2] and curve["active"].tolist() == [3, 2, 1]
    assert curve["customers"].dtype == "int64" and curve["active"].dtype == "int64"
    assert curve["small"].tolist() == [False, False, True]


def first_small(small: list[bool]):
    return helper().first_small_age(pd.DataFrame({"period": range(len(small)), "small": small}))


def test_first_small_age_only_the_last_point_is_small():
    # ages 0-2 read, only age 3 rests on too few customers: the curve stops being read at 3
    assert first_small([False, False, False, True]) == 3


def test_first_small_age_a_small_point_before_a_read_one_cuts_nothing():
    # age 1 is small but age 2, the last, is not: nothing is cut
    assert first_small([False, True, False]) is None


def test_first_small_age_of_a_one_point_curve():
    assert first_small([True]) == 0  # the only point is small: the curve is not read from age 0
    assert first_small([False]) is None
    assert first_small([]) is None  # no point at all


def test_first_small_age_reads_the_period_not_the_position():
    curve = pd.DataFrame({"period": [0, 1, 2, 5, 6], "small": [False, False, True, True, True]})
    assert helper().first_small_age(curve) == 2
    assert helper().first_small_age(curve.assign(small=[False, True, False, False, True])) == 6


def test_curves_by_group_carry_the_paying_customers():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "channel": ["x", "x", "y"]})
    curves = co.retention_curves_by(cmrr(TABLE), customers, by="channel")
    assert list(curves.columns) == ["channel", "period", "rate", "cohorts", "customers", "active"]
    # x = a, b (Jan cohort): 2, 1, 1 paying at ages 0-2; y = c (Feb cohort): 1, 1 at ages 0-1
    assert curves[["channel", "period", "customers", "active"]].values.tolist() == [
        ["x", 0, 2, 2], ["x", 1, 2, 1], ["x", 2, 2, 1], ["y", 0, 1, 1], ["y", 1, 1, 1]]


def test_retention_by_counts_are_integers():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["A", "A", "B"]})
    r = co.retention_by(cmrr(TABLE), customers, by="segment", months=(1, 2)).set_index("segment")
    # A = a, b: both at least 1 and 2 months old, a pays at both ages; B = c, 1 month old at March
    assert r[["customers_1m", "retained_1m", "customers_2m", "retained_2m"]].values.tolist() == [[2, 1, 2, 1],
                                                                                                [1, 1, 0, 0]]
    # churn: A loses b in Feb; exposure = paying at the previous month end: Feb a, b + Mar a = 3; B: Mar c = 1
    assert r[["churn_events", "paying_months"]].values.tolist() == [[1, 3], [0, 1]]
    for col in ("customers_1m", "retained_1m", "customers_2m", "retained_2m", "churn_events", "paying_months"):
        assert r[col].dtype == "int64", col


def test_a_customer_column_of_another_name():
    # the grid above keyed by account_id: the same cohorts, curves and groups
    c = cmrr(TABLE).rename(columns={"customer_id": "account_id"})
    r = co.retention_cohorts(c, customer_col="account_id")
    # Jan cohort (a, b) at ages 0-2, then Feb cohort (c) at ages 0-1: customers and paying
    assert r[["period", "customers", "active"]].values.tolist() == [[0, 2, 2], [1, 2, 1], [2, 2, 1], [0, 1, 1], [1, 1, 1]]
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "channel": ["x", "x", "y"], "segment": ["A", "A", "B"]})
    curves = co.retention_curves_by(c, accounts, by="channel", customer_col="account_id")
    assert curves[["channel", "period", "customers", "active"]].values.tolist() == [
        ["x", 0, 2, 2], ["x", 1, 2, 1], ["x", 2, 2, 1], ["y", 0, 1, 1], ["y", 1, 1, 1]]
    by = co.retention_by(c, accounts, by="segment", months=(1,), customer_col="account_id").set_index("segment")
    # A: a, b, 1 of 2 paying at age 1, b's churn over 3 exposed months; B: c, paying at age 1, no churn
    assert by[["customers", "customers_1m", "retained_1m", "churn_events", "paying_months"]].values.tolist() == [
        [2, 2, 1, 1, 3], [1, 1, 1, 0, 1]]


def test_a_never_paying_customer_counts_nowhere_before_1970():
    # months before 1970 have negative period ordinals; z never pays (no first paid month), a pays both months
    months = ("1969-11", "1969-12")
    c = cmrr({"a": [10, 10], "z": [0, 0]}, months)
    customers = pd.DataFrame({"customer_id": ["a", "z"], "channel": ["x", "x"]})
    r = co.retention_by(c, customers, months=(1,))
    # x: a only (z has no age): 1 customer, 1 month old at December and paying; no churn over 1 exposed month
    assert r[["channel", "customers", "customers_1m", "retained_1m", "churn_events", "paying_months"]].values.tolist() == [
        ["x", 1, 1, 1, 0, 1]]
