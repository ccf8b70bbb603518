"""Funnel cases that tell apart the definitions the mutation run of ``kpi_kit/metrics/funnel.py`` left
open (issue #21). Every expected value is worked out by hand in the docstrings, from the fixtures below.

SIGNUP: contacts whose creation column is ``signup_at`` (not ``created_at``), stages lead, MQL, customer;
as_of 2026-03-31.

  id  signup_at   lead_at     mql_at      customer_at   passed (skips dated by the next stage)
  A   2026-01-10  2026-01-10  2026-01-20  2026-02-19    created, lead, MQL, customer
  B   2026-02-03  2026-02-05  -           2026-03-07    created, lead, MQL (03-07, skipped), customer
  C   2026-02-20  -           -           -             created only
  D   2026-03-31  2026-03-31  -           -             created, lead
"""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.metrics import compute
from kpi_kit.metrics import funnel as fu

STAGES = ["lead", "mql", "customer"]
JAN_MAR = Window(pd.Period("2026-01", "M"), pd.Period("2026-03", "M"))
FEB_MAR = Window(pd.Period("2026-02", "M"), pd.Period("2026-03", "M"))


def _d(*days):
    return pd.to_datetime(list(days))


@pytest.fixture
def signup():
    return pd.DataFrame({
        "contact_id": ["A", "B", "C", "D"],
        "signup_at": _d("2026-01-10", "2026-02-03", "2026-02-20", "2026-03-31"),
        "lead_at": _d("2026-01-10", "2026-02-05", None, "2026-03-31"),
        "mql_at": _d("2026-01-20", None, None, None),
        "customer_at": _d("2026-02-19", "2026-03-07", None, None),
    })


# -- the creation column is an argument: every function honours it ----------------------------------------------
def test_passed_dates_and_reached_use_the_given_creation_column(signup):
    """passed: A 01-10, 01-10, 01-20, 02-19; B 02-03, 02-05, 03-07 (its customer date), 03-07;
    C 02-20 only; D 03-31, 03-31. reached per contact: A and B every stage, C created only, D created+lead."""
    dates = fu.passed_dates(signup, STAGES, "signup_at").set_index(signup["contact_id"])
    assert dates.columns.tolist() == ["created", "lead", "mql", "customer"]
    assert dates.loc["B"].tolist() == list(_d("2026-02-03", "2026-02-05", "2026-03-07", "2026-03-07"))
    assert dates.loc["A", "created"] == pd.Timestamp("2026-01-10")
    hit = fu.reached(signup, STAGES, "signup_at").set_index(signup["contact_id"])
    assert hit.to_dict("index") == {
        "A": {"created": True, "lead": True, "mql": True, "customer": True},
        "B": {"created": True, "lead": True, "mql": True, "customer": True},
        "C": {"created": True, "lead": False, "mql": False, "customer": False},
        "D": {"created": True, "lead": True, "mql": False, "customer": False},
    }


def test_cohort_funnel_with_the_given_creation_column_and_no_maturity(signup):
    """Created per month: Jan A; Feb B, C; Mar D. Reached: Jan 1/1/1/1; Feb lead 1 (B), MQL 1, customer 1;
    Mar lead 1 (D). No maturity (None counts as 0 days): a cohort is mature once its last day is on or
    before as_of: Jan 31 (59 days), Feb 28 (31 days) and Mar 31 (0 days: as_of is the last day) all are."""
    cf = fu.cohort_funnel(signup, STAGES, "2026-03-31", created_col="signup_at")
    assert [str(c) for c in cf["cohort"]] == ["2026-01", "2026-02", "2026-03"]
    assert cf[["created", "lead", "mql", "customer"]].values.tolist() == [[1, 1, 1, 1], [2, 1, 1, 1], [1, 1, 0, 0]]
    assert cf["mature"].tolist() == [True, True, True]
    assert all(cf[c].dtype == "int64" for c in ["created", "lead", "mql", "customer"])  # counts, not 1.0
    # a NaN typical cycle also counts as 0 days; a 1-day cycle leaves the March cohort (0 days old) immature
    assert fu.cohort_funnel(signup, STAGES, "2026-03-31", created_col="signup_at",
                            maturity_days=float("nan"))["mature"].tolist() == [True, True, True]
    assert fu.cohort_funnel(signup, STAGES, "2026-03-31", created_col="signup_at",
                            maturity_days=1)["mature"].tolist() == [True, True, False]


def test_cohort_funnel_without_contacts_is_the_month_of_as_of():
    """No contact: one cohort, the month of as_of (2026-03), of zeros; it ends Mar 31, after as_of (Mar 15):
    not mature."""
    empty = pd.DataFrame({"created_at": pd.Series([], dtype="datetime64[ns]"),
                          "lead_at": pd.Series([], dtype="datetime64[ns]")})
    cf = fu.cohort_funnel(empty, ["lead"], "2026-03-15")
    assert [str(c) for c in cf["cohort"]] == ["2026-03"]
    assert cf[["created", "lead"]].values.tolist() == [[0, 0]] and cf["mature"].tolist() == [False]
    assert cf["created"].dtype == "int64" and cf["lead"].dtype == "int64"


def test_period_funnel_with_the_given_creation_column(signup):
    """Entries per month (passed dates): created Jan 1 (A), Feb 2 (B, C), Mar 1 (D); lead Jan 1 (A),
    Feb 1 (B, Feb 5), Mar 1 (D); MQL Jan 1 (A, Jan 20), Feb 0, Mar 1 (B's skip, dated Mar 7);
    customer Jan 0, Feb 1 (A, Feb 19), Mar 1 (B, Mar 7)."""
    months = pd.period_range("2026-01", "2026-03", freq="M")
    pf = fu.period_funnel(signup, STAGES, months, created_col="signup_at")
    assert pf.columns.tolist() == ["month", "created", "lead", "mql", "customer"]
    assert pf.set_index("month").to_dict("list") == {"created": [1, 2, 1], "lead": [1, 1, 1], "mql": [1, 0, 1],
                                                     "customer": [0, 1, 1]}
    assert all(pf[c].dtype == "int64" for c in ["created", "lead", "mql", "customer"])


def test_period_funnel_over_no_month_keeps_the_month_column():
    c = pd.DataFrame({"created_at": _d("2026-01-05"), "lead_at": _d("2026-01-05")})
    pf = fu.period_funnel(c, ["lead"], pd.PeriodIndex([], freq="M"))
    assert len(pf) == 0 and pf.columns.tolist() == ["month", "created", "lead"]
    assert pf["month"].dtype == pd.PeriodDtype("M")


def test_stage_conversion_with_the_given_creation_column(signup):
    """All contacts: reached created 4, lead 3 (A, B, D), MQL 2 (A, B), customer 2 -> 3/4, 2/3, 2/2.
    Created Feb–Mar (B, C, D): 3, 2 (B, D), 1 (B), 1 -> 2/3, 1/2, 1/1."""
    conv = fu.stage_conversion(signup, STAGES, created_col="signup_at")
    assert conv["reached_from"].tolist() == [4, 3, 2] and conv["reached_to"].tolist() == [3, 2, 2]
    assert conv["rate"].tolist() == pytest.approx([3 / 4, 2 / 3, 1.0])
    feb = fu.stage_conversion(signup, STAGES, FEB_MAR, created_col="signup_at")
    assert feb["reached_from"].tolist() == [3, 2, 1] and feb["rate"].tolist() == pytest.approx([2 / 3, 1 / 2, 1.0])


def test_stage_velocity_with_the_given_creation_column_same_day_is_in_order(signup):
    """Own dates only. created->lead: A 0, B 2, D 0 days -> median 0, 3 pairs, none out of order (a same-day
    pair is in order). lead->MQL: A 10 days (Jan 10 -> Jan 20). MQL->customer: A 30 days (Jan 20 -> Feb 19)."""
    v = fu.stage_velocity(signup, STAGES, created_col="signup_at")
    assert v["median_days"].tolist() == [0.0, 10.0, 30.0]
    assert v["pairs"].tolist() == [3, 1, 1]
    assert v["out_of_order"].tolist() == [0, 0, 0]


def test_conversion_by_quarter_with_the_given_creation_column_and_five_quarters_by_default(signup):
    """Five quarters by default: 2025Q1 .. 2026Q1, three pairs -> 15 rows. 2026Q1: created->lead 4 entered
    (A, B, C, D), 3 converted; lead->MQL 3 entered (A, B, D), 2 converted (A, B; B's skip counts)."""
    q = fu.conversion_by_quarter(signup, STAGES, "2026-03-31", created_col="signup_at")
    assert len(q) == 15
    assert q[q["from"] == "created"]["quarter"].tolist() == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    q1 = q[q["quarter"] == "2026Q1"].set_index("from")
    assert q1.loc["created", ["entered", "converted"]].tolist() == [4, 3]
    assert q1.loc["lead", ["entered", "converted"]].tolist() == [3, 2]
    assert q1.loc["created", "rate"] == 0.75


def test_lead_to_close_with_the_given_creation_column(signup):
    """Jan–Mar 2026: leads A (Jan 10), B (Feb 5), D (Mar 31) = 3; customers A (Feb 19), B (Mar 7) = 2 -> 2/3.
    Jan–Mar 2025: none."""
    ltc = fu.lead_to_close(signup, STAGES, JAN_MAR, created_col="signup_at").set_index("period")
    assert ltc.loc["current", ["leads", "customers"]].tolist() == [3, 2]
    assert ltc.loc["current", "rate"] == pytest.approx(2 / 3)
    assert ltc.loc["year earlier", ["leads", "customers"]].tolist() == [0, 0]
    assert math.isnan(ltc.loc["year earlier", "rate"])


# -- stages without a column, a frame whose index does not start at 0 --------------------------------------------
def test_a_stage_without_a_column_is_never_dated_and_rows_keep_their_index():
    """Contacts 10 and 11 (a filtered frame: index 10, 11), no sal_at and no customer_at column.
    Own dates: created and lead as given, SAL and customer NaT. Passed: the same (nothing later dates them)."""
    c = pd.DataFrame({"created_at": _d("2026-01-01", "2026-01-02"), "lead_at": _d("2026-01-03", None)},
                     index=[10, 11])
    own = fu._stage_dates(c, ["lead", "sal"])  # the helper's default creation column is created_at
    assert own.index.tolist() == [10, 11] and own.columns.tolist() == ["created", "lead", "sal"]
    assert own["sal"].isna().all() and own["sal"].dtype == "datetime64[ns]"
    assert own["created"].tolist() == list(_d("2026-01-01", "2026-01-02"))
    passed = fu.passed_dates(c, ["lead", "sal", "customer"])
    assert passed.index.tolist() == [10, 11]
    assert fu.reached(c, ["lead", "sal", "customer"]).values.tolist() == [[True, True, False, False],
                                                                           [True, False, False, False]]
    # window Jan 2026 keeps both (index 10, 11): velocity over the own dates, SAL never dated
    v = fu.stage_velocity(c, ["lead", "sal"], Window(pd.Period("2026-01", "M"), pd.Period("2026-01", "M")))
    assert v["pairs"].tolist() == [1, 0] and v["median_days"].iloc[0] == 2.0 and math.isnan(v["median_days"].iloc[1])


def test_no_stage_pairs_keep_the_table_columns():
    c = pd.DataFrame({"created_at": _d("2026-01-01")})
    conv = fu.stage_conversion(c, [])
    assert len(conv) == 0 and conv.columns.tolist() == ["from", "to", "reached_from", "reached_to", "rate"]
    vel = fu.stage_velocity(c, [])
    assert len(vel) == 0 and vel.columns.tolist() == ["from", "to", "median_days", "pairs", "out_of_order"]


def test_typical_sales_cycle_without_any_customer_is_nan():
    c = pd.DataFrame({"created_at": _d("2026-01-01", "2026-01-02"), "customer_at": _d(None, None)})
    assert math.isnan(fu.typical_sales_cycle_days(c))


# -- conversion by quarter: which quarters are still maturing ------------------------------------------------------
def test_conversion_by_quarter_maturing_against_the_75th_percentile_velocity():
    """as_of 2026-06-30 (a quarter's last day), quarters 2025Q4, 2026Q1, 2026Q2; stages lead, MQL, SQL.

      P1 created = lead = MQL 2026-01-05      P2 the same, 2026-01-10     P3 the same, 2026-02-01
      P4 created = lead 2026-02-10, MQL 2026-05-21 (100 days later)       P5 created = lead 2026-04-02
      nobody has an SQL date.

    Days from each quarter's end to as_of: 2025Q4 181, 2026Q1 91, 2026Q2 0; maturing = days < p75.
    created->lead: lags 0, 0, 0, 0, 0 -> p75 0: 0 < 0 is false, no quarter maturing.
    lead->MQL: lags 0, 0, 0, 100 (same-day lags count) -> p75 = 0 + 0.25 * 100 = 25: only 2026Q2.
    MQL->SQL: no lag at all -> p75 0: 2026Q2 (0 days) is not maturing.
    Entered / converted: created->lead Q1 4/4, Q2 1/1; lead->MQL Q1 4/4, Q2 0/1 (P5);
    MQL->SQL Q1 3/0 (P1-P3), Q2 1/0 (P4, May 21). 2025Q4: nobody (rate n/a)."""
    c = pd.DataFrame({
        "created_at": _d("2026-01-05", "2026-01-10", "2026-02-01", "2026-02-10", "2026-04-02"),
        "lead_at": _d("2026-01-05", "2026-01-10", "2026-02-01", "2026-02-10", "2026-04-02"),
        "mql_at": _d("2026-01-05", "2026-01-10", "2026-02-01", "2026-05-21", None),
        "sql_at": _d(None, None, None, None, None),
    })
    q = fu.conversion_by_quarter(c, ["lead", "mql", "sql"], "2026-06-30", quarters=3)
    assert q.columns.tolist() == ["from", "to", "quarter", "entered", "converted", "rate", "maturing", "change_pp"]
    by = {a: q[q["from"] == a].set_index("quarter") for a in ("created", "lead", "mql")}
    assert by["created"]["maturing"].tolist() == [False, False, False]
    assert by["lead"]["maturing"].tolist() == [False, False, True]
    assert by["mql"]["maturing"].tolist() == [False, False, False]
    assert by["created"][["entered", "converted"]].values.tolist() == [[0, 0], [4, 4], [1, 1]]
    assert by["lead"][["entered", "converted"]].values.tolist() == [[0, 0], [4, 4], [1, 0]]
    assert by["mql"][["entered", "converted"]].values.tolist() == [[0, 0], [3, 0], [1, 0]]
    assert by["lead"]["rate"].iloc[1:].tolist() == [1.0, 0.0] and math.isnan(by["lead"]["rate"].iloc[0])
    assert by["lead"].loc["2026Q2", "change_pp"] == pytest.approx(-100.0)


def test_conversion_by_quarter_a_quarter_still_running_is_maturing_even_without_velocity():
    """as_of 2026-05-15, one quarter (2026Q2, ends Jun 30: -46 days). Q1 created = lead 2026-04-02, no MQL.
    created->lead p75 0, lead->MQL no lag (p75 0): -46 < 0, both maturing."""
    c = pd.DataFrame({"created_at": _d("2026-04-02"), "lead_at": _d("2026-04-02"), "mql_at": _d(None)})
    q = fu.conversion_by_quarter(c, ["lead", "mql"], "2026-05-15", quarters=1)
    assert q["quarter"].tolist() == ["2026Q2", "2026Q2"]
    assert q["maturing"].tolist() == [True, True]
    assert q[["entered", "converted"]].values.tolist() == [[1, 1], [1, 0]]


# -- targets -----------------------------------------------------------------------------------------------------------
def test_volumes_with_targets_without_targets_and_with_two_monthly_rows():
    """Leads Jan 2, Feb 1, Mar 1. Without targets: target and attainment n/a (float). With leads targets for
    Jan (4) and Mar (2) only: Jan 2/4 = 0.5, Feb none, Mar 1/2 = 0.5."""
    period = pd.DataFrame({"month": pd.period_range("2026-01", "2026-03", freq="M"), "lead": [2, 1, 1]})
    none = fu.volumes_with_targets(period, None)
    assert none.columns.tolist() == ["month", "stage", "metric", "actual", "target", "attainment"]
    assert none["metric"].tolist() == ["leads"] * 3 and none["actual"].tolist() == [2, 1, 1]
    assert none["target"].dtype == "float64" and none["target"].isna().all()
    assert none["attainment"].dtype == "float64" and none["attainment"].isna().all()
    targets = pd.DataFrame({"metric": ["leads", "leads"], "period_start": _d("2026-01-01", "2026-03-01"),
                            "period_end": _d("2026-01-31", "2026-03-31"), "target": [4.0, 2.0]})
    v = fu.volumes_with_targets(period, targets)
    assert v["target"].iloc[[0, 2]].tolist() == [4.0, 2.0] and math.isnan(v["target"].iloc[1])
    assert v["attainment"].iloc[[0, 2]].tolist() == [0.5, 0.5] and math.isnan(v["attainment"].iloc[1])


def _funnel(**attrs):
    f = fu.FunnelMetrics.__new__(fu.FunnelMetrics)
    for k, val in attrs.items():
        f.__dict__[k] = val
    return f


def test_target_attainment_keeps_the_stage_order_and_its_empty_table_has_columns():
    """Window Jan–Mar 2026. leads: Jan 2 (target 4), Feb 3 (none), Mar 1 (target 2) -> 3 / 6 = 0.5 over
    Jan – Mar; customers: Jan 1 (target 1), Feb 0 (target 2), Mar 1 (none) -> 1 / 3 over Jan – Feb.
    Dec 2025 (target 9) is before the window. Leads come first, as in the funnel (not alphabetically)."""
    months = pd.PeriodIndex(["2025-12", "2026-01", "2026-02", "2026-03"], freq="M")
    vol = pd.DataFrame({"month": list(months) * 2, "stage": ["lead"] * 4 + ["customer"] * 4,
                        "metric": ["leads"] * 4 + ["customers"] * 4, "actual": [5, 2, 3, 1, 0, 1, 0, 1],
                        "target": [9.0, 4.0, np.nan, 2.0, np.nan, 1.0, 2.0, np.nan]})
    f = _funnel(volumes=vol, ctx=SimpleNamespace(window=JAN_MAR))
    t = f.target_attainment()
    assert t.columns.tolist() == ["metric", "months", "actual", "target", "attainment"]
    assert t["metric"].tolist() == ["leads", "customers"]
    assert t["months"].tolist() == ["Jan 2026 – Mar 2026", "Jan 2026 – Feb 2026"]
    assert t[["actual", "target"]].values.tolist() == [[3.0, 6.0], [1.0, 3.0]]
    assert t["attainment"].tolist() == pytest.approx([0.5, 1 / 3])
    empty = _funnel(volumes=vol.assign(target=np.nan), ctx=SimpleNamespace(window=JAN_MAR)).target_attainment()
    assert empty.empty and empty.columns.tolist() == ["metric", "months", "actual", "target", "attainment"]


# -- FunnelMetrics on a client --------------------------------------------------------------------------------------
def test_funnel_metrics_with_and_without_deals(tiny):
    assert compute(tiny).funnel.has_deals is True
    tiny.frames.pop("deals")
    f = compute(tiny).funnel
    assert f.has_deals is False
    o = f.deal_outcomes(JAN_MAR)
    assert list(o) == ["won", "lost", "won_amount", "win_rate", "avg_deal_size", "won_without_amount"]
    assert all(math.isnan(v) for v in o.values())
    p = f.pipeline
    assert list(p) == ["open_deals", "pipeline", "weighted_pipeline", "without_probability", "without_amount"]
    assert p["open_deals"] == 0 and p["without_probability"] == 0 and p["without_amount"] == 0
    assert math.isnan(p["pipeline"]) and math.isnan(p["weighted_pipeline"])


def test_tables_without_contacts_are_empty_lists():
    f = _funnel(has_contacts=False)
    assert f.tables() == {"funnel_cohorts": [], "funnel_conversion": [], "stage_velocity": []}


def test_cohort_matrix_shows_24_months_by_default_and_keeps_single_contact_months():
    """26 monthly cohorts Jan 2024 – Feb 2026, each with 1 contact, a lead in Jan, Mar, May, ... (every other month):
    the last 24 (Mar 2024 – Feb 2026) are shown; a month of one contact is a cohort (not trimmed)."""
    months = pd.period_range("2024-01", periods=26, freq="M")
    cohorts = pd.DataFrame({"cohort": months, "created": [1] * 26, "lead": [(i + 1) % 2 for i in range(26)]})
    f = _funnel(stages=["lead"], cohorts=cohorts)
    mat = f.cohort_matrix()
    assert len(mat) == 24 and mat.index[0] == "2024-03" and mat.index[-1] == "2026-02"
    assert mat["Lead"].iloc[:2].tolist() == [1.0, 0.0]
    # one contact in the first and last month, two in between: nothing is trimmed
    small = _funnel(stages=["lead"], cohorts=pd.DataFrame({"cohort": months[:3], "created": [1, 2, 1],
                                                           "lead": [1, 1, 0]}))
    assert small.cohort_matrix().to_dict("index") == {"2024-01": {"Lead": 1.0}, "2024-02": {"Lead": 0.5},
                                                      "2024-03": {"Lead": 0.0}}


# -- deals whose amount is unknown ---------------------------------------------------------------------------------
def test_deal_outcomes_with_unknown_amounts():
    """Closed Jan–Mar 2026: W1 won 600, W2 won (amount unknown), L1 lost 200; W3 won 900 closes in 2025.
    Won 2, lost 1, win rate 2/3; won amount 600 (W2 left out), deal size 600 / 1 known = 600, 1 without
    amount. Only W2 (Feb) -> won 1 with no known amount: won amount and deal size unknown (NaN), 1 without.
    Only L1 (Mar 2026, lost) -> won 0: won amount 0.0 (nothing was won), deal size n/a, 0 without."""
    deals = pd.DataFrame({"deal_id": ["W1", "W2", "L1", "W3"], "status": ["won", "won", "lost", "won"],
                          "amount": [600.0, np.nan, 200.0, 900.0],
                          "closed_at": _d("2026-01-15", "2026-02-10", "2026-03-05", "2025-06-01")})
    o = fu.deal_outcomes(deals, JAN_MAR)
    assert {k: o[k] for k in ("won", "lost", "won_amount", "avg_deal_size", "won_without_amount")} == {
        "won": 2, "lost": 1, "won_amount": 600.0, "avg_deal_size": 600.0, "won_without_amount": 1}
    assert o["win_rate"] == pytest.approx(2 / 3)
    feb = fu.deal_outcomes(deals, Window(pd.Period("2026-02", "M"), pd.Period("2026-02", "M")))
    assert (feb["won"], feb["lost"], feb["win_rate"], feb["won_without_amount"]) == (1, 0, 1.0, 1)
    assert math.isnan(feb["won_amount"]) and math.isnan(feb["avg_deal_size"])
    mar = fu.deal_outcomes(deals, Window(pd.Period("2026-03", "M"), pd.Period("2026-03", "M")))
    assert (mar["won"], mar["lost"], mar["won_amount"], mar["win_rate"], mar["won_without_amount"]) == (
        0, 1, 0.0, 0.0, 0)
    assert math.isnan(mar["avg_deal_size"])


def test_weighted_pipeline_with_unknown_amounts():
    """Open: O1 1000 × 0.5, O2 unknown amount × 0.9, O3 400 without probability; X1 won 50.
    pipeline 1400 (O2 left out), weighted 500 (O2: no amount, O3: no probability), 1 without probability,
    1 without amount. Only O2 open: the pipeline is unknown (NaN), so is the weighted value."""
    deals = pd.DataFrame({"status": ["open", "open", "open", "won"], "amount": [1000.0, np.nan, 400.0, 50.0],
                          "probability": [0.5, 0.9, np.nan, 1.0]})
    assert fu.weighted_pipeline(deals) == {"open_deals": 3, "pipeline": 1400.0, "weighted_pipeline": 500.0,
                                           "without_probability": 1, "without_amount": 1}
    only = fu.weighted_pipeline(deals.iloc[[1, 3]])
    assert (only["open_deals"], only["without_probability"], only["without_amount"]) == (1, 0, 1)
    assert math.isnan(only["pipeline"]) and math.isnan(only["weighted_pipeline"])
