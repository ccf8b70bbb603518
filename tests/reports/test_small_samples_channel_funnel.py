"""Small samples on the channel and funnel pages (SPEC "Real data: small samples", issue #15 item 6):
a rate over fewer than ``min_sample`` base items is shown greyed with its n and never named best or
worst; a change between two periods is a rise or fall only when the two-proportion test finds it
significant at 5 %.

Frames are hand-built and handed to the reports' cached metrics, so each expected sentence is
worked out from the numbers in the test. The pooled two-proportion z-test:
p = (x1 + x2) / (n1 + n2), z = (x1/n1 − x2/n2) / sqrt(p (1 − p) (1/n1 + 1/n2)), significant when |z| > 1.96.
"""

from pathlib import Path

import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit.charts import conversion_heatmap, deals_chart
from kpi_kit.reports import blocks as rp
from kpi_kit.reports.channel import ChannelReport
from kpi_kit.reports.funnel import FunnelReport

FIXTURES = Path(__file__).parents[1] / "fixtures"


def with_min_sample(report, n: int):
    report.params = report.params.model_copy(update={"min_sample": n})
    return report


# -- the table block -----------------------------------------------------------------------------

def test_a_rate_over_29_items_is_marked_and_over_30_is_not():
    t = pd.DataFrame({"channel": ["A", "B", "C"], "rate": [0.5, 1.0, float("nan")]})
    b = rp.table(t, {"rate": "percent"}, samples={"rate": [30, 29, 0]}, min_sample=30, sample_noun="leads",
                 kpis={"rate": lambda i: f"k|{i}"})
    text, page = repr(b), b._repr_html_()
    assert "50.0%" in text and "50.0% (n=30)" not in text  # 30 = min_sample: not small
    assert "100.0% (n=29)" in text  # 29 < 30: marked with its n
    assert "n/a (n=0)" not in text  # a rate that is n/a has nothing to mark
    assert text.endswith("Greyed rates rest on fewer than 30 leads (their n shown): shown, but too few to rank "
                         "or compare.")
    # greyed in the page, the value first (the consistency check reads a cell's first number)
    assert ('<td data-kpi="k|1" class="kk-small" title="fewer than 30 leads">100.0% <span class="kk-n">n=29</span>'
            "</td>") in page
    assert '<td data-kpi="k|0">50.0%</td>' in page


def test_a_table_without_small_rates_has_no_note():
    b = rp.table(pd.DataFrame({"rate": [0.5]}), {"rate": "percent"}, samples={"rate": [30]}, min_sample=30)
    assert "Greyed" not in repr(b) and 'class="kk-small"' not in b._repr_html_()


# -- funnel: the weakest step ------------------------------------------------------------------------

def conversion(bases_and_reached):
    steps = [("created", "lead"), ("lead", "mql"), ("mql", "sql"), ("sql", "customer")]
    return pd.DataFrame([{"from": a, "to": b, "reached_from": n, "reached_to": k, "rate": k / n}
                         for (a, b), (n, k) in zip(steps, bases_and_reached)])


def test_the_weakest_step_skips_a_step_over_29_contacts(tiny):
    """created→lead 180/200 = 90 %, lead→mql 54/180 = 30 %, mql→sql 29/54 = 53.7 %, sql→customer
    2/29 = 6.9 %: the lowest rate rests on 29 contacts, so the weakest named is lead→mql."""
    r = FunnelReport(tiny)
    r.f.conversion = conversion([(200, 180), (180, 54), (54, 29), (29, 2)])
    text = r._funnel_sentence()
    assert text.endswith("; the weakest step is Lead → MQL at 30.0% (steps that start from fewer than 30 "
                         "contacts are not ranked).")


def test_a_step_over_exactly_min_sample_contacts_can_be_the_weakest(tiny):
    """sql→customer 2/30 = 6.7 % rests on 30 contacts: it is ranked, and it is the lowest."""
    r = FunnelReport(tiny)
    r.f.conversion = conversion([(200, 180), (180, 54), (54, 30), (30, 2)])
    assert r._funnel_sentence().endswith("; the weakest step is SQL → Customer at 6.7%.")


def test_no_step_is_named_weakest_when_none_has_min_sample_contacts(tiny):
    # tiny's own window: 5, 4, 3 and 2 contacts at the steps' starts
    assert FunnelReport(tiny)._funnel_sentence().endswith(
        "; no step starts from 30 or more contacts, so none is named the weakest.")
    # min_sample 4: created→lead 4/5 = 80 % and lead→mql 3/4 = 75 % are ranked; mql→sql 2/3 is not
    assert with_min_sample(FunnelReport(tiny), 4)._funnel_sentence().endswith(
        "; the weakest step is Lead → MQL at 75.0% (steps that start from fewer than 4 contacts are not ranked).")


def test_the_conversion_table_greys_the_steps_over_few_contacts(tiny):
    """tiny's window: 4/5, 3/4, 2/3, 1/2; with min_sample 4 the last two steps are marked."""
    text = repr(with_min_sample(FunnelReport(tiny), 4).section("conversion"))
    assert "80.0%" in text and "80.0% (n=5)" not in text and "75.0% (n=4)" not in text
    assert "66.7% (n=3)" in text and "50.0% (n=2)" in text
    assert "Greyed rates rest on fewer than 4 contacts at the step's start" in text


# -- funnel: changes between periods ------------------------------------------------------------------

def lead_to_close(cur: tuple, old: tuple):
    return pd.DataFrame([
        {"period": "current", "window": "Jan 2026 – Mar 2026", "leads": cur[0], "customers": cur[1],
         "rate": cur[1] / cur[0] if cur[0] else float("nan")},
        {"period": "year earlier", "window": "Jan 2025 – Mar 2025", "leads": old[0], "customers": old[1],
         "rate": old[1] / old[0] if old[0] else float("nan")}])


@pytest.mark.parametrize("cur, old, expected", [
    # p = 90/400 = .225, z = .15 / sqrt(.225 · .775 · (2/200)) = .15 / .041758 = 3.59: significant
    ((200, 60), (200, 30), "Lead-to-close CVR rose 15.0 pp to 30.00% from 15.00% a year earlier, a significant "
                           "change (n=200 and 200 leads)."),
    ((200, 30), (200, 60), "Lead-to-close CVR fell 15.0 pp to 15.00% from 30.00% a year earlier, a significant "
                           "change (n=200 and 200 leads)."),
    # p = 50/200 = .25, z = .10 / sqrt(.25 · .75 · (2/100)) = .10 / .061237 = 1.63: not significant
    ((100, 30), (100, 20), "Lead-to-close CVR is 30.00% against 20.00% a year earlier, not a significant change "
                           "(n=100 and 100 leads)."),
    # 2/19 = 10.5 % against 0/3: p = 2/22, z = .10526 / sqrt(.0909 · .9091 · (1/19 + 1/3)) = .10526 / .17861 = 0.59
    ((19, 2), (3, 0), "Lead-to-close CVR is 10.53% against 0.00% a year earlier, not a significant change "
                      "(n=19 and 3 leads)."),
    ((100, 0), (50, 0), "Lead-to-close CVR is 0.00% against 0.00% a year earlier, unchanged (n=100 and 50 leads)."),
    ((100, 30), (0, 0), "Lead-to-close CVR is 30.0% (a year earlier: n/a)."),  # no base: no change to call
])
def test_lead_to_close_is_a_rise_or_fall_only_when_significant(tiny, cur, old, expected):
    r = FunnelReport(tiny)
    r.f.lead_to_close = lead_to_close(cur, old)
    assert r._lead_to_close_sentence() == expected


def test_lead_to_close_is_not_compared_with_an_overlapping_year(tiny):
    r = with_min_sample(FunnelReport(tiny), 30)
    r.params = r.params.model_copy(update={"window_months": 18})
    r.f.lead_to_close = lead_to_close((200, 60), (200, 30))
    assert r._lead_to_close_sentence() == ("Lead-to-close CVR is 30.00%; the window a year earlier (Jan 2025 – "
                                           "Mar 2025) overlaps this 18-month window, so the two are not compared.")


def quarterly(rows):
    """rows: (from, to, quarter, entered, converted); change_pp against the step's previous quarter."""
    q = pd.DataFrame(rows, columns=["from", "to", "quarter", "entered", "converted"])
    q["rate"] = q["converted"] / q["entered"]
    q["maturing"] = False
    q["change_pp"] = q.groupby(["from", "to"])["rate"].diff() * 100
    return q


def test_quarterly_names_the_largest_significant_change(tiny):
    """lead→mql 30/200 = 15 % -> 60/200 = 30 % (+15 pp, z = 3.59: significant); mql→sql 20/100 -> 30/100
    (+10 pp, z = 1.63: not significant) is smaller anyway. 2026Q2 is still maturing: it is named as such."""
    r = FunnelReport(tiny)
    q = quarterly([("lead", "mql", "2025Q4", 200, 30), ("lead", "mql", "2026Q1", 200, 60),
                   ("lead", "mql", "2026Q2", 50, 1), ("mql", "sql", "2025Q4", 100, 20),
                   ("mql", "sql", "2026Q1", 100, 30), ("mql", "sql", "2026Q2", 10, 1)])
    q.loc[q["quarter"] == "2026Q2", "maturing"] = True
    r.f.quarterly = q
    assert r._quarterly_sentence() == (
        "In 2026Q1, the last quarter whose contacts have had time to convert, Lead → MQL conversion rose 15.0 pp "
        "to 30.0%, a significant change; later quarters are still maturing.")


def test_quarterly_says_no_significant_change_rather_than_rose(tiny):
    """Only mql→sql 20/100 -> 30/100: +10 pp, z = 1.63, not significant; lead→mql 100/200 -> 100/200 unchanged."""
    r = FunnelReport(tiny)
    r.f.quarterly = quarterly([("lead", "mql", "2025Q4", 200, 100), ("lead", "mql", "2026Q1", 200, 100),
                               ("mql", "sql", "2025Q4", 100, 20), ("mql", "sql", "2026Q1", 100, 30)])
    assert r._quarterly_sentence() == (
        "In 2026Q1, the last quarter whose contacts have had time to convert, no step's conversion changed "
        "significantly from 2025Q4: the largest move, MQL → SQL, is 30.0% against 20.0% (n=100 and 100 contacts).")
    # no quarter after 2026Q1 in the table (the data stopped, or as_of is at its end): none is said to mature


def test_quarterly_table_marks_quarters_over_few_contacts(tiny):
    """mql→sql entered 29 in 2025Q4 (marked) and 30 in 2026Q1 (not); its QoQ rests on min(29, 30) = 29."""
    r = FunnelReport(tiny)
    r.f.quarterly = quarterly([("lead", "mql", "2025Q4", 200, 30), ("lead", "mql", "2026Q1", 200, 60),
                               ("mql", "sql", "2025Q4", 29, 10), ("mql", "sql", "2026Q1", 30, 12)])
    text = repr(r.section("quarterly"))
    assert "34.5% (n=29)" in text  # 10/29
    assert "40.0%" in text and "40.0% (n=30)" not in text  # 12/30
    assert "+5.5 pp (n=29)" in text  # 40.0 − 34.48 = +5.5 pp
    assert "15.0%" in text and "(n=200)" not in text


def test_win_rate_against_the_prior_period_is_a_fall_only_when_significant(tiny):
    """Window 30 won of 200 closed (15 %) against 60 of 200 (30 %): z = 3.59, a significant fall;
    then 20 of 100 against 30 of 100: z = 1.63, not significant."""
    r = FunnelReport(tiny)
    outcomes = {}
    r.f.deal_outcomes = lambda w: outcomes[w == r.window]

    def deal(won, lost):
        return {"won": won, "lost": lost, "won_amount": 1000.0 * won, "win_rate": won / (won + lost),
                "avg_deal_size": 1000.0, "won_without_amount": 0}

    outcomes.update({True: deal(30, 170), False: deal(60, 140)})
    assert "win rate 15.0% (prior period 30.0%: a significant fall)," in r._deals_sentence()
    outcomes.update({True: deal(20, 80), False: deal(30, 70)})
    assert ("win rate 20.0% (prior period 30.0%: not a significant change, n=100 and 100 closed deals),"
            in r._deals_sentence())


# -- channel -----------------------------------------------------------------------------------------

@pytest.fixture
def chan():
    return load_client(load_params(FIXTURES / "chan.yaml"))


def channel_cohort(rows: dict) -> pd.DataFrame:
    """channel -> (contacts created, leads, customers) of the cohort view; every lead an MQL and an opportunity."""
    c = pd.DataFrame(rows, index=["created", "lead", "customer"]).T
    c["mql"] = c["opportunity"] = c["lead"]
    for a, b in (("created", "lead"), ("lead", "mql"), ("mql", "opportunity"), ("opportunity", "customer")):
        c[f"{a}_to_{b}"] = c[b] / c[a]
    return c.rename_axis("channel")


def test_channel_conversion_ranks_only_channels_with_min_sample_leads(chan):
    """A 8/40 = 20 %, B 3/30 = 10 % are ranked; C 0/29 = 0 % and D 3/3 = 100 % are not (fewer than 30)."""
    r = ChannelReport(chan)
    r.c.cohort = channel_cohort({"A": (50, 40, 8), "B": (35, 30, 3), "C": (29, 29, 0), "D": (3, 3, 3)})
    assert r._conversion_sentence() == (
        "A turns the largest share of its leads into customers (20.0% of 40), B the smallest (10.0% of 30); "
        "2 channels with fewer than 30 leads are not ranked; young leads are still converting.")


def test_channel_conversion_names_no_best_or_worst_without_min_sample_leads(chan):
    r = ChannelReport(chan)  # the fixture's own cohort: 2, 1 and 1 leads
    assert r._conversion_sentence() == ("No channel has 30 or more leads created in the window, so none is named "
                                        "best or worst: each rate is shown with its n.")
    r.c.cohort = channel_cohort({"A": (50, 40, 8), "D": (3, 3, 3)})
    assert r._conversion_sentence() == ("Only A has 30 or more leads created in the window; 20.0% of its 40 became "
                                        "customers, and young leads are still converting.")


def test_heatmap_marks_a_cell_over_29_contacts_and_not_one_over_30(kit_style):
    """A: 29 created, all leads (100 %), 10 MQLs (34 %): both over 29, marked; B: 30 created, all leads,
    15 MQLs (50 %): both over 30, not marked; C: 3 of 3 and 3 of 3: marked."""
    cohort = pd.DataFrame({"created": [29, 30, 3], "lead": [29, 30, 3], "mql": [10, 15, 3]},
                          index=pd.Index(["A", "B", "C"], name="channel"))
    cohort["created_to_lead"] = cohort["lead"] / cohort["created"]
    cohort["lead_to_mql"] = cohort["mql"] / cohort["lead"]
    ax = conversion_heatmap(cohort, ["lead", "mql"], min_sample=30)
    labels = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert labels == {(0, 0): "100% n=29", (0, 1): "34% n=29", (1, 0): "100%", (1, 1): "50%",
                      (2, 0): "100% n=3", (2, 1): "100% n=3"}
    assert len(ax.patches) == 2 * 4  # a veil and a hatch over each of the four marked cells
    legend = ax.figure.legends + [ax.get_legend()]
    texts = [t.get_text() for lg in legend if lg is not None for t in lg.get_texts()]
    assert texts == ["fewer than 30 contacts at the step's start: too few to rank (n shown)"]


def test_heatmap_without_min_sample_marks_nothing(kit_style):
    cohort = pd.DataFrame({"created": [3], "lead": [3], "created_to_lead": [1.0]}, index=["A"])
    ax = conversion_heatmap(cohort, ["lead"])
    assert [t.get_text() for t in ax.texts] == ["100%"] and not ax.patches


def test_deals_chart_draws_a_quarter_over_29_deals_hollow_with_its_n(kit_style):
    q = pd.DataFrame({"quarter": ["2026Q1", "2026Q2"], "won": [9, 10], "lost": [20, 20],
                      "bookings": [9e3, 1e4], "win_rate": [9 / 29, 10 / 30]})
    ax = deals_chart(q, min_sample=30)
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert [t.get_text() for t in twin.texts] == ["n=29"]  # 29 closed deals in Q1; Q2's 30 are enough
    hollow = [ln for ln in twin.get_lines() if ln.get_markerfacecolor() == "white"]
    assert len(hollow) == 1 and list(hollow[0].get_ydata()) == [pytest.approx(9 / 29)]


def test_lead_to_close_without_a_base_says_why_where_the_metrics_do(tiny):
    r = FunnelReport(tiny)
    frame = lead_to_close((100, 30), (50, 5))
    frame.loc[1, "rate"] = float("nan")  # the year earlier is no base: its data is partial
    r.f.lead_to_close = frame.assign(why=["", "partial data then"])
    assert r._lead_to_close_sentence() == "Lead-to-close CVR is 30.0% (a year earlier: n/a, partial data then)."
