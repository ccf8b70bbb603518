"""Period counts (SPEC "One number per KPI") by hand from tests/fixtures/tiny (window Jan–Mar 2026,
as_of 2026-03-31), with subscriptions and a contact without a channel added where a test needs them."""

import math

import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit._dates import Window
from kpi_kit.metrics import compute
from kpi_kit.metrics.channel import channel_table, rollup

JAN_MAR = Window(pd.Period("2026-01", "M"), pd.Period("2026-03", "M"))


def test_stage_counts_date_a_skipped_stage_by_the_next_one(tiny):
    v = compute(tiny).volumes
    # leads: C1 01-05, C2 01-10, C3 02-01, C4 02-20 (C6's lead is in December, C5 is created after as_of)
    assert v.count("leads", JAN_MAR) == 4
    # mqls: C1 01-10, C2 skipped -> its SQL date 02-01, C3 02-03, C6 01-02 (C4's MQL is after as_of)
    assert v.count("mqls", JAN_MAR) == 4
    assert v.count("sqls", JAN_MAR) == 3  # C1, C2, C6
    assert v.count("new_customers", JAN_MAR) == 2  # no subscriptions: customer_at of C1 (Feb) and C6 (Mar)
    assert v.count("won_deals", JAN_MAR) == 1  # D1; D5 closes after as_of (open), D6 in December
    feb = Window(pd.Period("2026-02", "M"), pd.Period("2026-02", "M"))
    assert v.count("leads", feb) == 2 and v.count("mqls", feb) == 2
    assert v.monthly("leads", JAN_MAR.months).tolist() == [2, 2, 0]  # an empty month is 0, not missing


def test_a_count_the_data_cannot_give_is_undefined(tiny):
    tiny.frames.pop("deals")
    v = compute(tiny).volumes
    assert math.isnan(v.count("won_deals", JAN_MAR)) and math.isnan(v.count("opportunities", JAN_MAR))
    assert v.by_channel(JAN_MAR)["won_deals"].isna().all()


@pytest.fixture
def tiny_with_mrr(tiny_copy):
    """tiny plus subscriptions: A (C1's, Jan), B (C6's, December), C (no contact, no channel, March),
    D (starts and ends inside February: never paying at a month end), E (Events, Jan, churned in
    February, back in March: new once, then a reactivation), and a contact whose source is unknown."""
    yaml_path, folder = tiny_copy
    (folder / "subscriptions.csv").write_text(
        "subscription_id,customer_id,start_date,end_date,amount,billing_period_months\n"
        "S1,A,2026-01-15,,100,1\nS2,B,2025-12-10,,50,1\nS3,C,2026-03-05,,70,1\n"
        "S4,D,2026-02-10,2026-02-20,90,1\nS5,E,2026-01-05,2026-02-10,40,1\nS6,E,2026-03-01,,40,1\n")
    (folder / "customers.csv").write_text(
        "customer_id,contact_id,channel,segment\nA,C1,,SMB\nB,C6,,\nC,,,\nD,,webinar,\nE,,webinar,SMB\n")
    with open(folder / "contacts.csv", "a") as f:
        f.write("C8,2026-03-02,unknown,2026-03-02,,,2026-03-20,SMB\n")  # as a recipe fills a blank source
    return load_client(load_params(yaml_path))


def test_new_customers_are_first_new_mrr_movements_with_subscriptions(tiny_with_mrr):
    v = compute(tiny_with_mrr).volumes
    assert v.count("new_customers", JAN_MAR) == 3  # A (Jan), E (Jan, its March return is a reactivation), C (Mar)
    n = v.new_customers.set_index("customer_id")
    assert n.loc["A", "channel"] == "Paid Search"  # the customers file has none: its contact's channel
    assert n.loc["C", "channel"] == "unknown" and n.loc["E", "channel"] == "Events"
    assert "D" not in n.index  # never paid at a month end: never a customer
    assert str(n.loc["B", "month"]) == "2025-12"


def test_channel_counts_sum_to_the_headline_with_an_unknown_row(tiny_with_mrr):
    v = compute(tiny_with_mrr).volumes
    by = v.by_channel(JAN_MAR)
    assert by.loc["unknown", "leads"] == 1 and by.loc["unknown", "new_customers"] == 1  # C8; customer C
    for metric in ("leads", "mqls", "sqls", "new_customers", "won_deals"):
        assert by[metric].sum() == v.count(metric, JAN_MAR), metric
    assert by["new_customers"].to_dict() == {"Events": 1, "Paid Search": 1, "Paid Social": 0,
                                             "tiktok": 0, "unknown": 1}


def test_unpaid_channels_have_no_cost_per_anything_and_groups_sum(tiny_with_mrr):
    m = compute(tiny_with_mrr)
    spend = pd.DataFrame({"date": pd.to_datetime(["2026-01-10", "2026-02-10"]), "channel": ["Paid Search", "Events"],
                          "spend": [300.0, 90.0], "group": ["inbound", "outbound"]})
    t = channel_table(m.volumes.by_channel(JAN_MAR), m.ctx.stages, JAN_MAR, contacts=tiny_with_mrr["contacts"],
                      spend=spend)
    assert t.loc["Paid Search", "cpl"] == 150.0 and t.loc["Paid Search", "cac"] == 300.0  # 300 / 2 leads, / 1 new
    assert t.loc["Events", "cac"] == 90.0
    for channel in ("Paid Social", "unknown"):  # leads but no spend: unpaid, n/a, never 0
        assert math.isnan(t.loc[channel, "cpl"]) and math.isnan(t.loc[channel, "cac"])
    total = rollup(t).loc["total"]
    assert total["leads"] == t["leads"].sum() == 5 and total["customers"] == 3
    assert total["cac"] == pytest.approx(390 / 3)  # blended paid CAC: all spend / all new customers
