"""Mutation tests of ``volumes.py`` and ``coverage.py`` (issue #21): the cases the other tests leave
out, every expected value worked out by hand (as_of 2026-06-30 unless said otherwise).

- a skipped stage is dated by the next configured stage column that has dates up to as_of;
- new customers are covered by the ``mrr`` file or by the ``subscriptions`` file, not the contacts;
- won deals and a revenue file together: the bookings cover from the earlier first to the later last;
- a month whose amounts are all unknown is NaN, a covered month without rows 0, a month outside NaN;
- ``booked_between`` includes both days; ``Span.status`` at its exact edges; ``Coverage.of`` with a
  column that starts before the entry column, and for a file without an entry column.
"""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.metrics.coverage import Coverage, Span, ends_early, has_stopped, span

P = pd.Period
t = pd.Timestamp
MONTHS = pd.period_range("2026-01", "2026-06", freq="M")
YAML = """client: vc
data_dir: vc
as_of: 2026-06-30
window_months: 3
stages: [{stages}]
"""


def _yaml(stages="lead, customer"):
    return YAML.format(stages=stages)


def _skipped_contacts():
    """60 contacts, 10 created on the 1st of each month Jan-Jun 2026 (lead = created).

    - sql_at: the 20 created in Jan and Feb, 4 days later (Jan 5 and Feb 5): 20 dates from Jan 1 to
      as_of (180 days), none in the 145 days since Feb 5: 20 × 145 / 180 = 16.1 expected, P(0) ~ 0:
      stopped, covered Jan-Feb 2026;
    - mql_at: only C001, on 2026-07-15, after as_of: mql stays configured (a date was exported) but
      has no date up to as_of: a skipped stage, dated by the next column with dates (sql_at);
    - customer_at: C021 2026-03-10, C031 2026-04-10, C051 2026-06-10 (no sql date): not stopped,
      covered from the contacts' first month Jan to Jun 2026.
    """
    rows = ["contact_id,created_at,channel,lead_at,mql_at,sql_at,customer_at"]
    customer = {21: "2026-03-10", 31: "2026-04-10", 51: "2026-06-10"}
    for i in range(1, 61):
        month = (i - 1) // 10 + 1
        created = f"2026-0{month}-01"
        sql = f"2026-0{month}-05" if month <= 2 else ""
        mql = "2026-07-15" if i == 1 else ""
        rows.append(f"C{i:03d},{created},web,{created},{mql},{sql},{customer.get(i, '')}")
    return {"contacts": "\n".join(rows) + "\n"}


def test_a_skipped_stage_is_covered_by_the_next_stage_with_dates(fixture_client):
    """MQLs: no mql date up to as_of, so the sql_at column's coverage, Jan-Feb 2026; the MQL dates are
    the next stage reached: sql (10 in Jan, 10 in Feb) or, without one, customer (Mar, Apr, Jun: outside
    the coverage, so no data)."""
    _, m = fixture_client(_yaml("lead, mql, sql, customer"), _skipped_contacts())
    v = m.volumes
    jan_feb, jan_jun = Span(P("2026-01", "M"), P("2026-02", "M")), Span(P("2026-01", "M"), P("2026-06", "M"))
    assert v.coverage("mqls") == jan_feb and v.coverage("sqls") == jan_feb
    assert v.coverage("leads") == jan_jun and v.coverage("contacts") == jan_jun
    assert v.coverage("new_customers") == jan_jun  # customer_at, from the contacts' first month
    mqls = v.monthly("mqls", MONTHS)
    assert mqls.iloc[:2].tolist() == [10, 10] and mqls.iloc[2:].isna().all()
    assert v.status("mqls", Window(P("2026-04", "M"), P("2026-06", "M"))) == "none"
    assert math.isnan(v.count("mqls", Window(P("2026-04", "M"), P("2026-06", "M"))))
    assert v.count("mqls", Window(P("2026-02", "M"), P("2026-04", "M"))) == 10 + 1 + 1  # Feb sqls, Mar, Apr
    # leads: 10 a month, every month covered: whole numbers, no NaN
    leads = v.monthly("leads", MONTHS)
    assert leads.tolist() == [10] * 6 and leads.dtype == "int64"
    assert v.monthly("new_customers", MONTHS).tolist() == [0, 0, 1, 1, 0, 1]
    assert v.monthly("won_deals", MONTHS).isna().all() and v.coverage("won_deals") is None


def test_a_stage_with_no_dated_column_has_no_coverage_and_is_not_cut(fixture_client):
    """Stages lead, mql: mql_at has one date, after as_of (2026-07-15): no column from mql on has a date
    up to as_of, so the coverage cannot say (None, status full) and the MQL months are real zeros."""
    files = {"contacts": "contact_id,created_at,channel,lead_at,mql_at\n"
                         "A,2026-01-01,web,2026-01-01,2026-07-15\nB,2026-03-01,web,2026-03-01,\n"}
    _, m = fixture_client(_yaml("lead, mql"), files)
    v = m.volumes
    assert v.coverage("mqls") is None and v.status("mqls", Window(P("2026-04", "M"), P("2026-06", "M"))) == "full"
    mqls = v.monthly("mqls", MONTHS)
    assert mqls.tolist() == [0] * 6 and mqls.dtype == "int64"
    assert v.count("mqls", Window(P("2026-04", "M"), P("2026-06", "M"))) == 0
    assert v.monthly("leads", MONTHS).tolist() == [1, 0, 1, 0, 0, 0]


CONTACTS = "contact_id,created_at,channel,customer_at\nZ1,2026-01-01,web,\nZ2,2026-05-01,web,\n"
# MRR from March 2026: A new in March, B new in May (month-end snapshots)
MRR = "customer_id,month,mrr\nA,2026-03-01,100\nA,2026-04-01,100\nA,2026-05-01,100\nB,2026-05-01,50\n" \
      "A,2026-06-01,100\nB,2026-06-01,50\n"
SUBSCRIPTIONS = ("subscription_id,customer_id,start_date,amount,billing_period_months\n"
                 "S1,A,2026-02-15,100,1\nS2,B,2026-04-20,50,1\n")


def test_new_customers_are_covered_by_the_mrr_file(fixture_client):
    """The mrr file starts in March 2026 (entry: month) and runs to as_of: coverage Mar-Jun 2026, not
    the contacts' Jan-Jun; new customers A (March) and B (May); February is before the data: NaN."""
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "mrr": MRR})
    v = m.volumes
    assert v.coverage("new_customers") == Span(P("2026-03", "M"), P("2026-06", "M"))
    assert v.coverage("contacts") == Span(P("2026-01", "M"), P("2026-06", "M"))  # a count of its own
    nc = v.monthly("new_customers", MONTHS)
    assert nc.iloc[:2].isna().all() and nc.iloc[2:].tolist() == [1, 0, 1, 0]


def test_new_customers_are_covered_by_the_subscriptions_file(fixture_client):
    """Subscriptions start on 2026-02-15 (A) and 2026-04-20 (B): coverage Feb-Jun 2026; A new in
    February, B in April; January is before the data: NaN."""
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "subscriptions": SUBSCRIPTIONS})
    v = m.volumes
    assert v.coverage("new_customers") == Span(P("2026-02", "M"), P("2026-06", "M"))
    nc = v.monthly("new_customers", MONTHS)
    assert math.isnan(nc.iloc[0]) and nc.iloc[1:].tolist() == [1, 0, 1, 0, 0]


def test_an_ignored_mrr_file_gives_no_coverage(fixture_client):
    """An empty subscriptions file beside an mrr file: MRR is derived from the (empty) subscriptions,
    the mrr file is ignored (no movements); new customers fall back to the contacts' customer_at, which
    has no date: the mrr file's months are no coverage of them: None (status full: nothing to cut)."""
    files = {"contacts": CONTACTS, "mrr": MRR,
             "subscriptions": "subscription_id,customer_id,start_date,amount,billing_period_months\n"}
    _, m = fixture_client(_yaml(), files)
    v = m.volumes
    assert v.movements is None and v.coverage("new_customers") is None
    assert v.status("new_customers", Window(P("2026-04", "M"), P("2026-06", "M"))) == "full"


# revenue rows on the 10th of Oct and Nov 2025 (30 each: 60 dates): stopped (60 × 232 / 263 days = 53
# expected in the silence since 2025-11-10); won deals created 2026-01-02, closed in Feb-Jun 2026
REVENUE = "date,amount,channel\n" + "".join(f"2025-{mo}-10,10,web\n" for mo in (10, 11) for _ in range(30))
DEALS = ("deal_id,created_at,status,amount,closed_at,channel\n"
         "D1,2026-01-02,won,100,2026-02-03,web\n"
         "D2,2026-01-02,won,,2026-03-04,web\n"
         "D3,2026-01-02,won,,2026-03-20,web\n"
         "D4,2026-01-02,won,40,2026-05-01,web\n"
         "D5,2026-01-02,won,60,2026-05-31,web\n"
         "D6,2026-01-02,won,7,2026-06-15,web\n")


def test_won_deals_and_a_revenue_file_are_covered_together(fixture_client):
    """Revenue covers Oct-Nov 2025 (stopped), won deals Jan-Jun 2026 (from the first deal created):
    bookings Oct 2025 - Jun 2026. Per month: Oct 300, Nov 300, Dec 0 (covered, no rows), Jan 0,
    Feb 100, Mar NaN (both amounts unknown), Apr 0, May 40 + 60 = 100, Jun 7; Sep 2025 lies before."""
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "revenue": REVENUE, "deals": DEALS})
    v = m.volumes
    assert v.booking_coverage() == Span(P("2025-10", "M"), P("2026-06", "M"))
    assert v.coverage("won_deals") == Span(P("2026-01", "M"), P("2026-06", "M"))
    months = pd.period_range("2025-09", "2026-06", freq="M")
    got = v.booked_monthly(months)
    assert got.index.equals(months)
    expected = [np.nan, 300.0, 300.0, 0.0, 0.0, 100.0, np.nan, 0.0, 100.0, 7.0]
    assert np.array_equal(got.to_numpy(), np.array(expected), equal_nan=True)
    # the window Apr-Jun 2026: 100 + 7
    assert v.booked(Window(P("2026-04", "M"), P("2026-06", "M"))) == 107.0
    assert v.booking_status(Window(P("2025-09", "M"), P("2025-10", "M"))) == "partial"
    assert v.booked(Window(P("2025-09", "M"), P("2025-10", "M"))) == 300.0
    # before the bookings begin: no data, not 0
    assert v.booking_status(Window(P("2025-07", "M"), P("2025-09", "M"))) == "none"
    assert math.isnan(v.booked(Window(P("2025-07", "M"), P("2025-09", "M"))))
    # March alone: every amount unknown: NaN; Dec 2025: covered, no rows: 0
    assert math.isnan(v.booked(Window(P("2026-03", "M"), P("2026-03", "M"))))
    assert v.booked(Window(P("2025-12", "M"), P("2025-12", "M"))) == 0.0


def test_bookings_of_deals_alone_and_of_revenue_alone(fixture_client):
    """Deals alone: Jan-Jun 2026; revenue alone: Oct-Nov 2025 (stopped), so Dec 2025 is no data."""
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "deals": DEALS})
    assert m.volumes.booking_coverage() == Span(P("2026-01", "M"), P("2026-06", "M"))
    assert math.isnan(m.volumes.booked(Window(P("2025-10", "M"), P("2025-12", "M"))))
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "revenue": REVENUE})
    v = m.volumes
    assert v.booking_coverage() == Span(P("2025-10", "M"), P("2025-11", "M"))
    got = v.booked_monthly(pd.period_range("2025-10", "2025-12", freq="M"))
    assert got.iloc[:2].tolist() == [300.0, 300.0] and math.isnan(got.iloc[2])
    assert math.isnan(v.booked(Window(P("2025-12", "M"), P("2026-02", "M"))))


def test_without_deals_or_revenue_there_are_no_bookings(fixture_client):
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS})
    v = m.volumes
    assert v.booking_coverage() is None and v.booking_status(Window(P("2026-04", "M"), P("2026-06", "M"))) == "full"
    got = v.booked_monthly(MONTHS)
    assert got.index.equals(MONTHS) and got.dtype == "float64" and got.isna().all()
    assert math.isnan(v.booked(Window(P("2026-04", "M"), P("2026-06", "M"))))
    assert math.isnan(v.booked_between(t("2026-01-01"), t("2026-06-30")))


def test_booked_between_includes_both_days(fixture_client):
    """Deals closed 2026-05-01 (40) and 2026-05-31 (60): [May 1, May 31] = 100; [May 2, May 30] = 0
    (no rows: 0, not NaN); [Mar 4, Mar 20] holds only unknown amounts: NaN; [Feb 3, Mar 4] = 100."""
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "deals": DEALS})
    v = m.volumes
    assert v.booked_between(t("2026-05-01"), t("2026-05-31")) == 100.0
    assert v.booked_between(t("2026-05-01"), t("2026-05-01")) == 40.0
    assert v.booked_between(t("2026-05-31"), t("2026-06-14")) == 60.0
    assert v.booked_between(t("2026-05-02"), t("2026-05-30")) == 0.0
    assert math.isnan(v.booked_between(t("2026-03-04"), t("2026-03-20")))
    assert v.booked_between(t("2026-02-03"), t("2026-03-04")) == 100.0


@pytest.mark.parametrize("first, last, status", [
    ("2026-01", "2026-05", "full"),   # exactly the span
    ("2026-05", "2026-05", "full"),   # its last month
    ("2026-01", "2026-01", "full"),   # its first month
    ("2025-12", "2026-01", "partial"),  # ends on its first month
    ("2026-05", "2026-06", "partial"),  # starts on its last month
    ("2025-12", "2026-06", "partial"),  # around it
    ("2025-11", "2025-12", "none"),   # just before
    ("2026-06", "2026-07", "none"),   # just after
])
def test_span_status_at_its_edges(first, last, status):
    """Span Jan-May 2026."""
    s = Span(P("2026-01", "M"), P("2026-05", "M"))
    assert s.status(Window(P(first, "M"), P(last, "M"))) == status


def test_ends_early_exactly_a_month_after():
    """A month after 2026-06-30 is 2026-07-30: as_of on that day is not more than a month past."""
    assert not ends_early(t("2026-06-30"), t("2026-07-30"))
    assert ends_early(t("2026-06-30"), t("2026-07-31"))
    assert not has_stopped(t("2025-01-01"), t("2026-06-30"), 10_000, t("2026-07-30"))


def test_has_stopped_uses_the_pace_from_the_first_date_to_as_of():
    """First 2026-01-01, last 2026-03-01, as_of 2026-06-30 (180 days; 121 days of silence).
    3 dates: 3 × 121 / 180 = 2.02 expected, P(0) = 13 %: not stopped; 8 dates: 5.38, P(0) = 0.46 %: stopped.
    With pmf(1) (one date) instead of none, 8 dates would give 2.5 %."""
    first, last, as_of = t("2026-01-01"), t("2026-03-01"), t("2026-06-30")
    assert not has_stopped(first, last, 3, as_of)
    assert has_stopped(first, last, 8, as_of)
    assert has_stopped(first, last, 8, as_of, chance=0.005) and not has_stopped(first, last, 8, as_of, chance=0.004)
    # span: stopped -> its last month; not stopped -> as_of's month; no dates counted (0): not stopped
    assert span(first, last, as_of, 8) == Span(P("2026-01", "M"), P("2026-03", "M"))
    assert span(first, last, as_of, 3) == Span(P("2026-01", "M"), P("2026-06", "M"))
    assert span(first, last, as_of, 0) == Span(P("2026-01", "M"), P("2026-06", "M"))


def test_coverage_of_a_column_that_starts_before_or_after_the_entry_column():
    """contacts created_at 2026-03-05 to 2026-06-29 (400 dates); lead_at from 2026-01-20 to 2026-06-28
    (imported leads dated before they were created): lead coverage starts in January; mql_at from
    2026-04-02: coverage from the contacts' first month, March."""
    c = Coverage({"contacts": {"created_at": (t("2026-03-05"), t("2026-06-29"), 400),
                               "lead_at": (t("2026-01-20"), t("2026-06-28"), 400),
                               "mql_at": (t("2026-04-02"), t("2026-06-20"), 200)}}, t("2026-06-30"))
    assert c.of("contacts", "lead_at") == Span(P("2026-01", "M"), P("2026-06", "M"))
    assert c.of("contacts", "mql_at") == Span(P("2026-03", "M"), P("2026-06", "M"))
    assert c.of("contacts") == Span(P("2026-03", "M"), P("2026-06", "M"))
    assert c.ended() == []


def test_coverage_of_a_file_without_its_entry_column():
    """A file whose ranges lack the entry column (deals with only closing dates), and a file without an
    entry column at all (customers): the column's own first date starts it. closed_at 2026-02-10 to
    2026-03-15 (50 dates, 107 days of silence of 140: 38 expected): stopped, Feb-Mar 2026."""
    c = Coverage({"deals": {"closed_at": (t("2026-02-10"), t("2026-03-15"), 50)},
                  "customers": {"since": (t("2025-11-03"), t("2026-06-01"), 5)}}, t("2026-06-30"))
    assert c.of("deals", "closed_at") == Span(P("2026-02", "M"), P("2026-03", "M"))
    assert c.of("deals") is None  # no created_at range
    assert c.of("customers", "since") == Span(P("2025-11", "M"), P("2026-06", "M"))
    assert c.of("customers") is None and c.of("targets") is None
    assert c.ended() == [("deals", "closed_at", t("2026-03-15"))]


def test_ended_lists_only_stopped_columns_in_order():
    """Two files; a column whose last date is in as_of's month is not listed; the stopped ones are,
    with their own last date."""
    c = Coverage({"contacts": {"created_at": (t("2026-01-01"), t("2026-06-02"), 300),
                               "mql_at": (t("2026-01-01"), t("2026-02-27"), 300)},
                  "spend": {"date": (t("2025-06-01"), t("2026-01-31"), 245)}}, t("2026-06-30"))
    assert c.ended() == [("contacts", "mql_at", t("2026-02-27")), ("spend", "date", t("2026-01-31"))]


def test_bookings_credit_the_deals_channel_else_its_contacts_else_unknown(fixture_client):
    """The one rule that says which channel a booking belongs to (the channel table reads it).

    contacts C1 (paid), C2 (organic); deals, all won but W5:
      W1 1200 Feb 20, no channel, contact C1   -> paid (the contact's)
      W2  500 Mar  1, channel events, C2        -> events (the deal's own, not C2's organic)
      W3  400 Mar 15, no channel, no contact    -> unknown
      W4  250 Apr  3, no channel, ZZ (no such contact) -> unknown
      W5  lost 900                              -> no booking
    revenue file: R1 80 May 2 (no channel column) -> unknown."""
    contacts = ("contact_id,created_at,channel,lead_at\n"
                "C1,2026-01-05,paid,2026-01-05\nC2,2026-01-06,organic,2026-01-06\n")
    deals = ("deal_id,created_at,status,amount,closed_at,contact_id,channel\n"
             "W1,2026-01-10,won,1200,2026-02-20,C1,\nW2,2026-01-10,won,500,2026-03-01,C2,events\n"
             "W3,2026-01-10,won,400,2026-03-15,,\nW4,2026-01-10,won,250,2026-04-03,ZZ,\n"
             "W5,2026-01-10,lost,900,2026-04-04,C1,\n")
    _, m = fixture_client(_yaml(), {"contacts": contacts, "deals": deals, "revenue": "date,amount\n2026-05-02,80\n"})
    b = m.volumes.bookings
    assert b[["amount", "channel", "source"]].values.tolist() == [
        [1200.0, "paid", "deals"], [500.0, "events", "deals"], [400.0, "unknown", "deals"],
        [250.0, "unknown", "deals"], [80.0, "unknown", "revenue"]]
    # the channel table's revenue is these bookings by channel: paid 1200, events 500, unknown 400 + 250 + 80
    revenue = m.channel.table_for(Window(P("2026-01", "M"), P("2026-06", "M")))["revenue"]
    assert revenue[revenue > 0].to_dict() == {"events": 500.0, "paid": 1200.0, "unknown": 730.0}


def test_bookings_of_deals_that_are_all_still_open(fixture_client):
    """Two open deals, no closing date anywhere: nothing is booked (0 a month, the deals file is there),
    and the bookings have no coverage to cut the months with."""
    deals = "deal_id,created_at,status,amount,closed_at\nO1,2026-02-01,open,500,\nO2,2026-03-01,open,700,\n"
    _, m = fixture_client(_yaml(), {"contacts": CONTACTS, "deals": deals})
    v = m.volumes
    assert v.booking_coverage() is None and len(v.bookings) == 0
    assert v.booked_monthly(MONTHS).tolist() == [0.0] * 6
