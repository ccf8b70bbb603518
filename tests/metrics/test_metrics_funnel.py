"""Funnel metrics against values computed by hand from tests/fixtures/tiny (see tiny.yaml)."""

import math

import pandas as pd
import pytest

from kpi_kit._dates import reporting_window
from kpi_kit.metrics import funnel as fn
from kpi_kit.reports.funnel import FunnelReport

STAGES = ["lead", "mql", "sql", "customer"]


def test_dates_after_as_of_do_not_exist(tiny):
    c = tiny["contacts"].set_index("contact_id")
    assert "C5" not in c.index  # created after as_of
    assert pd.isna(c.loc["C4", "mql_at"])  # mql dated after as_of: not reached
    d = tiny["deals"].set_index("deal_id")
    assert "D7" not in d.index
    assert d.loc["D5", "status"] == "open" and pd.isna(d.loc["D5", "closed_at"])
    assert c.loc["C7", "created_at"] == pd.Timestamp("2026-03-10")  # timestamp truncated to the day


def test_skipped_stage_counts_as_passed_and_is_dated_by_the_next(tiny):
    dates = fn.passed_dates(tiny["contacts"], STAGES).set_index(tiny["contacts"]["contact_id"])
    assert dates.loc["C2", "mql"] == pd.Timestamp("2026-02-01")  # skipped mql, dated by sql
    hit = fn.reached(tiny["contacts"], STAGES).set_index(tiny["contacts"]["contact_id"])
    assert hit.loc["C2"].tolist() == [True, True, True, True, False]


def test_stage_conversion_over_window(tiny):
    w = reporting_window("2026-03-31", 3)
    conv = fn.stage_conversion(tiny["contacts"], STAGES, w)
    assert conv[["from", "to"]].values.tolist() == [
        ["created", "lead"], ["lead", "mql"], ["mql", "sql"], ["sql", "customer"]]
    assert conv["reached_from"].tolist() == [5, 4, 3, 2]
    assert conv["rate"].tolist() == pytest.approx([4 / 5, 3 / 4, 2 / 3, 1 / 2])


def test_conversion_with_zero_denominator_is_nan():
    c = pd.DataFrame({"created_at": pd.to_datetime(["2026-01-01"]), "lead_at": [pd.NaT], "mql_at": [pd.NaT]})
    conv = fn.stage_conversion(c, ["lead", "mql"])
    assert conv["rate"].iloc[0] == 0.0
    assert math.isnan(conv["rate"].iloc[1])  # 0 leads: lead→mql undefined, not 0


def test_stage_velocity_medians_and_out_of_order(tiny):
    v = fn.stage_velocity(tiny["contacts"], STAGES, reporting_window("2026-03-31", 3))
    assert v["median_days"].tolist() == pytest.approx([0.0, 3.5, 10.0, 26.0])
    assert v["pairs"].tolist() == [4, 2, 1, 1]
    everyone = fn.stage_velocity(tiny["contacts"], STAGES)  # C6: sql a day before mql
    assert everyone.set_index("to").loc["sql", "out_of_order"] == 1
    assert everyone.set_index("to").loc["sql", "median_days"] == 10.0  # C6's pair left out


def test_cohort_funnel_every_month_and_maturity(tiny):
    cyc = fn.typical_sales_cycle_days(tiny["contacts"])
    assert cyc == 58.5  # C1 41 days, C6 76 days
    cf = fn.cohort_funnel(tiny["contacts"], STAGES, "2026-03-31", maturity_days=cyc)
    assert [str(c) for c in cf["cohort"]] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert cf[["created", "lead", "mql", "sql", "customer"]].values.tolist() == [
        [1, 1, 1, 1, 1], [2, 2, 2, 2, 1], [2, 2, 1, 0, 0], [1, 0, 0, 0, 0]]
    assert cf["mature"].tolist() == [True, True, False, False]


def test_cohort_funnel_empty_month_is_zero():
    c = pd.DataFrame({"created_at": pd.to_datetime(["2026-01-05", "2026-03-02"]),
                      "lead_at": pd.to_datetime(["2026-01-06", pd.NaT])})
    cf = fn.cohort_funnel(c, ["lead"], "2026-03-31")
    assert cf[["created", "lead"]].values.tolist() == [[1, 1], [0, 0], [1, 0]]


def test_period_funnel_counts_entries_by_month(tiny):
    months = pd.period_range("2025-12", "2026-03", freq="M")
    pf = fn.period_funnel(tiny["contacts"], STAGES, months).set_index("month")
    assert pf["lead"].tolist() == [1, 2, 2, 0]
    assert pf["mql"].tolist() == [0, 2, 2, 0]  # C6 Jan 2, C1 Jan 10; C2 (skip, Feb 1), C3 Feb 3
    assert pf["customer"].tolist() == [0, 0, 1, 1]


def test_deal_outcomes_sales_cycle_and_pipeline(tiny):
    w = reporting_window("2026-03-31", 3)
    o = fn.deal_outcomes(tiny["deals"], w)
    assert (o["won"], o["lost"], o["win_rate"], o["avg_deal_size"]) == (1, 1, 0.5, 1000.0)
    assert fn.sales_cycle_days(tiny["deals"], tiny["contacts"], w) == 41.0  # from C1's creation
    p = fn.weighted_pipeline(tiny["deals"])
    assert p == {"open_deals": 3, "pipeline": 9000.0, "weighted_pipeline": 1750.0, "without_probability": 1,
                 "without_amount": 0}


def test_no_closed_deals_gives_nan_not_zero(tiny):
    w = reporting_window("2024-03-31", 3)
    o = fn.deal_outcomes(tiny["deals"], w)
    assert math.isnan(o["win_rate"]) and math.isnan(o["avg_deal_size"])
    assert math.isnan(fn.sales_cycle_days(tiny["deals"], tiny["contacts"], w))


def test_sales_cycle_uses_deal_date_without_contact():
    deals = pd.DataFrame({"status": ["won"], "created_at": pd.to_datetime(["2026-01-01"]),
                          "closed_at": pd.to_datetime(["2026-01-31"]), "contact_id": [None]})
    contacts = pd.DataFrame({"contact_id": ["X"], "created_at": pd.to_datetime(["2025-01-01"])})
    assert fn.sales_cycle_days(deals, contacts) == 30.0


def test_lead_to_close_against_year_earlier(tiny):
    ltc = fn.lead_to_close(tiny["contacts"], STAGES, reporting_window("2026-03-31", 3)).set_index("period")
    assert ltc.loc["current", ["leads", "customers"]].tolist() == [4, 2]
    assert ltc.loc["current", "rate"] == 0.5
    assert math.isnan(ltc.loc["year earlier", "rate"])  # no leads a year earlier


def test_volumes_with_monthly_targets_only(tiny):
    months = pd.period_range("2026-01", "2026-03", freq="M")
    v = fn.volumes_with_targets(fn.period_funnel(tiny["contacts"], STAGES, months), tiny["targets"])
    leads = v[v["metric"] == "leads"].set_index("month")
    assert leads["target"].tolist()[:2] == [3.0, 2.0] and math.isnan(leads["target"].iloc[2])
    assert leads["attainment"].iloc[0] == pytest.approx(2 / 3)
    # the quarterly customers target is not a monthly one
    assert v[v["metric"] == "customers"]["target"].isna().all()


def test_conversion_by_quarter_change_in_points():
    c = pd.DataFrame({
        "created_at": pd.to_datetime(["2025-10-01", "2025-10-02", "2026-01-05", "2026-01-06"]),
        "lead_at": pd.to_datetime(["2025-10-01", "2025-10-02", "2026-01-05", "2026-01-06"]),
        "mql_at": pd.to_datetime(["2025-10-05", pd.NaT, "2026-01-09", "2026-01-10"]),
    })
    q = fn.conversion_by_quarter(c, ["lead", "mql"], "2026-06-30", quarters=3)
    lm = q[(q["from"] == "lead")].set_index("quarter")
    assert lm["rate"].iloc[:2].tolist() == [0.5, 1.0]
    assert lm.loc["2026Q1", "change_pp"] == pytest.approx(50.0)
    assert math.isnan(lm.loc["2026Q2", "rate"])  # nobody entered lead: n/a


def test_funnel_report_metrics_and_scalars(tiny):
    r = FunnelReport(tiny)
    m = r.f.tables()
    assert m["funnel_cohorts"][1] == {"cohort": "2026-01", "created": 2, "lead": 2, "mql": 2, "sql": 2,
                                      "customer": 1, "mature": True}
    assert m["funnel_conversion"][0] == {"from": "created", "to": "lead", "rate": 0.8}
    assert m["stage_velocity"][3] == {"from": "sql", "to": "customer", "median_days": 26.0}
    s = r.f.scalars()
    assert s["win_rate"] == 0.5 and s["avg_deal_size"] == 1000.0 and s["weighted_pipeline"] == 1750.0
    assert s["avg_sales_cycle_days"] == 41.0
    t = r.f.target_attainment().set_index("metric")
    assert t.loc["leads", ["actual", "target"]].tolist() == [4.0, 5.0]  # Jan+Feb actual vs target


def test_funnel_report_without_deals(tiny):
    tiny.frames.pop("deals")
    s = FunnelReport(tiny).f.scalars()
    assert all(math.isnan(s[k]) for k in ("win_rate", "avg_deal_size", "avg_sales_cycle_days",
                                          "weighted_pipeline"))


def test_weighted_pipeline_without_any_probability_is_undefined_not_zero():
    deals = pd.DataFrame({"status": ["open", "open", "lost"], "amount": [100.0, 0.0, 50.0]})
    p = fn.weighted_pipeline(deals)
    assert p["open_deals"] == 2 and p["pipeline"] == 100.0 and p["without_probability"] == 2
    assert math.isnan(p["weighted_pipeline"])
    none_open = fn.weighted_pipeline(deals.assign(status="won"))
    assert none_open["weighted_pipeline"] == 0.0 and none_open["open_deals"] == 0


def test_volumes_chart_titles_and_one_month_label(tiny, kit_style):
    axes = FunnelReport(tiny).section("volumes").parts[0]
    shown = [ax for ax in axes.flat if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in shown][:2] == ["Leads per month", "MQLs per month"]
    assert all(ax.get_ylabel() == "Contacts" for ax in shown)
    # the shared month axis is labelled under the bottom row only
    assert [ax.get_xlabel() for ax in axes[0]] == ["", ""] and axes[1, 0].get_xlabel() == "Month"
    assert axes[0, 0].figure.get_suptitle() == "Monthly volumes against target (dashed)"


@pytest.mark.parametrize("chain, shape", [(["mql", "customer"], (1, 2)), (["lead", "mql", "customer"], (2, 2))])
def test_volumes_chart_shows_month_labels_under_every_column(tiny, kit_style, chain, shape):
    """Fewer stages, fewer rows; a panel with no panel below it still shows its months."""
    report = FunnelReport(tiny)
    report.chain = chain
    axes = report.section("volumes").parts[0]
    assert axes.shape == shape
    axes[0, 0].figure.canvas.draw()
    for col in range(shape[1]):
        lowest = [ax for ax in axes[:, col] if ax.get_visible()][-1]
        assert any(t.get_text() for t in lowest.get_xticklabels()), (chain, col)
