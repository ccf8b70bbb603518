"""Coverage and partial periods (SPEC "Real data: coverage"; issue #15 items 1 and 2), by hand.

Client ``stop`` (as_of 2026-07-31, last full month Jul 2026, window May-Jul 2026, stages lead, mql,
customer): 30 contacts created (lead = mql = created) on the 1st of each of Jan, Feb and Mar 2026
(90 in all, the last on 2026-03-01), then none: the export stopped. Customers: C001 on
2026-02-10, C031 on 2026-04-10, C061 on 2026-07-20.

- created_at: 90 dates from 2026-01-01 to as_of = 211 days = 6.93 months: 13.0 a month; none in the
  152 days (5.0 months) since 2026-03-01: Poisson P(0) = exp(-65) ~ 0 < 1 %: stopped, coverage Jan-Mar 2026.
- customer_at: last date 2026-07-20, within a month of as_of: covered to Jul 2026 (zeros are zeros),
  from the contacts' first month, Jan 2026.
"""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.metrics.coverage import Coverage, Span, has_stopped
from kpi_kit.reports.blocks import KPI, coverage_warning

P = pd.Period
CREATED = [f"2026-0{m}-01" for m in (1, 2, 3) for _ in range(30)]
CUSTOMER = {0: "2026-02-10", 30: "2026-04-10", 60: "2026-07-20"}
STOP_YAML = """client: stop
data_dir: stop
as_of: 2026-07-31
window_months: 3
stages: [lead, mql, customer]
"""


def _files():
    rows = ["contact_id,created_at,channel,lead_at,mql_at,customer_at"]
    for i, day in enumerate(CREATED):
        rows.append(f"C{i + 1:03d},{day},web,{day},{day},{CUSTOMER.get(i, '')}")
    return {"contacts": "\n".join(rows) + "\n"}


def test_a_stopped_export_has_no_data_after_its_last_month(fixture_client):
    _, m = fixture_client(STOP_YAML, _files())
    months = pd.period_range("2026-01", "2026-07", freq="M")
    mqls = m.volumes.monthly("mqls", months)
    assert mqls.iloc[:3].tolist() == [30, 30, 30] and mqls.iloc[3:].isna().all()  # no data, not 0
    # customers keep coming after the contacts stop: a quiet month is a real 0
    assert m.volumes.monthly("new_customers", months).tolist() == [0, 1, 0, 1, 0, 0, 1]
    assert m.volumes.coverage("mqls") == Span(P("2026-01", "M"), P("2026-03", "M"))
    assert m.volumes.coverage("new_customers") == Span(P("2026-01", "M"), P("2026-07", "M"))
    s = m.overview.series
    assert s.loc[P("2026-03", "M"), "mqls"] == 30 and math.isnan(s.loc[P("2026-05", "M"), "mqls"])
    assert s.loc[P("2026-05", "M"), "customers"] == 0


def test_counts_over_periods_outside_or_across_coverage(fixture_client):
    _, m = fixture_client(STOP_YAML, _files())
    v = m.volumes
    window = Window(P("2026-05", "M"), P("2026-07", "M"))
    assert v.status("mqls", window) == "none" and math.isnan(v.count("mqls", window))
    across = Window(P("2026-03", "M"), P("2026-05", "M"))
    assert v.status("mqls", across) == "partial" and v.count("mqls", across) == 30  # March's 30
    assert v.status("new_customers", window) == "full" and v.count("new_customers", window) == 1  # C061
    # a year earlier is before the contacts begin: no data for either count
    year_ago = window.shift(-12)
    assert v.status("new_customers", year_ago) == "none" and math.isnan(v.count("new_customers", year_ago))


def test_overview_indicators_take_their_source_s_coverage(fixture_client):
    """The overview's status per indicator (the monthly kpis.csv rows and the indicator table read it):
    MQLs follow the stopped contacts (Jan-Mar 2026): none in May-Jul, partial over Mar-May; customers
    follow customer_at (to Jul): full; an indicator kept up to date from MRR (LTV) has no span: full."""
    _, m = fixture_client(STOP_YAML, _files())
    o = m.overview
    window, across = Window(P("2026-05", "M"), P("2026-07", "M")), Window(P("2026-03", "M"), P("2026-05", "M"))
    assert o.status("mqls", window) == "none" and o.status("mqls", across) == "partial"
    assert o.status("customers", window) == "full" and o.status("ltv", window) == "full"


def test_overview_spans_of_leads_customers_bookings_and_roi(fixture_client):
    """Which source each indicator's months come from (OverviewMetrics.span_of).

    - leads follow the stopped lead dates (Jan-Mar 2026): none in May-Jul;
    - customers follow customer_at, covered from the contacts' first month (Jan 2026): none a year
      before, in May-Jul 2025;
    - with a deals file (D1 created 2026-01-05, won 2026-07-10): bookings are covered Jan-Jul 2026, so
      none in May-Jul 2025; LTV (kept up to date from MRR) has no span whatever the deals: full;
      ROI needs bookings and spend, and there is no spend file: no span either (full)."""
    deals = "deal_id,created_at,status,amount,closed_at\nD1,2026-01-05,won,900,2026-07-10\n"
    _, m = fixture_client(STOP_YAML, _files() | {"deals": deals})
    o = m.overview
    window, year_ago = Window(P("2026-05", "M"), P("2026-07", "M")), Window(P("2025-05", "M"), P("2025-07", "M"))
    assert o.status("leads", window) == "none" and o.status("customers", year_ago) == "none"
    assert o.span_of("bookings") == Span(P("2026-01", "M"), P("2026-07", "M"))
    assert o.status("bookings", year_ago) == "none" and o.status("bookings", window) == "full"
    assert o.span_of("ltv") is None and o.status("ltv", year_ago) == "full"
    assert o.span_of("roi") is None and o.status("roi", year_ago) == "full"


def test_cards_say_no_data_and_why_a_comparison_is_na(fixture_client):
    _, m = fixture_client(STOP_YAML, _files())
    book = m.book
    jul = book.find("mqls", "2026-07")
    assert jul.coverage == "none" and math.isnan(jul.value)
    card = KPI.of(book, "MQLs (Jul 2026)", "mqls", "2026-07", previous="2026-06", year_ago="2025-07")
    assert card.no_data and card.previous_why == "" and card.year_ago_why == ""  # the value itself says it
    card = KPI.of(book, "New customers (Jul 2026)", "new_customers", "2026-07", previous="2026-06",
                  year_ago="2025-07")
    assert (card.value, card.previous, card.no_data) == (1, 0, False)  # June: a real zero
    assert math.isnan(card.year_ago) and card.year_ago_why == "no data then"
    card = KPI.of(book, "New customers (window)", "new_customers", "window", previous="previous window")
    # previous window Feb-Apr 2026 is covered (contacts from Jan): C001 + C031 = 2
    assert (card.value, card.previous, card.previous_why) == (1, 2, "")


def test_lead_to_close_is_na_over_partial_data_and_says_why(fixture_client):
    _, m = fixture_client(STOP_YAML, _files())
    ltc = m.funnel.lead_to_close.set_index("period")
    assert ltc.loc["current", "coverage"] == "none" and math.isnan(ltc.loc["current", "rate"])
    assert ltc.loc["year earlier", "why"] == "no data then"
    # a 13-month window (Jul 2025 - Jul 2026) overlaps the one a year earlier (Jul 2024 - Jul 2025)
    _, m13 = fixture_client(STOP_YAML.replace("window_months: 3", "window_months: 13"), _files())
    ltc = m13.funnel.lead_to_close.set_index("period")
    assert ltc.loc["year earlier", "why"] == "overlaps the window" and math.isnan(ltc.loc["year earlier", "rate"])
    assert ltc.loc["current", "coverage"] == "partial"  # leads Jan-Mar 2026 only


def test_quarters_stop_with_the_data(fixture_client):
    """Contacts cover Jan-Mar 2026: 2026Q1 is the last full quarter; 2025 quarters lie wholly before."""
    _, m = fixture_client(STOP_YAML, _files())
    assert sorted(set(m.funnel.quarterly["quarter"])) == ["2026Q1"]


def test_the_header_names_every_stopped_column(fixture_client):
    data, _ = fixture_client(STOP_YAML, _files())
    assert coverage_warning(data) == ("Data ends before as of: contacts created, lead and mql dates end 01 Mar 2026. "
                                      "Later months show no data, and comparisons with them are n/a.")


def test_a_quiet_sparse_column_has_not_stopped():
    """Three customers from 2025-01-15 to as_of 2026-06-30 (17.5 months: 0.17 a month), the last on
    2026-03-20, 3.3 months ago: P(0) = exp(-0.17 * 3.3) = 0.57: the months since are zeros."""
    t = pd.Timestamp
    assert not has_stopped(t("2025-01-15"), t("2026-03-20"), 3, t("2026-06-30"))
    c = Coverage({"contacts": {"created_at": (t("2025-01-15"), t("2026-06-29"), 500),
                               "customer_at": (t("2025-01-20"), t("2026-03-20"), 3)}}, t("2026-06-30"))
    assert c.of("contacts", "customer_at") == Span(P("2025-01", "M"), P("2026-06", "M"))
    assert c.ended() == []
    # the same column with 300 dates has stopped: 17.1 a month, P(0) = exp(-56) ~ 0
    assert has_stopped(t("2025-01-15"), t("2026-03-20"), 300, t("2026-06-30"))


@pytest.mark.parametrize("days_before, stopped", [(29, False), (30, False), (31, True)])
def test_a_column_stops_only_more_than_a_month_before_as_of(days_before, stopped):
    """A fast column (1,000 dates) ending 2026-07-01 (30 days before as_of 2026-07-31) has not stopped: a
    month after it is 2026-08-01. Ending 2026-06-30 (31 days), it has: a month after is 2026-07-30."""
    t = pd.Timestamp
    as_of = t("2026-07-31")
    assert has_stopped(t("2025-01-01"), as_of - pd.Timedelta(days=days_before), 1000, as_of) is stopped


def test_yearly_revenue_leaves_out_a_first_month_the_data_covers_in_part(fixture_client):
    """Won deals of 100 created and closed on the 15th of every month, Aug 2024 - Jul 2026; as_of
    2026-07-31. The deals start on 15 Aug 2024: August is partly covered, so the first full month is
    Sep 2024 and Aug 2024 - Jul 2025 is not a complete year; Aug 2025 - Jul 2026 = 12 × 100 = 1,200.
    One complete year has no year-over-year growth: no target (n/a, never 1,200 × (1 + 0 % + 5 %))."""
    months = pd.period_range("2024-08", "2026-07", freq="M")
    deals = "deal_id,created_at,status,amount,closed_at\n" + "".join(
        f"D{i},{mo.start_time + pd.Timedelta(days=14):%Y-%m-%d},won,100,{mo.start_time + pd.Timedelta(days=14):%Y-%m-%d}\n"
        for i, mo in enumerate(months))
    files = {"contacts": "contact_id,created_at,channel\nZ1,2024-08-15,web\n", "deals": deals}
    _, m = fixture_client(STOP_YAML.replace("stages: [lead, mql, customer]", "stages: [lead]"), files)
    assert m.overview.yearly_revenue().to_dict() == {"Aug 2025 – Jul 2026": 1200.0}
    assert math.isnan(m.overview.revenue_goal()["target"])
    # from the 1st of the month, the same deals make two complete years
    files["deals"] = deals.replace("-15,won", "-01,won", 1)
    _, m = fixture_client(STOP_YAML.replace("stages: [lead, mql, customer]", "stages: [lead]"), files)
    assert list(m.overview.yearly_revenue().index) == ["Aug 2024 – Jul 2025", "Aug 2025 – Jul 2026"]


def test_yearly_revenue_stops_with_the_closing_dates(fixture_client):
    """Won deals of 100 on the 1st of every month Aug 2023 - Jul 2025, then none to as_of 2026-07-31:
    24 dates over 36 months, 0.67 a month, none for 12 months: P(0) = exp(-8) < 1 %: stopped in Jul
    2025. Aug 2025 - Jul 2026 runs past it and is left out; Aug 2024 - Jul 2025 = 1,200."""
    months = pd.period_range("2023-08", "2025-07", freq="M")
    deals = "deal_id,created_at,status,amount,closed_at\n" + "".join(
        f"D{i},{mo.start_time:%Y-%m-%d},won,100,{mo.start_time:%Y-%m-%d}\n" for i, mo in enumerate(months))
    files = {"contacts": "contact_id,created_at,channel\nZ1,2023-08-01,web\n", "deals": deals}
    _, m = fixture_client(STOP_YAML.replace("stages: [lead, mql, customer]", "stages: [lead]"), files)
    assert m.overview.yearly_revenue().to_dict() == {"Aug 2023 – Jul 2024": 1200.0, "Aug 2024 – Jul 2025": 1200.0}
    assert np.isnan(m.overview.series.loc[P("2026-07", "M"), "bookings"])


@pytest.mark.parametrize("count, stopped", [(23, False), (24, True)])
def test_a_column_stops_when_its_silence_has_under_one_chance_in_a_hundred(count, stopped):
    """First date 2025-01-01, as_of 2026-01-01 (365 days), last date 2025-10-20 (73 days of silence):
    count × 73 / 365 dates expected in the silence. 23 dates: 4.6 expected, P(0) = exp(-4.6) = 1.005 %;
    24 dates: 4.8 expected, P(0) = 0.82 % < 1 %."""
    t = pd.Timestamp
    assert has_stopped(t("2025-01-01"), t("2025-10-20"), count, t("2026-01-01")) is stopped


def test_a_later_column_can_stop_while_its_file_runs_on():
    """Contacts keep being created to 2025-12-30, but their MQL dates stop on 2025-06-30: 500 MQL dates
    over 364 days, 184 days of silence: 253 expected. Only the MQL column is named, and only it ends."""
    t = pd.Timestamp
    c = Coverage({"contacts": {"created_at": (t("2025-01-01"), t("2025-12-30"), 1000),
                               "mql_at": (t("2025-01-01"), t("2025-06-30"), 500)}}, t("2025-12-31"))
    assert c.ended() == [("contacts", "mql_at", t("2025-06-30"))]
    assert c.of("contacts", "mql_at") == Span(P("2025-01", "M"), P("2025-06", "M"))
    assert c.of("contacts") == Span(P("2025-01", "M"), P("2025-12", "M"))
    assert c.of("contacts", "sal_at") is None and c.of("deals") is None
