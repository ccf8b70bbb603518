"""Channel trends, flags, cohort, roll-up, self-reported sources and the ChannelMetrics accessors
(conversions, campaigns, self_reported) on small fixtures that tell the definitions apart (issue #21).

Every function is called directly on frames built here (no client run, no page), and every expected
value is worked out by hand in the test's docstring. The frames look like loaded ones: dates
``datetime64[ns]`` at midnight, text ``string``, channels already mapped.

The reporting window is Jan–Mar 2026 throughout (as_of 2026-03-31).
"""

import io
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.data import ClientData
from kpi_kit.metrics import channel as ch
from kpi_kit.metrics.context import Context

JAN_MAR = Window(pd.Period("2026-01", "M"), pd.Period("2026-03", "M"))


def frame(csv: str) -> pd.DataFrame:
    """A loaded-looking frame: ``*_at`` / ``date`` columns as dates, numbers as floats, the rest text."""
    df = pd.read_csv(io.StringIO(csv), dtype="string")
    for col in df.columns:
        if col.endswith("_at") or col == "date":
            df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
        elif col in ("spend", "amount", "impressions", "clicks"):
            df[col] = df[col].astype("float64")
    return df


def metrics(stages: list[str], **frames) -> ch.ChannelMetrics:
    """ChannelMetrics of a client whose data are ``frames`` (contacts, deals, spend, touches), window Jan–Mar 2026."""
    data = ClientData(params=SimpleNamespace(stages=stages), frames=frames, quality=None)
    ctx = Context(data=data, as_of=pd.Timestamp("2026-03-31"), window=JAN_MAR, previous=JAN_MAR.shift(-3),
                  year_ago=JAN_MAR.shift(-12), last=pd.Period("2026-03", "M"))
    return ch.ChannelMetrics(SimpleNamespace(ctx=ctx))


def periods(*months: str) -> pd.PeriodIndex:
    return pd.PeriodIndex(list(months), freq="M")


# -- monthly_by_channel --------------------------------------------------------------------------------

def monthly_counts(**cols) -> pd.DataFrame:
    """Four (month, channel) rows: Jan A, Jan B, Feb A, Feb B, with the given count columns."""
    return pd.DataFrame({"month": periods("2026-01", "2026-01", "2026-02", "2026-02"),
                         "channel": ["A", "B", "A", "B"], **cols})


SPEND = """date,channel,spend
2025-12-15,A,999
2026-01-10,A,100
2026-01-20,A,50
2026-02-10,A,0.5
2026-02-05,B,200
2026-02-07,C,30
"""


def cell(out: pd.DataFrame, month: str, channel: str, col: str):
    row = out[(out["month"] == pd.Period(month, "M")) & (out["channel"] == channel)]
    assert len(row) == 1, (month, channel)
    return row[col].iloc[0]


def test_monthly_by_channel_spend_cpl_and_cac_by_hand():
    """Months Jan–Feb 2026. Counts (leads, new customers): Jan A (2, 1), Jan B (3, 0), Feb A (1, 0),
    Feb B (4, 2). Spend rows: A Dec 15 999 (before the months: left out), A Jan 10 100 + Jan 20 50
    (Jan A 150), A Feb 10 0.5, B Feb 5 200, C Feb 7 30 (a channel with spend and no counts).

    month    channel  leads customers spend   CPL = spend / leads     CAC = spend / customers
    2026-01  A        2     1          150     75                      150
    2026-01  B        3     0          0       n/a (no spend)          n/a
    2026-02  A        1     0          0.5     0.5 (paid, if below 1)  n/a (no customer)
    2026-02  B        4     2          200     50                      100
    2026-02  C        0     0          30      n/a (no lead)           n/a

    The spend-only channel gets a row with counts 0 (not n/a); rows are sorted by month, then channel.
    """
    counts = monthly_counts(leads=[2, 3, 1, 4], new_customers=[1, 0, 0, 2])
    out = ch.monthly_by_channel(counts, periods("2026-01", "2026-02"), spend=frame(SPEND))
    assert list(out.columns) == ["month", "channel", "leads", "customers", "spend", "cpl", "cac"]
    assert [(str(m), c) for m, c in zip(out["month"], out["channel"])] == [
        ("2026-01", "A"), ("2026-01", "B"), ("2026-02", "A"), ("2026-02", "B"), ("2026-02", "C")]
    assert out["leads"].tolist() == [2, 3, 1, 4, 0] and out["customers"].tolist() == [1, 0, 0, 2, 0]
    assert out["spend"].tolist() == [150.0, 0.0, 0.5, 200.0, 30.0]
    assert cell(out, "2026-01", "A", "cpl") == 75.0 and cell(out, "2026-01", "A", "cac") == 150.0
    assert math.isnan(cell(out, "2026-01", "B", "cpl")) and math.isnan(cell(out, "2026-01", "B", "cac"))
    assert cell(out, "2026-02", "A", "cpl") == 0.5 and math.isnan(cell(out, "2026-02", "A", "cac"))
    assert cell(out, "2026-02", "B", "cpl") == 50.0 and cell(out, "2026-02", "B", "cac") == 100.0
    assert math.isnan(cell(out, "2026-02", "C", "cpl")) and math.isnan(cell(out, "2026-02", "C", "cac"))


def test_monthly_by_channel_without_spend_is_unpaid():
    """No spend file (or an empty one): every spend is 0.0 (a float column) and CPL / CAC are n/a,
    not 0: the same counts as above, Jan A 2 leads and 1 customer, have no cost."""
    counts = monthly_counts(leads=[2, 3, 1, 4], new_customers=[1, 0, 0, 2])
    for spend in (None, frame(SPEND).iloc[:0]):
        out = ch.monthly_by_channel(counts, periods("2026-01", "2026-02"), spend=spend)
        assert list(out.columns) == ["month", "channel", "leads", "customers", "spend", "cpl", "cac"]
        assert out["spend"].dtype == "float64" and out["spend"].tolist() == [0.0] * 4
        assert out["leads"].tolist() == [2, 3, 1, 4] and out["customers"].tolist() == [1, 0, 0, 2]
        assert out["cpl"].isna().all() and out["cac"].isna().all()


def test_monthly_by_channel_without_a_lead_or_a_customer_count():
    """A funnel that starts at MQL has no ``leads`` count: CPL is n/a on every row while CAC is still
    spend / new customers (Jan A 150 / 1, Feb B 200 / 2 = 100). A funnel without the customer stage has
    no ``new_customers``: CAC is n/a everywhere (and there is no ``customers`` column) while CPL is
    still spend / leads (Jan A 150 / 2 = 75, Feb B 200 / 4 = 50)."""
    months = periods("2026-01", "2026-02")
    no_leads = ch.monthly_by_channel(monthly_counts(mqls=[2, 3, 1, 4], new_customers=[1, 0, 0, 2]), months,
                                     spend=frame(SPEND))
    assert list(no_leads.columns) == ["month", "channel", "mqls", "customers", "spend", "cpl", "cac"]
    assert no_leads["cpl"].isna().all()
    assert cell(no_leads, "2026-01", "A", "cac") == 150.0 and cell(no_leads, "2026-02", "B", "cac") == 100.0
    no_customers = ch.monthly_by_channel(monthly_counts(leads=[2, 3, 1, 4]), months, spend=frame(SPEND))
    assert list(no_customers.columns) == ["month", "channel", "leads", "spend", "cpl", "cac"]
    assert no_customers["cac"].isna().all()
    assert cell(no_customers, "2026-01", "A", "cpl") == 75.0 and cell(no_customers, "2026-02", "B", "cpl") == 50.0


# -- rising_volume_falling_conversion ------------------------------------------------------------------

def test_flags_compare_the_last_three_months_with_the_three_before_only():
    """Last month Apr 2026, months=3: recent Feb–Apr, before Nov 2025–Jan 2026; Oct 2025 and earlier
    are in neither.

    channel A  leads  Oct 200 (ignored) | Nov 30, Dec 30, Jan 40 = 100 | Feb, Mar, Apr 50 each = 150
               MQLs   Oct 0             | Nov 10, Dec 10, Jan 20 = 40  | Feb, Mar, Apr 10 each = 30
      volume change 150 / 100 − 1 = +0.5; rate 40 / 100 = 0.4 -> 30 / 150 = 0.2: change −0.5 -> flagged.
      (Were October counted as "before", leads would have fallen 150 / 300 − 1 = −0.5: no flag.)
    channel B  only recent rows (Mar 10 leads, 1 MQL): nothing to compare with, never flagged.
    """
    rows = [("2025-10", "A", 200, 0), ("2025-11", "A", 30, 10), ("2025-12", "A", 30, 10), ("2026-01", "A", 40, 20),
            ("2026-02", "A", 50, 10), ("2026-03", "A", 50, 10), ("2026-04", "A", 50, 10), ("2026-03", "B", 10, 1)]
    monthly = pd.DataFrame(rows, columns=["month", "channel", "leads", "mqls"])
    monthly["month"] = pd.PeriodIndex(monthly["month"], freq="M")
    f = ch.rising_volume_falling_conversion(monthly)
    assert list(f.columns) == ["channel", "volume_change", "rate_before", "rate_recent", "rate_change"]
    assert f["channel"].tolist() == ["A"]
    assert f.loc[0, "volume_change"] == 0.5
    assert f.loc[0, "rate_before"] == pytest.approx(0.4) and f.loc[0, "rate_recent"] == pytest.approx(0.2)
    assert f.loc[0, "rate_change"] == pytest.approx(-0.5)


def test_flags_need_strictly_more_than_the_threshold_both_ways():
    """threshold 0.5 (exact in binary), months=3, last month Jun 2026: before Jan–Mar, recent Apr–Jun
    (one row per window is enough: Feb and May).

    channel   leads before -> recent  MQLs before -> recent  volume change   rate            rate change
    Edge-vol  100 -> 150              40 -> 15               +0.5 (not >)    0.4 -> 0.1      −0.75
    Edge-rate 100 -> 200              50 -> 50               +1.0            0.5 -> 0.25     −0.5 (not <)
    Steady    100 -> 200              40 -> 80               +1.0            0.4 -> 0.4      0
    Flagged   100 -> 300              40 -> 30               +2.0            0.4 -> 0.1      −0.75
    Only the last one rose by more than 50 % while its lead->MQL rate fell by more than 50 %.
    """
    rows = []
    for name, (l0, l1, m0, m1) in {"Edge-vol": (100, 150, 40, 15), "Edge-rate": (100, 200, 50, 50),
                                   "Steady": (100, 200, 40, 80), "Flagged": (100, 300, 40, 30)}.items():
        rows += [("2026-02", name, l0, m0), ("2026-05", name, l1, m1), ("2026-06", name, 0, 0)]
    monthly = pd.DataFrame(rows, columns=["month", "channel", "leads", "mqls"])
    monthly["month"] = pd.PeriodIndex(monthly["month"], freq="M")
    f = ch.rising_volume_falling_conversion(monthly, threshold=0.5)
    assert f["channel"].tolist() == ["Flagged"]
    assert f.loc[0, "volume_change"] == 2.0 and f.loc[0, "rate_change"] == pytest.approx(-0.75)
    assert f.loc[0, "rate_before"] == pytest.approx(0.4) and f.loc[0, "rate_recent"] == pytest.approx(0.1)


# -- rollup and cohort_by_channel ----------------------------------------------------------------------

def test_rollup_of_a_single_channel_keeps_its_volumes():
    """One channel, Paid Search (group inbound): 800 sessions, 4 leads, 2 MQLs, 2 opportunities,
    1 customer, won deals unknown (n/a), spend 200, revenue 1,000, lead revenue 600. Its group and the
    total are that one row: CPL 200 / 4 = 50, cost per MQL 100, per SQO 100, CAC 200, visits per lead
    800 / 4 = 200, value per lead 600 / 4 = 150, value per visit 600 / 800 = 0.75,
    ROI (1,000 − 200) / 200 = 4; the unknown won-deal count stays n/a."""
    table = pd.DataFrame({"group": ["inbound"], "sessions": [800.0], "leads": [4.0], "mqls": [2.0],
                          "opportunities": [2.0], "customers": [1.0], "won_deals": [math.nan], "spend": [200.0],
                          "revenue": [1000.0], "lead_revenue": [600.0]},
                         index=pd.Index(["Paid Search"], name="channel"))
    g = ch.rollup(table)
    assert g.index.tolist() == ["inbound", "total"]
    for row in ("inbound", "total"):
        r = g.loc[row]
        assert r[["sessions", "leads", "mqls", "opportunities", "customers", "spend", "revenue",
                  "lead_revenue"]].tolist() == [800.0, 4.0, 2.0, 2.0, 1.0, 200.0, 1000.0, 600.0]
        assert math.isnan(r["won_deals"])
        assert r[["cpl", "cost_per_mql", "cost_per_sqo", "cac", "visits_per_lead", "value_per_lead",
                  "value_per_visit", "roi"]].tolist() == [50.0, 100.0, 100.0, 200.0, 200.0, 150.0, 0.75, 4.0]


def test_cohort_by_channel_counts_contacts_without_a_channel_as_unknown():
    """Contacts created in Jan–Mar 2026, stages lead, mql:
    H1 Paid Search, created Jan 5, lead Jan 5, MQL Jan 10
    H2 no channel, created Feb 1, lead Feb 1
    H3 Paid Search, created Dec 1 2025 (before the window: not in the cohort), lead and MQL Dec 1
    Paid Search: created 1, lead 1, mql 1 (rates 1, 1); unknown: created 1, lead 1, mql 0 (rates 1, 0).
    The index is named ``channel``."""
    contacts = frame("""contact_id,created_at,channel,lead_at,mql_at
H1,2026-01-05,Paid Search,2026-01-05,2026-01-10
H2,2026-02-01,,2026-02-01,
H3,2025-12-01,Paid Search,2025-12-01,2025-12-01
""")
    c = ch.cohort_by_channel(contacts, ["lead", "mql"], JAN_MAR)
    assert c.index.name == "channel" and c.index.tolist() == ["Paid Search", "unknown"]
    assert c[["created", "lead", "mql"]].to_dict("index") == {"Paid Search": {"created": 1, "lead": 1, "mql": 1},
                                                              "unknown": {"created": 1, "lead": 1, "mql": 0}}
    assert c["created_to_lead"].tolist() == [1.0, 1.0] and c["lead_to_mql"].tolist() == [1.0, 0.0]


# -- self-reported sources ------------------------------------------------------------------------------

ANSWERS = """contact_id,created_at,channel,lead_at,self_reported_source
C1,2026-01-10,Paid Search,2026-01-10,Google
C2,2026-02-10,Paid Search,2026-02-10,Podcast
C3,2026-02-15,Paid Search,2026-02-15,Google
C4,2026-03-01,Paid Social,2026-03-01,LinkedIn
C5,2026-03-05,Paid Social,2026-03-05,
C6,2025-12-20,Paid Social,2025-12-20,Google
"""


def test_self_reported_vs_tracked_in_the_window_and_over_all_time():
    """Contacts (created, channel, answer): C1 Paid Search Jan 10 Google, C2 Paid Search Feb 10 Podcast,
    C3 Paid Search Feb 15 Google, C4 Paid Social Mar 1 LinkedIn, C5 Paid Social Mar 5 no answer,
    C6 Paid Social Dec 20 2025 Google.

    Window Jan–Mar: Paid Search Google 2/3, LinkedIn 0, Podcast 1/3 (3 answers); Paid Social LinkedIn 1
    (1 answer; C5 did not answer, C6 is before the window).
    No window (all contacts): Paid Social Google 1/2, LinkedIn 1/2 (2 answers); Paid Search as above."""
    contacts = frame(ANSWERS)
    x = ch.self_reported_vs_tracked(contacts, JAN_MAR)
    assert list(x.columns) == ["Google", "LinkedIn", "Podcast", "answers"]
    assert x.index.tolist() == ["Paid Search", "Paid Social"]
    assert x.loc["Paid Search", ["Google", "LinkedIn", "Podcast"]].tolist() == pytest.approx([2 / 3, 0.0, 1 / 3])
    assert x.loc["Paid Social", ["Google", "LinkedIn", "Podcast"]].tolist() == [0.0, 1.0, 0.0]
    assert x["answers"].tolist() == [3, 1]
    every = ch.self_reported_vs_tracked(contacts)
    assert every.loc["Paid Social", ["Google", "LinkedIn", "Podcast"]].tolist() == [0.5, 0.5, 0.0]
    assert every["answers"].tolist() == [3, 2]


def test_channel_metrics_self_reported_uses_the_window():
    """The same contacts through ChannelMetrics.self_reported: the window's answers only (Paid Social
    has 1 answer, LinkedIn; C6's Google of Dec 2025 is left out). Without the column, or with no
    answer at all, there is nothing to show: an empty frame."""
    x = metrics(["lead"], contacts=frame(ANSWERS)).self_reported()
    assert x.loc["Paid Social", ["Google", "LinkedIn", "Podcast"]].tolist() == [0.0, 1.0, 0.0]
    assert x["answers"].tolist() == [3, 1]
    assert x.loc["Paid Search", "Google"] == pytest.approx(2 / 3)
    no_column = frame(ANSWERS).drop(columns="self_reported_source")
    assert metrics(["lead"], contacts=no_column).self_reported().empty
    no_answer = frame(ANSWERS).assign(self_reported_source=pd.Series(pd.NA, dtype="string"))
    assert metrics(["lead"], contacts=no_answer).self_reported().empty


# -- ChannelMetrics.conversions -------------------------------------------------------------------------

CONVERTING = """contact_id,created_at,channel,lead_at,opportunity_at,customer_at
P0,2025-11-01,Paid Search,2025-11-01,2025-12-01,2025-12-20
P1,2026-01-02,Paid Search,2026-01-02,2026-01-15,2026-02-10
P2,2026-01-05,Referral,2026-01-05,,2026-03-31
P3,2026-02-01,Paid Social,2026-02-01,,
"""
DEALS = """deal_id,contact_id,status,amount
D1,P1,won,1000
D2,P1,won,500
D3,P1,lost,700
D4,P0,won,300
"""


def test_conversions_are_the_window_customers_with_their_won_revenue():
    """Contacts: P0 customer Dec 20 2025 (before the window: not converted in it), P1 customer Feb 10
    (lead Jan 2, opportunity Jan 15), P2 customer Mar 31 (the window's last day; lead Jan 5, no
    opportunity), P3 never a customer.
    Deals: P1 won 1,000 and 500 and lost 700 -> revenue 1,500 (lost deals do not count); P2 has no
    won deal -> 0 (not n/a); P0's 300 is not a window conversion."""
    conv = metrics(["lead", "opportunity", "customer"], contacts=frame(CONVERTING), deals=frame(DEALS)).conversions()
    assert list(conv.columns) == ["contact_id", "converted_at", "channel", "lead_at", "opportunity_at", "revenue"]
    assert conv.index.tolist() == [0, 1]
    assert conv["contact_id"].tolist() == ["P1", "P2"] and conv["channel"].tolist() == ["Paid Search", "Referral"]
    assert conv["converted_at"].tolist() == [pd.Timestamp("2026-02-10"), pd.Timestamp("2026-03-31")]
    assert conv["lead_at"].tolist() == [pd.Timestamp("2026-01-02"), pd.Timestamp("2026-01-05")]
    assert conv.loc[0, "opportunity_at"] == pd.Timestamp("2026-01-15") and pd.isna(conv.loc[1, "opportunity_at"])
    assert conv["revenue"].tolist() == [1500.0, 0.0]


def test_conversions_without_deals_are_worth_zero():
    """The same contacts without a deals file, or with deals that name no contact: P1 and P2 converted
    in the window, each with revenue 0.0."""
    for frames in ({}, {"deals": frame(DEALS).drop(columns="contact_id")}):
        conv = metrics(["lead", "opportunity", "customer"], contacts=frame(CONVERTING), **frames).conversions()
        assert list(conv.columns) == ["contact_id", "converted_at", "channel", "lead_at", "opportunity_at", "revenue"]
        assert conv["contact_id"].tolist() == ["P1", "P2"]
        assert conv["revenue"].dtype == "float64" and conv["revenue"].tolist() == [0.0, 0.0]


def test_conversions_without_a_customer_stage_convert_no_one():
    """A funnel configured without the customer stage (no customer_at column): nobody converted, an
    empty frame with the usual columns and a date-typed converted_at. Without an opportunity column
    the frame has no opportunity_at."""
    contacts = frame(CONVERTING).drop(columns=["customer_at"])
    conv = metrics(["lead", "opportunity"], contacts=contacts, deals=frame(DEALS)).conversions()
    assert conv.empty
    assert list(conv.columns) == ["contact_id", "converted_at", "channel", "lead_at", "opportunity_at", "revenue"]
    assert pd.api.types.is_datetime64_any_dtype(conv["converted_at"])
    no_opp = frame(CONVERTING).drop(columns=["opportunity_at"])
    conv = metrics(["lead", "customer"], contacts=no_opp, deals=frame(DEALS)).conversions()
    assert list(conv.columns) == ["contact_id", "converted_at", "channel", "lead_at", "revenue"]
    assert conv["revenue"].tolist() == [1500.0, 0.0]


# -- ChannelMetrics.campaigns ---------------------------------------------------------------------------

CAMPAIGN_SPEND = """date,channel,campaign,spend,impressions,clicks
2025-12-15,Paid Search,Brand,500,9000,90
2026-01-10,Paid Search,Brand,300,1000,10
2026-02-10,Paid Social,ABM,200,4000,20
"""
CAMPAIGN_CONTACTS = """contact_id,created_at,channel,lead_at
L1,2026-01-05,Paid Search,2026-01-05
L2,2026-02-03,Paid Social,2026-02-03
"""
CAMPAIGN_TOUCHES = """contact_id,touched_at,channel,campaign
L1,2026-01-05,Paid Search,Brand
L2,2026-02-03,Paid Social,ABM
"""


def test_channel_metrics_campaigns_over_the_window_with_leads():
    """Spend: Paid Search Brand Dec 15 2025 500 (before the window: left out) and Jan 10 300 (1,000
    impressions, 10 clicks); Paid Social ABM Feb 10 200 (4,000 impressions, 20 clicks).
    Leads by first-touch campaign: L1 (created Jan 5, first touch Brand), L2 (Feb 3, ABM).
    Brand: spend 300, CTR 10 / 1,000 = 0.01, CPC 300 / 10 = 30, 1 lead, CPL 300.
    ABM:   spend 200, CTR 20 / 4,000 = 0.005, CPC 200 / 20 = 10, 1 lead, CPL 200."""
    c = metrics(["lead"], contacts=frame(CAMPAIGN_CONTACTS), spend=frame(CAMPAIGN_SPEND),
                touches=frame(CAMPAIGN_TOUCHES)).campaigns()
    assert list(zip(c["channel"], c["campaign"])) == [("Paid Search", "Brand"), ("Paid Social", "ABM")]
    assert c["spend"].tolist() == [300.0, 200.0] and c["impressions"].tolist() == [1000.0, 4000.0]
    assert c["ctr"].tolist() == [0.01, 0.005] and c["cpc"].tolist() == [30.0, 10.0]
    assert c["leads"].tolist() == [1.0, 1.0] and c["cpl"].tolist() == [300.0, 200.0]


def test_channel_metrics_campaigns_need_spend_with_campaigns():
    """No spend file, or spend without a campaign column: no campaign table (an empty frame)."""
    contacts = frame(CAMPAIGN_CONTACTS)
    assert metrics(["lead"], contacts=contacts).campaigns().empty
    no_campaign = frame(CAMPAIGN_SPEND).drop(columns="campaign")
    assert metrics(["lead"], contacts=contacts, spend=no_campaign,
                   touches=frame(CAMPAIGN_TOUCHES)).campaigns().empty
