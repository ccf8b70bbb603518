"""Stripe subscriptions export (Billing > Subscriptions > Export) into ``subscriptions``.

The SPEC's normalisation happens in the kit, not here: each row keeps its billing period
(``Interval`` × ``Interval Count`` in months: month 1, year 12, week and day are refused) and its
price per billing period (``Amount`` × ``Quantity``), with the coupon's value per billing period as
``discount`` where the export says it (``Percent Off`` or ``Amount Off``). A subscription that never
paid (``trialing``, ``incomplete``, ``incomplete_expired``) is left out; one that ended takes
``Ended At`` (else ``Canceled At``) as its end date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ._base import SET_ASIDE, UNKNOWN, Field, Source

MONTHS = {"month": 1, "year": 12, "monthly": 1, "yearly": 12, "annual": 12, "quarter": 3}
NEVER_PAID = {"trialing", "incomplete", "incomplete_expired"}


def _take(frame: pd.DataFrame, column: str, default=np.nan) -> pd.Series:
    """Remove a helper column; an optional column the export lacks reads as ``default``."""
    return frame.pop(column) if column in frame else pd.Series(default, index=frame.index)


def _subscriptions(frame: pd.DataFrame, report, options) -> pd.DataFrame:
    label = options["label"]
    interval = frame.pop("_interval").fillna("").str.strip().str.lower()
    months = interval.map(MONTHS)
    if months.isna().any():
        bad = months.isna()
        raise DataError(label, "Interval", f"billing interval '{interval[bad].iloc[0]}' is not monthly or longer",
                        "the kit reports monthly recurring revenue: export month or year prices, or convert them",
                        frame.loc[bad, "_row"].tolist())
    count = _take(frame, "_interval_count", 1.0)
    frame["billing_period_months"] = months * count.fillna(1.0)
    quantity = _take(frame, "_quantity", 1.0)
    if (quantity.fillna(1) != 1).any():
        report.say(f"{label}: Quantity: {int((quantity.fillna(1) != 1).sum())} subscription(s) with several seats: "
                   "Amount multiplied by Quantity")
    frame["amount"] = frame["amount"] * quantity.fillna(1.0)
    pct, off = _take(frame, "_percent_off") / 100, _take(frame, "_amount_off")  # Stripe writes 25 for 25 %
    discount = (frame["amount"] * pct).fillna(off)
    coupon = _take(frame, "_coupon")
    unpriced = coupon.notna() & discount.isna()
    if discount.notna().any() or unpriced.any():
        # A subscription without a coupon has no discount: 0 is what the export says, not a guess. One
        # whose coupon's value the export does not give has an unknown discount: left empty, never 0
        # (SPEC "Real data"); MRR deducts nothing for it, and the import log lists it.
        known_zero = discount.isna() & coupon.isna()
        frame["discount"] = discount.mask(known_zero, 0.0).clip(upper=frame["amount"])
    if discount.notna().any():
        report.say(f"{label}: {int(discount.notna().sum())} coupon(s) deducted as discount per billing period")
    if unpriced.any():
        report.say(f"{label}: Coupon: {int(unpriced.sum())} subscription(s) carry a coupon whose value the export does "
                   "not give: discount left empty (unknown), NOT deducted (add Percent Off or Amount Off columns to "
                   "deduct it)")
        report.record(label, UNKNOWN, "coupon without a value", int(unpriced.sum()),
                      "discount left empty (unknown): not deducted from MRR")
    status = _take(frame, "_status", "").fillna("").str.strip().str.lower()
    ended = pd.to_datetime(_take(frame, "_ended"))
    canceled = pd.to_datetime(_take(frame, "_canceled"))
    # without a status, a cancellation date is taken as the end; with one, only a canceled status ends it
    ends_now = status.isin(["canceled", "cancelled"]) | (status == "")
    frame["end_date"] = ended.fillna(canceled.where(ends_now))
    never = status.isin(NEVER_PAID)
    if never.any():
        report.say(f"{label}: Status: left out {int(never.sum())} subscription(s) that never paid "
                   f"({', '.join(sorted(status[never].unique()))})")
        report.record(label, SET_ASIDE, "never paid (" + ", ".join(sorted(status[never].unique())) + ")",
                      int(never.sum()), "row left out")
        frame = frame[~never]
    scheduled = frame["end_date"].isna() & canceled.reindex(frame.index).notna()
    if scheduled.any():
        report.say(f"{label}: {int(scheduled.sum())} subscription(s) cancelled but still running: active until they end")
    return frame


SUBSCRIPTIONS = Source(
    "stripe-subscriptions", "subscriptions",
    "Stripe subscriptions export (id, Customer ID, Status, Start (UTC), Ended At (UTC), Canceled At (UTC), Amount, "
    "Interval, Quantity, Coupon)",
    (Field("subscription_id", ("id", "Subscription ID"), "text"),
     Field("customer_id", ("Customer ID", "Customer", "customer"), "text"),
     Field("start_date", ("Start (UTC)", "Start Date (UTC)", "Started At (UTC)", "Created (UTC)"), "date"),
     Field("amount", ("Amount", "Plan Amount", "Price"), "money"),
     Field("_interval", ("Interval", "Plan Interval", "Billing Interval")),
     Field("_interval_count", ("Interval Count", "Plan Interval Count"), "number", required=False),
     Field("_quantity", ("Quantity",), "number", required=False),
     Field("_status", ("Status",), required=False),
     Field("_ended", ("Ended At (UTC)", "Ended At"), "date", required=False),
     Field("_canceled", ("Canceled At (UTC)", "Canceled At", "Cancelled At (UTC)"), "date", required=False),
     Field("_coupon", ("Coupon", "Coupon ID", "Discount"), required=False),
     Field("_percent_off", ("Percent Off", "Coupon Percent Off"), "number", required=False),
     Field("_amount_off", ("Amount Off", "Coupon Amount Off"), "money", required=False)),
    _subscriptions,
)
