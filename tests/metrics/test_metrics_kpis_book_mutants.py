"""Mutation tests of the KPI book, ``kpis.py`` (issue #21): fixtures whose rows tell the book's
definitions apart where tiny and econ (test_metrics_kpis_mutants.py) cannot, every expected value
worked out by hand.

tiny's window is a quarter (Jan-Mar 2026): its quarter row, labelled "window" too, replaces the
window's win rate, deal size and cycle rows, so a mutant of the window rows alone is hidden there.
The fixtures here have a two-month window (not a quarter) and data that starts inside a quarter.

Wilson at z = 1.959964 (z² = 3.841459): (1, 2) = [.09453, .90547], (2, 3) = [.20766, .93850]; the
rows are also compared with ``wilson_interval`` of the hand-counted successes and n.
"""


import numpy as np
import pandas as pd
import pytest
from test_metrics_kpis_mutants import (  # the book's row helpers and econ's client (MRR, costs)
    _econ_files,
    _months,
    _nan,
    _row,
    _same,
    compute_book,
)

from kpi_kit._math import wilson_interval
from kpi_kit.metrics.kpis import PREVIOUS, YEAR_AGO

t = pd.Timestamp


# -- deals in a window that is not a quarter, from a first deal inside a quarter --------------------------------
DEALS_YAML = """client: deals2
data_dir: deals2
as_of: 2026-06-30
window_months: 2
stages: [lead, customer]
"""
DEALS_FILES = {
    "contacts": "contact_id,created_at,channel,lead_at\nQ1,2026-01-05,web,2026-01-05\n",
    "deals": "deal_id,created_at,status,amount,closed_at,probability\n"
             "E1,2026-02-10,won,300,2026-03-05,\n"
             "E2,2026-03-01,lost,40,2026-04-10,\n"
             "E3,2026-04-01,won,500,2026-05-20,\n"
             "E4,2026-04-15,lost,70,2026-06-01,\n"
             "E5,2026-05-01,won,,2026-06-10,\n"
             "E6,2026-06-05,open,1000,,0.5\n"
             "E7,2026-06-20,open,,,\n",
}


def test_deal_rows_of_a_window_that_is_not_a_quarter(fixture_client):
    """as_of 2026-06-30, a two-month window: May-Jun 2026; previous window Mar-Apr 2026; a year
    earlier May-Jun 2025. Deals (no contact on them: cycles from the deal's own creation):
    E1 created Feb 10, won 300 on Mar 5; E2 lost Apr 10; E3 created Apr 1, won 500 on May 20 (49 days);
    E4 lost Jun 1; E5 created May 1, won on Jun 10 (40 days) with no amount (unknown).

    - window: won E3, E5, lost E4: win rate 2/3 over n 3 closed, Wilson (2, 3); deal size 500 over the
      1 won deal with an amount (E5's unknown amount left out); cycle (49 + 40) / 2 = 44.5 over n 2;
    - previous window: won E1, lost E2: 1/2 over n 2, Wilson (1, 2); deal size 300 over n 1;
    - a year earlier: nothing closed: NaN over n 0, no interval.

    The window is not a quarter, so no quarter row takes its label: the quarters are 2026-Q1 and
    2026-Q2 (labelled so), the first from the first deal's quarter."""
    _, m = fixture_client(DEALS_YAML, DEALS_FILES)
    book = compute_book(m.data)
    M1, J30 = "2026-05-01", "2026-06-30"
    assert _same(_row(book, "win_rate"), (pytest.approx(2 / 3), 3.0, "percent", M1, J30, "full"))
    k = book.get("win_rate")
    assert (k.low, k.high) == pytest.approx((0.20766, 0.93850), abs=1e-5)
    assert (k.low, k.high) == wilson_interval(2, 3)
    assert _same(_row(book, "avg_deal_size"), (500.0, 1.0, "money", M1, J30, "full"))
    assert _same(_row(book, "avg_sales_cycle_days"), (44.5, 2.0, "days", M1, J30, "full"))
    p = book.get("win_rate", PREVIOUS)
    assert (p.value, p.n, p.period_start, p.period_end) == (0.5, 2.0, t("2026-03-01"), t("2026-04-30"))
    assert (p.low, p.high) == pytest.approx((0.09453, 0.90547), abs=1e-5)
    assert _same(_row(book, "avg_deal_size", PREVIOUS), (300.0, 1.0, "money", "2026-03-01", "2026-04-30", "full"))
    y = book.get("win_rate", YEAR_AGO)
    assert _nan(y.value) and y.n == 0.0 and _nan(y.low) and _nan(y.high)
    assert book.find("win_rate", "2026-Q2") is not None and book.find("win_rate", "2026-Q1") is not None


def test_bookings_of_a_quarter_the_deals_only_partly_cover(fixture_client):
    """The same deals: the bookings' coverage runs from the first deal's creation (Feb 10, 2026) to
    as_of (Feb-Jun 2026). Quarter 2026-Q1 (Jan 1 - Mar 31): E1's 300, partly covered (January is
    before the data); 2026-Q2 (Apr 1 - Jun 30): E3's 500 (E5's unknown amount left out), fully covered.
    Its win rate: E3, E5 won, E2, E4 lost: 2 of 4, Wilson (2, 4) = [.15004, .84996].
    The window (May-Jun) 500, full; the previous window (Mar-Apr) 300, full (from February on); a year
    earlier (May-Jun 2025) no data: NaN, none."""
    _, m = fixture_client(DEALS_YAML, DEALS_FILES)
    book = compute_book(m.data)
    assert _same(_row(book, "bookings", "2026-Q1"), (300.0, np.nan, "money", "2026-01-01", "2026-03-31", "partial"))
    assert _same(_row(book, "bookings", "2026-Q2"), (500.0, np.nan, "money", "2026-04-01", "2026-06-30", "full"))
    k = book.get("win_rate", "2026-Q2")
    assert (k.value, k.n) == (0.5, 4.0) and (k.low, k.high) == pytest.approx((0.15004, 0.84996), abs=1e-5)
    assert _same(_row(book, "win_rate", "2026-Q1"), (1.0, 1.0, "percent", "2026-01-01", "2026-03-31", "full"))
    assert _same(_row(book, "bookings"), (500.0, np.nan, "money", "2026-05-01", "2026-06-30", "full"))
    assert _same(_row(book, "bookings", PREVIOUS), (300.0, np.nan, "money", "2026-03-01", "2026-04-30", "full"))
    assert _same(_row(book, "bookings", YEAR_AGO), (np.nan, np.nan, "money", "2025-05-01", "2025-06-30", "none"))


def test_quarter_deal_size_rows_count_only_the_won_deals_with_an_amount(fixture_client):
    """The same deals by quarter closed. 2026-Q2: E3 won 500 (May 20, 49 days from Apr 1) and E5 won
    with no amount (Jun 10, 40 days from May 1): deal size 500 over n 1 (E5 left out, as in the
    window's row), cycle (49 + 40) / 2 = 44.5 over both won deals, n 2. 2026-Q1: E1 won 300 on Mar 5,
    23 days from Feb 10: deal size 300 over n 1, cycle 23 over n 1."""
    _, m = fixture_client(DEALS_YAML, DEALS_FILES)
    q = m.funnel.deals_by_quarter.set_index("quarter")
    assert q.loc["2026Q2", ["won", "won_without_amount", "avg_deal_size"]].tolist() == [2, 1, 500.0]
    book = compute_book(m.data)
    Q2 = ("2026-04-01", "2026-06-30", "full")
    assert _same(_row(book, "avg_deal_size", "2026-Q2"), (500.0, 1.0, "money", *Q2))
    assert _same(_row(book, "avg_sales_cycle_days", "2026-Q2"), (44.5, 2.0, "days", *Q2))
    Q1 = ("2026-01-01", "2026-03-31", "full")
    assert _same(_row(book, "avg_deal_size", "2026-Q1"), (300.0, 1.0, "money", *Q1))
    assert _same(_row(book, "avg_sales_cycle_days", "2026-Q1"), (23.0, 1.0, "days", *Q1))


# -- every stage, data that starts in the window: the previous window has none -----------------------------------
STAGES_YAML = """client: stages
data_dir: stages
as_of: 2026-06-30
window_months: 2
stages: [lead, mql, sal, sql, opportunity, customer]
"""
STAGES_FILES = {
    "contacts": "contact_id,created_at,channel,lead_at,mql_at,sal_at,sql_at,opportunity_at,customer_at\n"
                "F1,2026-05-04,web,2026-05-04,2026-05-06,2026-05-08,2026-05-10,2026-05-12,2026-05-20\n"
                "F2,2026-05-15,ads,2026-05-15,2026-06-01,,,,\n",
    "deals": "deal_id,created_at,status,amount,closed_at,contact_id\nG1,2026-05-12,won,900,2026-05-20,F1\n",
}


def test_counts_keep_their_own_rows_where_the_previous_window_has_no_data(fixture_client):
    """Window May-Jun 2026, previous window Mar-Apr 2026. Contacts F1 (created May 4, every stage to a
    customer on May 20) and F2 (May 15, a lead, an MQL on Jun 1); one deal, G1, created May 12, won 900
    on May 20. In the window: leads 2, MQLs 2, SALs 1, SQLs 1, opportunities 1, new customers 1, won
    deals 1, all covered. Nothing before May: the previous window has no data for any count (NaN,
    coverage none), whatever the channel table of that window says: the count rows are the book's
    own, never the channel totals'."""
    _, m = fixture_client(STAGES_YAML, STAGES_FILES)
    book = compute_book(m.data)
    M1, J30 = "2026-05-01", "2026-06-30"
    window = {"leads": 2.0, "mqls": 2.0, "sals": 1.0, "sqls": 1.0, "opportunities": 1.0, "new_customers": 1.0,
              "won_deals": 1.0}
    for metric, count in window.items():
        assert _same(_row(book, metric), (count, np.nan, "count", M1, J30, "full")), metric
        assert _same(_row(book, metric, PREVIOUS), (np.nan, np.nan, "count", "2026-03-01", "2026-04-30", "none")), metric


def test_pipeline_rows_count_only_the_open_deals_they_sum(fixture_client):
    """The same deals; open at as_of (Jun 30): E6 1000 at probability .5 and E7 with neither an amount
    nor a probability. Weighted pipeline 1000 × .5 = 500 over n 1 (E7 has no probability); open
    pipeline 1000 over n 1 (E7's amount unknown), both dated Jun 30."""
    _, m = fixture_client(DEALS_YAML, DEALS_FILES)
    book = compute_book(m.data)
    J30 = "2026-06-30"
    assert _same(_row(book, "weighted_pipeline", "as_of"), (500.0, 1.0, "money", J30, J30, "full"))
    assert _same(_row(book, "open_pipeline", "as_of"), (1000.0, 1.0, "money", J30, J30, "full"))


def test_lead_to_close_without_an_interval_when_its_rate_is_not_given(fixture_client):
    """Window May-Jun 2026; the contacts start on Jun 2 (H1, a lead then, a customer on Jun 20; H2, a
    lead on Jun 5): May has no data, the window is partly covered and its rate is not given (NaN),
    though 1 customer and 2 leads are counted: n 2, and no Wilson interval (a share of nothing given)."""
    files = {"contacts": "contact_id,created_at,channel,lead_at,customer_at\n"
                         "H1,2026-06-02,web,2026-06-02,2026-06-20\nH2,2026-06-05,web,2026-06-05,\n"}
    _, m = fixture_client(DEALS_YAML.replace("deals2", "ltc2"), files)
    book = compute_book(m.data)
    k = book.get("lead_to_close_cvr")
    assert _nan(k.value) and k.n == 2.0 and _nan(k.low) and _nan(k.high)
    assert (k.period_start, k.period_end) == (t("2026-05-01"), t("2026-06-30"))
    assert book.value("leads") == 2.0 and book.value("new_customers") == 1.0
    assert book.get("leads").coverage == "partial"


# -- a client with MRR and acquisition costs (econ of test_metrics_kpis_mutants.py) -------------------------------
ECON_YAML = """client: econ
data_dir: econ
as_of: 2026-06-30
window_months: 2
churn_window_months: 3
stages: [lead, customer]
cost_groups: {salaries: acquisition, hosting: service}
min_cohort_size: 1
min_sample: 1
cohort_grain: month
"""


def test_overview_adds_no_month_rows_of_what_economics_and_counts_give(fixture_client):
    """econ: last month Jun 2026, window May-Jun. The overview's series has LTV, LTV:CAC and payback
    month by month (with acquisition costs: LTV 765, LTV:CAC 765 / 300 = 2.55 in Jun 2026) and new
    customers (C in May 2026), but the book's rows of those come from economics (trailing, window,
    quarters) and the counts (new_customers): no monthly row named ltv, ltv_to_cac,
    cac_payback_months or customers for Jun 2026, May 2026 or Jun 2025."""
    _, m = fixture_client(ECON_YAML, _econ_files())
    book = compute_book(m.data)
    assert book.value("ltv", "trailing 3 months") == pytest.approx(765.0)
    assert book.value("ltv_to_cac", "trailing 3 months") == pytest.approx(2.55)
    assert book.value("new_customers", "2026-05") == 1.0
    for metric in ("ltv", "ltv_to_cac", "cac_payback_months"):
        for month in ("2026-06", "2026-05", "2025-06"):
            assert book.find(metric, month) is None, (metric, month)
    # "customers" is paying customers at a month end (economics), never the overview's new customers
    assert book.value("customers", "2026-05") != book.value("new_customers", "2026-05")


def test_mrr_rows_of_a_month_before_the_mrr_data(fixture_client):
    """MRR from Jan 2026 only (A pays 100 a month Jan-Jun 2026), last month Jun 2026, window May-Jun:
    Jun 2025, the last month a year earlier, is before the data: its MRR, paying customers, ARPU,
    new MRR and logo churn rows are there, NaN, dated Jun 1-30, 2025; Jun 2026: MRR 100, 1 paying
    customer, ARPU 100, no new MRR (A started in January), no churn."""
    mrr = "customer_id,month,mrr\n" + "".join(f"A,{mo},100\n" for mo in _months("2026-01", "2026-06"))
    files = {"mrr": mrr, "customers": "customer_id,contact_id,channel,segment\nA,K1,web,SMB\n",
             "contacts": "contact_id,created_at,channel,lead_at,customer_at\nK1,2025-12-10,web,2025-12-10,2026-01-05\n"}
    _, m = fixture_client(ECON_YAML.replace("econ", "late"), files)
    book = compute_book(m.data)
    for metric in ("mrr", "customers", "arpu", "new_mrr", "logo_churn_rate"):
        k = book.get(metric, "2025-06")
        assert _nan(k.value) and (k.period_start, k.period_end) == (t("2025-06-01"), t("2025-06-30")), metric
    assert [book.value(x, "2026-06") for x in ("mrr", "customers", "arpu", "new_mrr", "logo_churn_rate")] == [
        100.0, 1.0, 100.0, 0.0, 0.0]
