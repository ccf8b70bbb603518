"""Ad platform campaign exports (Google Ads, LinkedIn Campaign Manager, Facebook / Meta Ads) into
``spend``; the channel is named by the source. An export without a date column covers one
reporting period given by the user: its totals are spread evenly over the period's days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._base import RESHAPED, Field, Source

DATE = ("Day", "Date", "Start Date", "Reporting starts", "date")
CAMPAIGN = ("Campaign", "Campaign name", "Campaign Name", "xyz_campaign_id")
COST = ("Cost", "Amount spent (USD)", "Amount spent", "Total spent", "Spent", "Spend")
IMPRESSIONS = ("Impressions", "Impr.")
CLICKS = ("Clicks", "Link clicks", "Clicks (all)")
CONVERSIONS = ("Conversions", "Total_Conversion", "Results", "Leads", "Conversions (all)")


def _fields(channel: str) -> tuple[Field, ...]:
    return (Field("date", DATE, "date", required=False), Field("channel", value=channel),
            Field("campaign", CAMPAIGN, "text"), Field("spend", COST, "money"),
            Field("impressions", IMPRESSIONS, "number", required=False),
            Field("clicks", CLICKS, "number", required=False),
            Field("conversions", CONVERSIONS, "number", required=False))


def spread_over_period(frame: pd.DataFrame, report, options: dict) -> pd.DataFrame:
    """Aggregate per date and campaign; without dates, spread each campaign over ``options['period']``."""
    label = options["label"]
    frame = frame.drop(columns="_row")  # rows are summed: line numbers no longer apply
    if "date" not in frame or frame["date"].isna().all():
        from ..exceptions import DataError

        period = options.get("period")
        if not period:
            raise DataError(label, "date", "the export has no date column", "pass --period START..END (the "
                            "reporting period the export covers)")
        start, end = (pd.Timestamp(p) for p in period.split(".."))
        days = pd.date_range(start, end, freq="D")
        counted = [c for c in ("spend", "impressions", "clicks", "conversions") if c in frame]
        totals = frame.groupby(["channel", "campaign"], as_index=False)[counted].sum(min_count=1)
        rows = []
        for r in totals.itertuples():  # one row per campaign (tens), not per ad
            spend_cents = int(round(r.spend * 100))
            per_day = np.full(len(days), spend_cents // len(days))
            per_day[-1] += spend_cents - per_day.sum()  # totals preserved exactly
            part = pd.DataFrame({"date": days, "channel": r.channel, "campaign": r.campaign, "spend": per_day / 100})
            for col in counted[1:]:
                total = getattr(r, col)
                if pd.isna(total):
                    part[col] = np.nan
                else:
                    vals = np.full(len(days), int(total) // len(days))
                    vals[-1] += int(total) - vals.sum()
                    part[col] = vals
            rows.append(part)
        report.say(f"{label}: no date column: spread {len(totals)} campaign total(s) evenly over "
                   f"{len(days)} days of {start:%Y-%m-%d}..{end:%Y-%m-%d} (rounding remainder on the last day)")
        shaped = len(frame)
        frame = pd.concat(rows, ignore_index=True)
        report.record(label, RESHAPED, "no date column", shaped, f"summed into {len(totals)} campaign total(s), "
                      f"spread evenly over the {len(days)} days of {start:%Y-%m-%d}..{end:%Y-%m-%d}: {len(frame)} rows")
    before = len(frame)
    frame = frame.groupby(["date", "channel", "campaign"], as_index=False, dropna=False).sum(min_count=1)
    if len(frame) < before:
        report.say(f"{label}: summed {before} rows into {len(frame)} (one per date and campaign: ads, audiences "
                   "and ad sets are not part of the contract)")
        report.record(label, RESHAPED, "several rows per date and campaign", before,
                      f"summed into {len(frame)} rows (one per date and campaign)")
    return frame


GOOGLE = Source("google-ads", "spend", "Google Ads campaign report (Day, Campaign, Cost, Impr., Clicks)",
                _fields("google / cpc"), spread_over_period)
LINKEDIN = Source("linkedin-ads", "spend", "LinkedIn Campaign Manager export (Start Date, Campaign Name, Total Spent, "
                  "Impressions, Clicks)", _fields("linkedin / paid"), spread_over_period)
FACEBOOK = Source("facebook-ads", "spend", "Facebook / Meta Ads export, incl. ad-level exports without dates "
                  "(Spent, Impressions, Clicks per ad; needs --period)", _fields("facebook / paid"), spread_over_period)
