"""Revenue without a sales process (issue #15 item 7): the contract's ``revenue`` file (``date``,
``amount``, ``channel``) is counted as bookings, never as won deals, so no win rate, deal size or
sales cycle is made up from it. Every expected value is worked out by hand.

Client ``shop`` (as_of 2026-06-30, window Apr-Jun 2026):

revenue   2025-06-01 30 web; 2026-04-06 100 web; 2026-05-11 200 (no channel); 2026-06-15 unknown web;
          2026-06-20 50 web
spend     2026-04-01 web 40; 2026-05-01 web 60

- bookings in the window: 100 + 200 + 50 = 350 (the unknown amount is left out, not 0);
  by month Apr 100, May 200, Jun 50;
- by channel: web 100 + 50 = 150, unknown 200; ROI web (150 - 100) / 100 = 0.5, blended over the
  paid channels' revenue alone (150 - 100) / 100 = 0.5 (the unknown 200 is credited to no paid
  channel); by month ROI Apr (100 - 40) / 40 = 1.5, May n/a (its one row has no channel), Jun (50 - 0)
  / 0 = n/a (no spend);
- the first revenue is dated on the 1st (Jun 2025 is a full month): Jul 2025 - Jun 2026 is the one
  complete 12-month period: 350 (June 2025's 30 lies before it).
"""

import math

import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.reports import OverviewReport

P = pd.Period
WINDOW = Window(P("2026-04", "M"), P("2026-06", "M"))
YAML = """client: shop
data_dir: shop
as_of: 2026-06-30
window_months: 3
stages: [lead, customer]
"""
FILES = {
    "contacts": "contact_id,created_at,channel\nZ1,2025-06-01,web\n",
    "revenue": "date,amount,channel\n2025-06-01,30,web\n2026-04-06,100,web\n2026-05-11,200,\n2026-06-15,,web\n"
               "2026-06-20,50,web\n",
    "spend": "date,channel,spend\n2026-04-01,web,40\n2026-05-01,web,60\n",
}


def test_recorded_revenue_is_revenue_not_bookings(fixture_client):
    """Recorded revenue without a sales process is "revenue" in kpis.csv and on the pages, never
    "bookings" (SPEC "Vocabulary"); the volumes keep one series for both."""
    _, m = fixture_client(YAML, FILES)
    v = m.volumes
    assert v.bookings["source"].unique().tolist() == ["revenue"] and len(v.bookings) == 5
    assert v.booked(WINDOW) == 350.0
    assert v.booked_monthly(WINDOW.months).tolist() == [100.0, 200.0, 50.0]
    assert m.volumes.amount_metric == "revenue"
    assert m.book.value("revenue") == 350.0 and m.book.find("bookings") is None
    # a year earlier (Apr-Jun 2025) the revenue starts on 1 Jun: 30, over a period covered in part
    year_ago = m.book.find("revenue", "window a year earlier")
    assert (year_ago.value, year_ago.coverage) == (30.0, "partial")
    assert m.overview.series.loc[P("2026-04", "M"), "bookings"] == 100.0


def test_recorded_revenue_makes_no_deal_metrics(fixture_client):
    _, m = fixture_client(YAML, FILES)
    frame = m.book.frame()
    # the metrics.json scalars keep their rows, n/a: no win rate, deal size or cycle is made up
    deal = frame[frame["metric"].isin(["win_rate", "avg_deal_size", "avg_sales_cycle_days", "weighted_pipeline"])]
    assert len(deal) == 4 and deal["value"].isna().all()
    assert {"won_deals", "open_pipeline"}.isdisjoint(set(frame["metric"]))
    assert "pipeline" not in set(m.overview.lags().get("pair", []))
    assert m.overview.series["pipeline"].isna().all()


def test_recorded_revenue_by_channel_and_roi(fixture_client):
    _, m = fixture_client(YAML, FILES)
    t = m.channel.table
    assert t.loc["web", "revenue"] == 150.0 and t.loc["unknown", "revenue"] == 200.0
    assert t.loc["web", "roi"] == pytest.approx(0.5)
    assert math.isnan(t.loc["web", "lead_revenue"])  # without deals, what leads won is unknown
    assert m.channel.total["roi"] == pytest.approx(0.5) and math.isnan(m.channel.total["mer"])
    roi = m.overview.series["roi"]
    assert roi.loc[P("2026-04", "M")] == pytest.approx(1.5) and math.isnan(roi.loc[P("2026-05", "M")])
    assert math.isnan(roi.loc[P("2026-06", "M")])


def test_the_revenue_target_uses_recorded_revenue(fixture_client):
    _, m = fixture_client(YAML, FILES)
    assert m.overview.yearly_revenue().to_dict() == {"Jul 2025 – Jun 2026": 350.0}
    assert m.overview._actual("bookings", pd.Timestamp("2026-04-01"), pd.Timestamp("2026-05-31")) == (300.0, 0.0)


def test_deals_and_recorded_revenue_add_up_and_only_deals_have_a_win_rate(fixture_client):
    """Plus deals: W won 1,000 on 2026-05-20 (web), L lost on 2026-05-25. Bookings in the window
    350 + 1,000 = 1,350; win rate 1 of 2 closed deals = 50 %, the revenue rows are not wins; the
    quarter 2026Q2's bookings in the deals table are the book's: 1,350."""
    files = FILES | {"deals": "deal_id,created_at,status,amount,closed_at,channel\n"
                              "W,2026-05-01,won,1000,2026-05-20,web\nL,2026-05-02,lost,500,2026-05-25,web\n"}
    _, m = fixture_client(YAML, files)
    assert m.volumes.booked(WINDOW) == 1350.0 and m.book.value("bookings") == 1350.0
    assert m.book.value("win_rate") == 0.5 and m.book.value("avg_deal_size") == 1000.0
    q = m.funnel.deals_by_quarter.set_index("quarter")
    # the quarter is the window (Apr-Jun 2026): its row is the window's
    assert q.loc["2026Q2", "bookings"] == 1350.0 == m.book.value("bookings", q.loc["2026Q2", "period"])
    assert m.channel.table.loc["web", "revenue"] == 1150.0  # 100 + 50 recorded + 1,000 won


def test_the_overview_cards_show_bookings_and_no_win_rate(fixture_client):
    data, _ = fixture_client(YAML, FILES)
    strip = repr(OverviewReport(data).kpis())
    assert "Revenue (Jun 2026): $50" in strip and "Bookings" not in strip and "Win rate" not in strip
