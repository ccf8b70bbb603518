"""Channel metrics and attribution against values computed by hand from tests/fixtures/chan."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit.metrics import channel as ch
from kpi_kit.metrics import compute
from kpi_kit.reports.channel import ChannelReport

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture  # per test: a module-scoped fixture would map only its first test to the code (mutmut)
def report():
    return ChannelReport(load_client(load_params(FIXTURES / "chan.yaml")))


def test_volumes_over_contacts_created_in_window(report):
    t = report.table
    # K1, K2, K7 (Paid Search; K5 before the window), K3 (Paid Social; K6 after as_of), K4 (Referral)
    assert t.loc["Paid Search", ["contacts", "leads", "mqls", "opportunities", "customers"]].tolist() == [3, 2, 2, 2, 1]
    assert t.loc["Paid Social", ["contacts", "leads", "mqls", "opportunities", "customers"]].tolist() == [1, 1, 1, 0, 0]
    assert t.loc["Referral", ["contacts", "leads", "mqls", "opportunities", "customers"]].tolist() == [1, 1, 1, 1, 1]
    assert t.loc["display / banner", "leads"] == 0  # spend only, raw name kept (unmapped)


def test_spend_sessions_and_revenue_in_window(report):
    t = report.table
    assert t["spend"].to_dict() == {**t["spend"].to_dict(), "Paid Search": 400.0, "Paid Social": 400.0,
                                    "display / banner": 200.0, "Referral": 0.0}  # Dec and April rows excluded
    assert t.loc["Paid Search", "sessions"] == 1000 and t.loc["Referral", "sessions"] == 100
    # DL1 (no deal channel -> K1's Paid Search) + DL3 (its own bing / cpc); DL2 credited to its own linkedin
    assert t.loc["Paid Search", "revenue"] == 15000.0 and t.loc["Paid Social", "revenue"] == 6000.0
    assert t.loc["Referral", "revenue"] == 0.0
    assert t.loc["Referral", "lead_revenue"] == 6000.0  # K4 (a lead in the window) won it, by the contact's channel


def test_cost_and_value_ratios(report):
    ps, soc, ref, disp = (report.table.loc[c] for c in ("Paid Search", "Paid Social", "Referral", "display / banner"))
    assert (ps["cpl"], ps["cost_per_mql"], ps["cost_per_sqo"], ps["cac"]) == (200.0, 200.0, 200.0, 400.0)
    assert (ps["visits_per_lead"], ps["value_per_lead"], ps["value_per_visit"]) == (500.0, 6000.0, 12.0)
    assert ps["roi"] == pytest.approx((15000 - 400) / 400)
    assert soc["cpl"] == 400.0 and math.isnan(soc["cost_per_sqo"]) and math.isnan(soc["cac"])  # no opp, no customer
    assert math.isnan(ref["cpl"]) and math.isnan(ref["cac"]) and math.isnan(ref["roi"])  # unpaid: n/a, never $0
    assert math.isnan(disp["cpl"]) and disp["roi"] == -1.0  # spend but no leads: CPL n/a
    cohort = report.c.cohort.loc["Paid Search"]  # the cohort view: contacts created in the window
    assert cohort["created_to_lead"] == pytest.approx(2 / 3) and cohort["lead_to_mql"] == 1.0
    assert cohort["opportunity_to_customer"] == 0.5


def test_groups_rollup_recomputes_ratios(report):
    g = report.groups
    assert g.loc["inbound", ["spend", "leads", "revenue"]].tolist() == [800.0, 3, 21000.0]
    assert g.loc["inbound", "cpl"] == pytest.approx(800 / 3)  # not the mean of 200 and 400
    assert g.loc["inbound", "roi"] == pytest.approx((21000 - 800) / 800)
    assert g.loc["other", "cpl"] == 200.0 and report.table.loc["Referral", "group"] == "other"
    assert g.loc["total", ["spend", "leads"]].tolist() == [1000.0, 4] and g.loc["total", "cpl"] == 250.0


def test_metrics_rows_have_spec_keys_and_null(report):
    rows = {r["channel"]: r for r in report.m.channel.tables()["channels"]}
    assert list(rows["Paid Search"]) == ["channel", "group", "sessions", "leads", "mqls", "opportunities", "customers",
                                         "spend", "cpl", "cost_per_mql", "cost_per_sqo", "cac", "revenue", "roi"]
    assert rows["Paid Social"]["cac"] is None and rows["Referral"]["cpl"] is None  # unpaid: null, not 0


def test_attribution_linear_first_touch_and_fallback(report):
    a = report.c.attribution
    conv, value = a["conversions"], a["value"]
    # K1 (customer Feb 10): touches Jan 5 Paid Search, Jan 15 Paid Social; Feb 15 Referral is after the conversion.
    # K4 (customer Mar 15): its only touch is after as_of -> falls back to its own channel, Referral.
    assert conv["linear"].to_dict() == {"Paid Search": 0.5, "Paid Social": 0.5, "Referral": 1.0}
    assert conv["first_touch"].to_dict() == {"Paid Search": 1.0, "Paid Social": 0.0, "Referral": 1.0}
    assert conv["last_touch"].to_dict() == {"Paid Search": 0.0, "Paid Social": 1.0, "Referral": 1.0}
    for model in conv.columns:
        assert conv[model].sum() == pytest.approx(2.0)  # two customers, each worth exactly 1
    assert value["linear"].to_dict() == {"Paid Search": 6000.0, "Paid Social": 6000.0, "Referral": 6000.0}
    roi = report.c.attributed_roi
    assert roi.loc["Paid Search", "linear"] == pytest.approx((6000 - 400) / 400)
    assert roi.loc["Paid Search", "first_touch"] == pytest.approx((12000 - 400) / 400)
    assert math.isnan(roi.loc["Referral", "linear"])  # no spend


def test_campaign_table(report):
    t = ch.campaign_table(report.data["spend"], report.window, contacts=report.contacts,
                          touches=report.data["touches"]).set_index(["channel", "campaign"])
    brand = t.loc[("Paid Search", "Brand")]
    assert (brand["spend"], brand["ctr"], brand["cpc"], brand["leads"], brand["cpl"]) == (300.0, 0.01, 3.0, 1, 300.0)
    generic = t.loc[("Paid Search", "Generic")]
    assert generic["ctr"] == 0.004 and generic["cpc"] == 5.0 and math.isnan(generic["cpl"])  # no lead
    assert math.isnan(t.loc[("display / banner", "Awareness"), "ctr"])  # no impressions recorded: n/a, not 0


def test_self_reported_vs_tracked(report):
    x = ch.self_reported_vs_tracked(report.contacts, report.window)
    assert x.loc["Paid Search", "Google"] == 0.5 and x.loc["Paid Search", "Podcast"] == 0.5
    assert x.loc["Paid Search", "answers"] == 2 and x.loc["Paid Social", "LinkedIn"] == 1.0
    shares = x.drop(columns="answers")
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_rising_volume_falling_conversion_fires_and_stays_quiet():
    months = pd.period_range("2026-01", periods=6, freq="M")
    rows = []
    for m, i in zip(months, range(6)):
        recent = i >= 3
        rows.append({"month": m, "channel": "A", "leads": 150 if recent else 100, "mqls": 30 if recent else 40})
        rows.append({"month": m, "channel": "B", "leads": 150 if recent else 100, "mqls": 60 if recent else 30})
    f = ch.rising_volume_falling_conversion(pd.DataFrame(rows))
    assert f["channel"].tolist() == ["A"]  # leads +50 %, lead→MQL 40 % -> 20 %
    assert f.loc[0, "volume_change"] == pytest.approx(0.5) and f.loc[0, "rate_change"] == pytest.approx(-0.5)


def test_rising_volume_falling_conversion_needs_a_significant_fall():
    """Channel C: leads 5 a month, then 6 (+20 %); MQLs 2 a month (6 of 15 = 40 %), then 1 (3 of 18 =
    16.7 %): a 58 % relative fall, but the pooled z-test gives p = 9/33 = .273, z = (.4 - .1667) /
    sqrt(.273 × .727 × (1/15 + 1/18)) = 1.50 < 1.96: not significant, no flag. The same rates at ten
    times the volume (60 of 150 -> 30 of 180): z = 4.74, flagged."""
    months = pd.period_range("2026-01", periods=6, freq="M")
    rows = [{"month": m, "channel": c, "leads": k * (6 if i >= 3 else 5), "mqls": k * (1 if i >= 3 else 2)}
            for i, m in enumerate(months) for c, k in (("C", 1), ("D", 10))]
    f = ch.rising_volume_falling_conversion(pd.DataFrame(rows))
    assert f["channel"].tolist() == ["D"]
    assert f.loc[0, ["rate_before", "rate_recent"]].tolist() == pytest.approx([0.4, 1 / 6])


def row_of(section_text: str, label: str) -> list[str]:
    """The cells of the table row starting with ``label`` in a section's text."""
    line = next(ln for ln in section_text.splitlines() if ln.strip().startswith(label + " "))
    return line.strip()[len(label):].split()


def test_report_renders_its_sections_on_the_fixture(report, kit_style):
    channels = repr(report.section("channels"))
    # the table's takeaway reads its ROI column: the Total row's ROI; no paid channel has 30 won deals,
    # so none is named (SPEC "Small samples"; was "Paid Search the best ROI" on 1 won deal)
    assert channels.splitlines()[0] == ("Blended Marketing ROI (deal's channel) over the window is +2000%; no paid "
                                        "channel has 30 or more won deals, so none is named best or worst.")
    # totals: sessions, leads, MQLs, opportunities, customers, won deals, spend, revenue, ROI (21,000 − 1,000) / 1,000
    assert row_of(channels, "Total") == ["1,600", "4", "4", "3", "2", "3", "$1,000", "$21,000", "+2000%"]
    efficiency = repr(report.section("efficiency"))
    # Referral has leads but no spend: unpaid, never $0
    assert row_of(efficiency, "Referral") == ["unpaid"] * 4 + ["100.0", "$6,000", "$60.00"]
    # total: CPL 1,000 / 4, per MQL / 4, per SQO / 3, paid CAC / 2 new customers, visits per lead 1,600 / 4
    assert row_of(efficiency, "Total") == ["$250", "$250", "$333", "$500", "400.0", "$4,500", "$11.25"]
    shown = {name: report.section(name).shown for name in report.section_names()}
    assert shown == dict.fromkeys(["channels", "efficiency", "groups_table", "cost", "conversion", "trends",
                                   "pipeline_share", "flags", "campaigns", "attribution", "spend_revenue",
                                   "self_reported"], True)  # every section renders on the fixture


def test_campaign_table_with_platform_conversions():
    from kpi_kit._dates import reporting_window

    spend = pd.DataFrame({"date": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-06", "2025-12-31"]),
                          "channel": ["Paid Social"] * 4, "campaign": ["A", "A", "B", "A"],
                          "spend": [30.0, 70.0, 50.0, 999.0], "impressions": [1000, 1000, 500, 1],
                          "clicks": [10, 10, 0, 1], "conversions": [2, 2, 0, 1]})
    t = ch.campaign_table(spend, reporting_window("2026-01-31", 1)).set_index("campaign")
    assert t.loc["A", ["spend", "conversions", "cost_per_conversion", "cpc"]].tolist() == [100.0, 4, 25.0, 5.0]
    assert math.isnan(t.loc["B", "cost_per_conversion"]) and math.isnan(t.loc["B", "cpc"])  # n/a, not 0 or inf


def test_attribution_without_won_customers_in_the_window_says_so():
    """Touches but no customer won in the window (a young client, or a small slice of a big one):
    nothing to attribute, so the section says why instead of failing on an empty table."""
    data = load_client(load_params(FIXTURES / "chan.yaml"))
    c = compute(data).channel  # before any page reads it: no customer won in the window
    c.conversions = lambda: type(c).conversions(c).iloc[:0]
    r = ChannelReport(data)
    assert r.has_touches and not r.c.has_attributed_wins
    s = r.section("attribution")
    assert not s.shown and repr(s) == ("Attribution: needs customers won in the window whose contacts have touches "
                                       "(not in this client's data).")
