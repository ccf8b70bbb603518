"""Channel metrics (SPEC "Spend metrics", "Value per lead", "Marketing ROI", ``channels``).

Every function takes the loaded frames (channels already mapped to reporting
channels, dates seen as of ``as_of``) and a reporting window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._dates import Window
from ._ids import column_by_id, isin_ids
from ._math import safe_div
from .funnel import STAGE_VOLUME_NAMES, passed_dates, reached

NO_CHANNEL = "(no channel)"  # the channel table's row for won revenue tied to no channel
# stage -> column of the channel table (SPEC keys: leads, mqls, opportunities, customers)
STAGE_COLUMNS = {s: v for s, v in STAGE_VOLUME_NAMES.items() if s != "created"}


def _sum_by(df: pd.DataFrame | None, window: Window, date_col: str, value_col: str, by: str = "channel") -> pd.Series:
    if df is None or df.empty:
        return pd.Series(dtype="float64")
    inside = df[window.contains(df[date_col])]
    return inside.groupby(by)[value_col].sum().astype("float64")


def won_revenue_by_channel(deals: pd.DataFrame | None, contacts: pd.DataFrame, window: Window) -> pd.Series:
    """Amount of deals won in ``window``, credited to the deal's channel, else its contact's."""
    if deals is None or deals.empty:
        return pd.Series(dtype="float64")
    won = deals[(deals["status"] == "won") & window.contains(deals["closed_at"])]
    channel = won["channel"] if "channel" in won else pd.Series(np.nan, index=won.index)
    if "contact_id" in won:
        from_contact = won["contact_id"].map(column_by_id(contacts, "contact_id", "channel"))
        channel = channel.where(channel.notna(), from_contact)
    return won["amount"].groupby(channel.astype(object).fillna("(none)")).sum().astype("float64")


def channel_table(contacts: pd.DataFrame, stages: list[str], window: Window, *, deals=None, spend=None,
                  traffic=None) -> pd.DataFrame:
    """One row per reporting channel over ``window`` (SPEC ``channels``).

    Contacts created in the window are counted at each stage they reached by
    ``as_of``; spend and sessions are those dated in the window; ``revenue`` is the
    amount of deals won in the window credited to the deal's (else its contact's)
    channel; ``cohort_revenue`` is what the window's own contacts have won so far and
    drives value per lead and per visit.

    Examples
    --------
    >>> t = channel_table(contacts, ["lead", "mql"], window)  # doctest: +SKIP
    >>> t.loc["Paid Search", "cpl"]  # doctest: +SKIP

    ``contacts=None`` (a client without a contacts file) leaves every contact count and the
    ratios built on them undefined (n/a), not 0.
    """
    known_contacts = contacts is not None
    if contacts is None:
        contacts = pd.DataFrame({"contact_id": pd.Series(dtype="string"), "created_at": pd.Series(dtype="datetime64[ns]"),
                                 "channel": pd.Series(dtype="string"), "group": pd.Series(dtype="string")})
    c = contacts[window.contains(contacts["created_at"])]
    hit = reached(c, stages)
    counts = hit.groupby(c["channel"]).sum().rename(columns=STAGE_COLUMNS).drop(columns="created")
    counts.insert(0, "contacts", c.groupby("channel").size())
    groups = contacts.drop_duplicates("channel").set_index("channel")["group"]
    spend_s = _sum_by(spend, window, "date", "spend")
    sessions = _sum_by(traffic, window, "date", "sessions")
    revenue = won_revenue_by_channel(deals, contacts, window)
    cohort_rev = pd.Series(dtype="float64")
    if deals is not None and "contact_id" in deals:
        won = deals[(deals["status"] == "won").to_numpy() & isin_ids(deals["contact_id"], c["contact_id"])]
        cohort_rev = won["amount"].groupby(won["contact_id"].map(c.set_index("contact_id")["channel"])).sum()
    unattributed = float(revenue.get("(none)", 0.0))
    revenue = revenue.drop("(none)", errors="ignore")
    index = counts.index.union(spend_s.index).union(sessions.index).union(revenue.index)
    if unattributed:  # won revenue tied to no channel still counts in the totals (and blended ROI)
        index = index.append(pd.Index([NO_CHANNEL]))
        revenue = pd.concat([revenue, pd.Series({NO_CHANNEL: unattributed})])
    t = counts.reindex(index).fillna(0).astype("int64")
    t.insert(0, "group", groups.reindex(index).fillna("other"))
    if spend is not None:  # channels seen only in spend/traffic still get their group
        extra = spend.drop_duplicates("channel").set_index("channel")["group"]
        t["group"] = t["group"].where(t.index.isin(groups.index), extra.reindex(index).fillna("other"))
    t.insert(1, "sessions", sessions.reindex(index).fillna(0).astype("int64"))
    t["spend"] = spend_s.reindex(index).fillna(0.0)
    t["revenue"] = revenue.reindex(index).fillna(0.0)
    t["cohort_revenue"] = cohort_rev.reindex(index).fillna(0.0)
    # without the file behind a figure it is unknown (n/a), not 0: no deals file, no revenue or ROI
    if deals is None:
        t[["revenue", "cohort_revenue"]] = np.nan
    elif unattributed and len(revenue) == 1:  # no won deal is tied to a channel: per channel it is unknown
        t.loc[t.index != NO_CHANNEL, ["revenue", "cohort_revenue"]] = np.nan
    if traffic is None:
        t["sessions"] = np.nan
    if spend is None:  # and so CPL, CAC and ROI
        t["spend"] = np.nan
    for stage, col in STAGE_COLUMNS.items():  # a stage the client does not use is undefined, not 0
        if stage not in stages or not known_contacts:
            t[col] = np.nan
    if not known_contacts:
        t["contacts"] = np.nan
    _add_ratios(t, stages)
    t.index.name = "channel"
    return t.sort_values(["group", "spend", "contacts"], ascending=[True, False, False])


def _add_ratios(t: pd.DataFrame, stages: list[str]) -> None:
    col = lambda s: t[STAGE_COLUMNS[s]] if s in stages else pd.Series(np.nan, index=t.index)  # noqa: E731
    t["cpl"] = safe_div(t["spend"], col("lead"))
    t["cost_per_mql"] = safe_div(t["spend"], col("mql"))
    t["cost_per_sqo"] = safe_div(t["spend"], col("opportunity"))
    t["cac"] = safe_div(t["spend"], col("customer"))
    t["visits_per_lead"] = safe_div(t["sessions"], col("lead"))
    t["value_per_lead"] = safe_div(t["cohort_revenue"], col("lead"))
    t["value_per_visit"] = safe_div(t["cohort_revenue"], t["sessions"])
    t["roi"] = safe_div(t["revenue"] - t["spend"], t["spend"])
    chain = ["created", *stages]
    counts = {"created": t["contacts"], **{s: t[STAGE_COLUMNS[s]] for s in stages}}
    for a, b in zip(chain, chain[1:]):
        t[f"{a}_to_{b}"] = safe_div(counts[b], counts[a])


def rollup(table: pd.DataFrame, stages: list[str], by: str = "group") -> pd.DataFrame:
    """Sum the channel table's volumes by ``group`` (plus a total row) and recompute the ratios."""
    volumes = ["contacts", "sessions", *[STAGE_COLUMNS[s] for s in stages], "spend", "revenue", "cohort_revenue"]
    g = table.groupby(by)[volumes].sum(min_count=1)  # unknown counts stay n/a
    g.loc["total"] = table[volumes].sum(min_count=1)
    for stage, col in STAGE_COLUMNS.items():
        if stage not in stages:
            g[col] = np.nan
    _add_ratios(g, stages)
    return g


def monthly_by_channel(contacts: pd.DataFrame, stages: list[str], months: pd.PeriodIndex, *, spend=None,
                       deals=None) -> pd.DataFrame:
    """Tidy month × channel: leads, mqls, customers entering that month, spend, opportunities,
    and per-month CPL and CAC (spend / customers won that month)."""
    dates = passed_dates(contacts, stages)
    frames = []
    for stage in [s for s in ("lead", "mql", "sql", "opportunity", "customer") if s in stages]:
        m = dates[stage].dt.to_period("M")
        frames.append(contacts.groupby([m.rename("month"), "channel"]).size().rename(STAGE_COLUMNS[stage]))
    out = pd.concat(frames, axis=1)
    if spend is not None and len(spend):
        out = out.join(spend.groupby([spend["date"].dt.to_period("M").rename("month"), "channel"])["spend"].sum(),
                       how="outer")
    else:
        out["spend"] = 0.0
    out = out.fillna(0)
    out = out[out.index.get_level_values("month").isin(months)].reset_index()
    out["cpl"] = safe_div(out["spend"], out.get("leads", 0))
    out["cac"] = safe_div(out["spend"], out.get("customers", 0))
    return out


def rising_volume_falling_conversion(monthly: pd.DataFrame, *, volume: str = "leads", next_volume: str = "mqls",
                                     months: int = 3, threshold: float = 0.10) -> pd.DataFrame:
    """Channels whose ``volume`` rose by more than ``threshold`` over the last ``months`` months against
    the ``months`` before, while the ratio ``next_volume / volume`` (entries in the same months) fell by more
    than ``threshold`` (relative)."""
    last = monthly["month"].max()
    recent = monthly[monthly["month"] > last - months].groupby("channel")[[volume, next_volume]].sum()
    before = monthly[(monthly["month"] <= last - months) & (monthly["month"] > last - 2 * months)] \
        .groupby("channel")[[volume, next_volume]].sum()
    both = recent.add_suffix("_recent").join(before.add_suffix("_before"), how="inner")
    both["volume_change"] = safe_div(both[f"{volume}_recent"], both[f"{volume}_before"]) - 1
    rate_recent = safe_div(both[f"{next_volume}_recent"], both[f"{volume}_recent"])
    rate_before = safe_div(both[f"{next_volume}_before"], both[f"{volume}_before"])
    both["rate_recent"], both["rate_before"] = rate_recent, rate_before
    both["rate_change"] = safe_div(rate_recent, rate_before) - 1
    flagged = both[(both["volume_change"] > threshold) & (both["rate_change"] < -threshold)]
    return flagged[["volume_change", "rate_before", "rate_recent", "rate_change"]].reset_index()


def campaign_table(spend: pd.DataFrame, window: Window, *, contacts=None, touches=None) -> pd.DataFrame:
    """Per channel and campaign over ``window``: impressions, clicks, CTR, CPC, spend; the platform's
    conversions and cost per conversion where spend has ``conversions``; and — where touches carry
    campaigns — leads (contacts created in the window whose first touch was the campaign) and CPL."""
    s = spend[window.contains(spend["date"])].copy()
    if "campaign" not in s:
        return pd.DataFrame()
    s["campaign"] = s["campaign"].fillna("(no campaign)")
    total = lambda x: x.sum(min_count=1)  # noqa: E731 (no impressions recorded stays n/a, not 0)
    cols = {"spend": "sum"} | {c: total for c in ("impressions", "clicks", "conversions") if c in s}
    t = s.groupby(["channel", "campaign"]).agg(cols)
    for c in ("impressions", "clicks"):
        if c not in t:
            t[c] = np.nan
    t["ctr"] = safe_div(t["clicks"], t["impressions"])
    t["cpc"] = safe_div(t["spend"], t["clicks"])
    if "conversions" in t:
        t["cost_per_conversion"] = safe_div(t["spend"], t["conversions"])
    t["leads"] = np.nan
    if touches is not None and contacts is not None and "campaign" in touches:
        c = contacts[window.contains(contacts["created_at"]) & contacts["lead_at"].notna()]
        first = touches[isin_ids(touches["contact_id"], c["contact_id"])].sort_values("touched_at", kind="stable") \
            .drop_duplicates("contact_id")
        leads = first.groupby(["channel", "campaign"]).size()
        t["leads"] = leads.reindex(t.index).fillna(0)
    t["cpl"] = safe_div(t["spend"], t["leads"])
    return t.reset_index().sort_values(["channel", "spend"], ascending=[True, False])


def self_reported_vs_tracked(contacts: pd.DataFrame, window: Window | None = None,
                             answer_col: str = "self_reported_source") -> pd.DataFrame:
    """Share of each tracked channel's answers per self-reported source (rows sum to 1), with the
    number of answers per channel in ``answers``."""
    c = contacts if window is None else contacts[window.contains(contacts["created_at"])]
    c = c[c[answer_col].notna()]
    if c.empty:
        return pd.DataFrame()
    counts = pd.crosstab(c["channel"], c[answer_col])
    shares = counts.div(counts.sum(axis=1), axis=0)
    shares["answers"] = counts.sum(axis=1)
    return shares
