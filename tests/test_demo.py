"""The demo client: reproducible bytes and the features every notebook relies on."""

import filecmp
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpi_kit.demo import demo_params, generate_demo, write_demo

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def demo():
    return generate_demo()


def test_committed_demo_data_is_what_the_generator_writes(tmp_path):
    write_demo(tmp_path)
    committed = ROOT / "data" / "demo"
    names = sorted(p.name for p in committed.glob("*.csv"))
    assert names == sorted(p.name for p in tmp_path.glob("*.csv"))
    _, mismatch, errors = filecmp.cmpfiles(committed, tmp_path, names, shallow=False)
    assert not mismatch and not errors, "run `make demo-data`"


def test_demo_yaml_matches_generator_params():
    committed = yaml.safe_load((ROOT / "data" / "clients" / "demo.yaml").read_text())
    assert committed == demo_params()


def test_every_contract_file_but_mrr(demo):
    assert set(demo) == {"contacts", "deals", "subscriptions", "customers", "spend", "traffic", "touches",
                         "costs", "engagement", "targets"}
    assert 15_000 <= len(demo["contacts"]) <= 40_000 and demo["contacts"]["contact_id"].is_unique


def test_channels_seasonality_and_spikes(demo):
    c = demo["contacts"]
    params = demo_params()
    raw = set(c["channel"])
    assert len(raw) >= 8 and len(set(params["channel_map"].values())) >= 6
    assert raw - set(params["channel_map"]) == {"tiktok / paid"}  # left unmapped on purpose
    assert set(params["channel_groups"].values()) == {"inbound", "outbound"}
    month = c["created_at"].dt.to_period("M")
    show = c[c["channel"] == "tradeshow"].groupby(month).size()
    assert show[pd.Period("2026-03")] > 3 * show.median()
    web = c[c["channel"] == "webinar"].groupby(month).size()
    assert web[pd.Period("2025-06")] > 3 * web.median()


def test_funnel_has_skips_out_of_order_and_no_stage_before_creation(demo):
    c = demo["contacts"]
    stages = ["lead_at", "mql_at", "sal_at", "sql_at", "opportunity_at", "customer_at"]
    for col in stages:
        assert not (c[col] < c["created_at"]).any()
    assert (c["sal_at"].isna() & c["sql_at"].notna()).sum() > 20
    assert (c["sal_at"] < c["mql_at"]).sum() > 5
    assert set(demo["deals"]["status"]) == {"open", "won", "lost"}


def test_subscriptions_have_annual_plans_discounts_churn_and_reactivation(demo):
    s = demo["subscriptions"]
    assert (s["billing_period_months"] == 12).any() and s["discount"].notna().any()
    assert s["end_date"].notna().any()
    starts = s.groupby("customer_id")["start_date"].transform("min")
    assert (s["start_date"] > starts).any()  # add-ons and returns
    ended_before = s.merge(s, on="customer_id")
    assert (ended_before["end_date_x"] < ended_before["start_date_y"]).any()  # a return after an end


def test_some_rows_are_dated_after_as_of(demo):
    as_of = pd.Timestamp(demo_params()["as_of"])
    assert (demo["contacts"]["created_at"] > as_of).any()
    assert (demo["spend"]["date"] > as_of).any()
