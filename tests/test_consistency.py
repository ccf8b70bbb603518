"""One number per KPI on the rendered demo client: every KPI shown on more than one page (cards,
tables) has the same value everywhere, in kpis.csv and in metrics.json; channel columns sum to the
headline; unpaid channels have no paid CAC; every card label names its period. The example
clients get the same check in tests/test_examples.py."""

import html
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from consistency import check_run

from kpi_kit import load_client, load_params
from kpi_kit.metrics import compute

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "clients" / "demo.yaml"


def scalar_rows(params_file) -> dict:
    return compute(load_client(load_params(params_file))).scalar_keys()


@pytest.fixture(scope="module")
def demo(demo_run):
    return demo_run, check_run(demo_run, scalar_rows(DEMO))


def pages_of(summary, key):
    return {page for page, _ in summary["shown"][key]}


@pytest.mark.parametrize("key, pages", [
    ("cac_paid_only|window|channel|Paid Search", {"channel", "unit_economics"}),
    ("cac_paid_only|window|channel|Paid Social", {"channel", "unit_economics"}),
    ("new_customers|window|channel|Paid Search", {"channel", "unit_economics"}),
    ("cac_paid_only|window||", {"channel", "unit_economics"}),
    ("new_customers|window||", {"funnel", "channel"}),
    ("leads|window||", {"funnel", "channel"}),
    ("ltv_to_cac|window||", {"overview", "unit_economics"}),
    ("win_rate|window||", {"overview", "funnel"}),
    ("mrr|2026-10||", {"overview", "unit_economics"}),
    ("roi|window||", {"channel", "unit_economics"}),
    ("ltv|trailing 6 months||", {"overview", "unit_economics"}),
])
def test_a_kpi_shown_on_several_pages_is_one_number(demo, key, pages):
    folder, summary = demo
    assert pages <= pages_of(summary, key)  # check_run has compared every place with kpis.csv


def test_the_demo_values_the_issue_found_split(demo):
    _, s = demo
    v = s["value"]
    assert v["new_customers|window||"] == 223 and v["leads|window||"] == 9468 and v["won_deals|window||"] == 232
    assert v["cac_paid_only|window|channel|Paid Search"] == pytest.approx(232_434.56 / 56, rel=1e-6)
    assert v["cac_paid_only|window||"] == pytest.approx(v["spend|window||"] / 223)


def test_channel_columns_sum_to_the_headline(demo):
    _, s = demo
    k = s["kpis"]
    for metric in ("leads", "mqls", "opportunities", "new_customers", "won_deals", "spend", "bookings", "sessions"):
        rows = k[(k["metric"] == metric) & (k["period"] == "window") & (k["dimension"] == "channel")]
        total = k[(k["metric"] == metric) & (k["period"] == "window") & (k["dimension"] == "")]["value"]
        assert rows["value"].sum() == pytest.approx(float(total.iloc[0])), metric


def test_unpaid_channels_have_no_paid_cac_or_cost_per_lead(demo):
    folder, s = demo
    k = s["kpis"].set_index(["metric", "period", "dimension", "dimension_value"])["value"]
    for channel in ("Organic Search", "Direct", "Referral", "Outbound"):
        assert k[("spend", "window", "channel", channel)] == 0
        for metric in ("cpl", "cost_per_mql", "cost_per_sqo", "cac_paid_only"):
            assert math.isnan(k[(metric, "window", "channel", channel)]), (metric, channel)
    page = (folder / "channel.html").read_text()
    for channel in ("Organic Search", "Direct", "Referral", "Outbound"):  # every unpaid channel's cell says so
        cells = [text for p, text in s["shown"][f"cac_paid_only|window|channel|{channel}"] if p == "channel"]
        assert cells and set(cells) == {"unpaid"}, (channel, cells)
    assert 'data-kpi="cac_paid_only|window|channel|Direct">unpaid<' in page


def card(page: str, label: str) -> tuple[str, str]:
    """(value, change line against the period before) of the KPI card labelled ``label``."""
    m = re.search(r'<div class="kk-label">' + re.escape(label) + r'</div><div class="kk-value"[^>]*>(.*?)</div>'
                  r'<div class="kk-delta">(.*?)</div>', page, re.S)
    assert m, f"no card {label!r}"
    value, deltas = m.groups()
    previous = re.sub(r"<[^>]+>", "", deltas.split("<br>")[0])
    return html.unescape(value), html.unescape(previous)


def test_rate_changes_are_in_points_and_counts_in_percent(demo):
    folder, _ = demo
    funnel = (folder / "funnel.html").read_text()
    # the win rate card: 27.2 % against 32.7 % the period before, a change of −5.5 points (not −16.8 %)
    assert card(funnel, "Win rate (window)") == ("27.2%", "vs prior 12 months: −5.5 pp")
    # the new customers card: 223 against 179, +24.6 %
    value, previous = card(funnel, "New customers (window)")
    assert (value, previous) == ("223", "vs prior 12 months: +24.6%")


def test_kpis_csv_has_the_spec_columns(demo):
    folder, _ = demo
    k = pd.read_csv(folder / "kpis.csv")
    assert list(k.columns) == ["client", "as_of", "metric", "period", "period_start", "period_end", "dimension",
                               "dimension_value", "value", "unit", "n", "low", "high"]
    win = k[(k["metric"] == "win_rate") & (k["period"] == "window")].iloc[0]
    assert win["n"] == 852 and win["low"] < win["value"] < win["high"]  # 232 won of 852 closed, Wilson interval
