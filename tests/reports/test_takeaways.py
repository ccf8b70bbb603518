"""Every takeaway kind against a hand-built frame (SPEC "Takeaways and alerts"): the row a sentence
names is the argmax or argmin of the column the table beside it shows, over rows that are not small
samples and not the unknown bucket; a contradicting frame (values swapped) changes the sentence; a
change is a rise or a fall only when significant at 5 %, a rate's in pp."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi_kit.charts.channel import MODEL_LABELS
from kpi_kit.formatting import fmt_days
from kpi_kit.metrics import overview as ov
from kpi_kit.metrics.funnel import stage_label
from kpi_kit.reports import takeaways as tk


def swap(frame: pd.DataFrame, column: str, a, b) -> pd.DataFrame:
    """``frame`` with the ``column`` values of rows ``a`` and ``b`` exchanged."""
    out = frame.copy()
    out.loc[[a, b], column] = out.loc[[b, a], column].to_numpy()
    return out


def test_nameable_and_rankable():
    assert [tk.nameable(n) for n in ("Events", "Unknown", "unknown", "unpaid", " (not set) ", None, np.nan)] == [
        True, False, False, False, False, False, False]
    f = pd.DataFrame({"rate": [0.1, 0.5, 0.9, np.nan], "n": [40, 10, 50, 60]}, index=["A", "B", "Unknown", "C"])
    assert list(tk.rankable(f, "rate", "n", 30).index) == ["A"]
    assert list(tk.rankable(f, "rate", None, 30).index) == ["A", "B"]


# -- channel table: ROI --------------------------------------------------------------------------------
CHANNELS = pd.DataFrame({  # the channel table's frame (no Total row)
    "spend": [1000.0, 500.0, 200.0, 0.0, 300.0],
    "won_deals": [40, 35, 5, 50, 60],
    "roi": [1.5, 0.2, 9.0, np.nan, 20.0],
}, index=["Paid Search", "Paid Social", "Email", "Organic Search", "unknown"])
TOTAL = pd.Series({"roi": 2.0, "cpl": 50.0})


def test_roi_best_and_worst_are_the_argmax_and_argmin_of_the_roi_column():
    text = tk.channel_roi_sentence(CHANNELS, TOTAL, min_sample=30, label="Marketing ROI (deal's channel)")
    # ranked: Paid Search +150 % (40 deals), Paid Social +20 % (35); Email (+900 %, 5 deals) is a small
    # sample and "unknown" (+2000 %) is never named; Organic Search has no spend
    assert text == ("Blended Marketing ROI (deal's channel) over the window is +200%; among paid channels with 30+ "
                    "won deals, Paid Search has the best ROI (+150%, 40 won deals) and Paid Social the worst (+20%, "
                    "35 won deals); 1 paid channel with fewer than 30 won deals is not ranked.")
    flipped = tk.channel_roi_sentence(swap(CHANNELS, "roi", "Paid Search", "Paid Social"), TOTAL, min_sample=30,
                                      label="Marketing ROI (deal's channel)")
    assert "Paid Social has the best ROI (+150%, 35 won deals) and Paid Search the worst (+20%, 40 won deals)" in flipped
    assert flipped != text


def test_roi_names_no_small_sample_and_says_so():
    text = tk.channel_roi_sentence(CHANNELS, TOTAL, min_sample=100)
    assert text == ("Blended Marketing ROI over the window is +200%; no paid channel has 100 or more won deals, so none "
                    "is named best or worst.")
    # Email's ROI with enough deals: now it is the best
    enough = CHANNELS.assign(won_deals=[40, 35, 30, 50, 60])
    assert "Email has the best ROI (+900%, 30 won deals)" in tk.channel_roi_sentence(enough, TOTAL, min_sample=30)


# -- cost table: CPL -------------------------------------------------------------------------------------
COSTS = pd.DataFrame({"spend": [1000.0, 500.0, 90.0, 0.0, 10.0], "leads": [20, 100, 30, 400, 500],
                      "cpl": [50.0, 5.0, 3.0, np.nan, 0.02]},
                     index=["Paid Search", "Paid Social", "Email", "Organic Search", "Unknown"])


def test_cpl_lowest_and_highest_are_the_argmin_and_argmax_of_the_cpl_column():
    text = tk.channel_cpl_sentence(COSTS, TOTAL, min_sample=30, currency="USD")
    # Paid Search ($50) rests on 20 leads, Unknown is never named: Email $3 lowest, Paid Social $5 highest
    assert text == ("Blended CPL (spend / leads in the window) is $50; among paid channels with 30+ leads, Email has "
                    "the lowest CPL ($3, 30 leads) and Paid Social the highest ($5, 100 leads); 1 paid channel with "
                    "fewer than 30 leads is not ranked.")
    flipped = tk.channel_cpl_sentence(swap(COSTS, "cpl", "Email", "Paid Social"), TOTAL, min_sample=30, currency="USD")
    assert "Paid Social has the lowest CPL ($3, 100 leads) and Email the highest ($5, 30 leads)" in flipped


# -- conversion heatmap --------------------------------------------------------------------------------------
COHORT = pd.DataFrame({"lead": [820, 1000, 30, 1159, 10], "customer": [20, 10, 3, 193, 5]},
                      index=["Events", "Paid Search", "Referral", "Unknown", "Email"])


def test_conversion_best_and_worst_never_name_unknown_or_a_small_sample():
    text = tk.conversion_sentence(COHORT, "lead", noun="leads", min_sample=30)
    # rates: Events 2.4 %, Paid Search 1.0 %, Referral 10.0 %, Unknown 16.7 % (never named), Email 50 % on 10
    assert text == ("Referral turns the largest share of its leads into customers (10.0% of 30), Paid Search the "
                    "smallest (1.0% of 1,000); 1 channel with fewer than 30 leads is not ranked; the unknown channel "
                    "is not ranked; young leads are still converting.")
    flipped = tk.conversion_sentence(swap(COHORT, "customer", "Referral", "Paid Search"), "lead", noun="leads",
                                     min_sample=30)
    # Referral 10 of 30 = 33.3 % is now the largest, still; Paid Search 3 of 1,000 = 0.3 % the smallest
    assert flipped.startswith("Referral turns the largest share of its leads into customers (33.3% of 30), Paid "
                              "Search the smallest (0.30% of 1,000)")
    lower = COHORT.assign(customer=[20, 10, 0, 193, 5])  # Referral 0 of 30: now the smallest, Events the largest
    assert tk.conversion_sentence(lower, "lead", noun="leads", min_sample=30).startswith(
        "Events turns the largest share of its leads into customers (2.4% of 820), Referral the smallest (0.0% of 30)")


def test_conversion_with_no_rankable_channel():
    only_unknown = COHORT.loc[["Unknown", "Email"]]
    assert tk.conversion_sentence(only_unknown, "lead", noun="leads", min_sample=30) == (
        "No channel has 30 or more leads created in the window, so none is named best or worst: each rate is shown "
        "with its n.")


# -- attribution ----------------------------------------------------------------------------------------------
VALUE = pd.DataFrame({"first_touch": [100.0, 300.0, 50.0, 900.0], "last_touch": [250.0, 100.0, 100.0, 0.0],
                      "linear": [400.0, 200.0, 100.0, 999.0]}, index=["Paid Social", "Outbound", "Email", "unknown"])
CONV = pd.DataFrame({"last_touch": [5.0, 3.0, 1.0, 0.0], "markov": [5.0, 2.0, 1.0, 0.0]}, index=VALUE.index)


def test_attribution_names_the_argmax_of_the_chosen_model_and_the_largest_shifts():
    text = tk.attribution_sentence(VALUE, CONV, "linear", labels=MODEL_LABELS, data_driven=["markov"], currency="USD")
    # linear: Paid Social 400 is the most among named channels (unknown's 999 is not named); last − first:
    # Paid Social +150, Outbound −200, Email +50
    assert text == ("Under the chosen linear model Paid Social earns the most revenue credit; moving from first to last "
                    "touch shifts most credit towards Paid Social (+$150) and away from Outbound (−$200). The "
                    "data-driven models, which also learn from contacts who did not convert, disagree most with last "
                    "touch on Outbound: Markov credits it 2.0 customers against last touch's 3.0.")
    flipped = tk.attribution_sentence(swap(VALUE, "linear", "Paid Social", "Outbound"), CONV, "linear",
                                      labels=MODEL_LABELS, data_driven=["markov"], currency="USD")
    assert flipped.startswith("Under the chosen linear model Outbound earns the most revenue credit")


# -- self-reported sources ----------------------------------------------------------------------------------------
def test_self_reported_names_the_sources_answered_most():
    x = pd.DataFrame({"Google": [0.1, 0.0], "LinkedIn": [0.5, 0.2], "Podcast": [0.2, 0.6], "Other": [0.2, 0.2],
                      "answers": [100, 50]}, index=["Direct", "Email"])
    # Direct only (Email is not dark): LinkedIn 50, Podcast 20, Other and Google not "another source"
    assert tk.self_reported_sentence(x) == ("Of 100 contacts tracked as Direct who answered, 70% name another source "
                                            "(LinkedIn, Podcast lead): traffic that tracking calls direct or organic "
                                            "is often dark social.")
    flipped = x.assign(LinkedIn=[0.2, 0.2], Podcast=[0.5, 0.6])
    assert "(Podcast, LinkedIn lead)" in tk.self_reported_sentence(flipped)


# -- funnel: weakest and slowest steps ------------------------------------------------------------------------------
def test_weakest_step_is_the_argmin_of_the_rate_over_steps_that_are_not_small():
    conv = pd.DataFrame({"from": ["lead", "mql", "sql"], "to": ["mql", "sql", "customer"],
                         "reached_from": [1000, 300, 20], "rate": [0.30, 0.40, 0.05]})
    assert tk.weakest_step(conv, min_sample=30, label=stage_label) == (
        "; the weakest step is Lead → MQL at 30.0% (steps that start from fewer than 30 contacts are not ranked)")
    flipped = swap(conv.set_index("from"), "rate", "lead", "mql").reset_index()
    assert tk.weakest_step(flipped, min_sample=30, label=stage_label).startswith("; the weakest step is MQL → SQL at 30.0%")


def test_slowest_step_is_the_argmax_of_median_days_over_steps_with_enough_pairs():
    v = pd.DataFrame({"from": ["lead", "mql", "sql"], "to": ["mql", "sql", "customer"],
                      "median_days": [10.0, 40.0, 200.0], "pairs": [500, 100, 5], "out_of_order": [1, 0, 0]})
    assert tk.slowest_step(v, min_sample=30, label=stage_label, days=fmt_days) == (
        "The slowest step is MQL → SQL at a median 40 days (steps with fewer than 30 dated contacts are not ranked); "
        "1 pair dated out of order was left out.")
    flipped = swap(v.set_index("from"), "median_days", "lead", "mql").reset_index()
    assert tk.slowest_step(flipped, min_sample=30, label=stage_label, days=fmt_days).startswith(
        "The slowest step is Lead → MQL at a median 40 days")


# -- cohort page: retention and churn by group ------------------------------------------------------------------------
GROUPS = pd.DataFrame({  # the case: the lowest 12-month retention is not the highest churn rate
    "channel": ["Direct", "Organic Search", "Events", "Paid Social", "unknown"],
    "logo_retention_12m": [0.84, 0.72, 0.90, 0.95, 0.10],
    "customers_12m": [100, 200, 50, 10, 300],
    "retained_12m": [84, 144, 45, 9, 30],
    "churn_rate": [0.012, 0.017, 0.039, 0.20, 0.5],
    "churn_events": [12, 34, 20, 2, 150],
    "paying_months": [1000, 2000, 513, 10, 300],
})


def test_group_sentence_reads_each_column_it_names():
    text = tk.group_retention_sentence(GROUPS, "channel", min_sample=30, window_months=6)
    # retention ranked over Direct, Organic Search, Events (Paid Social 10 customers, unknown never named):
    # Events 90 % best, Organic Search 72 % worst; 45/50 vs 144/200: z = 2.65, significant.
    # churn rate ranked over the same three (Paid Social 10 paying months): Events 3.9 % fastest, Direct 1.2 %
    # slowest; 20/513 vs 12/1000: z = 3.45, significant. Organic Search is NOT the fastest churner.
    assert text == ("On 12-month logo retention, Events customers stay longest (90% of 50 still pay after 12 months) "
                    "and Organic Search customers the shortest (72% of 200); 1 channel with fewer than 30 customers "
                    "a year old is not ranked; on monthly logo churn over the trailing 6 months, Events churns fastest "
                    "(3.9%: 20 churn events in 513 paying customer-months) and Direct slowest (1.2%: 12 churn events "
                    "in 1,000 paying customer-months).")
    flipped = tk.group_retention_sentence(swap(GROUPS.set_index("channel"), "churn_rate", "Events",
                                               "Organic Search").reset_index(), "channel", min_sample=30,
                                          window_months=6)
    assert "Organic Search churns fastest (3.9%: 34 churn events in 2,000 paying customer-months)" in flipped


def test_group_sentence_says_when_a_gap_is_not_significant():
    close = GROUPS.assign(retained_12m=[84, 160, 45, 9, 30], logo_retention_12m=[0.84, 0.80, 0.90, 0.95, 0.10])
    text = tk.group_retention_sentence(close, "channel", min_sample=30, window_months=6)
    # Events 45/50 vs Organic Search 160/200 (z = 1.65): not significant
    assert text.startswith("On 12-month logo retention, Events customers stay longest (90% of 50 still pay after 12 "
                           "months) and Organic Search customers the shortest (80% of 200), a gap not significant at 5 %")


def test_group_sentence_with_no_group_old_enough():
    young = GROUPS.assign(customers_12m=[10, 10, 10, 10, 300])
    assert tk.group_retention_sentence(young, "channel", min_sample=30,
                                       window_months=6).startswith(
        "No channel has 30 customers a year old yet, so none is named for 12-month retention")


# -- unit economics: LTV by group ----------------------------------------------------------------------------------------
def test_ltv_highest_and_lowest_over_enough_churn_events():
    r = pd.DataFrame({"ltv": [50000.0, 20000.0, 900000.0, 1e9], "churn_events": [40, 35, 3, 500]},
                     index=["SMB", "Mid-Market", "Enterprise", "unknown"])
    assert tk.group_ltv_sentence(r, "segment", min_sample=30, currency="USD") == (
        " Among segments with 30+ churn events, SMB has the highest LTV ($50,000) and Mid-Market the lowest ($20,000)."
        " 1 LTV rests on fewer than 30 churn events (greyed, with the count) and is not ranked.")
    flipped = tk.group_ltv_sentence(swap(r, "ltv", "SMB", "Mid-Market"), "segment", min_sample=30, currency="USD")
    assert "Mid-Market has the highest LTV ($50,000) and SMB the lowest ($20,000)" in flipped


# -- overview: alerts ----------------------------------------------------------------------------------------------------
def test_the_demo_mql_alert_is_not_significant():
    """The issue's alert, "MQL-to-customer rate −31 %", on 22 of 307 MQLs -> 19 of 383: 7.2 % -> 5.0 %
    (−2.2 pp), z = 1.22: not significant, so no alert."""
    idx = pd.period_range("2026-09", periods=2, freq="M")
    mqls = pd.Series([307.0, 383.0], idx)
    assert ov.divergence_alert("mqls", mqls, pd.Series([22.0, 19.0], idx), mqls, volume_label="MQLs",
                               rate_label="MQL-to-customer rate") is None
    big = mqls * 10  # the same rates on ten times the MQLs: significant, in pp
    a = ov.divergence_alert("mqls", big, pd.Series([220.0, 190.0], idx), big, volume_label="MQLs",
                            rate_label="MQL-to-customer rate")
    assert a["text"] == ("MQLs +25% month over month (3,070 → 3,830) while MQL-to-customer rate fell 2.2 pp to 5.0% "
                         "(190 of 3,830 against 220 of 3,070; significant at 5 %)")


# -- overview: what changed -------------------------------------------------------------------------------------------------
ROWS = [
    {"kpi": "leads", "label": "Leads", "unit": "count", "value": 9468.0, "before": 7048.0, "period": "W against P"},
    {"kpi": "new_customers", "label": "New customers", "unit": "count", "value": 22.0, "before": 19.0,
     "period": "W against P"},
    {"kpi": "win_rate", "label": "Win rate", "unit": "percent", "value": 232 / 852, "before": 195 / 596,
     "period": "W against P", "successes": 232.0, "n": 852.0, "successes_before": 195.0, "n_before": 596.0},
    {"kpi": "lead_to_close_cvr", "label": "Lead-to-close CVR", "unit": "percent", "value": 19 / 383,
     "before": 22 / 307, "period": "W against Y", "successes": 19.0, "n": 383.0, "successes_before": 22.0,
     "n_before": 307.0},
    {"kpi": "ltv", "label": "LTV", "unit": "money", "value": 60480.0, "before": 82849.0, "period": "M against Y"},
    {"kpi": "bookings", "label": "Bookings", "unit": "money", "value": 108.0, "before": 100.0, "period": "W against P"},
    {"kpi": "mrr", "label": "MRR", "unit": "money", "value": np.nan, "before": 100.0, "period": "M against Y"},
]


def test_headline_changes_rank_the_qualifying_changes_by_hand_computed_size():
    c = ov.headline_changes(ROWS, threshold=0.10)
    # leads 9,468 / 7,048 − 1 = +34.3 % (Poisson, significant); LTV 60,480 / 82,849 − 1 = −27.0 % (an amount,
    # ≥ 10 %); win rate 27.23 % vs 32.72 %: −5.49 pp, relative −16.8 %, z = 2.25 (significant).
    # Not qualifying: new customers 22 vs 19 (Poisson p = .76), lead-to-close 4.96 % vs 7.17 % (z = 1.22),
    # bookings +8 % (< 10 %); MRR has no value: left out
    assert c["kpi"].tolist() == ["leads", "ltv", "win_rate", "lead_to_close_cvr", "new_customers", "bookings"]
    assert c["qualifies"].tolist() == [True, True, True, False, False, False]
    assert c["magnitude"].tolist()[:3] == pytest.approx([9468 / 7048 - 1, 1 - 60480 / 82849,
                                                         1 - (232 / 852) / (195 / 596)])
    assert c.loc[2, "change_pp"] == pytest.approx((232 / 852 - 195 / 596) * 100)
    # a larger win-rate fall now outranks LTV: 150 of 852 = 17.6 %, relative −46 %
    bigger = [r | {"value": 150 / 852, "successes": 150.0} if r["kpi"] == "win_rate" else r for r in ROWS]
    assert ov.headline_changes(bigger)["kpi"].tolist()[:3] == ["win_rate", "leads", "ltv"]


def test_what_changed_lines_say_rates_in_pp_and_no_rise_without_significance():
    lines = tk.what_changed_lines(ov.headline_changes(ROWS, threshold=0.10), "USD")
    assert lines == [
        "Leads rose 34.3% to 9,468 (W against P; significant at 5 %).",
        "LTV fell 27.0% to $60,480 (M against Y).",
        "Win rate fell 5.5 pp to 27.2% (W against P; 232 of 852 against 195 of 596; significant at 5 %).",
        "No significant change in Lead-to-close CVR −2.2 pp, New customers +15.8%, Bookings +8.0%.",
        "Counts and rates are listed when their change is significant at 5 %; amounts and ratios, which are totals "
        "rather than samples, when they moved 10% or more.",
    ]
    assert not any(("rose" in line or "fell" in line) and ("Lead-to-close" in line or "New customers" in line)
                   for line in lines)


# -- the pipeline forecast names its slipped deals -----------------------------------------------------
def test_forecast_sentence_names_slipped_deals_and_coverage_with_and_without_them():
    """Q4 2026 after Oct: Nov 300 expected (200 of it from 2 slipped deals), Dec 100 -> 400 expected;
    target 1,000 with 500 booked -> 500 to book: 400 / 500 = 80 % with the slipped deals, 200 / 500 = 40 %
    without. With no slipped deal the sentence gives one coverage."""
    import pandas as pd

    from kpi_kit.reports.overview import forecast_sentence

    f = pd.DataFrame({"month": pd.PeriodIndex(["2026-11", "2026-12", "2027-01"], freq="M"),
                      "expected": [300.0, 100.0, 999.0], "slipped_deals": [2, 0, 0],
                      "slipped_expected": [200.0, 0.0, 0.0]})
    t = pd.DataFrame({"metric": ["bookings"], "period_start": pd.to_datetime(["2026-10-01"]), "target": [1000.0],
                      "actual": [500.0]})
    last = pd.Period("2026-10", "M")
    assert forecast_sentence(f, t, last, "USD") == (
        "Open deals are expected to bring $400 of bookings in 2026Q4, of which $200 from 2 slipped deals (their "
        "expected close has already passed; counted in November), against $500 still to book for its target: "
        "80% covered counting the slipped deals, 40% without them.")
    none = f.assign(slipped_deals=0, slipped_expected=0.0)
    assert forecast_sentence(none, t, last, "USD") == (
        "Open deals are expected to bring $400 of bookings in 2026Q4, against $500 still to book for its target: "
        "80% covered.")
