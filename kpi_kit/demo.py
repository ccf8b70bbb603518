"""The demo client's data, generated reproducibly (seeded; the same bytes every run).

A believable B2B SaaS company selling in USD: about three years of contacts from
13 raw sources (9 reporting channels, inbound and outbound, one raw source left
out of the channel map on purpose), seasonality, a March trade show and two big
webinars, a funnel with skipped and out-of-order stages, deals, monthly and annual
subscriptions with discounts, expansions, contractions, churn and reactivations,
spend, traffic, touches, costs, engagement and targets.

The export is dated a few days after the client's ``as_of`` (2026-10-31), so a few
rows lie after it: the kit must treat them as not yet happened.

Examples
--------
>>> frames = generate_demo()  # doctest: +SKIP
>>> write_demo("data/demo")  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261031
START = pd.Timestamp("2023-11-01")
AS_OF = pd.Timestamp("2026-10-31")
EXPORTED = pd.Timestamp("2026-11-06")
DAY = np.timedelta64(1, "D")

# raw source: (reporting channel, contacts per month at the start, mql rate, win multiplier,
#              share Enterprise, spend per lead or 0, campaigns)
SOURCES = {
    "google / cpc": ("Paid Search", 150, 0.38, 1.0, 0.10, 95, ["Brand", "Competitors", "Generic"]),
    "bing / cpc": ("Paid Search", 25, 0.35, 0.9, 0.08, 80, ["Brand", "Generic"]),
    "linkedin / paid": ("Paid Social", 90, 0.30, 0.9, 0.25, 150, ["ABM Enterprise", "Lead Gen Forms", "Retargeting"]),
    "facebook / paid": ("Paid Social", 60, 0.18, 0.6, 0.03, 45, ["Prospecting", "Retargeting"]),
    "tiktok / paid": ("tiktok / paid", 2.5, 0.10, 0.5, 0.0, 40, ["Awareness test"]),
    "google / organic": ("Organic Search", 120, 0.33, 1.0, 0.10, 0, []),
    "bing / organic": ("Organic Search", 15, 0.30, 1.0, 0.08, 0, []),
    "(direct)": ("Direct", 70, 0.40, 1.2, 0.15, 0, []),
    "newsletter / email": ("Email", 45, 0.42, 1.0, 0.10, 6, ["Monthly newsletter", "Nurture"]),
    "webinar": ("Events", 25, 0.45, 1.1, 0.20, 25, ["Webinar series"]),
    "tradeshow": ("Events", 8, 0.50, 1.3, 0.35, 0, []),
    "partner referral": ("Referral", 18, 0.60, 1.6, 0.25, 0, []),
    "g2 / referral": ("Referral", 14, 0.50, 1.3, 0.10, 0, []),
    "outbound sdr": ("Outbound", 55, 0.45, 0.9, 0.45, 0, []),
    "linkedin / inmail": ("Outbound", 20, 0.40, 0.8, 0.40, 0, []),
}
GROUPS = {"Paid Search": "inbound", "Paid Social": "inbound", "Organic Search": "inbound", "Direct": "inbound",
          "Email": "inbound", "Referral": "inbound", "Events": "outbound", "Outbound": "outbound"}
COST_GROUPS = {"marketing_salaries": "acquisition", "sales_salaries": "acquisition",
               "sales_commissions": "acquisition", "marketing_tools": "acquisition",
               "agency_fees": "acquisition", "customer_success_salaries": "service",
               "hosting": "service", "support_tools": "service"}
SEASON = np.array([1.15, 1.05, 1.10, 1.00, 1.00, 0.92, 0.85, 0.70, 1.12, 1.08, 1.02, 0.80])  # Jan..Dec
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
ACV = {"SMB": (5_000, 0.35), "Mid-Market": (22_000, 0.35), "Enterprise": (90_000, 0.4)}
CHURN = {"SMB": 0.028, "Mid-Market": 0.016, "Enterprise": 0.008}


def _months() -> pd.PeriodIndex:
    return pd.period_range(START, EXPORTED, freq="M")


def _contacts(rng) -> pd.DataFrame:
    months = _months()
    t = np.arange(len(months)) / 12
    parts = []
    for raw, (_, base, *_rest) in SOURCES.items():
        lam = 0.55 * base * 1.35 ** t * SEASON[months.month - 1]
        if raw == "tradeshow":
            lam = lam * np.where(months.month == 3, 9.0, 0.6)
        if raw == "webinar":
            lam = lam + np.where(months.isin(pd.PeriodIndex(["2025-06", "2026-05"], freq="M")), 380, 0)
        n = rng.poisson(lam)
        start = months.start_time.values.repeat(n)
        days = months.days_in_month.values.repeat(n)
        created = start + (rng.random(n.sum()) * days).astype(int) * DAY
        parts.append(pd.DataFrame({"created_at": created, "channel": raw}))
    c = pd.concat(parts, ignore_index=True)
    c = c[c["created_at"] <= EXPORTED].sort_values(["created_at", "channel"], kind="stable").reset_index(drop=True)
    n = len(c)
    src = c["channel"].map(lambda r: SOURCES[r])
    mql_rate = src.map(lambda s: s[2]).to_numpy()
    win_mult = src.map(lambda s: s[3]).to_numpy()
    ent_share = src.map(lambda s: s[4]).to_numpy()
    created = c["created_at"].to_numpy()

    u = rng.random(n)
    seg = np.where(u < ent_share, 2, np.where(u < ent_share + 0.3, 1, 0))
    seg_mult = np.array([1.0, 0.9, 0.75])[seg]

    def lag(mean, size=n):
        return np.ceil(rng.exponential(mean, size)).astype(int) * DAY

    is_lead = rng.random(n) < np.where(c["channel"].isin(["(direct)", "google / organic"]), 0.85, 0.97)
    lead = np.where(rng.random(n) < 0.9, created, created + lag(20))
    mql_ok = is_lead & (rng.random(n) < mql_rate)
    mql = lead + lag(8)
    sal_ok = mql_ok & (rng.random(n) < 0.62)
    sal = mql + lag(5)
    sql_ok = sal_ok & (rng.random(n) < 0.60 * seg_mult ** 0.3)
    sql = sal + lag(9)
    opp_ok = sql_ok & (rng.random(n) < 0.66)
    opp = sql + lag(10)
    cust_ok = opp_ok & (rng.random(n) < np.clip(0.32 * win_mult * seg_mult, 0, 0.8))
    cust = opp + (25 + rng.gamma(3.0, 22.0 + 18 * seg, n).astype(int)) * DAY

    dates = {"lead_at": np.where(is_lead, lead, np.datetime64("NaT")),
             "mql_at": np.where(mql_ok, mql, np.datetime64("NaT")),
             "sal_at": np.where(sal_ok, sal, np.datetime64("NaT")),
             "sql_at": np.where(sql_ok, sql, np.datetime64("NaT")),
             "opportunity_at": np.where(opp_ok, opp, np.datetime64("NaT")),
             "customer_at": np.where(cust_ok, cust, np.datetime64("NaT"))}
    df = pd.DataFrame({"contact_id": [f"C{i:06d}" for i in range(1, n + 1)], "created_at": created,
                       "channel": c["channel"].to_numpy(), **{k: v.astype("datetime64[ns]") for k, v in dates.items()}})
    # skipped stages: some SQLs were never marked SAL, a few SALs never MQL
    skip_sal = sql_ok & (rng.random(n) < 0.05)
    df.loc[skip_sal, "sal_at"] = pd.NaT
    skip_mql = sal_ok & ~skip_sal & (rng.random(n) < 0.02)
    df.loc[skip_mql, "mql_at"] = pd.NaT
    # out of order: a rep back-dated the SAL a day or three before the MQL (never before creation)
    ooo = df["sal_at"].notna() & df["mql_at"].notna() & (rng.random(n) < 0.006)
    back = df["mql_at"] - pd.to_timedelta(rng.integers(1, 4, n), unit="D")
    ooo &= back >= df["created_at"]
    df.loc[ooo, "sal_at"] = back[ooo]
    # the export cannot know the future
    for col in dates:
        df.loc[df[col] > EXPORTED, col] = pd.NaT
    # a stage reached later than the export means later stages are not reached either
    for a, b in zip(list(dates)[:-1], list(dates)[1:]):
        df.loc[df[a].isna() & ~df[b].isna() & ~(skip_sal | skip_mql), b] = pd.NaT
    df["segment"] = SEGMENTS[seg]
    df["account_id"] = [f"A{i:05d}" for i in rng.integers(1, max(2, n // 3), n)]
    answered = df["lead_at"].notna() & (rng.random(n) < 0.4)
    tracked_dark = df["channel"].isin(["(direct)", "google / organic", "bing / organic"])
    answers = np.array(["LinkedIn", "Podcast", "Word of mouth", "Google", "Event", "Newsletter", "Other"])
    dark = answers[rng.choice(7, n, p=[0.32, 0.22, 0.28, 0.1, 0.02, 0.02, 0.04])]
    honest = df["channel"].map({"google / cpc": "Google", "bing / cpc": "Google", "linkedin / paid": "LinkedIn",
                                "linkedin / inmail": "LinkedIn", "facebook / paid": "Other",
                                "newsletter / email": "Newsletter", "webinar": "Event", "tradeshow": "Event",
                                "partner referral": "Word of mouth", "g2 / referral": "Other",
                                "outbound sdr": "Other", "tiktok / paid": "Other"}).fillna("Other").to_numpy()
    df["self_reported_source"] = np.where(answered, np.where(tracked_dark, dark, honest), None)
    return df


def _deals(rng, contacts) -> pd.DataFrame:
    opp = contacts[contacts["opportunity_at"].notna()].reset_index(drop=True)
    n = len(opp)
    mean = opp["segment"].map({k: v[0] for k, v in ACV.items()}).to_numpy()
    amount = np.round(mean * rng.lognormal(0, 0.35, n), -2)
    won = opp["customer_at"].notna().to_numpy()
    lost_at = opp["opportunity_at"] + pd.to_timedelta(20 + rng.gamma(2.5, 30, n).astype(int), unit="D")
    lost = ~won & (lost_at <= EXPORTED).to_numpy()
    status = np.where(won, "won", np.where(lost, "lost", "open"))
    nat = np.datetime64("NaT", "ns")
    closed = np.where(won, opp["customer_at"].to_numpy("datetime64[ns]"),
                      np.where(lost, lost_at.to_numpy("datetime64[ns]"), nat))
    stages = np.array(["Discovery", "Demo", "Proposal", "Negotiation"])
    probs = np.array([0.1, 0.25, 0.5, 0.75])
    k = rng.integers(0, 4, n)
    prob = np.where(status == "open", probs[k], np.nan)
    prob[(status == "open") & (rng.random(n) < 0.05)] = np.nan
    stage = np.where(status == "won", "Closed Won", np.where(status == "lost", "Closed Lost", stages[k]))
    # the rep's expected close for open deals: later stages close sooner; some are already overdue
    expected = opp["opportunity_at"] + pd.to_timedelta(rng.integers(45, 160, n) - 20 * k, unit="D")
    d = pd.DataFrame({"created_at": opp["opportunity_at"], "status": status, "amount": amount,
                      "closed_at": closed, "contact_id": opp["contact_id"], "channel": opp["channel"],
                      "probability": prob, "stage": stage,
                      "expected_close_at": np.where(status == "open", expected.to_numpy("datetime64[ns]"), nat)})
    # sales-sourced deals without a contact
    m = 100
    created = START + pd.to_timedelta(rng.integers(60, (AS_OF - START).days, m), unit="D")
    w = rng.random(m) < 0.3
    close = created + pd.to_timedelta(30 + rng.gamma(3, 25, m).astype(int), unit="D")
    st = np.where(close > EXPORTED, "open", np.where(w, "won", "lost"))
    extra = pd.DataFrame({"created_at": created, "status": st,
                          "amount": np.round(20_000 * rng.lognormal(0, 0.5, m), -2),
                          "closed_at": np.where(st == "open", nat, close.to_numpy("datetime64[ns]")),
                          "contact_id": None, "channel": "outbound sdr",
                          "probability": np.where(st == "open", 0.25, np.nan),
                          "stage": np.where(st == "open", "Demo", np.where(st == "won", "Closed Won", "Closed Lost")),
                          "expected_close_at": np.where(st == "open", (created + pd.Timedelta(days=90)).to_numpy(), nat)})
    d = pd.concat([d, extra], ignore_index=True).sort_values(["created_at", "contact_id"], kind="stable")
    d.insert(0, "deal_id", [f"D{i:06d}" for i in range(1, len(d) + 1)])
    return d.reset_index(drop=True)


def _customers_and_subscriptions(rng, contacts, deals):
    won = deals[(deals["status"] == "won") & deals["contact_id"].notna()].reset_index(drop=True)
    seg = won["contact_id"].map(contacts.set_index("contact_id")["segment"])
    n = len(won)
    cust = pd.DataFrame({"customer_id": [f"K{i:05d}" for i in range(1, n + 1)], "contact_id": won["contact_id"],
                         "channel": won["channel"], "segment": seg.to_numpy()})
    start = won["closed_at"].to_numpy()
    mrr = np.round(won["amount"].to_numpy() / 12, 0)
    annual = rng.random(n) < 0.3
    amount = np.where(annual, np.round(mrr * 12 * 0.85, 0), mrr)
    discount = np.where(rng.random(n) < 0.15, np.round(amount * rng.uniform(0.1, 0.2, n), 0), np.nan)
    hazard = seg.map(CHURN).to_numpy()
    life = rng.geometric(hazard)  # months until churn
    life = np.where(annual, np.ceil(life / 12) * 12, life)  # annual plans end at a renewal
    end = (pd.DatetimeIndex(start) + pd.to_timedelta(life * 30.44, unit="D")).normalize().to_numpy()
    end = np.where(end > EXPORTED.to_datetime64(), np.datetime64("NaT"), end)
    subs = [pd.DataFrame({"customer_id": cust["customer_id"], "start_date": start, "amount": amount,
                          "billing_period_months": np.where(annual, 12, 1), "end_date": end, "discount": discount})]
    # expansion: an add-on subscription a few months in; some add-ons are cancelled later (contraction)
    exp = rng.random(n) < 0.22
    exp_start = pd.DatetimeIndex(start) + pd.to_timedelta(rng.integers(60, 400, n), unit="D")
    exp &= (exp_start.to_numpy() < np.where(pd.isna(end), EXPORTED.to_datetime64(), end))
    add_amt = np.round(mrr * rng.uniform(0.2, 0.5, n), 0)
    add_end = exp_start + pd.to_timedelta(rng.integers(90, 500, n), unit="D")
    contract = rng.random(n) < 0.35
    add_end = np.where(contract, add_end.to_numpy(), end)
    add_end = np.where(pd.isna(end), add_end, np.minimum(add_end, end))
    add_end = np.where(add_end > EXPORTED.to_datetime64(), np.datetime64("NaT"), add_end)
    subs.append(pd.DataFrame({"customer_id": cust["customer_id"], "start_date": exp_start.to_numpy(),
                              "amount": add_amt, "billing_period_months": 1, "end_date": add_end,
                              "discount": np.nan})[exp])
    # reactivation: a few churned customers come back 2–8 months later
    churned = ~pd.isna(end)
    back = churned & (rng.random(n) < 0.08)
    back_start = pd.DatetimeIndex(end) + pd.to_timedelta(rng.integers(60, 240, n), unit="D")
    back &= back_start.to_numpy() <= EXPORTED.to_datetime64()
    subs.append(pd.DataFrame({"customer_id": cust["customer_id"], "start_date": back_start.to_numpy(),
                              "amount": mrr, "billing_period_months": 1, "end_date": np.datetime64("NaT"),
                              "discount": np.nan})[back])
    # start and cancel in the same month: never in a month-end snapshot
    idx = rng.choice(n, 12, replace=False)
    s0 = pd.DatetimeIndex(start[idx]).to_period("M").start_time + pd.Timedelta(days=2)
    subs.append(pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()[idx], "start_date": s0,
                              "amount": np.round(mrr[idx] * 0.3, 0), "billing_period_months": 1,
                              "end_date": s0 + pd.Timedelta(days=10), "discount": np.nan}))
    s = pd.concat(subs, ignore_index=True).sort_values(["start_date", "customer_id"], kind="stable")
    s.insert(0, "subscription_id", [f"S{i:06d}" for i in range(1, len(s) + 1)])
    return cust, s.reset_index(drop=True)


def _spend_traffic(rng, contacts):
    days = pd.date_range(START, EXPORTED, freq="D")
    per_day = contacts.groupby([contacts["created_at"], "channel"]).size()
    spend_rows, traffic_rows = [], []
    weeks = pd.date_range(START, EXPORTED, freq="W-MON")
    for raw, (_, _, _, _, _, cpl, campaigns) in SOURCES.items():
        leads = per_day.xs(raw, level="channel").reindex(days, fill_value=0) if raw in per_day.index.get_level_values(1) \
            else pd.Series(0, index=days)
        smooth = leads.rolling(14, min_periods=1, center=True).mean()
        rate = 0.015 if "organic" in raw or raw == "(direct)" else 0.025
        sessions = rng.poisson(np.maximum(smooth.to_numpy(), 0.2) / rate)
        traffic_rows.append(pd.DataFrame({
            "date": days, "channel": raw, "sessions": sessions,
            "users": np.round(sessions * rng.uniform(0.7, 0.85, len(days))).astype(int),
            "avg_session_seconds": np.round(rng.normal(95 if "paid" in raw or "cpc" in raw else 140, 15, len(days))).astype(int),
            "engaged_sessions": np.round(sessions * rng.uniform(0.45, 0.65, len(days))).astype(int)}))
        if cpl:
            weekly = leads.resample("W-MON", label="left", closed="left").sum().reindex(weeks, fill_value=0)
            for j, camp in enumerate(campaigns):
                share = (len(campaigns) - j) / sum(range(1, len(campaigns) + 1))
                spend = np.round(weekly.to_numpy() * cpl * share * rng.uniform(0.8, 1.25, len(weeks)) + 50 * share, 2)
                cpc = {"google / cpc": 6.5, "bing / cpc": 4.0, "linkedin / paid": 11.0, "facebook / paid": 2.2,
                       "tiktok / paid": 1.5}.get(raw)
                clicks = np.round(spend / cpc).astype(int) if cpc else np.zeros(len(weeks), int)
                impressions = np.round(clicks / rng.uniform(0.006, 0.035, len(weeks))).astype(int) if cpc else clicks
                spend_rows.append(pd.DataFrame({"date": weeks, "channel": raw, "campaign": camp, "spend": spend,
                                                "impressions": np.where(cpc is None, np.nan, impressions),
                                                "clicks": np.where(cpc is None, np.nan, clicks)}))
    # the March trade show: booth, travel and sponsorship in one go
    shows = pd.to_datetime(["2024-03-12", "2025-03-11", "2026-03-10"])
    spend_rows.append(pd.DataFrame({"date": shows, "channel": "tradeshow", "campaign": "SaaS Summit",
                                    "spend": [38_000.0, 45_000.0, 52_000.0], "impressions": np.nan, "clicks": np.nan}))
    spend = pd.concat(spend_rows, ignore_index=True)
    spend = spend[spend["date"] <= EXPORTED].sort_values(["date", "channel", "campaign"], kind="stable")
    traffic = pd.concat(traffic_rows, ignore_index=True).sort_values(["date", "channel"], kind="stable")
    return spend.reset_index(drop=True), traffic.reset_index(drop=True)


def _touches(rng, contacts) -> pd.DataFrame:
    leads = contacts[contacts["lead_at"].notna()].reset_index(drop=True)
    n = len(leads)
    k = np.minimum(rng.poisson(1.1, n), 3)  # extra touches beyond the first
    raws = np.array(list(SOURCES))
    weights = np.array([s[1] for s in SOURCES.values()], float)
    idx = np.repeat(np.arange(n), k)
    end = leads["customer_at"].fillna(leads["opportunity_at"]).fillna(leads["created_at"] + pd.Timedelta(days=60))
    span = (end - leads["created_at"]).dt.days.to_numpy()[idx] + 5  # a few touches after conversion
    extra = pd.DataFrame({"contact_id": leads["contact_id"].to_numpy()[idx],
                          "touched_at": leads["created_at"].to_numpy()[idx]
                          + (rng.random(len(idx)) * span).astype(int) * DAY,
                          "channel": raws[rng.choice(len(raws), len(idx), p=weights / weights.sum())]})
    first = pd.DataFrame({"contact_id": leads["contact_id"], "touched_at": leads["created_at"],
                          "channel": leads["channel"]})
    t = pd.concat([first, extra], ignore_index=True)
    t = t[t["touched_at"] <= EXPORTED]
    t["campaign"] = None
    pick = rng.random(len(t))
    for raw, s in SOURCES.items():
        if s[6]:  # the first campaign of a channel gets the most touches, like its spend
            shares = np.arange(len(s[6]), 0, -1) / np.arange(len(s[6]), 0, -1).sum()
            mask = (t["channel"] == raw).to_numpy()
            t.loc[mask, "campaign"] = np.array(s[6])[np.searchsorted(np.cumsum(shares), pick[mask], side="right")
                                                     .clip(max=len(s[6]) - 1)]
    return t.sort_values(["touched_at", "contact_id", "channel"], kind="stable").reset_index(drop=True)


def _costs(rng) -> pd.DataFrame:
    months = pd.period_range(START, AS_OF, freq="M")
    t = np.arange(len(months)) / 12
    base = {"marketing_salaries": 95_000, "sales_salaries": 160_000, "sales_commissions": 25_000,
            "marketing_tools": 12_000, "agency_fees": 15_000, "customer_success_salaries": 55_000,
            "hosting": 18_000, "support_tools": 4_000}
    rows = [pd.DataFrame({"month": months.start_time, "category": cat,
                          "amount": np.round(b * 1.25 ** t * rng.uniform(0.95, 1.05, len(months)), 2)})
            for cat, b in base.items()]
    return pd.concat(rows, ignore_index=True).sort_values(["month", "category"], kind="stable").reset_index(drop=True)


def _engagement(rng) -> pd.DataFrame:
    days = pd.date_range(START, EXPORTED, freq="D")
    t = np.arange(len(days)) / 365
    social = rng.poisson(300 * 1.4 ** t * np.where(days.day_of_week < 5, 1.0, 0.45))
    weeks = pd.date_range(START, EXPORTED, freq="W-TUE")
    news = rng.poisson(2_400 * 1.3 ** (np.arange(len(weeks)) / 52))
    webinars = pd.date_range(START, AS_OF, freq="MS") + pd.Timedelta(days=17)
    attendees = rng.poisson(90, len(webinars)).astype(float)
    big = webinars.to_period("M").isin(pd.PeriodIndex(["2025-06", "2026-05"], freq="M"))
    attendees[big] = rng.poisson(520, big.sum())
    shows = pd.to_datetime(["2024-03-12", "2025-03-11", "2026-03-10"])
    return pd.concat([
        pd.DataFrame({"date": days, "metric": "social_engagement", "value": social}),
        pd.DataFrame({"date": weeks, "metric": "newsletter_opens", "value": news}),
        pd.DataFrame({"date": webinars, "metric": "webinar_attendees", "value": attendees}),
        pd.DataFrame({"date": shows, "metric": "event_attendees", "value": [640, 810, 930]}),
    ], ignore_index=True).sort_values(["date", "metric"], kind="stable").reset_index(drop=True)


def _targets(rng, contacts, deals, subs) -> pd.DataFrame:
    months = pd.period_range("2026-01", "2026-12", freq="M")
    rows = []
    last_year = pd.period_range("2025-01", "2025-12", freq="M")
    for metric, col in (("leads", "lead_at"), ("mqls", "mql_at"), ("sqls", "sql_at"),
                        ("opportunities", "opportunity_at"), ("new_customers", "customer_at")):
        base = contacts[col].dt.to_period("M").value_counts().reindex(last_year, fill_value=0).to_numpy()
        target = np.round(base * 1.3 * rng.uniform(0.9, 1.12, 12))
        rows += [(metric, m.start_time, m.end_time.normalize(), float(v)) for m, v in zip(months, target)]
    sessions = 0  # sessions target: a round figure growing through the year
    for i, m in enumerate(months):
        sessions = round(42_000 * (1 + 0.02 * i), -3)
        rows.append(("sessions", m.start_time, m.end_time.normalize(), float(sessions)))
        rows.append(("new_mrr", m.start_time, m.end_time.normalize(), float(round(30_000 * (1 + 0.03 * i), -2))))
    for q in pd.period_range("2026Q1", "2026Q4", freq="Q"):
        bookings = round(1_450_000 * (1 + 0.05 * (q.quarter - 1)), -4)
        rows.append(("bookings", q.start_time, q.end_time.normalize(), float(bookings)))
    rows.append(("revenue", pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-31"), 7_600_000.0))
    rows.append(("mrr", pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-31"), 780_000.0))
    return pd.DataFrame(rows, columns=["metric", "period_start", "period_end", "target"])


def generate_demo(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Every contract file of the demo client (no ``mrr``: the demo has subscriptions)."""
    rng = np.random.default_rng(seed)
    contacts = _contacts(rng)
    deals = _deals(rng, contacts)
    customers, subscriptions = _customers_and_subscriptions(rng, contacts, deals)
    spend, traffic = _spend_traffic(rng, contacts)
    return {"contacts": contacts, "deals": deals, "subscriptions": subscriptions, "customers": customers,
            "spend": spend, "traffic": traffic, "touches": _touches(rng, contacts), "costs": _costs(rng),
            "engagement": _engagement(rng), "targets": _targets(rng, contacts, deals, subscriptions)}


def demo_params() -> dict:
    """The demo client's parameters (written to ``data/clients/demo.yaml``)."""
    return {"client": "demo", "data_dir": "../demo", "as_of": AS_OF.date(), "currency": "USD",
            "window_months": 12, "churn_window_months": 6, "gross_margin": 0.8,
            "stages": ["lead", "mql", "sal", "sql", "opportunity", "customer"],
            "channel_map": {raw: s[0] for raw, s in SOURCES.items() if raw != "tiktok / paid"},
            "channel_groups": GROUPS, "cost_groups": COST_GROUPS}


def write_demo(out_dir, seed: int = SEED) -> list[Path]:
    """Write the demo CSVs into ``out_dir``, byte-identical for the same seed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in generate_demo(seed).items():
        path = out / f"{name}.csv"
        df.to_csv(path, index=False, date_format="%Y-%m-%d", float_format="%.2f", lineterminator="\n")
        written.append(path)
    return written


if __name__ == "__main__":
    write_demo(sys.argv[1] if len(sys.argv) > 1 else "data/demo")
