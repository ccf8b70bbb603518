"""Funnel numbers on a client that tells the definitions apart (issue #21): rows dated exactly on
``as_of`` (they happened), the day after (they did not), both edges of the reporting window and of
the window a year earlier, and data just outside them. Expected values by hand, below.

as_of 2026-03-31, window_months 3: window Jan–Mar 2026; a year earlier Jan–Mar 2025.

contacts (created = lead date unless said)     lead in window?   customer (customer_at) in window?
  Y0  2024-12-31, customer 2025-01-02           year-ago: no      year-ago: yes (Jan 2)
  Y1  2025-01-01, customer 2025-03-31           year-ago: yes     year-ago: yes (last day)
  Y6  2025-01-20                                year-ago: yes
  Y4  2025-02-10                                year-ago: yes
  Y2  2025-03-31                                year-ago: yes
  Y3  2025-04-01, customer 2025-04-01           year-ago: no      no
  Y5  2025-04-15, customer 2025-04-15           no                no
  N3  2025-12-31, customer 2026-01-20           window: no        window: yes
  N1  2026-01-01, customer 2026-03-31 (as_of)   window: yes       window: yes
  N5  2026-02-01, mql 2026-03-31 (as_of), sql 2026-04-01 (after as_of: not reached)
  N2  2026-03-31 (created on as_of: exists)     window: yes
  N4  2026-04-01 (created after as_of: does not exist)

Lead-to-close: window 2 customers (N3, N1) / 3 leads (N1, N5, N2) = 2/3;
a year earlier 2 customers (Y0, Y1) / 4 leads (Y1, Y6, Y4, Y2) = 1/2.
(Shifted a month later, Feb–Apr 2025, it would be 3 / 5; a month earlier, Dec–Feb, 1 / 4.)

deals
  E1  created 2026-01-05, won 1000, closed 2026-03-31 (on as_of), contact N1
  E2  created 2025-12-01, lost 400, closed 2026-01-01 (the window's first day)
  E3  created 2025-11-01, won 700, closed 2025-12-31 (just before the window)
  E4  created 2026-03-31 (on as_of), open 2000, probability 0.25
  E5  created 2026-04-01 (after as_of: does not exist), open 5000, probability 1
  E6  created 2026-02-01, won 300 closed 2026-04-02 (after as_of: still open), no probability
"""

import math

import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit._dates import Window
from kpi_kit.metrics import compute
from kpi_kit.metrics import funnel as fu

CONTACTS = """contact_id,created_at,channel,lead_at,mql_at,sql_at,customer_at
Y0,2024-12-31,web,2024-12-31,,,2025-01-02
Y1,2025-01-01,web,2025-01-01,,,2025-03-31
Y6,2025-01-20,web,2025-01-20,,,
Y4,2025-02-10,ads,2025-02-10,,,
Y2,2025-03-31,ads,2025-03-31,,,
Y3,2025-04-01,ads,2025-04-01,,,2025-04-01
Y5,2025-04-15,web,2025-04-15,,,2025-04-15
N3,2025-12-31,web,2025-12-31,,,2026-01-20
N1,2026-01-01,ads,2026-01-01,,,2026-03-31
N5,2026-02-01,web,2026-02-01,2026-03-31,2026-04-01,
N2,2026-03-31,ads,2026-03-31,,,
N4,2026-04-01,ads,2026-04-01,,,
"""
DEALS = """deal_id,created_at,status,amount,closed_at,contact_id,probability
E1,2026-01-05,won,1000,2026-03-31,N1,
E2,2025-12-01,lost,400,2026-01-01,,
E3,2025-11-01,won,700,2025-12-31,,
E4,2026-03-31,open,2000,,,0.25
E5,2026-04-01,open,5000,,,1
E6,2026-02-01,won,300,2026-04-02,,
"""
YAML = """client: edge
data_dir: edge
as_of: 2026-03-31
currency: EUR
window_months: 3
stages: [lead, mql, sql, customer]
"""
JAN_MAR = Window(pd.Period("2026-01", "M"), pd.Period("2026-03", "M"))


@pytest.fixture
def edge(tmp_path):
    (tmp_path / "edge").mkdir()
    (tmp_path / "edge" / "contacts.csv").write_text(CONTACTS)
    (tmp_path / "edge" / "deals.csv").write_text(DEALS)
    (tmp_path / "edge.yaml").write_text(YAML)
    return load_client(load_params(tmp_path / "edge.yaml"))


def test_rows_on_as_of_exist_rows_after_do_not(edge):
    c = edge["contacts"].set_index("contact_id")
    assert "N2" in c.index and "N4" not in c.index
    assert c.loc["N5", "mql_at"] == pd.Timestamp("2026-03-31") and pd.isna(c.loc["N5", "sql_at"])
    d = edge["deals"].set_index("deal_id")
    assert "E4" in d.index and "E5" not in d.index
    assert d.loc["E1", "status"] == "won" and d.loc["E6", "status"] == "open"


def test_lead_to_close_window_and_a_year_earlier(edge):
    ltc = compute(edge).funnel.lead_to_close.set_index("period")
    assert ltc.loc["current", ["leads", "customers"]].tolist() == [3, 2]
    assert ltc.loc["current", "rate"] == pytest.approx(2 / 3)
    assert ltc.loc["year earlier", ["leads", "customers"]].tolist() == [4, 2]
    assert ltc.loc["year earlier", "rate"] == pytest.approx(1 / 2)
    assert ltc.loc["year earlier", "window"] == "Jan 2025 – Mar 2025"
    s = compute(edge).funnel.scalars()
    assert s["lead_to_close_cvr"] == pytest.approx(2 / 3) and s["lead_to_close_cvr_year_ago"] == pytest.approx(1 / 2)


def test_lead_to_close_function_on_the_same_contacts(edge):
    ltc = fu.lead_to_close(edge["contacts"], ["lead", "mql", "sql", "customer"], JAN_MAR).set_index("period")
    assert ltc[["leads", "customers"]].to_dict("index") == {"current": {"leads": 3, "customers": 2},
                                                            "year earlier": {"leads": 4, "customers": 2}}
    assert ltc["rate"].tolist() == pytest.approx([2 / 3, 1 / 2])
    assert ltc["window"].tolist() == ["Jan 2026 – Mar 2026", "Jan 2025 – Mar 2025"]
    # without a lead stage the first stage counts from creation; without a customer stage nobody closes
    no_lead = fu.lead_to_close(edge["contacts"], ["mql"], JAN_MAR).set_index("period")
    assert no_lead.loc["current", ["leads", "customers"]].tolist() == [3, 0]  # created N1, N5, N2
    assert no_lead.loc["current", "rate"] == 0.0


def test_period_counts_at_the_window_edges(edge):
    v = compute(edge).volumes
    assert v.count("leads", JAN_MAR) == 3  # N1 (first day), N5, N2 (on as_of); N3 is Dec 31
    # N3 and N1 skipped MQL and SQL: dated by their customer dates (Jan 20, Mar 31); N5's MQL is on as_of
    assert v.count("mqls", JAN_MAR) == 3
    assert v.count("sqls", JAN_MAR) == 2  # N3, N1: N5's SQL is after as_of
    assert v.count("new_customers", JAN_MAR) == 2  # N3 Jan 20, N1 on as_of
    assert v.count("won_deals", JAN_MAR) == 1  # E1 (on as_of); E3 is Dec 31, E6 after as_of
    assert v.count_between("leads", pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-01")) == 1.0  # N1, both ends in
    assert v.count_between("leads", pd.Timestamp("2025-12-31"), pd.Timestamp("2026-01-01")) == 2.0  # N3, N1


def test_deal_outcomes_in_the_window(edge):
    f = compute(edge).funnel
    o = f.deal_outcomes(JAN_MAR)
    assert o == {"won": 1, "lost": 1, "won_amount": 1000.0, "win_rate": 0.5, "avg_deal_size": 1000.0,
                 "won_without_amount": 0}
    assert f.sales_cycle(JAN_MAR) == 89.0  # E1: from its contact N1's creation (Jan 1) to Mar 31, not from Jan 5
    assert fu.sales_cycle_days(edge["deals"], None, JAN_MAR) == 85.0  # from the deal's own creation (Jan 5)
    p = f.pipeline
    # open on as_of: E4 (2000 × 0.25) and E6 (closes after as_of; no probability: left out and counted)
    assert p == {"open_deals": 2, "pipeline": 2300.0, "weighted_pipeline": 500.0, "without_probability": 1,
                 "without_amount": 0}
    s = f.scalars()
    assert (s["win_rate"], s["avg_deal_size"], s["avg_sales_cycle_days"], s["weighted_pipeline"]) == (0.5, 1000.0, 89.0,
                                                                                                     500.0)


def test_cohort_view_conversion_and_velocity_over_contacts_created_in_the_window(edge):
    f = compute(edge).funnel
    conv = f.conversion.set_index(["from", "to"])
    # created in Jan–Mar 2026: N1, N5, N2 (N3 is created Dec 31)
    assert conv["reached_from"].tolist() == [3, 3, 2, 1] and conv["reached_to"].tolist() == [3, 2, 1, 1]
    assert conv["rate"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 2, 1.0])
    vel = f.velocity.set_index(["from", "to"])
    assert vel.loc[("created", "lead"), ["median_days", "pairs"]].tolist() == [0.0, 3]
    assert vel.loc[("lead", "mql"), ["median_days", "pairs"]].tolist() == [58.0, 1]  # N5: Feb 1 -> Mar 31
    assert math.isnan(vel.loc[("mql", "sql"), "median_days"]) and vel.loc[("mql", "sql"), "pairs"] == 0
    assert f.funnel_counts().to_dict() == {"Created": 3, "Lead": 3, "MQL": 2, "SQL": 1, "Customer": 1}


def test_cohort_funnel_months_and_counts(edge):
    co = compute(edge).funnel.cohorts.set_index("cohort")
    assert str(co.index[0]) == "2024-12" and str(co.index[-1]) == "2026-03" and len(co) == 16
    assert co.loc[pd.Period("2026-03", "M"), ["created", "lead", "mql", "customer"]].tolist() == [1, 1, 0, 0]  # N2
    assert co.loc[pd.Period("2025-12", "M"), ["created", "lead", "mql", "sql", "customer"]].tolist() == [1, 1, 1, 1, 1]
    assert co.loc[pd.Period("2025-01", "M"), ["created", "customer"]].tolist() == [2, 1]  # Y1, Y6
    assert co.loc[pd.Period("2025-05", "M"), "created"] == 0  # an empty month is a row of zeros


def test_period_funnel_months_reach_a_year_before_the_window(edge):
    f = compute(edge).funnel
    assert str(f.months[0]) == "2024-12" and str(f.months[-1]) == "2026-03"
    per = f.period.set_index("month")
    assert per.loc[pd.Period("2025-01", "M"), ["lead", "customer"]].tolist() == [2, 1]  # Y1, Y6; Y0 (Jan 2)
    assert per.loc[pd.Period("2026-03", "M"), ["lead", "mql", "sql", "customer"]].tolist() == [1, 2, 1, 1]


def test_deals_by_quarter(edge):
    q = compute(edge).funnel.deals_by_quarter.set_index("quarter")
    # from the first deal's quarter (E3 created 2025Q4) to the last full month's quarter (2026Q1)
    assert q.index.tolist() == ["2025Q4", "2026Q1"]
    assert q.loc["2025Q4", ["won", "lost", "win_rate", "bookings", "avg_deal_size"]].tolist() == [1, 0, 1.0, 700.0, 700.0]
    assert q.loc["2025Q4", "sales_cycle_days"] == 60.0  # E3: Nov 1 -> Dec 31, no contact
    assert q.loc["2026Q1", ["won", "lost", "win_rate", "bookings"]].tolist() == [1, 1, 0.5, 1000.0]
    assert q.loc["2026Q1", "period"] == "window" and q.loc["2025Q4", "period"] == "2025-Q4"


def test_deals_by_quarter_marks_the_quarter_to_date(tiny_params, tmp_path):
    (tmp_path / "edge").mkdir()
    (tmp_path / "edge" / "contacts.csv").write_text(CONTACTS)
    (tmp_path / "edge" / "deals.csv").write_text(DEALS)
    (tmp_path / "edge.yaml").write_text(YAML.replace("as_of: 2026-03-31", "as_of: 2026-05-31"))
    q = compute(load_client(load_params(tmp_path / "edge.yaml"))).funnel.deals_by_quarter
    assert q["quarter"].tolist() == ["2025Q4", "2026Q1", "2026Q2 (to date)"]
    # E6 now closed (won Apr 2, 300; created Feb 1 -> 60 days); E4 still open
    assert q.iloc[2][["won", "lost", "bookings", "sales_cycle_days"]].tolist() == [1, 0, 300.0, 60.0]
    assert q.iloc[2]["period"] == "2026-Q2"


def test_cohort_matrix_and_tables(edge):
    f = compute(edge).funnel
    mat = f.cohort_matrix(months=4)  # Dec 2025 – Mar 2026
    assert mat.index.tolist() == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert mat.loc["2026-02"].tolist() == [1.0, 1.0, 0.0, 0.0]  # N5: lead, MQL; no SQL, no customer
    assert mat.loc["2026-01", "Customer"] == 1.0 and mat.columns.tolist() == ["Lead", "MQL", "SQL", "Customer"]
    t = f.tables()
    assert t["funnel_conversion"][1] == {"from": "lead", "to": "mql", "rate": pytest.approx(2 / 3)}
    assert t["stage_velocity"][1] == {"from": "lead", "to": "mql", "median_days": 58.0}
    assert t["funnel_cohorts"][-1] == {"cohort": "2026-03", "created": 1, "lead": 1, "mql": 0, "sql": 0, "customer": 0,
                                       "mature": False}
    assert len(t["funnel_cohorts"]) == 16


def test_cohort_matrix_trims_months_without_contacts():
    cohorts = pd.DataFrame({"cohort": pd.period_range("2026-01", periods=4, freq="M"), "created": [0, 2, 0, 0],
                            "lead": [0, 1, 0, 0]})
    f = fu.FunnelMetrics.__new__(fu.FunnelMetrics)
    f.stages = ["lead"]
    f.__dict__["cohorts"] = cohorts
    assert f.cohort_matrix().to_dict("index") == {"2026-02": {"Lead": 0.5}}
    del f.__dict__["cohorts"]
    f.__dict__["cohorts"] = cohorts.assign(created=0, lead=0)
    assert f.cohort_matrix().index.tolist() == ["2026-01", "2026-02", "2026-03", "2026-04"]  # no contact at all


def test_funnel_without_deals_or_contacts(edge):
    edge.frames.pop("deals")
    f = compute(edge).funnel
    assert all(math.isnan(v) for v in f.deal_outcomes(JAN_MAR).values())
    assert math.isnan(f.sales_cycle(JAN_MAR))
    assert f.pipeline["open_deals"] == 0 and math.isnan(f.pipeline["weighted_pipeline"])
    assert f.deals_by_quarter.empty
    s = f.scalars()
    assert math.isnan(s["win_rate"]) and s["lead_to_close_cvr"] == pytest.approx(2 / 3)


def test_target_attainment_and_sales_cycle_for_maturity(tiny):
    f = compute(tiny).funnel
    t = f.target_attainment().set_index("metric")
    # leads targets: Jan 3, Feb 2 (March has none): actual Jan 2 + Feb 2 = 4 against 5
    assert t.loc["leads", ["actual", "target"]].tolist() == [4.0, 5.0]
    assert t.loc["leads", "attainment"] == pytest.approx(0.8) and t.loc["leads", "months"] == "Jan 2026 – Feb 2026"
    assert f.sales_cycle_for_maturity == 58.5  # measured: C1 41 days, C6 76 days
    assert fu.stage_label("mql") == "MQL" and fu.stage_label("opportunity") == "Opportunity"
    assert fu.count_metric("customer") == "new_customers" and fu.count_metric("sql") == "sqls"
    tiny.frames.pop("targets")
    assert compute(tiny).funnel.target_attainment().empty


def test_funnel_edges_without_a_window_a_customer_stage_or_contacts(edge, tmp_path):
    assert math.isnan(fu.typical_sales_cycle_days(edge["contacts"].drop(columns="customer_at")))
    # every closed deal, no window: E1, E3 won (1000 + 700), E2 lost
    assert fu.deal_outcomes(edge["deals"]) == {"won": 2, "lost": 1, "won_amount": 1700.0, "win_rate": pytest.approx(2 / 3),
                                                "avg_deal_size": 850.0, "won_without_amount": 0}
    q = compute(edge).funnel.quarterly.set_index(["from", "to", "quarter"])
    # lead -> MQL in 2026Q1: N1, N5, N2 entered lead; N1 (skipped, by its customer date) and N5 reached MQL
    assert q.loc[("lead", "mql", "2026Q1"), ["entered", "converted"]].tolist() == [3, 2]
    (tmp_path / "e2").mkdir()
    (tmp_path / "e2" / "contacts.csv").write_text(CONTACTS)
    (tmp_path / "e2.yaml").write_text(YAML.replace("data_dir: edge", "data_dir: e2").replace(
        "stages: [lead, mql, sql, customer]", "stages: [lead, mql]"))
    f = compute(load_client(load_params(tmp_path / "e2.yaml"))).funnel
    # no customer stage: no customer column, and N1's skipped MQL is no longer dated by its customer date
    assert "customer" not in f.period.columns and f.period.set_index("month").loc[pd.Period("2026-03", "M"), "mql"] == 1
