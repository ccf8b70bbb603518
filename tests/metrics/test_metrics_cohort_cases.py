"""Retention cohorts at the edges that tell definitions apart (issue #21): a cohort of exactly the
minimum size (shown, not small), revenue-weighted average curves, quarter cohorts read at quarter
ends, funnel cohorts with rows dated exactly on as_of. Expected values by hand."""

import math

import pandas as pd
import pytest

from kpi_kit.metrics import cohort as co


def cmrr(table: dict, months) -> pd.DataFrame:
    rows = [(c, pd.Period(m, "M"), float(v)) for c, values in table.items() for m, v in zip(months, values)]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04")
# Jan cohort: a, b, c (3 customers); Feb cohort: d, e (2); Mar cohort: f (1)
#            Jan  Feb  Mar  Apr
#   a         10   10   10   10
#   b         20   20    0    0
#   c         30   30   30   60
#   d          0   40   40    0
#   e          0   10   10   10
#   f          0    0   50   50
TABLE = {"a": [10, 10, 10, 10], "b": [20, 20, 0, 0], "c": [30, 30, 30, 60], "d": [0, 40, 40, 0],
         "e": [0, 10, 10, 10], "f": [0, 0, 50, 50]}


def test_a_cohort_of_exactly_the_minimum_size_is_not_small():
    r = co.retention_cohorts(cmrr(TABLE, MONTHS), min_cohort_size=2)
    small = r.groupby("cohort")["small"].first()
    assert small.tolist() == [False, False, True]  # Jan 3, Feb 2 (= the minimum: not small), Mar 1
    r3 = co.retention_cohorts(cmrr(TABLE, MONTHS), min_cohort_size=3)
    assert r3.groupby("cohort")["small"].first().tolist() == [False, True, True]
    assert not co.retention_cohorts(cmrr(TABLE, MONTHS))["small"].any()  # default 0: nothing is small


def test_triangles_by_hand():
    r = co.retention_cohorts(cmrr(TABLE, MONTHS))
    logo = co.retention_triangle(r, "logo_rate")
    assert logo.loc["2026-01"].tolist() == pytest.approx([1, 1, 2 / 3, 2 / 3])  # b stops in March
    assert logo.loc["2026-02"].tolist()[:3] == pytest.approx([1, 1, 1 / 2])  # d stops in April
    rev = co.retention_triangle(r, "revenue_rate")
    assert rev.loc["2026-01"].tolist() == pytest.approx([1, 1, 40 / 60, 70 / 60])  # c doubles in April
    assert rev.loc["2026-02"].tolist()[:3] == pytest.approx([1, 1, 10 / 50])
    feb = r[r["cohort"] == pd.Period("2026-02", "M")].set_index("period")
    assert feb.loc[2, ["customers", "active", "cohort_mrr_0", "mrr"]].tolist() == [2, 1, 50.0, 10.0]


def test_average_curves_logo_and_revenue_weighted_and_not():
    r = co.retention_cohorts(cmrr(TABLE, MONTHS), min_cohort_size=2)  # Mar (f) left out as small
    logo = co.average_curve(r, "logo_rate").set_index("period")
    assert logo["cohorts"].tolist() == [2, 2, 2, 1]
    assert logo.loc[1, "rate"] == 1.0
    assert logo.loc[2, "rate"] == pytest.approx((2 + 1) / (3 + 2))  # pooled customers
    rev = co.average_curve(r, "revenue_rate").set_index("period")
    assert rev.loc[2, "rate"] == pytest.approx((40 + 10) / (60 + 50))  # pooled MRR
    assert rev.loc[3, "rate"] == pytest.approx(70 / 60)
    unweighted = co.average_curve(r, "revenue_rate", weighted=False).set_index("period")
    assert unweighted.loc[2, "rate"] == pytest.approx((40 / 60 + 10 / 50) / 2)


def test_quarter_cohorts_read_at_quarter_ends_and_drop_the_partial_quarter():
    months = [str(p) for p in pd.period_range("2026-01", "2026-07", freq="M")]
    # a: Q1 from Jan, 10 -> 30 at June end; b: Q1 cohort from March, gone at June end; c: first paid in May (Q2)
    c = cmrr({"a": [10, 10, 10, 20, 20, 30, 30], "b": [0, 0, 5, 5, 5, 0, 0], "c": [0, 0, 0, 0, 8, 8, 8]}, months)
    r = co.retention_cohorts(c, "quarter")
    q1 = r[r["cohort"] == pd.Period("2026Q1", "Q")].set_index("period")
    assert q1.loc[0, ["customers", "active", "mrr", "cohort_mrr_0"]].tolist() == [2, 2, 15.0, 15.0]  # at March end
    assert q1.loc[1, ["active", "mrr", "logo_rate", "revenue_rate"]].tolist() == pytest.approx([1, 30.0, 0.5, 2.0])
    q2 = r[r["cohort"] == pd.Period("2026Q2", "Q")]
    assert q2["period"].tolist() == [0] and q2["customers"].tolist() == [1]  # July (Q3 to date) is not read
    assert co.retention_triangle(r, "logo_rate").index.tolist() == ["2026Q1", "2026Q2"]


def test_retention_records_and_curves_by_group():
    c = cmrr(TABLE, MONTHS)
    recs = co.retention_records(co.retention_cohorts(c), "revenue_rate")
    assert recs[:4] == [{"cohort": "2026-01", "month": k, "rate": pytest.approx(v)}
                        for k, v in enumerate([1, 1, 40 / 60, 70 / 60])]
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"], "channel": ["x", "x", "y", "y", "y"]})
    curves = co.retention_curves_by(c, customers, by="channel").set_index(["channel", "period"])
    # x = a, b (Jan cohort): at month 2 (March) a pays, b does not -> 1/2.
    # y = c (Jan), d, e (Feb): month 2 is March for c (pays), April for d (not) and e (pays) -> 2/3
    assert curves.loc[("x", 2), ["rate", "cohorts", "customers"]].tolist() == [0.5, 1, 2]
    assert curves.loc[("y", 2), "rate"] == pytest.approx(2 / 3) and curves.loc[("y", 2), "cohorts"] == 2
    assert curves.loc[("unknown", 0), ["rate", "customers"]].tolist() == [1.0, 1]  # f is in no customers row


def test_funnel_cohort_curves_count_rows_dated_on_as_of():
    contacts = pd.DataFrame({
        "created_at": pd.to_datetime(["2026-01-10", "2026-01-31", "2026-03-31", "2026-04-01"]),
        "customer_at": pd.to_datetime(["2026-03-31", pd.NaT, "2026-03-31", "2026-04-02"]),
    })
    f = co.funnel_cohort_curves(contacts, "2026-03-31")
    jan = f[f["cohort"] == pd.Period("2026-01", "M")].set_index("months_since")
    assert jan["contacts"].tolist() == [2, 2, 2] and jan["converted"].tolist() == [0, 0, 1]  # converted on as_of
    mar = f[f["cohort"] == pd.Period("2026-03", "M")]
    assert mar[["months_since", "contacts", "converted", "rate"]].values.tolist() == [[0, 1, 1, 1.0]]  # created on as_of
    assert not f["partial"].any()  # as_of is March's last day
    capped = co.funnel_cohort_curves(contacts, "2026-03-31", max_months=1)
    assert capped[capped["cohort"] == pd.Period("2026-01", "M")]["months_since"].tolist() == [0, 1]
    no_col = co.funnel_cohort_curves(contacts.drop(columns="customer_at"), "2026-03-31")
    assert no_col["converted"].sum() == 0 and len(no_col) == 4


def test_retention_by_ages_and_unknown_group():
    months = [str(p) for p in pd.period_range("2026-01", "2026-04", freq="M")]
    c = cmrr({"a": [10, 10, 0, 10], "b": [0, 20, 20, 20]}, months)
    customers = pd.DataFrame({"customer_id": ["a"], "segment": ["SMB"]})
    r = co.retention_by(c, customers, by="segment", months=(1, 2), gross_margin=0.5).set_index("segment")
    # a (SMB): paying Jan, Feb, Apr; churns in March, back in April
    assert r.loc["SMB", "logo_retention_1m"] == 1.0 and r.loc["SMB", "logo_retention_2m"] == 0.0
    assert r.loc["SMB", "revenue_per_customer_2m"] == 20.0  # months 0 and 1 (a is 3 months old)
    # exposure: paying the month before = Feb, Mar -> 2 customer-months; 1 churn -> 1/2
    assert r.loc["SMB", "churn_rate"] == 0.5 and r.loc["SMB", "arpu"] == 10.0
    assert r.loc["SMB", "ltv"] == pytest.approx(10 * 0.5 / 0.5)
    # b (unknown, from Feb): never churned -> LTV undefined; 2 months old at April: month 2 reached
    assert r.loc["unknown", "logo_retention_2m"] == 1.0 and math.isnan(r.loc["unknown", "ltv"])
    assert r.loc["unknown", "revenue_per_customer_2m"] == 40.0
    assert r.loc["unknown", "churn_rate"] == 0.0


def test_funnel_cohort_curves_stop_at_max_months_and_flag_the_partial_month():
    contacts = pd.DataFrame({"created_at": pd.to_datetime(["2024-01-15", "2026-03-01"]),
                             "customer_at": pd.to_datetime(["2025-12-20", pd.NaT])})
    f = co.funnel_cohort_curves(contacts, "2026-03-15")  # 26 months after January 2024; March not full
    jan = f[f["cohort"] == pd.Period("2024-01", "M")]
    assert jan["months_since"].tolist() == list(range(25))  # ages 0..24 (the default maximum), not 26
    assert jan["converted"].tolist() == [0] * 23 + [1, 1]  # converted at age 23 (December 2025)
    assert not jan["partial"].any()  # its last row is February 2026, a full month
    mar = f[f["cohort"] == pd.Period("2026-03", "M")]
    assert mar[["months_since", "partial"]].values.tolist() == [[0, True]]  # March to date


def test_cents_of_mrr_count_as_paying_and_a_never_paying_row_counts_nowhere():
    months = ("2026-01", "2026-02", "2026-03")
    # p pays 0.5 a month (a discounted plan): a paying customer; z never pays (a row of zeros)
    c = cmrr({"p": [0.5, 0.5, 0.0], "z": [0.0, 0.0, 0.0]}, months)
    assert co.first_paid_month(c).to_dict() == {"p": pd.Period("2026-01", "M")}
    r = co.retention_cohorts(c)
    assert r[["period", "customers", "active", "logo_rate"]].values.tolist() == [[0, 1, 1, 1.0], [1, 1, 1, 1.0],
                                                                                  [2, 1, 0, 0.0]]
    by = co.retention_by(c, pd.DataFrame({"customer_id": ["p"], "channel": ["x"]}), months=(1, 2)).set_index("channel")
    assert by.index.tolist() == ["x"]  # z is in no group: it never paid
    # p: logo retention at month 1 (still paying 0.5) and 2 (stopped); churn 1 over 2 exposed months
    assert by.loc["x", ["logo_retention_1m", "logo_retention_2m", "churn_rate", "arpu"]].tolist() == [1.0, 0.0, 0.5, 0.5]
    # p is exactly 2 months old at the last month: its first two months count (0.5 + 0.5)
    assert by.loc["x", "revenue_per_customer_2m"] == 1.0


def test_retention_frames_shape_and_young_customers():
    r = co.retention_cohorts(cmrr(TABLE, MONTHS))
    assert list(r.columns) == ["cohort", "period", "customers", "active", "logo_rate", "cohort_mrr_0", "mrr",
                               "revenue_rate", "small"]
    assert list(r.index) == list(range(len(r)))
    assert r["active"].dtype == "int64" and r["customers"].dtype == "int64"
    customers = pd.DataFrame({"customer_id": list(TABLE), "channel": ["x"] * 3 + ["y"] * 3})
    by = co.retention_by(cmrr(TABLE, MONTHS), customers).set_index("channel")
    assert [c for c in by.columns if c.startswith("logo_retention")] == ["logo_retention_6m", "logo_retention_12m",
                                                                         "logo_retention_24m"]
    # f first paid in March: one month old at the last month (April), too young for 2-month figures
    young = co.retention_by(cmrr({"f": [0, 0, 50, 50]}, MONTHS), customers, months=(2,))
    assert math.isnan(young["revenue_per_customer_2m"].iloc[0]) and math.isnan(young["logo_retention_2m"].iloc[0])


def test_funnel_cohort_curves_with_a_future_contact_listed_first():
    contacts = pd.DataFrame({"created_at": pd.to_datetime(["2026-04-01", "2026-01-10", "2026-01-20"]),
                             "customer_at": pd.to_datetime([pd.NaT, "2026-02-03", pd.NaT])})
    f = co.funnel_cohort_curves(contacts, "2026-03-31")  # the April contact does not exist yet
    assert f[["months_since", "contacts", "converted"]].values.tolist() == [[0, 2, 0], [1, 2, 1], [2, 2, 1]]


def test_defaults_of_the_cohort_helpers():
    c = cmrr(TABLE, MONTHS)
    r = co.retention_cohorts(c)
    assert co.retention_records(r) == co.retention_records(r, "logo_rate")  # logo retention by default
    assert co.retention_triangle(r).equals(co.retention_triangle(r, "logo_rate"))
    customers = pd.DataFrame({"customer_id": list(TABLE), "channel": ["x"] * 6})
    by_default = co.retention_curves_by(c, customers)  # by channel by default
    assert by_default.columns[0] == "channel" and set(by_default["channel"]) == {"x"}
    empty = co.retention_curves_by(c.iloc[0:0], customers)
    assert empty.empty and list(empty.columns) == ["channel", "period", "rate", "cohorts", "customers", "active"]


def test_cohort_mrr_is_read_at_month_zero_and_defaults():
    # a pays 10 in its first month and 40 from the second: revenue retention 1, 4, 4 (over month 0's 10)
    c = cmrr({"a": [10, 40, 40]}, ("2026-01", "2026-02", "2026-03"))
    r = co.retention_cohorts(c)
    assert r["cohort_mrr_0"].tolist() == [10.0] * 3 and r["revenue_rate"].tolist() == [1.0, 4.0, 4.0]
    assert co.average_curve(r)["rate"].tolist() == [1.0, 1.0, 1.0]  # logo retention by default
    customers = pd.DataFrame({"customer_id": ["a"], "channel": ["x"]})
    curves = co.retention_curves_by(pd.concat([c, cmrr({"b": [0, 5, 5]}, ("2026-01", "2026-02", "2026-03"))]), customers)
    assert list(curves.index) == list(range(len(curves)))  # one running index over the groups
    churned = cmrr({"a": [10, 10, 0]}, ("2026-01", "2026-02", "2026-03"))
    by = co.retention_by(churned, customers, months=(1,))  # margin 1.0 by default
    assert by["ltv"].iloc[0] == pytest.approx(10 / 0.5)  # churn 1 of 2 exposed months, ARPU 10


def test_funnel_cohort_curves_of_nobody_yet():
    contacts = pd.DataFrame({"created_at": pd.to_datetime(["2026-04-02"]), "customer_at": pd.to_datetime([pd.NaT])})
    f = co.funnel_cohort_curves(contacts, "2026-03-31")  # the only contact is created after as_of
    assert f.empty and list(f.columns) == ["cohort", "months_since", "contacts", "converted", "rate", "partial"]
