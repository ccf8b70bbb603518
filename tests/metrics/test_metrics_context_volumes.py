"""A run's frame of reference (Context) and its period counts (Volumes) by hand on tests/fixtures/tiny
(as_of 2026-03-31, window Jan–Mar 2026) and on the subscriptions of test_metrics_volumes.py."""

import math

import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.metrics import compute
from kpi_kit.metrics.context import Context

P = lambda s: pd.Period(s, "M")  # noqa: E731


def test_context_windows(tiny):
    ctx = Context.of(tiny)
    assert ctx.as_of == pd.Timestamp("2026-03-31") and ctx.last == P("2026-03")
    assert ctx.window == Window(P("2026-01"), P("2026-03"))  # window_months 3
    assert ctx.previous == Window(P("2025-10"), P("2025-12"))  # the same length just before
    assert ctx.year_ago == Window(P("2025-01"), P("2025-03"))  # twelve months earlier, not window_months
    assert ctx.currency == "EUR" and ctx.stages == ["lead", "mql", "sql", "customer"]
    assert ctx.chain == ["created", "lead", "mql", "sql", "customer"]
    assert ctx.has("contacts", "deals") and not ctx.has("contacts", "spend") and not ctx.has_mrr
    assert ctx.get("spend") is None and len(ctx.get("deals")) == 6  # D7 is created after as_of
    assert ctx.latest_dates["contacts"] == pd.Timestamp("2026-04-05")
    assert ctx.params is tiny.params


def test_context_periods_and_labels(tiny):
    ctx = Context.of(tiny)
    q1 = ctx.quarter_window(pd.Period("2026Q1", "Q"))
    assert q1 == Window(P("2026-01"), P("2026-03"))
    assert ctx.quarter_window(pd.Period("2026Q2", "Q")) == Window(P("2026-04"), P("2026-03"))  # cut at the last month
    assert ctx.quarter_window(pd.Period("2025Q4", "Q")) == Window(P("2025-10"), P("2025-12"))
    assert ctx.month_window(P("2026-02")) == Window(P("2026-02"), P("2026-02"))
    assert ctx.period_label(ctx.window) == "window"
    assert ctx.period_label(Window(P("2026-02"), P("2026-02"))) == "2026-02"
    assert ctx.period_label(Window(P("2025-10"), P("2025-12"))) == "2025-Q4"
    assert ctx.period_label(Window(P("2025-10"), P("2025-11"))) == "2025-Q4"  # a quarter to date
    assert ctx.period_label(Window(P("2025-11"), P("2025-12"))) == "2025-11..2025-12"  # not from a quarter's start
    assert ctx.period_label(Window(P("2025-12"), P("2026-02"))) == "2025-12..2026-02"  # across quarters


def test_context_of_a_mid_month_as_of_and_long_window(tiny):
    ctx = Context(data=tiny, as_of=pd.Timestamp("2026-03-15"), window=Window(P("2025-03"), P("2026-02")),
                  previous=Window(P("2024-03"), P("2025-02")), year_ago=Window(P("2024-03"), P("2025-02")),
                  last=P("2026-02"))
    assert ctx.period_label(ctx.window) == "window"
    assert ctx.quarter_window(pd.Period("2026Q1", "Q")) == Window(P("2026-01"), P("2026-02"))


def test_volumes_monthly_by_channel_and_count_between(tiny):
    v = compute(tiny).volumes
    jan_mar = Window(P("2026-01"), P("2026-03"))
    by = v.by_channel(jan_mar)
    assert by.index.name == "channel" and list(by.index) == ["Events", "Paid Search", "Paid Social", "tiktok"]
    # leads: C1, C2 Paid Search (Jan), C3 Paid Social (Feb), C4 Events (Feb); MQLs: C1 (Jan), C2 (skipped,
    # Feb 1), C3 (Feb), C6 tiktok (Jan 2); SQLs: C1, C2, C6 (Jan 1); new customers: C1 Feb, C6 Mar
    assert by["leads"].to_dict() == {"Events": 1, "Paid Search": 2, "Paid Social": 1, "tiktok": 0}
    assert by["mqls"].to_dict() == {"Events": 0, "Paid Search": 2, "Paid Social": 1, "tiktok": 1}
    assert by["new_customers"].to_dict() == {"Events": 0, "Paid Search": 1, "Paid Social": 0, "tiktok": 1}
    assert by["won_deals"].to_dict() == {"Events": 0, "Paid Search": 1, "Paid Social": 0, "tiktok": 0}  # D1 via C1
    assert math.isnan(by["sals"].iloc[0]) and math.isnan(by["opportunities"].iloc[0])  # stages tiny does not use
    mon = v.monthly_by_channel(jan_mar.months).set_index(["month", "channel"])
    assert mon.loc[(P("2026-01"), "Paid Search"), ["leads", "mqls", "sqls", "new_customers"]].tolist() == [2, 1, 1, 0]
    assert mon.loc[(P("2026-02"), "Paid Search"), ["leads", "mqls", "sqls", "new_customers", "won_deals"]].tolist() \
        == [0, 1, 1, 1, 1]
    assert mon.loc[(P("2026-03"), "tiktok"), "new_customers"] == 1
    assert v.monthly("new_customers", jan_mar.months).tolist() == [0, 1, 1]
    assert v.count_between("leads", pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-10")) == 2.0  # both ends in
    assert v.count_between("leads", pd.Timestamp("2026-01-06"), pd.Timestamp("2026-01-09")) == 0.0
    assert v.count("contacts", jan_mar) == 5  # created C1, C2, C3, C4, C7 (C6 in December)
    assert v.available("leads") and not v.available("sals")
    assert math.isnan(v.count_between("sals", pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31")))
    unknown = v.monthly("sals", jan_mar.months)
    assert unknown.isna().all() and list(unknown.index) == list(jan_mar.months)  # one n/a per month
    assert (mon.dtypes == "int64").all()  # counts, not floats


def test_volumes_without_contacts_or_deals(tiny):
    tiny.frames.pop("deals")
    v = compute(tiny).volumes
    assert not v.available("won_deals")
    cols = v.monthly_by_channel(Window(P("2026-01"), P("2026-03")).months).columns
    assert "won_deals" not in cols and "leads" in cols


def test_new_customers_from_contacts_without_subscriptions(tiny):
    n = compute(tiny).volumes.new_customers.set_index("customer_id")
    # without subscription data: contacts with a customer date, their month, channel and segment
    assert n.to_dict("index") == {"C1": {"month": P("2026-02"), "channel": "Paid Search", "segment": "SMB"},
                                  "C6": {"month": P("2026-03"), "channel": "tiktok", "segment": "SMB"}}


@pytest.mark.parametrize("stages, metric, window_count", [
    (["lead", "mql"], "mqls", 3),  # C1 Jan 10, C3 Feb 3, C6 Jan 2: C2 skipped MQL, but SQL is not a stage here
    (["mql", "sql"], "mqls", 4),  # C2's skipped MQL is dated by its SQL (Feb 1)
    (["lead"], "leads", 4),
])
def test_counts_follow_the_configured_stages(tiny, stages, metric, window_count):
    from types import SimpleNamespace

    from kpi_kit.metrics.volumes import Volumes

    real = Context.of(tiny)
    ctx = SimpleNamespace(has=real.has, get=real.get, data=tiny, stages=stages)
    v = Volumes(ctx, None)
    assert v.count(metric, real.window) == window_count
    assert v.new_customers is None  # no customer stage and no MRR: the data cannot say who is new


def test_a_context_without_coverage_leaves_every_month_covered(tiny):
    """A stand-in context (a unit test's, or a caller's own) may carry no coverage: bookings and counts
    then have no span and every window counts as fully covered, not as an error."""
    from types import SimpleNamespace

    from kpi_kit.metrics.volumes import Volumes

    real = Context.of(tiny)
    v = Volumes(SimpleNamespace(has=real.has, get=real.get, data=tiny, stages=real.stages), None)
    assert v.booking_coverage() is None and v.coverage("leads") is None
    assert v.booking_status(real.window) == "full"
    # counts stay whole numbers where no month is outside the coverage, with a span or without one
    assert v.monthly("leads", real.window.months).dtype == "int64"
    assert Volumes(real, None).monthly("leads", real.window.months).dtype == "int64"


def test_volumes_of_a_client_without_contacts_stage_data(tiny):
    from types import SimpleNamespace

    from kpi_kit.metrics.volumes import Volumes

    real = Context.of(tiny)
    no_contacts = SimpleNamespace(has=lambda *s: "contacts" not in s and real.has(*s), get=real.get, data=tiny,
                                  stages=real.stages)
    v = Volumes(no_contacts, None)
    assert v.stage_dates is None and v.new_customers is None
    assert not v.available("leads") and v.available("won_deals")
    deals = tiny["deals"].drop(columns="contact_id")
    tiny.frames["deals"] = deals
    v2 = Volumes(Context.of(tiny), None)
    # without contact_id, a won deal has no channel of its own: unknown
    assert v2.by_channel(real.window)["won_deals"].to_dict()["unknown"] == 1
    tiny.frames.pop("deals")
    nothing = Volumes(no_contacts, None)
    assert nothing.monthly_by_channel(real.window.months).columns.tolist() == ["month", "channel"]


def test_new_customers_channel_and_segment_from_the_customers_file_or_their_contact(tiny):
    import numpy as np

    from kpi_kit.metrics.volumes import Volumes

    ctx = Context.of(tiny)
    mv = pd.DataFrame({"customer_id": ["A", "B", "Z"], "month": pd.PeriodIndex(["2026-01", "2026-02", "2026-03"], freq="M"),
                       "movement": ["new", "new", "new"]})
    tiny.frames["customers"] = pd.DataFrame({"customer_id": ["A", "B"], "contact_id": ["C3", "C1"],
                                             "channel": ["Events", np.nan]})
    n = Volumes(ctx, mv).new_customers.set_index("customer_id")
    # A: its own channel; B: none of its own -> its contact C1's; Z: not in the customers file -> unknown.
    # The customers file has no segment: the contact's segment (C3 Enterprise, C1 SMB)
    assert n["channel"].to_dict() == {"A": "Events", "B": "Paid Search", "Z": "unknown"}
    assert n["segment"].to_dict() == {"A": "Enterprise", "B": "SMB", "Z": "unknown"}
    tiny.frames["customers"] = pd.DataFrame({"customer_id": ["A"], "segment": ["Mid"]})
    n2 = Volumes(ctx, mv).new_customers.set_index("customer_id")
    assert n2["segment"].to_dict() == {"A": "Mid", "B": "unknown", "Z": "unknown"}
    assert n2["channel"].to_dict() == {"A": "unknown", "B": "unknown", "Z": "unknown"}  # no channel column, no contact


def test_won_deals_by_the_deals_own_channel_before_the_contacts(tiny):
    from kpi_kit.metrics.volumes import Volumes

    deals = tiny["deals"].copy()
    deals["channel"] = [None, None, None, None, None, "Events"]  # D6 has a channel of its own; D1 does not
    tiny.frames["deals"] = deals
    v = Volumes(Context.of(tiny), None)
    dates, channel = v._events("won_deals")
    # won: D1 (Feb 15, no channel of its own: its contact C1's Paid Search), D6 (Dec 20, its own Events, not C6's)
    assert dict(zip(dates.dt.strftime("%m-%d"), channel)) == {"02-15": "Paid Search", "12-20": "Events"}


def test_won_deals_without_a_channel_column_take_their_contacts(tiny):
    from kpi_kit.metrics.volumes import Volumes

    dates, channel = Volumes(Context.of(tiny), None)._events("won_deals")  # tiny's deals have no channel column
    # D1 (C1: Paid Search) and D6 (C6: tiktok)
    assert dict(zip(dates.dt.strftime("%m-%d"), channel)) == {"02-15": "Paid Search", "12-20": "tiktok"}
