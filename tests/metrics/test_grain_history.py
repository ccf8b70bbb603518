"""Source grain and history (issue #33 item 5): rows covering several days spread over their days,
history rebuilt from a snapshot, amounts an export records as 0 when it does not know them, and
metrics.json tables that say no data where kpis.csv does. Every expected value is worked out by hand.

Client ``weekly`` (as_of 2019-10-31, a Thursday; window Sep-Oct 2019), robyn-like weekly rows dated by
their Monday (``row_grain: {spend: week, revenue: week, engagement: month}``):

revenue   2019-07-29 70  -> Jul 29-31 (3 days) 30, Aug 1-4 (4 days) 40
          2019-09-02 70  -> Sep 70
          2019-09-09 ''  -> unknown on each of its days (left out of sums, counted once)
          2019-09-30 70  -> Sep 30 10, Oct 1-6 60
          2019-10-28 70  -> Oct 28-31 40; Nov 1-3 after as_of: not yet happened (30 left out)
          2019-11-04 70  -> wholly after as_of: left out
          bookings by month: Jul 30, Aug 40, Sep 70 + 10 = 80, Oct 60 + 40 = 100; window 180
spend     tv 2019-07-29 70 (700 impressions) -> Jul 30 (300), Aug 40 (400)
          tv 2019-09-30 140 -> Sep 20, Oct 120;  tv 2019-10-28 70 -> Oct 40
          spend by month: Jul 30, Aug 40, Sep 20, Oct 160; Q3 90, Q4 (to date) 160; window 180
traffic   (date_end column, no grain) web 2019-09-29..2019-10-02 400 sessions, 60 s -> Sep 200, Oct 200;
          web 2019-10-15 (one day) 50 sessions, 60 s -> Oct 250 sessions; time on site 60 s both months
engagement (month grain) social_engagement 2019-09-15 300 -> Sep 15..Oct 14, 30 days: Sep 16 days 160,
          Oct 14 days 140
"""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit.exceptions import DataError, ParamsError
from kpi_kit.metrics.economics import blank_rebuilt_history, magic_number
from kpi_kit.metrics.overview import revenue_target
from kpi_kit.params import Params

P = pd.Period
M = lambda s: P(s, "M")  # noqa: E731

WEEKLY_YAML = """client: weekly
data_dir: weekly
as_of: 2019-10-31
window_months: 2
stages: [lead, customer]
row_grain: {spend: week, revenue: week, engagement: month}
"""
WEEKLY = {
    "contacts": "contact_id,created_at,channel\nZ1,2019-07-01,web\n",
    "revenue": "date,amount\n2019-07-29,70\n2019-09-02,70\n2019-09-09,\n2019-09-30,70\n2019-10-28,70\n"
               "2019-11-04,70\n",
    "spend": "date,channel,spend,impressions\n2019-07-29,tv,70,700\n2019-09-30,tv,140,\n2019-10-28,tv,70,\n",
    "traffic": "date,channel,sessions,avg_session_seconds,date_end\n2019-09-29,web,400,60,2019-10-02\n"
               "2019-10-15,web,50,60,\n",
    "engagement": "date,metric,value\n2019-09-15,social_engagement,300\n",
}
MONTHS = pd.period_range("2019-07", "2019-10", freq="M")


def _by_month(df, col):
    return df.groupby(df["date"].dt.to_period("M"))[col].sum().round(9).to_dict()


def test_weekly_rows_spread_over_their_days_before_monthly_totals(fixture_client):
    data, m = fixture_client(WEEKLY_YAML, WEEKLY)
    assert m.volumes.booked_monthly(MONTHS).tolist() == [30.0, 40.0, 80.0, 100.0]
    assert m.volumes.booked(m.ctx.window) == 180.0
    assert _by_month(data["spend"], "spend") == {M("2019-07"): 30.0, M("2019-08"): 40.0, M("2019-09"): 20.0,
                                                 M("2019-10"): 160.0}
    assert _by_month(data["spend"], "impressions") == {M("2019-07"): 300.0, M("2019-08"): 400.0,
                                                       M("2019-09"): 0.0, M("2019-10"): 0.0}
    # one day of a row is 1/7 of it; its other values (the channel) are the row's
    assert data["spend"]["spend"].iloc[0] == pytest.approx(10.0) and set(data["spend"]["channel"]) == {"tv"}
    s = m.overview.series
    assert s.loc[M("2019-09"), "bookings"] == 80.0 and s.loc[M("2019-10"), "bookings"] == 100.0
    # Oct against Sep: +25 %, where by week start (Sep 70, Oct 140) it would read +100 %
    assert s.loc[M("2019-10"), "bookings"] / s.loc[M("2019-09"), "bookings"] - 1 == pytest.approx(0.25)


def test_quarterly_and_window_totals_use_the_spread_amounts(fixture_client):
    _, m = fixture_client(WEEKLY_YAML, WEEKLY)
    acq = m.economics.acquisition
    by_q = acq.groupby(acq["month"].dt.asfreq("Q"))["spend"].sum()
    assert by_q.round(9).to_dict() == {P("2019Q3", "Q"): 90.0, P("2019Q4", "Q"): 160.0}
    assert m.economics.acquisition_in(m.ctx.window) == pytest.approx(180.0)
    assert m.channel.table.loc["tv", "spend"] == pytest.approx(180.0)


def test_a_date_end_column_spreads_a_range_and_averages_stay(fixture_client):
    data, m = fixture_client(WEEKLY_YAML, WEEKLY)
    assert _by_month(data["traffic"], "sessions") == {M("2019-09"): 200.0, M("2019-10"): 250.0}
    assert "date_end" not in data["traffic"]
    s = m.overview.series
    assert s.loc[M("2019-09"), "sessions"] == 200.0 and s.loc[M("2019-10"), "sessions"] == 250.0
    assert s.loc[M("2019-09"), "time_on_site"] == 60.0 and s.loc[M("2019-10"), "time_on_site"] == 60.0


def test_a_month_grain_spreads_to_the_day_before_the_same_date_next_month(fixture_client):
    data, m = fixture_client(WEEKLY_YAML, WEEKLY)
    assert _by_month(data["engagement"], "value") == {M("2019-09"): 160.0, M("2019-10"): 140.0}
    assert m.overview.series.loc[M("2019-10"), "social_engagement"] == 140.0


def test_days_after_as_of_have_not_happened_and_rows_are_counted_once(fixture_client):
    data, _ = fixture_client(WEEKLY_YAML, WEEKLY)
    r = data["revenue"]
    assert r["date"].max() == pd.Timestamp("2019-10-31")
    assert len(r) == 7 * 4 + 4  # four whole weeks, and Oct 28's four days up to as_of
    q = data.quality
    assert (q.rows_read["revenue"], q.rows_used["revenue"]) == (6, 5)  # Nov 4's week is left out
    assert (q.rows_read["spend"], q.rows_used["spend"]) == (3, 3)
    notes = {(n["file"], n["issue"]): n["rows"] for n in q.notes}
    assert notes[("revenue", "rows covering several days (7 days each)")] == 6
    assert notes[("revenue", "rows running past 31 Oct 2019 (the report date)")] == 1
    late = [n["rows"] for n in q.notes if n["file"] == "revenue" and n["action"] == "left out (not yet happened)"]
    assert late == [1]  # Nov 4's week, one row of the file (not seven days)
    assert notes[("revenue", "amount empty (unknown)")] == 1  # one row of the file, not its seven days
    assert notes[("traffic", "rows covering several days (4 days each)")] == 1
    assert notes[("engagement", "rows covering several days (30 days each)")] == 1
    assert q.rows_table().set_index("file").loc["revenue", "set aside at load"] == 1


def test_the_unknown_weekly_amount_stays_unknown_on_each_day(fixture_client):
    data, _ = fixture_client(WEEKLY_YAML, WEEKLY)
    r = data["revenue"]
    week = r[r["date"].between("2019-09-09", "2019-09-15")]
    assert len(week) == 7 and week["amount"].isna().all()


def test_without_a_grain_rows_are_days(fixture_client):
    """The same files without ``row_grain``: each row is its date's (Oct 28's 70 all in Oct), as before."""
    data, m = fixture_client(WEEKLY_YAML.replace("row_grain: {spend: week, revenue: week, engagement: month}\n", ""),
                             {**WEEKLY, "traffic": "date,channel,sessions\n2019-09-29,web,400\n"})
    assert m.volumes.booked_monthly(MONTHS).tolist() == [70.0, 0.0, 140.0, 70.0]
    assert len(data["revenue"]) == 5 and len(data["spend"]) == 3
    assert not any("several days" in n["issue"] for n in data.quality.notes)


def test_a_date_end_before_its_date_stops_the_load(fixture_client):
    with pytest.raises(DataError, match="date_end before date"):
        fixture_client(WEEKLY_YAML, {**WEEKLY, "spend": "date,channel,spend,date_end\n2019-09-30,tv,10,2019-09-29\n"})


@pytest.mark.parametrize("bad, message", [
    ({"row_grain": {"contacts": "week"}}, "row_grain.contacts"),
    ({"row_grain": {"spend": "fortnight"}}, "row_grain.spend"),
    ({"history_rebuilt_before": "Jan 2018"}, "not a month"),
    ({"history_rebuilt_before": "2018-04"}, "after as_of"),
    ({"history_since": "2018-01"}, "history_since"),  # a typo is an unknown key
])
def test_grain_and_history_parameters_are_validated(bad, message):
    with pytest.raises(ParamsError, match=message):
        Params.from_mapping({"client": "x", "data_dir": ".", "as_of": "2018-03-31", **bad})


def test_history_parameter_takes_a_month_or_a_day_of_it():
    p = Params.from_mapping({"client": "x", "data_dir": ".", "as_of": "2018-03-31",
                             "history_rebuilt_before": "2018-02-15"})
    assert str(p.history_rebuilt_before) == "2018-02-01"
    assert Params.from_mapping({"client": "x", "data_dir": ".", "as_of": "2018-03-31",
                                "history_rebuilt_before": "2018-03"}).history_rebuilt_before.month == 3


# -- reconstructed history ------------------------------------------------------------------------------
SNAP_YAML = """client: snap
data_dir: snap
as_of: 2018-03-31
window_months: 3
churn_window_months: 3
stages: [lead, customer]
history_rebuilt_before: 2018-02
"""
# monthly subscriptions (amount per month), MRR at each month end:
#   c1 100 from Nov 2017; c5 40 Nov 2017, ends 20 Jan 2018 (churn in Jan); c2 50 from Dec 2017, ends 15 Feb
#   (churn in Feb); c3 30 from 10 Jan 2018 (new in Jan); c4 20 from 5 Mar 2018 (new in Mar)
#   Nov 140 (new 140), Dec 190 (new 50), Jan 180 (new 30, churn 40: 1 of 3), Feb 130 (churn 50: 1 of c1, c2,
#   c3 = 1/3, GRR 1 - 50/180), Mar 150 (new 20, churn 0 of 2)
SNAP = {
    "contacts": "contact_id,created_at,channel\nZ1,2017-11-01,web\n",
    "subscriptions": "subscription_id,customer_id,start_date,amount,billing_period_months,end_date\n"
                     "s1,c1,2017-11-01,100,1,\ns5,c5,2017-11-01,40,1,2018-01-20\ns2,c2,2017-12-01,50,1,2018-02-15\n"
                     "s3,c3,2018-01-10,30,1,\ns4,c4,2018-03-05,20,1,\n",
}


def test_churn_and_movements_before_the_first_real_month_are_no_data(fixture_client):
    _, m = fixture_client(SNAP_YAML, SNAP)
    b = m.economics.bridge.set_index("month")
    assert b["ending_mrr"].tolist() == [140.0, 190.0, 180.0, 130.0, 150.0]  # levels stay
    for col in ("new", "churn", "logo_churn_rate", "nrr", "grr", "quick_ratio", "churned_customers"):
        assert b.loc[M("2017-11"):M("2018-01"), col].isna().all(), col
    assert b.loc[M("2018-02"), "churn"] == 50.0 and b.loc[M("2018-02"), "logo_churn_rate"] == pytest.approx(1 / 3)
    assert b.loc[M("2018-02"), "grr"] == pytest.approx(1 - 50 / 180)
    assert b.loc[M("2018-03"), "new"] == 20.0 and b.loc[M("2018-03"), "logo_churn_rate"] == 0.0
    # the headline churn averages the real months only: (1/3 + 0) / 2, not (1/3 + 1/3 + 0) / 3
    assert m.economics.scalars()["logo_churn_rate"] == pytest.approx(1 / 6)
    k = m.kpis()
    jan = k[(k["metric"] == "logo_churn_rate") & (k["period"] == "2018-01") & (k["dimension"].fillna("") == "")]
    assert len(jan) == 1 and math.isnan(jan["value"].iloc[0])
    bridge = {r["month"]: r for r in m.metrics_json()["tables"]["mrr_bridge"]}
    assert bridge["2018-01"]["churn"] is None and bridge["2018-01"]["logo_churn_rate"] is None
    assert bridge["2018-01"]["ending_mrr"] == 180.0 and bridge["2018-02"]["churn"] == 50.0


def test_without_the_parameter_the_rebuilt_months_count(fixture_client):
    _, m = fixture_client(SNAP_YAML.replace("history_rebuilt_before: 2018-02\n", ""), SNAP)
    b = m.economics.bridge.set_index("month")
    assert b.loc[M("2018-01"), "logo_churn_rate"] == pytest.approx(1 / 3)
    assert m.economics.scalars()["logo_churn_rate"] == pytest.approx(2 / 9)
    assert m.volumes.count("new_customers", m.ctx.window) == 2  # c3 (Jan) and c4 (Mar)
    assert m.ctx.history_note() == ""


def test_new_customers_before_the_first_real_month_are_no_data(fixture_client):
    _, m = fixture_client(SNAP_YAML, SNAP)
    v = m.volumes
    assert v.count("new_customers", m.ctx.window) == 1  # c4; c3's Jan start was rebuilt
    monthly = v.monthly("new_customers", pd.period_range("2018-01", "2018-03", freq="M"))
    assert math.isnan(monthly.iloc[0]) and monthly.iloc[1:].tolist() == [0, 1]
    assert v.status("new_customers", m.ctx.window) == "partial"
    # retention cohorts that started before it are left out (their start was rebuilt)
    assert [str(c) for c in m.cohort.cohorts["cohort"].unique()] == ["2018-03"]


def test_the_header_says_history_was_rebuilt(fixture_client):
    from kpi_kit.reports import OverviewReport

    data, m = fixture_client(SNAP_YAML, SNAP)
    note = "History before Feb 2018 was rebuilt from one snapshot: churn and MRR movements before it are not shown."
    assert m.ctx.history_note() == note
    header = OverviewReport(data).header()
    assert repr(header).endswith(note) and note in header._repr_html_()


def test_blank_rebuilt_history_keeps_levels_and_the_input():
    b = pd.DataFrame({"month": pd.period_range("2017-12", periods=2, freq="M"), "ending_mrr": [90.0, 80.0],
                      "churn": [0.0, 10.0], "churned_customers": [0, 1]})
    out = blank_rebuilt_history(b, M("2018-01"))
    assert math.isnan(out["churn"].iloc[0]) and out["churn"].iloc[1] == 10.0
    assert out["ending_mrr"].tolist() == [90.0, 80.0]
    assert blank_rebuilt_history(b, None) is b
    assert b["churn"].iloc[0] == 0.0  # the input is not changed


# -- partial periods: the magic number -------------------------------------------------------------------
def _magic_inputs():
    # net new MRR: Apr-Jun +10 each (30), Jul +10 (1 month of Q3); costs 40 a month Jan-Jul
    b = pd.DataFrame({"month": pd.period_range("2026-04", periods=4, freq="M"),
                      "starting_mrr": [0.0, 10.0, 20.0, 30.0], "ending_mrr": [10.0, 20.0, 30.0, 40.0]})
    a = pd.DataFrame({"month": pd.period_range("2026-01", periods=7, freq="M"), "total": [40.0] * 7})
    return b, a


def test_magic_number_of_a_quarter_to_date_is_na_with_its_reason():
    b, a = _magic_inputs()
    m = magic_number(b, a, last=M("2026-07")).set_index("quarter")
    assert m.loc[P("2026Q2", "Q"), "magic_number"] == pytest.approx(30 * 12 / 120)  # 3.0
    assert math.isnan(m.loc[P("2026Q3", "Q"), "magic_number"])
    assert m.loc[P("2026Q3", "Q"), "why"].startswith("quarter to date (1 of 3 months)")
    # the ratio would have been 10 × 12 / 120 = 1.0: one month of MRR against a full quarter's cost
    assert m.loc[P("2026Q3", "Q"), "net_new_mrr"] == 10.0
    assert m.loc[P("2026Q3", "Q"), "previous_quarter_acquisition"] == 120.0


def test_magic_number_needs_a_whole_previous_quarter_of_costs_and_real_history():
    b, a = _magic_inputs()
    m = magic_number(b, a.iloc[1:], last=M("2026-06")).set_index("quarter")  # costs from Feb: Q1 2 of 3 months
    assert math.isnan(m.loc[P("2026Q2", "Q"), "magic_number"])
    assert m.loc[P("2026Q2", "Q"), "why"] == "the previous quarter's costs cover 2 of its 3 months"
    m = magic_number(b, a, last=M("2026-06"), first_real=M("2026-05")).set_index("quarter")
    assert math.isnan(m.loc[P("2026Q2", "Q"), "magic_number"]) and "rebuilt" in m.loc[P("2026Q2", "Q"), "why"]
    m = magic_number(b, a, last=M("2026-06")).set_index("quarter")  # a complete quarter, whole costs
    assert m.loc[P("2026Q2", "Q"), "magic_number"] == 3.0 and m.loc[P("2026Q2", "Q"), "why"] == ""


# -- revenue target: at least one complete year-over-year growth -------------------------------------------
def test_revenue_target_needs_two_complete_years():
    one = revenue_target(pd.Series([200.0]), uplift=0.05)
    assert one["last_year"] == 200.0 and math.isnan(one["growth"]) and math.isnan(one["target"])
    assert one["why"].startswith("only one complete year of revenue")
    two = revenue_target(pd.Series([100.0, 150.0]), uplift=0.05)  # 150 × (1 + 0.5 + 0.05) = 232.5
    assert two["target"] == pytest.approx(232.5) and two["why"] == ""
    zero = revenue_target(pd.Series([0.0, 150.0]), uplift=0.05)  # growth from 0 is not measured
    assert math.isnan(zero["target"]) and "revenue is 0" in zero["why"]
    assert math.isnan(revenue_target(pd.Series([], dtype=float))["target"])


# -- a lost deal closed after as_of is open on as_of ------------------------------------------------------
DEALS_YAML = """client: late
data_dir: late
as_of: 2026-06-30
window_months: 3
stages: [lead, customer]
"""
# closed in the window (Apr-Jun): d1 won 100, d2 lost -> win rate 1/2; d3 lost on 2026-07-10, after as_of:
# open on as_of with 300 × 0.5 in the pipeline, and not a loss of the window (else win rate 1/3)
DEALS = {
    "contacts": "contact_id,created_at,channel\nZ1,2026-01-05,web\n",
    "deals": "deal_id,created_at,status,amount,closed_at,probability\n"
             "d1,2026-03-01,won,100,2026-04-10,\nd2,2026-03-01,lost,40,2026-05-10,\n"
             "d3,2026-03-01,lost,300,2026-07-10,0.5\n",
}


def test_a_lost_deal_closed_after_as_of_is_open_in_pipeline_and_not_in_win_rate(fixture_client):
    data, m = fixture_client(DEALS_YAML, DEALS)
    d3 = data["deals"].set_index("deal_id").loc["d3"]
    assert d3["status"] == "open" and pd.isna(d3["closed_at"])
    o = m.funnel.deal_outcomes(m.ctx.window)
    assert (o["won"], o["lost"], o["win_rate"]) == (1, 1, 0.5)
    assert m.funnel.pipeline == {"open_deals": 1, "pipeline": 300.0, "weighted_pipeline": 150.0,
                                 "without_probability": 0, "without_amount": 0}
    scalars = m.scalars()
    assert scalars["win_rate"] == 0.5 and scalars["weighted_pipeline"] == 150.0
    assert [n["rows"] for n in data.quality.notes if n["action"] == "deal treated as open"] == [1]


# -- metrics.json tables null where kpis.csv says no data ---------------------------------------------------
STOP_YAML = """client: stop
data_dir: stop
as_of: 2018-11-30
window_months: 6
stages: [mql, customer]
"""


def _stopping_contacts() -> str:
    """60 contacts a month, Jan-May 2018 (the export stops in May), 10 of each month's won on 15 Jun."""
    rows = ["contact_id,created_at,channel,mql_at,customer_at"]
    for month in range(1, 6):
        for i in range(60):
            day = f"2018-{month:02d}-{1 + i % 28:02d}"
            rows.append(f"c{month}-{i},{day},web,{day},{'2018-06-15' if i < 10 else ''}")
    return "\n".join(rows) + "\n"


def test_funnel_cohorts_after_the_contacts_stop_are_null(fixture_client):
    _, m = fixture_client(STOP_YAML, {"contacts": _stopping_contacts()})
    assert m.ctx.coverage.of("contacts").last == M("2018-05")
    rows = {r["cohort"]: r for r in m.metrics_json()["tables"]["funnel_cohorts"]}
    may = rows["2018-05"]
    assert (may["created"], may["mql"], may["customer"]) == (60, 60, 10)
    for month in ("2018-06", "2018-07", "2018-11"):
        assert (rows[month]["created"], rows[month]["mql"], rows[month]["customer"]) == (None, None, None)
    # kpis.csv: the MQLs of a month after the stop are no data too
    k = m.kpis()
    jul = k[(k["metric"] == "mqls") & (k["period"] == "2018-07")]
    assert jul.empty or jul["value"].isna().all()


def test_null_outside_leaves_covered_months_and_unknown_spans():
    from kpi_kit.metrics.coverage import Span
    from kpi_kit.metrics.serialise import null_outside, records

    df = pd.DataFrame({"cohort": pd.period_range("2018-04", periods=3, freq="M"), "created": [5, 0, 0],
                       "customer": [1, 0, 2]})
    out = null_outside(df, "cohort", {"created": Span(M("2018-01"), M("2018-05")), "customer": None})
    assert records(out) == [{"cohort": "2018-04", "created": 5, "customer": 1},
                            {"cohort": "2018-05", "created": 0, "customer": 0},
                            {"cohort": "2018-06", "created": None, "customer": 2}]
    assert df["created"].tolist() == [5, 0, 0]


# -- importer: an export's 0 for an unknown amount -----------------------------------------------------------
PIPELINE = ("id,stage,engaged,closed,value\n1,Won,2017-01-02,2017-02-01,100\n2,Lost,2017-01-03,2017-02-02,0\n"
            "3,Lost,2017-01-04,2017-02-03,0\n4,Engaging,2017-01-05,,\n5,Won,2017-01-06,2017-02-04,50\n")
MAPPING = ("target: deals\ncolumns:\n  deal_id: id\n  created_at: engaged\n  closed_at: closed\n"
           "  status: {column: stage, values: {Won: won, Lost: lost, Engaging: open}}\n"
           "  amount: {column: value, kind: money, zero_is_unknown: \"the CRM writes 0 for lost deals\"}\n")


def test_zero_is_unknown_leaves_the_cells_empty_and_counts_them(tmp_path):
    from kpi_kit.data import load_client
    from kpi_kit.importers import import_files
    from kpi_kit.params import load_params

    (tmp_path / "pipeline.csv").write_text(PIPELINE)
    (tmp_path / "map.yaml").write_text(MAPPING)
    out = tmp_path / "client"
    report = import_files("mapping", [tmp_path / "pipeline.csv"], out, mapping=tmp_path / "map.yaml")
    assert "value: 2 value(s) of 0 (lost 2) read as unknown and left empty: the CRM writes 0 for lost deals" \
        in str(report)
    amounts = pd.read_csv(out / "deals.csv")["amount"]
    assert amounts.isna().tolist() == [False, True, True, True, False] and amounts.sum() == 150.0
    entry = next(i for i in report.log if i["kind"] == "left empty")
    assert (entry["issue"], entry["rows"]) == ("value recorded as 0 for an unknown amount (lost 2)", 2)
    assert entry["action"].endswith(": the CRM writes 0 for lost deals")
    # the loader lists it with the rows imported, and counts the empty amounts by status (2 lost, 1 open)
    (tmp_path / "c.yaml").write_text("client: c\ndata_dir: client\nas_of: 2017-03-31\nstages: [lead, customer]\n")
    data = load_client(load_params(tmp_path / "c.yaml"))
    t = data.quality.import_table()
    assert t.loc[t["issue"].str.contains("recorded as 0"), "rows"].tolist() == [2]
    notes = {n["issue"]: n["rows"] for n in data.quality.notes}
    assert notes["amount empty (unknown): lost 2, open 1"] == 3
    # the deals' known amounts: 100 + 50, over two deals (deal size 75, not 150 / 4)
    from kpi_kit.metrics import compute

    o = compute(data).funnel.deal_outcomes(None)
    assert (o["won"], o["lost"], o["won_amount"], o["avg_deal_size"]) == (2, 2, 150.0, 75.0)


def test_zero_is_unknown_only_touches_zeros_and_without_it_zero_is_kept(tmp_path):
    from kpi_kit.importers import import_files

    (tmp_path / "p.csv").write_text("id,engaged,value\n1,2017-01-02,0\n2,2017-01-03,5\n")
    plain = ("target: deals\ncolumns:\n  deal_id: id\n  created_at: engaged\n  status: {value: open}\n"
             "  amount: {column: value, kind: money}\n")
    (tmp_path / "m.yaml").write_text(plain)
    import_files("mapping", [tmp_path / "p.csv"], tmp_path / "a", mapping=tmp_path / "m.yaml")
    assert pd.read_csv(tmp_path / "a" / "deals.csv")["amount"].tolist() == [0.0, 5.0]
    (tmp_path / "m.yaml").write_text(plain.replace("kind: money}", "kind: money, zero_is_unknown: true}"))
    r = import_files("mapping", [tmp_path / "p.csv"], tmp_path / "b", mapping=tmp_path / "m.yaml")
    amounts = pd.read_csv(tmp_path / "b" / "deals.csv")["amount"]
    assert np.isnan(amounts.iloc[0]) and amounts.iloc[1] == 5.0
    assert "value: 1 value(s) of 0 (open 1) read as unknown and left empty" in str(r)
