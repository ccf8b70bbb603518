"""The channel table, its ratios, the campaign table and ChannelMetrics' table
plumbing on small hand-made frames (issue #21: every number below is worked out by hand; the tests call
the functions directly, so each is fast and mutmut runs it for every mutant of the function).

Window Jan–Mar 2026 (JAN_MAR). The main fixture (``test_channel_table_full``):

contacts (created, channel, group, lead date)      in window?
  C1  2026-01-10  A        paid     lead 01-10     yes
  C2  2026-02-01  A        paid     lead 02-01     yes
  C3  2026-02-15  B        organic  lead 02-15     yes
  C4  2025-12-20  B        organic  lead 12-20     no (created and lead before the window)
  C5  2026-03-05  (none)   other    lead 03-05     yes: the ``unknown`` channel
  C7  2026-01-20  E        organic  (no lead)      yes
  C8  2026-03-31  E        organic  (no lead)      yes (the window's last day)
  -> contacts A 2, B 1, E 2, unknown 1

spend (date, channel, group, spend): A 100 (01-05) + 500 (03-31) = 600 (A 999 on 2025-12-31 is outside);
  P (paid, a channel seen only in spend) 0.5 (02-10)
traffic (date, channel, sessions): A 600 (01-15) + 400 (02-15) = 1000 (A 999 on 2026-04-01 outside);
  B 200; T (a channel seen only in traffic) 50
deals (status, amount, closed, contact, deal channel)
  D1  won   1200  2026-02-20  C1  (none)  -> revenue A (the contact's channel); lead revenue A (C1 a window lead)
  D2  won    500  2026-03-01  C3  A       -> revenue A (the deal's own channel); lead revenue B (C3's channel)
  D3  won    700  2025-12-28  C4  (none)  -> closed before the window: no revenue; C4 no window lead: no lead revenue
  D4  lost   300  2026-01-30  C2  (none)  -> lost: nothing
  D5  won    400  2026-03-15  C5  (none)  -> revenue unknown; lead revenue unknown
  -> revenue A 1700, unknown 400; lead revenue A 1200, B 500, unknown 400
bookings (Volumes.bookings of these deals: the won ones, each credited to its channel by that rule):
  D1 A 1200 (02-20), D2 A 500 (03-01), D3 B 700 (2025-12-28: outside), D5 unknown 400 (03-15)
counts (period counts as Volumes.by_channel gives them; sals is a stage the client does not track: NaN):
  A leads 4, mqls 3, opportunities 2, customers 1; B 1, 0, 0, 0; E 0, 0, 0, 0; unknown 1, 1, 1, 1

Ratios (paid = spend where > 0: A 600, P 0.5):
  A  CPL 600/4 = 150, per MQL 600/3 = 200, per SQO 600/2 = 300, CAC 600/1 = 600,
     visits per lead 1000/4 = 250, value per lead 1200/4 = 300, value per visit 1200/1000 = 1.2,
     ROI (1700 − 600)/600 = 11/6
  P  no leads, MQLs, SQOs, customers: costs n/a; ROI (0 − 0.5)/0.5 = −1
  B  unpaid: costs and ROI n/a; visits per lead 200/1 = 200, value per lead 500/1 = 500, per visit 500/200 = 2.5
  E  no leads, no sessions: all n/a
  T  value per visit 0/50 = 0; the rest n/a (no leads, no spend)
  unknown  visits per lead 0/1 = 0, value per lead 400/1 = 400, per visit 400/0 n/a
Groups: A, B, E from the contacts; P from spend ("paid"); T and unknown "other".
Order: group ascending (organic, other, paid), then spend descending, then contacts descending:
  E (0 spend, 2 contacts), B (0, 1), unknown (0, 1 contact), T (0, 0), A (600), P (0.5).
"""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.metrics import channel as ch

JAN_MAR = Window(pd.Period("2026-01", "M"), pd.Period("2026-03", "M"))
NAN = np.nan
STAGES = ["lead", "mql", "opportunity", "customer"]
RATIOS = ["cpl", "cost_per_mql", "cost_per_sqo", "cac", "visits_per_lead", "value_per_lead", "value_per_visit", "roi"]


def dates(values):
    return pd.to_datetime(pd.Series(values, dtype=object))


def contacts_frame():
    return pd.DataFrame({
        "contact_id": ["C1", "C2", "C3", "C4", "C5", "C7", "C8"],
        "created_at": dates(["2026-01-10", "2026-02-01", "2026-02-15", "2025-12-20", "2026-03-05", "2026-01-20",
                             "2026-03-31"]),
        "channel": ["A", "A", "B", "B", None, "E", "E"],
        "group": ["paid", "paid", "organic", "organic", "other", "organic", "organic"],
        "lead_at": dates(["2026-01-10", "2026-02-01", "2026-02-15", "2025-12-20", "2026-03-05", None, None]),
    })


def deals_frame():
    return pd.DataFrame({
        "deal_id": ["D1", "D2", "D3", "D4", "D5"],
        "status": ["won", "won", "won", "lost", "won"],
        "amount": [1200.0, 500.0, 700.0, 300.0, 400.0],
        "closed_at": dates(["2026-02-20", "2026-03-01", "2025-12-28", "2026-01-30", "2026-03-15"]),
        "contact_id": ["C1", "C3", "C4", "C2", "C5"],
        "channel": [None, "A", None, None, None],
    })


def bookings_frame(rows=(("2026-02-20", 1200.0, "A"), ("2026-03-01", 500.0, "A"), ("2025-12-28", 700.0, "B"),
                          ("2026-03-15", 400.0, "unknown"))):
    """Bookings as :attr:`Volumes.bookings` gives them (date, amount, channel); default: the main fixture's."""
    return pd.DataFrame({"date": dates([r[0] for r in rows]), "amount": [r[1] for r in rows],
                         "channel": [r[2] for r in rows], "source": "deals"})


def spend_frame():
    return pd.DataFrame({"date": dates(["2026-01-05", "2026-03-31", "2025-12-31", "2026-02-10"]),
                         "channel": ["A", "A", "A", "P"], "group": ["paid"] * 4, "spend": [100.0, 500.0, 999.0, 0.5]})


def traffic_frame():
    return pd.DataFrame({"date": dates(["2026-01-15", "2026-02-15", "2026-04-01", "2026-02-20", "2026-03-10"]),
                         "channel": ["A", "A", "A", "B", "T"], "sessions": [600, 400, 999, 200, 50]})


def counts_frame():
    return pd.DataFrame({"leads": [4, 1, 0, 1], "mqls": [3, 0, 0, 1], "sals": [NAN] * 4,
                         "opportunities": [2, 0, 0, 1], "new_customers": [1, 0, 0, 1]},
                        index=pd.Index(["A", "B", "E", "unknown"], name="channel"))


def expected(columns, rows, ints=()):
    """The expected table: ``rows`` maps channel -> values (in ``columns`` order), in the expected row order.
    Numbers are floats but for the ``ints`` columns: a count every row of which was counted (the row index is
    the counts' own, no row added by reindexing) stays an integer."""
    e = pd.DataFrame([v for v in rows.values()], columns=columns, index=pd.Index(list(rows), name="channel"))
    return e.astype({c: "int64" if c in ints else "float64" for c in columns if c != "group"})


def _table(*args, **kwargs) -> pd.DataFrame:
    """The channel table without ROI's numerator and MER (their own tests below)."""
    return ch.channel_table(*args, **kwargs).drop(columns=["paid_revenue", "mer"])


FULL_COLUMNS = ["group", "sessions", "contacts", "leads", "mqls", "sals", "opportunities", "customers", "spend",
                "revenue", "lead_revenue", *RATIOS]


def test_channel_table_full():
    """Every file given: the table of the module docstring, column for column and row for row."""
    t = _table(counts_frame(), STAGES, JAN_MAR, contacts=contacts_frame(), deals=deals_frame(),
                         spend=spend_frame(), traffic=traffic_frame(), bookings=bookings_frame())
    e = expected(FULL_COLUMNS, {
        #          group      sess  cont leads mqls sals opp cust spend  rev   lead_rev
        "E": ["organic", 0, 2, 0, 0, NAN, 0, 0, 0.0, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        "B": ["organic", 200, 1, 1, 0, NAN, 0, 0, 0.0, 0.0, 500.0, NAN, NAN, NAN, NAN, 200.0, 500.0, 2.5, NAN],
        "unknown": ["other", 0, 1, 1, 1, NAN, 1, 1, 0.0, 400.0, 400.0, NAN, NAN, NAN, NAN, 0.0, 400.0, NAN, NAN],
        "T": ["other", 50, 0, 0, 0, NAN, 0, 0, 0.0, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN, 0.0, NAN],
        "A": ["paid", 1000, 2, 4, 3, NAN, 2, 1, 600.0, 1700.0, 1200.0, 150.0, 200.0, 300.0, 600.0, 250.0, 300.0, 1.2,
              11 / 6],
        "P": ["paid", 0, 0, 0, 0, NAN, 0, 0, 0.5, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, -1.0],
    })
    assert t.index.name == "channel"
    assert t.columns.tolist() == FULL_COLUMNS
    assert t.index.tolist() == ["E", "B", "unknown", "T", "A", "P"]
    assert t["group"].tolist() == e["group"].tolist()
    numbers = FULL_COLUMNS[1:]
    pd.testing.assert_frame_equal(t[numbers], e[numbers], check_exact=False, rtol=1e-12, check_index_type=False)


def test_channel_table_without_any_file_but_the_counts():
    """No contacts, deals, spend or traffic file; a funnel that starts at MQL (no ``leads`` count).

    counts X: mqls 2, customers 1; Y: mqls 3, customers 0. Every figure from a missing file is n/a
    (NaN, float), never 0: contacts, sessions, spend, revenue, lead revenue, and so every ratio (no
    ``leads`` or ``opportunities`` column: CPL, cost per SQO, visits and value per lead n/a). Group
    "other" for both; the sort keys tie (NaN spend, NaN contacts): X, Y as given.
    """
    counts = pd.DataFrame({"mqls": [2, 3], "new_customers": [1, 0]}, index=pd.Index(["X", "Y"], name="channel"))
    t = _table(counts, ["mql", "customer"], JAN_MAR)
    cols = ["group", "sessions", "contacts", "mqls", "customers", "spend", "revenue", "lead_revenue", *RATIOS]
    e = expected(cols, {"X": ["other", NAN, NAN, 2, 1, *[NAN] * 11], "Y": ["other", NAN, NAN, 3, 0, *[NAN] * 11]},
                 ints=("mqls", "customers"))
    assert t.columns.tolist() == cols and t.index.tolist() == ["X", "Y"] and t.index.name == "channel"
    assert t["group"].tolist() == ["other", "other"]
    pd.testing.assert_frame_equal(t[cols[1:]], e[cols[1:]], check_index_type=False)


def test_channel_table_without_contacts_and_with_empty_spend_and_traffic():
    """No contacts file; header-only spend and traffic files (known: 0, not n/a); deals with contact ids.

    deals: W1 won 800 (Feb 1, channel X, contact K1); W2 won 200 (Mar 1, no channel, contact K2: no
    contacts to look it up in -> unknown). counts: X with leads and mqls n/a (no contacts, no counts).
    Rows X, unknown ("X" sorts before "unknown"); sessions and spend 0.0; contacts, leads, mqls n/a;
    revenue X 800, unknown 200; lead revenue 0.0 (it needs the contacts; the deals file is there);
    every ratio n/a (no spend, no leads; value per visit 0/0).
    """
    counts = pd.DataFrame({"leads": [NAN], "mqls": [NAN]}, index=pd.Index(["X"], name="channel"))
    deals = pd.DataFrame({"deal_id": ["W1", "W2"], "status": ["won", "won"], "amount": [800.0, 200.0],
                          "closed_at": dates(["2026-02-01", "2026-03-01"]), "contact_id": ["K1", "K2"],
                          "channel": ["X", None]})
    spend = spend_frame().iloc[:0]
    traffic = traffic_frame().iloc[:0]
    bookings = bookings_frame([("2026-02-01", 800.0, "X"), ("2026-03-01", 200.0, "unknown")])
    t = _table(counts, ["lead", "mql"], JAN_MAR, deals=deals, spend=spend, traffic=traffic,
                         bookings=bookings)
    cols = ["group", "sessions", "contacts", "leads", "mqls", "spend", "revenue", "lead_revenue", *RATIOS]
    e = expected(cols, {"X": ["other", 0, NAN, NAN, NAN, 0.0, 800.0, 0.0, *[NAN] * 8],
                        "unknown": ["other", 0, NAN, NAN, NAN, 0.0, 200.0, 0.0, *[NAN] * 8]})
    assert t.columns.tolist() == cols and t.index.tolist() == ["X", "unknown"]
    assert t["group"].tolist() == ["other", "other"]
    pd.testing.assert_frame_equal(t[cols[1:]], e[cols[1:]], check_index_type=False)


def test_channel_table_with_a_header_only_deals_file_and_no_lead_stage():
    """Contacts (the main fixture's), a header-only deals file, no spend or traffic; the funnel starts at
    MQL. No deal: revenue and lead revenue are 0.0 (known, float), not n/a; without a lead stage there is
    no lead revenue to look for. counts A mqls 3, customers 1; B 0, 0; E 0, 0; unknown 1, 1.
    Groups from the contacts; sort: organic (E 2 contacts, B 1), other (unknown), paid (A).
    """
    counts = counts_frame()[["mqls", "new_customers"]]
    t = _table(counts, ["mql", "customer"], JAN_MAR, contacts=contacts_frame(),
                         deals=deals_frame().iloc[:0], bookings=bookings_frame([]))
    cols = ["group", "sessions", "contacts", "mqls", "customers", "spend", "revenue", "lead_revenue", *RATIOS]
    zero_rev = [0.0, 0.0, *[NAN] * 8]
    e = expected(cols, {"E": ["organic", NAN, 2, 0, 0, NAN, *zero_rev], "B": ["organic", NAN, 1, 0, 0, NAN, *zero_rev],
                        "unknown": ["other", NAN, 1, 1, 1, NAN, *zero_rev], "A": ["paid", NAN, 2, 3, 1, NAN, *zero_rev]},
                 ints=("contacts", "mqls", "customers"))
    assert t.columns.tolist() == cols and t.index.tolist() == ["E", "B", "unknown", "A"]
    assert t["group"].tolist() == ["organic", "organic", "other", "paid"]
    pd.testing.assert_frame_equal(t[cols[1:]], e[cols[1:]], check_index_type=False)


def all_unknown_table():
    """Contacts: K1 (Jan 10, channel A, group paid, a lead Jan 10). counts A leads 1.
    deals: U1 won 900 (Feb 1, no contact, no channel); U2 won 100 (Feb 2, contact ZZ who is not in the
    contacts file, no channel). No won deal is tied to a channel: revenue is unknown's 1000 only and every
    other row's revenue and lead revenue is n/a (not 0). unknown's lead revenue is 0.0 (no window lead
    of unknown won anything). Rows: unknown (group other), A (paid)."""
    contacts = pd.DataFrame({"contact_id": ["K1"], "created_at": dates(["2026-01-10"]), "channel": ["A"],
                             "group": ["paid"], "lead_at": dates(["2026-01-10"])})
    deals = pd.DataFrame({"deal_id": ["U1", "U2"], "status": ["won", "won"], "amount": [900.0, 100.0],
                          "closed_at": dates(["2026-02-01", "2026-02-02"]), "contact_id": [None, "ZZ"],
                          "channel": [None, None]})
    counts = pd.DataFrame({"leads": [1]}, index=pd.Index(["A"], name="channel"))
    bookings = bookings_frame([("2026-02-01", 900.0, "unknown"), ("2026-02-02", 100.0, "unknown")])
    return ch.channel_table(counts, ["lead"], JAN_MAR, contacts=contacts, deals=deals, bookings=bookings)


def test_channel_table_when_no_won_deal_has_a_channel():
    t = all_unknown_table()
    assert t.index.tolist() == ["unknown", "A"]
    assert t["revenue"].isna().tolist() == [False, True] and t.loc["unknown", "revenue"] == 1000.0
    assert t.loc["unknown", "lead_revenue"] == 0.0 and math.isnan(t.loc["A", "lead_revenue"])
    assert t["contacts"].tolist() == [0.0, 1.0] and t["group"].tolist() == ["other", "paid"]


def test_rollup_keeps_a_single_known_value():
    """The groups of the all-unknown table: other = unknown alone (revenue 1000), paid = A alone (revenue
    n/a: nothing known to add up), total revenue 1000 (one known value is enough), leads 0 + 1 = 1."""
    g = ch.rollup(all_unknown_table())
    assert g.index.tolist() == ["other", "paid", "total"]
    assert g.loc["other", "revenue"] == 1000.0 and math.isnan(g.loc["paid", "revenue"])
    assert g.loc["total", "revenue"] == 1000.0 and g.loc["total", "leads"] == 1.0
    assert g.loc["paid", "contacts"] == 1.0 and g.loc["total", "lead_revenue"] == 0.0


def test_add_ratios_spend_under_one_is_still_paid():
    """A channel that spent 0.25 (under 1) is paid: CPL 0.25 / 1 lead = 0.25; ROI (0 − 0.25) / 0.25 = −1."""
    t = pd.DataFrame({"leads": [1.0], "sessions": [0.0], "spend": [0.25], "revenue": [0.0], "lead_revenue": [0.0]},
                     index=["Q"])
    ch._add_ratios(t)
    assert t.loc["Q", "cpl"] == 0.25 and t.loc["Q", "roi"] == -1.0
    assert math.isnan(t.loc["Q", "cost_per_mql"]) and math.isnan(t.loc["Q", "cac"])  # no such counts: n/a


# --- campaign table ---------------------------------------------------------------------------------------------

def campaign_spend():
    """S Alpha 100 (Jan 5: 1000 impressions, 10 clicks) + 50 (Feb 5: 1000, 20) = 150, 2000, 30;
    S Beta 300 (Feb 10: 2000, 30); S without a campaign 20 (Mar 1: 100, 1) -> "(no campaign)";
    R Gamma 40 (Jan 20: 400, 8); S Alpha 999 on Dec 31 is outside the window."""
    return pd.DataFrame({"date": dates(["2026-01-05", "2026-02-05", "2026-02-10", "2026-03-01", "2026-01-20",
                                        "2025-12-31"]),
                         "channel": ["S", "S", "S", "S", "R", "S"],
                         "campaign": ["Alpha", "Alpha", "Beta", None, "Gamma", "Alpha"],
                         "spend": [100.0, 50.0, 300.0, 20.0, 40.0, 999.0],
                         "impressions": [1000, 1000, 2000, 100, 400, 1], "clicks": [10, 20, 30, 1, 8, 1]})


def test_campaign_table_with_leads_from_first_touches():
    """contacts / touches:
      L1 created Jan 6, lead Jan 6: touches S Alpha (Jan 6), S Beta (Jan 8) -> first touch Alpha
      L2 created Feb 11, lead Feb 12: S Beta (Feb 11)
      L3 created Feb 20, never a lead: S Beta (Feb 20) -> not a lead
      L4 created Dec 20 2025 (before the window), lead Dec 21: S Alpha -> not the window's
      L5 created Mar 2, lead Mar 2: R Gamma (Mar 2)
    leads: R Gamma 1, S Alpha 1, S Beta 1, S (no campaign) 0.
    Rows (channel ascending, spend descending):
      R Gamma          40   400   8   CTR 8/400 = 0.02    CPC 40/8 = 5    leads 1   CPL 40
      S Beta          300  2000  30   CTR 0.015           CPC 10          leads 1   CPL 300
      S Alpha         150  2000  30   CTR 0.015           CPC 5           leads 1   CPL 150
      S (no campaign)  20   100   1   CTR 0.01            CPC 20          leads 0   CPL n/a
    """
    contacts = pd.DataFrame({"contact_id": ["L1", "L2", "L3", "L4", "L5"],
                             "created_at": dates(["2026-01-06", "2026-02-11", "2026-02-20", "2025-12-20",
                                                  "2026-03-02"]),
                             "lead_at": dates(["2026-01-06", "2026-02-12", None, "2025-12-21", "2026-03-02"])})
    touches = pd.DataFrame({"contact_id": ["L1", "L1", "L2", "L3", "L4", "L5"],
                            "touched_at": dates(["2026-01-08", "2026-01-06", "2026-02-11", "2026-02-20",
                                                 "2025-12-20", "2026-03-02"]),
                            "channel": ["S", "S", "S", "S", "S", "R"],
                            "campaign": ["Beta", "Alpha", "Beta", "Beta", "Alpha", "Gamma"]})
    t = ch.campaign_table(campaign_spend(), JAN_MAR, contacts=contacts, touches=touches)
    assert t.columns.tolist() == ["channel", "campaign", "spend", "impressions", "clicks", "ctr", "cpc", "leads", "cpl"]
    assert list(zip(t["channel"], t["campaign"])) == [("R", "Gamma"), ("S", "Beta"), ("S", "Alpha"),
                                                      ("S", "(no campaign)")]
    assert t["spend"].tolist() == [40.0, 300.0, 150.0, 20.0]
    assert t["impressions"].tolist() == [400, 2000, 2000, 100] and t["clicks"].tolist() == [8, 30, 30, 1]
    assert t["ctr"].tolist() == pytest.approx([0.02, 0.015, 0.015, 0.01])
    assert t["cpc"].tolist() == pytest.approx([5.0, 10.0, 5.0, 20.0])
    assert t["leads"].tolist() == [1.0, 1.0, 1.0, 0.0] and t["leads"].dtype == "float64"
    assert t["cpl"].tolist()[:3] == [40.0, 300.0, 150.0] and math.isnan(t["cpl"].iloc[3])


def test_campaign_table_without_impressions_clicks_or_touches():
    """Spend with campaigns but no impressions or clicks columns; contacts but no touches file.
    Impressions, clicks, CTR, CPC, leads and CPL are n/a (float NaN columns), spend R Gamma 40, S Alpha 150,
    S Beta 300, S (no campaign) 20 -> rows R Gamma, S Beta, S Alpha, S (no campaign)."""
    spend = campaign_spend().drop(columns=["impressions", "clicks"])
    contacts = pd.DataFrame({"contact_id": ["L1"], "created_at": dates(["2026-01-06"]),
                             "lead_at": dates(["2026-01-06"])})
    t = ch.campaign_table(spend, JAN_MAR, contacts=contacts)
    assert t.columns.tolist() == ["channel", "campaign", "spend", "impressions", "clicks", "ctr", "cpc", "leads", "cpl"]
    assert t["campaign"].tolist() == ["Gamma", "Beta", "Alpha", "(no campaign)"]
    assert t["spend"].tolist() == [40.0, 300.0, 150.0, 20.0]
    for c in ("impressions", "clicks", "ctr", "cpc", "leads", "cpl"):
        assert t[c].dtype == "float64" and t[c].isna().all(), c


# --- ChannelMetrics plumbing on a stub of the computed client -------------------------------------------------

class _Data:
    """The part of ClientData that ChannelMetrics reads: frames by stem; ``has`` = present and not empty."""

    def __init__(self, frames):
        self.frames = frames

    def __getitem__(self, stem):
        return self.frames[stem]

    def get(self, stem):
        return self.frames.get(stem)

    def has(self, *stems):
        return all(s in self.frames and len(self.frames[s]) for s in stems)


def stub_metrics(frames, stages, counts, bookings=None):
    data = _Data(frames)
    ctx = SimpleNamespace(data=data, stages=stages, has=data.has, get=data.get, window=JAN_MAR,
                          previous=JAN_MAR.shift(-3))
    return SimpleNamespace(ctx=ctx, volumes=SimpleNamespace(by_channel=lambda window: counts, bookings=bookings))


def small_client():
    """K1 (created Jan 10, channel A, group paid, a lead Jan 10); deal G1 won 100 (Feb 1, K1, channel A);
    spend A 50 (Jan 15); traffic A 10 sessions (Jan 15). counts A leads 1, mqls 0.
    Table row A: sessions 10, contacts 1, leads 1, mqls 0, spend 50, revenue 100, lead revenue 100,
    CPL 50/1 = 50, cost per MQL n/a (0 MQLs), per SQO and CAC n/a (no such counts), ROI (100 − 50)/50 = 1."""
    frames = {
        "contacts": pd.DataFrame({"contact_id": ["K1"], "created_at": dates(["2026-01-10"]), "channel": ["A"],
                                  "group": ["paid"], "lead_at": dates(["2026-01-10"])}),
        "deals": pd.DataFrame({"deal_id": ["G1"], "status": ["won"], "amount": [100.0],
                               "closed_at": dates(["2026-02-01"]), "contact_id": ["K1"], "channel": ["A"]}),
        "spend": pd.DataFrame({"date": dates(["2026-01-15"]), "channel": ["A"], "group": ["paid"], "spend": [50.0]}),
        "traffic": pd.DataFrame({"date": dates(["2026-01-15"]), "channel": ["A"], "sessions": [10]}),
    }
    counts = pd.DataFrame({"leads": [1], "mqls": [0]}, index=pd.Index(["A"], name="channel"))
    return stub_metrics(frames, ["lead", "mql"], counts, bookings=bookings_frame([("2026-02-01", 100.0, "A")]))


def test_channel_metrics_table_for_passes_every_file():
    c = ch.ChannelMetrics(small_client())
    assert c.has_contacts is True and c.has_spend is True and c.volume == "leads"
    t = c.table_for(JAN_MAR)
    assert t.loc["A", ["sessions", "contacts", "leads", "spend", "revenue", "lead_revenue", "cpl", "roi"]].tolist() == [
        10.0, 1.0, 1.0, 50.0, 100.0, 100.0, 50.0, 1.0]


def test_channel_metrics_without_contacts_or_spend():
    """A header-only contacts file (has_contacts False: contact counts n/a, not 0), no spend file, no
    deals, no traffic; the funnel starts at MQL (the volume column is mqls). counts A mqls 2."""
    frames = {"contacts": pd.DataFrame({"contact_id": pd.Series(dtype="string"), "created_at": dates([]),
                                        "channel": pd.Series(dtype="string"), "group": pd.Series(dtype="string"),
                                        "mql_at": dates([])})}
    counts = pd.DataFrame({"mqls": [2]}, index=pd.Index(["A"], name="channel"))
    c = ch.ChannelMetrics(stub_metrics(frames, ["mql", "customer"], counts))
    assert c.has_contacts is False and c.has_spend is False and c.volume == "mqls"
    t = c.table_for(JAN_MAR)
    assert t.index.tolist() == ["A"] and t.loc["A", "mqls"] == 2.0
    assert t.loc["A", ["contacts", "sessions", "spend", "revenue", "lead_revenue"]].isna().all()


GROUP_KEYS = ["group", "sessions", "leads", "mqls", "spend", "cpl", "cost_per_mql", "cost_per_sqo", "cac", "revenue",
              "roi"]


def test_channel_metrics_tables_records():
    """The small client's ``channels`` and ``channel_groups`` rows (SPEC keys only, n/a as null) and the
    attribution in long form: a hand-made attribution of A and B under the linear model
    (conversions 0.5 each, revenue 50 each)."""
    c = ch.ChannelMetrics(small_client())
    c.attribution = None  # no touches: no attribution rows, an empty list
    out = c.tables()
    assert list(out) == ["attribution", "channels", "channel_groups"] and out["attribution"] == []
    row = {"group": "paid", "sessions": 10.0, "leads": 1, "mqls": 0, "spend": 50.0, "cpl": 50.0, "cost_per_mql": None,
           "cost_per_sqo": None, "cac": None, "revenue": 100.0, "roi": 1.0}
    assert out["channels"] == [{"channel": "A", **row}]
    assert [list(r) for r in out["channel_groups"]] == [GROUP_KEYS, GROUP_KEYS]
    assert out["channel_groups"] == [row, {**row, "group": "total"}]

    c = ch.ChannelMetrics(small_client())
    c.attribution = pd.DataFrame({("conversions", "linear"): [0.5, 0.5], ("value", "linear"): [50.0, 50.0]},
                                 index=pd.Index(["A", "B"], name="channel"))
    a = c.tables()["attribution"]
    assert sorted(a, key=lambda r: r["channel"]) == [
        {"model": "linear", "channel": "A", "conversions": 0.5, "revenue": 50.0},
        {"model": "linear", "channel": "B", "conversions": 0.5, "revenue": 50.0}]


def test_campaign_table_first_touch_ties_keep_the_file_order():
    """Touches are often dated by day: 20 leads (created and leads Feb 2) each touched twice on Feb 2, by
    campaign First and then by campaign Second (in that order in the touches file). The first touch is the
    one listed first: First 20 leads (CPL 100 / 20 = 5), Second 0 (CPL n/a). Spend S First 100, Second 60."""
    ids = [f"L{i:02d}" for i in range(20)]
    contacts = pd.DataFrame({"contact_id": ids, "created_at": dates(["2026-02-02"] * 20),
                             "lead_at": dates(["2026-02-02"] * 20)})
    touches = pd.DataFrame({"contact_id": [i for i in ids for _ in (1, 2)], "touched_at": dates(["2026-02-02"] * 40),
                            "channel": "S", "campaign": ["First", "Second"] * 20})
    spend = pd.DataFrame({"date": dates(["2026-02-01", "2026-02-01"]), "channel": ["S", "S"],
                          "campaign": ["First", "Second"], "spend": [100.0, 60.0]})
    t = ch.campaign_table(spend, JAN_MAR, contacts=contacts, touches=touches)
    assert t["campaign"].tolist() == ["First", "Second"] and t["leads"].tolist() == [20.0, 0.0]
    assert t.loc[t["campaign"] == "First", "cpl"].tolist() == [5.0] and math.isnan(t["cpl"].iloc[1])


def test_roi_credits_only_paid_channels_bookings_and_mer_only_where_untied():
    """Marketing ROI of a rollup counts the bookings of channels with spend alone: A spent 600 and
    booked 1700, the unknown row booked 400 with no spend, B booked 0 unpaid, P spent 0.5 and booked 0.
    Paid bookings 1700 + 0 = 1700, spend 600.5: ROI (1700 − 600.5) / 600.5 = 1.8310...; the old
    rule (all 2100 booked) would give 2.4971. MER stays n/a: the bookings are tied to channels."""
    t = ch.channel_table(counts_frame(), STAGES, JAN_MAR, contacts=contacts_frame(), deals=deals_frame(),
                         spend=spend_frame(), traffic=traffic_frame(), bookings=bookings_frame())
    assert t.loc["A", "paid_revenue"] == 1700.0 and t.loc["unknown", "paid_revenue"] == 0.0
    g = ch.rollup(t)
    assert g.loc["total", "revenue"] == 2100.0 and g.loc["total", "paid_revenue"] == 1700.0
    assert g.loc["total", "roi"] == pytest.approx((1700 - 600.5) / 600.5)
    assert g["mer"].isna().all()


def test_untied_bookings_give_no_roi_but_mer():
    """Revenue recorded on no channel (a media-mix revenue file): no channel has ROI, the total has
    none either (not −100 %), and MER = revenue / spend = 1000 / 250 = 4.0."""
    counts = pd.DataFrame({"leads": [2, 0]}, index=pd.Index(["A", "unknown"]))
    spend = pd.DataFrame({"date": pd.to_datetime(["2026-02-01"]), "channel": ["A"], "group": ["paid"],
                          "spend": [250.0]})
    bookings = pd.DataFrame({"date": pd.to_datetime(["2026-02-10"]), "amount": [1000.0], "channel": ["unknown"],
                             "source": ["revenue"]})
    t = ch.channel_table(counts, ["lead"], JAN_MAR, spend=spend, bookings=bookings)
    assert t["roi"].isna().all() and t["paid_revenue"].isna().all()
    g = ch.rollup(t)
    assert math.isnan(g.loc["total", "roi"]) and g.loc["total", "mer"] == 4.0
