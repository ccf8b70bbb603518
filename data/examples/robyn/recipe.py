"""Meta Robyn's simulated weekly media-mix data: spend (with impressions and clicks) per medium,
weekly revenue, and newsletter volume. Each weekly row is dated by its Monday."""

import pandas as pd

from kpi_kit.importers import import_frame, read_export

MEDIA = {  # medium: (spend column, impressions column, clicks column)
    "tv": ("tv_S", None, None), "ooh": ("ooh_S", None, None), "print": ("print_S", None, None),
    "facebook": ("facebook_S", "facebook_I", None), "search": ("search_S", None, "search_clicks_P"),
}


def build(dataset, out, report):
    raw = read_export(dataset / "dt_simulated_weekly.csv", report)
    week = pd.to_datetime(raw["DATE"])
    spend = pd.concat([pd.DataFrame({
        "date": week, "channel": medium, "spend": raw[s].astype(float),
        "impressions": raw[i].astype(float).round() if i else None,
        "clicks": raw[c].astype(float).round() if c else None,
    }) for medium, (s, i, c) in MEDIA.items()], ignore_index=True)
    import_frame(spend, "spend", out, label="dt_simulated_weekly.csv (media columns)", report=report)
    # Revenue is a weekly total, not deals: the contract's revenue file records it without a sales
    # process, so ROI and the revenue trend use it while no win rate, deal size or cycle is made up.
    revenue = pd.DataFrame({"date": week, "amount": raw["revenue"].astype(float)})
    import_frame(revenue, "revenue", out, label="dt_simulated_weekly.csv (revenue)", report=report)
    engagement = pd.DataFrame({"date": week, "metric": "newsletter_sends", "value": raw["newsletter"].astype(float)})
    import_frame(engagement, "engagement", out, label="dt_simulated_weekly.csv (newsletter)", report=report)
    events = raw["events"].str.strip().str.lower()
    report.say(f"dt_simulated_weekly.csv: events: {int((events != 'na').sum())} week(s) name an event, "
               f"{int((events == 'na').sum())} say 'na': not imported (the contract counts attendees, not names)")
    report.say("dt_simulated_weekly.csv: competitor_sales_B: not imported (a competitor's sales, not this client's)")
