"""Retention cohorts against hand-computed triangles (SPEC "Retention cohorts")."""

import math

import pandas as pd
import pytest

from kpi_kit.metrics import cohort as co


def cmrr(table: dict, months=("2026-01", "2026-02", "2026-03", "2026-04", "2026-05")) -> pd.DataFrame:
    """table: customer -> MRR per month (dense)."""
    rows = [(c, pd.Period(m, "M"), float(v)) for c, values in table.items() for m, v in zip(months, values)]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


# Jan cohort: a (steady), b (churns in Mar, returns in May), c (expands); Feb: no new customer (empty cohort);
# Mar cohort: d; May cohort: e (has not reached month 1).
FIXTURE = cmrr({"a": [10, 10, 10, 10, 10], "b": [20, 20, 0, 0, 20], "c": [10, 10, 30, 30, 30],
                "d": [0, 0, 50, 0, 0], "e": [0, 0, 0, 0, 40]})


def test_first_paid_month_and_returning_customer_stays_in_cohort():
    first = co.first_paid_month(FIXTURE)
    assert first.astype(str).to_dict() == {"a": "2026-01", "b": "2026-01", "c": "2026-01", "d": "2026-03",
                                           "e": "2026-05"}


def test_logo_and_revenue_triangle():
    r = co.retention_cohorts(FIXTURE)
    logo = co.retention_triangle(r, "logo_rate")
    assert list(logo.index) == ["2026-01", "2026-03", "2026-05"]  # no row for the empty Feb cohort
    assert logo.loc["2026-01"].tolist() == pytest.approx([1, 1, 2 / 3, 2 / 3, 1])  # b away in Mar–Apr, back in May
    assert logo.loc["2026-03"].tolist()[:3] == [1.0, 0.0, 0.0] and math.isnan(logo.loc["2026-03", 3])
    assert logo.loc["2026-05", 0] == 1.0 and logo.loc["2026-05"].isna().sum() == 4  # month 1 not reached
    rev = co.retention_triangle(r, "revenue_rate")
    assert rev.loc["2026-01"].tolist() == pytest.approx([1, 1, 40 / 40, 1, 60 / 40])  # expansion lifts it to 150 %
    jan = r[r["cohort"] == pd.Period("2026-01", "M")]
    assert jan["customers"].unique().tolist() == [3] and jan["cohort_mrr_0"].unique().tolist() == [40.0]


def test_average_curve_pools_and_counts_cohorts():
    r = co.retention_cohorts(FIXTURE)
    avg = co.average_curve(r, "logo_rate").set_index("period")
    assert avg.loc[0, "cohorts"] == 3 and avg.loc[0, "rate"] == 1.0
    assert avg.loc[1, "cohorts"] == 2 and avg.loc[1, "rate"] == pytest.approx(3 / 4)  # (3 + 0) / (3 + 1)
    assert avg.loc[4, "cohorts"] == 1
    unweighted = co.average_curve(r, "logo_rate", weighted=False).set_index("period")
    assert unweighted.loc[1, "rate"] == pytest.approx((1 + 0) / 2)


def test_small_cohorts_flagged_and_left_out_of_average():
    r = co.retention_cohorts(FIXTURE, min_cohort_size=2)
    assert r.groupby("cohort")["small"].first().tolist() == [False, True, True]
    avg = co.average_curve(r, "logo_rate").set_index("period")
    assert avg.loc[1, "rate"] == 1.0 and avg.loc[1, "cohorts"] == 1


def test_quarter_grain():
    months = [str(p) for p in pd.period_range("2026-01", "2026-09", freq="M")]
    c = cmrr({"a": [5] * 9, "b": [5, 5, 5, 5, 5, 0, 0, 0, 0], "c": [0, 0, 0, 0, 7, 7, 7, 7, 7]}, months)
    r = co.retention_cohorts(c, "quarter")
    tri = co.retention_triangle(r, "logo_rate")
    assert list(tri.index) == ["2026Q1", "2026Q2"]
    assert tri.loc["2026Q1"].tolist() == pytest.approx([1.0, 0.5, 0.5])  # b gone at the end of Q2 (June)
    assert tri.loc["2026Q2", 0] == 1.0 and tri.loc["2026Q2", 1] == 1.0


def test_retention_records_format():
    recs = co.retention_records(co.retention_cohorts(FIXTURE), "logo_rate")
    assert recs[0] == {"cohort": "2026-01", "month": 0, "rate": 1.0}
    assert {"cohort": "2026-03", "month": 1, "rate": 0.0} in recs


def test_retention_by_group_with_unknown():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "channel": ["Paid Search", "Paid Search", "Events"]})
    months = [str(p) for p in pd.period_range("2026-01", "2026-08", freq="M")]
    c = cmrr({"a": [10] * 8, "b": [20, 20, 20, 0, 0, 0, 0, 0], "c": [30] * 8, "z": [0, 0, 0, 5, 5, 5, 5, 5]}, months)
    r = co.retention_by(c, customers, by="channel", months=(6,), gross_margin=1.0).set_index("channel")
    assert r["customers"].to_dict() == {"Events": 1, "Paid Search": 2, "unknown": 1}
    assert r.loc["Paid Search", "logo_retention_6m"] == 0.5  # a still pays at month 6, b does not
    assert math.isnan(r.loc["unknown", "logo_retention_6m"])  # z is only 4 months old
    assert r.loc["Paid Search", "revenue_per_customer_6m"] == pytest.approx((60 + 60) / 2)  # months 0–5
    # churn: 1 event over 7 + 3 exposure months (a paying Jan–Jul before Feb–Aug, b Jan–Mar)
    assert r.loc["Paid Search", "churn_rate"] == pytest.approx(1 / 10)
    assert r.loc["Paid Search", "arpu"] == pytest.approx((10 * 8 + 20 * 3) / 11)
    assert r.loc["Paid Search", "ltv"] == pytest.approx((140 / 11) / 0.1)
    assert math.isnan(r.loc["Events", "ltv"])  # no churn observed: LTV undefined


def test_funnel_cohort_curves_ignore_dates_after_as_of():
    contacts = pd.DataFrame({
        "created_at": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-02-03", "2026-04-02"]),
        "customer_at": pd.to_datetime(["2026-02-10", "2026-04-15", pd.NaT, pd.NaT]),
    })
    f = co.funnel_cohort_curves(contacts, "2026-03-31")
    jan = f[f["cohort"] == pd.Period("2026-01", "M")].set_index("months_since")
    assert jan["contacts"].unique().tolist() == [2]  # the April contact does not exist yet
    assert jan["converted"].tolist() == [0, 1, 1]  # the April conversion has not happened
    assert jan["rate"].tolist() == [0.0, 0.5, 0.5]
    assert not jan["partial"].any()
    assert f[f["cohort"] == pd.Period("2026-02", "M")]["months_since"].tolist() == [0, 1]
    mid = co.funnel_cohort_curves(contacts, "2026-03-15")
    assert mid[mid["cohort"] == pd.Period("2026-01", "M")]["partial"].tolist() == [False, False, True]
