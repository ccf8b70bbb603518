"""Channel metrics (SPEC "Spend metrics", "Value per lead", "Marketing ROI", ``channels``).

Every function takes the loaded frames (channels already mapped to reporting
channels, dates seen as of ``as_of``) and a reporting window.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .._dates import Window
from .._ids import isin_ids, lookup
from .._math import proportions_differ, safe_div
from ..contract import UNKNOWN
from .funnel import STAGE_VOLUME_NAMES, passed_dates, reached

# stage -> column of the channel table (SPEC keys: leads, mqls, opportunities, customers)
STAGE_COLUMNS = {s: v for s, v in STAGE_VOLUME_NAMES.items() if s != "created"}


def _sum_by(df: pd.DataFrame | None, window: Window, date_col: str, value_col: str, by: str = "channel") -> pd.Series:
    if df is None or df.empty:
        return pd.Series(dtype="float64")
    inside = df[window.contains(df[date_col])]
    return inside.groupby(by)[value_col].sum().astype("float64")


def channel_table(counts: pd.DataFrame, stages: list[str], window: Window, *, contacts=None, deals=None,
                  spend=None, traffic=None, bookings=None) -> pd.DataFrame:
    """One row per reporting channel over ``window`` (SPEC ``channels``).

    ``counts`` are the window's period counts by channel
    (:meth:`kpi_kit.metrics.volumes.Volumes.by_channel`, an ``unknown`` row included), so every
    count column sums over channels to the headline total. Spend and sessions are those dated in
    the window; ``revenue`` is the ``bookings`` dated in it by their channel
    (:attr:`kpi_kit.metrics.volumes.Volumes.bookings`: won deals credited to the deal's, else its
    contact's channel, and revenue recorded without a sales process), so the channels add up to the
    headline bookings; ``lead_revenue`` is what the window's leads have won so far and drives value
    per lead and per visit. A channel without spend has no CPL, cost per MQL / SQO or CAC
    (NaN, "unpaid"), never 0.

    Examples
    --------
    >>> t = channel_table(volumes.by_channel(window), ["lead", "mql"], window)  # doctest: +SKIP
    >>> t.loc["Paid Search", "cpl"]  # doctest: +SKIP

    ``contacts=None`` (a client without a contacts file) leaves every contact count and the
    ratios built on them undefined (n/a), not 0.
    """
    known_contacts = contacts is not None
    counts = counts.rename(columns={"new_customers": "customers"})
    spend_s = _sum_by(spend, window, "date", "spend")
    sessions = _sum_by(traffic, window, "date", "sessions")
    if known_contacts:
        created = contacts[window.contains(contacts["created_at"])]
        contacts_n = created["channel"].astype(object).fillna(UNKNOWN).value_counts()
        groups = contacts.drop_duplicates("channel").set_index("channel")["group"]
    else:
        contacts_n, groups = pd.Series(dtype="int64"), pd.Series(dtype=object)
    revenue = _sum_by(bookings, window, "date", "amount")
    lead_rev = pd.Series(dtype="float64")
    if deals is not None and "contact_id" in deals and known_contacts and "lead" in stages:
        leads = passed_dates(contacts, stages)["lead"]
        in_window = contacts.loc[window.contains(leads)]
        won = deals[(deals["status"] == "won").to_numpy() & isin_ids(deals["contact_id"], in_window["contact_id"])]
        channel_of = lookup(won["contact_id"], in_window, "contact_id", "channel")
        lead_rev = won["amount"].groupby(channel_of.astype(object).fillna(UNKNOWN)).sum()
    # won revenue tied to no channel is the `unknown` row's: it still counts in the totals (and blended ROI)
    index = counts.index.union(contacts_n.index).union(spend_s.index).union(sessions.index).union(revenue.index)
    t = counts.reindex(index).fillna(0)
    t.insert(0, "contacts", contacts_n.reindex(index).fillna(0))
    t.insert(0, "group", groups.reindex(index).fillna("other"))
    if spend is not None:  # channels seen only in spend/traffic still get their group
        extra = spend.drop_duplicates("channel").set_index("channel")["group"]
        t["group"] = t["group"].where(t.index.isin(groups.index), extra.reindex(index).fillna("other"))
    t.insert(1, "sessions", sessions.reindex(index).fillna(0))
    t["spend"] = spend_s.reindex(index).fillna(0.0)
    t["revenue"] = revenue.reindex(index).fillna(0.0)
    t["lead_revenue"] = lead_rev.reindex(index).fillna(0.0)
    # without the file behind a figure it is unknown (n/a), not 0: no deals file, no revenue or ROI
    if bookings is None:
        t[["revenue", "lead_revenue"]] = np.nan
    elif len(revenue) and set(revenue.index) == {UNKNOWN}:  # no won deal is tied to a channel: per channel n/a
        t.loc[t.index != UNKNOWN, ["revenue", "lead_revenue"]] = np.nan
    if deals is None:  # leads win deals: without deals what the window's leads won is unknown
        t["lead_revenue"] = np.nan
    # ROI's numerator: bookings credited to paid channels only (a booking of an unpaid channel was
    # bought by no spend); unknown where no booking is tied to a channel
    t["paid_revenue"] = t["revenue"].where(t["spend"] > 0, 0.0).where(t["revenue"].notna())
    if len(revenue) and set(revenue.index) == {UNKNOWN}:
        t["paid_revenue"] = np.nan
    if traffic is None:
        t["sessions"] = np.nan
    if spend is None:  # and so CPL, CAC and ROI
        t["spend"] = np.nan
    for metric in counts.columns:  # a count the data cannot give (no such stage, no file) is n/a on every row
        if counts[metric].isna().all():
            t[metric] = np.nan
    if not known_contacts:
        t["contacts"] = np.nan
    _add_ratios(t)
    t.index.name = "channel"
    return t.sort_values(["group", "spend", "contacts"], ascending=[True, False, False])


def _add_ratios(t: pd.DataFrame) -> None:
    col = lambda c: t[c] if c in t else pd.Series(np.nan, index=t.index)  # noqa: E731
    paid = t["spend"].where(t["spend"] > 0)  # an unpaid channel has no cost per anything: n/a, not 0
    t["cpl"] = safe_div(paid, col("leads"))
    t["cost_per_mql"] = safe_div(paid, col("mqls"))
    t["cost_per_sqo"] = safe_div(paid, col("opportunities"))
    t["cac"] = safe_div(paid, col("customers"))
    t["visits_per_lead"] = safe_div(t["sessions"], col("leads"))
    t["value_per_lead"] = safe_div(t["lead_revenue"], col("leads"))
    t["value_per_visit"] = safe_div(t["lead_revenue"], t["sessions"])
    # ROI's numerator: bookings of paid channels (a table without the column is one of channel rows)
    paid_revenue = t["paid_revenue"] if "paid_revenue" in t else t["revenue"].where(paid.notna(), 0.0).where(
        t["revenue"].notna())
    t["roi"] = safe_div(paid_revenue - paid, paid)
    # MER (revenue or bookings / spend) only where the amounts are not tied to channels (ROI is n/a)
    untied = t["paid_revenue"].isna() if "paid_revenue" in t else pd.Series(True, index=t.index)
    t["mer"] = safe_div(t["revenue"], paid).where(untied)


VOLUME_COLUMNS = ["contacts", "sessions", "leads", "mqls", "sals", "sqls", "opportunities", "customers", "won_deals",
                  "spend", "revenue", "paid_revenue", "lead_revenue"]


def rollup(table: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Sum the channel table's volumes by ``group`` (plus a ``total`` row) and recompute the ratios."""
    volumes = [c for c in VOLUME_COLUMNS if c in table]
    g = table.groupby(by)[volumes].sum(min_count=1)  # unknown counts stay n/a
    g.loc["total"] = table[volumes].sum(min_count=1)
    _add_ratios(g)
    return g


def cohort_by_channel(contacts: pd.DataFrame, stages: list[str], window: Window) -> pd.DataFrame:
    """Cohort view: per channel, contacts created in ``window`` reaching each stage by ``as_of`` and
    each step's conversion ``a_to_b`` over those same contacts."""
    c = contacts[window.contains(contacts["created_at"])]
    hit = reached(c, stages)
    counts = hit.groupby(c["channel"].astype(object).fillna(UNKNOWN)).sum()
    chain = ["created", *stages]
    for a, b in zip(chain, chain[1:]):
        counts[f"{a}_to_{b}"] = safe_div(counts[b], counts[a])
    counts.index.name = "channel"
    return counts


def monthly_by_channel(counts: pd.DataFrame, months: pd.PeriodIndex, *, spend=None) -> pd.DataFrame:
    """Tidy month × channel: the period counts of ``counts``
    (:meth:`~kpi_kit.metrics.volumes.Volumes.monthly_by_channel`), spend, and per-month CPL and CAC
    (spend / the month's new customers; n/a without spend)."""
    out = counts.set_index(["month", "channel"])
    if spend is not None and len(spend):
        s = spend.groupby([spend["date"].dt.to_period("M").rename("month"), "channel"])["spend"].sum()
        out = out.join(s[s.index.get_level_values("month").isin(months)], how="outer")
    else:
        out["spend"] = 0.0
    out = out.fillna(0).reset_index()
    paid = out["spend"].where(out["spend"] > 0)
    out["cpl"] = safe_div(paid, out["leads"]) if "leads" in out else np.nan
    out["cac"] = safe_div(paid, out["new_customers"]) if "new_customers" in out else np.nan
    return out.rename(columns={"new_customers": "customers"})


def rising_volume_falling_conversion(monthly: pd.DataFrame, *, volume: str = "leads", next_volume: str = "mqls",
                                     months: int = 3, threshold: float = 0.10) -> pd.DataFrame:
    """Channels whose ``volume`` rose by more than ``threshold`` over the last ``months`` months against
    the ``months`` before, while the ratio ``next_volume / volume`` (entries in the same months) fell by more
    than ``threshold`` (relative) and a two-proportion test finds the fall significant at 5 %
    (:func:`kpi_kit._math.proportions_differ`): a fall from 2 of 5 to 1 of 6 is not a finding."""
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
    significant = [proportions_differ(r[f"{next_volume}_recent"], r[f"{volume}_recent"], r[f"{next_volume}_before"],
                                      r[f"{volume}_before"]) is True for _, r in both.iterrows()]
    flagged = both[(both["volume_change"] > threshold) & (both["rate_change"] < -threshold)
                   & np.array(significant, dtype=bool)]
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


class ChannelMetrics:
    """The channel numbers of one client run: the channel and group tables (period counts, so every
    column sums to the headline), monthly trends, flags, campaigns and attribution.

    Examples
    --------
    >>> c = compute(load_client(load_params("data/clients/demo.yaml"))).channel  # doctest: +SKIP
    >>> c.table.loc["Paid Search", "cac"]  # doctest: +SKIP
    """

    def __init__(self, m):
        self.m = m
        self.ctx = ctx = m.ctx
        self.stages = ctx.stages
        self.has_contacts = ctx.has("contacts")
        self.has_spend = ctx.has("spend")
        # the top of this client's funnel: leads, or the first stage it tracks (Olist starts at MQL)
        self.volume = STAGE_COLUMNS[self.stages[0]]

    def table_for(self, window: Window) -> pd.DataFrame:
        d = self.ctx.data
        return channel_table(self.m.volumes.by_channel(window), self.stages, window,
                             contacts=d["contacts"] if self.has_contacts else None, deals=d.get("deals"),
                             spend=d.get("spend"), traffic=d.get("traffic"), bookings=self.m.volumes.bookings)

    @cached_property
    def table(self) -> pd.DataFrame:
        return self.table_for(self.ctx.window)

    @cached_property
    def groups(self) -> pd.DataFrame:
        return rollup(self.table)

    @cached_property
    def previous_groups(self) -> pd.DataFrame:
        return rollup(self.table_for(self.ctx.previous))

    @cached_property
    def total(self) -> pd.Series:
        """The client totals of the window (blended CPL, paid CAC = all spend / all new customers, ROI)."""
        return self.groups.loc["total"]

    @cached_property
    def cohort(self) -> pd.DataFrame:
        """Cohort view by channel: contacts created in the window and the stages they reached."""
        return cohort_by_channel(self.ctx.data["contacts"], self.stages, self.ctx.window)

    @cached_property
    def monthly(self) -> pd.DataFrame:
        months = pd.period_range(self.ctx.window.first - 12, self.ctx.last, freq="M")
        return monthly_by_channel(self.m.volumes.monthly_by_channel(months), months, spend=self.ctx.get("spend"))

    @cached_property
    def flags(self) -> pd.DataFrame:
        if "lead" not in self.stages or "mql" not in self.stages or self.monthly.empty:
            return pd.DataFrame()
        return rising_volume_falling_conversion(self.monthly)

    def campaigns(self) -> pd.DataFrame:
        spend = self.ctx.get("spend")
        if spend is None or "campaign" not in spend:
            return pd.DataFrame()
        return campaign_table(spend, self.ctx.window, contacts=self.ctx.data["contacts"],
                              touches=self.ctx.get("touches"))

    def self_reported(self) -> pd.DataFrame:
        c = self.ctx.data["contacts"]
        if "self_reported_source" not in c or c["self_reported_source"].isna().all():
            return pd.DataFrame()
        return self_reported_vs_tracked(c, self.ctx.window)

    def conversions(self) -> pd.DataFrame:
        """Customers won in the window, with their lead/opportunity dates and won revenue."""
        c = self.ctx.data["contacts"]
        w = self.ctx.window
        if "customer_at" not in c:  # a funnel configured without the customer stage converts no one
            c = c.assign(customer_at=pd.Series(pd.NaT, index=c.index, dtype="datetime64[ns]"))
        conv = c[c["customer_at"].notna() & w.contains(c["customer_at"])]
        conv = conv[["contact_id", "customer_at", "channel"]
                    + [k for k in ("lead_at", "opportunity_at") if k in conv]].rename(
            columns={"customer_at": "converted_at"})
        deals = self.ctx.get("deals")
        value = pd.Series(0.0, index=conv.index)
        if deals is not None and "contact_id" in deals:
            won = deals[deals["status"] == "won"].groupby("contact_id")["amount"].sum()
            value = conv["contact_id"].map(won).fillna(0.0)
        return conv.assign(revenue=value).reset_index(drop=True)

    @cached_property
    def paths(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The window's converting and non-converting paths, for the data-driven models."""
        from .datadriven import build_paths

        touches = self.ctx.get("touches")
        if touches is None or touches.empty:
            return None
        return build_paths(touches, self.ctx.data["contacts"], self.ctx.window, self.ctx.as_of)

    @cached_property
    def attribution(self) -> pd.DataFrame | None:
        """Channel × (measure, model): customers and revenue credited under every rule model and the
        two data-driven ones (Markov removal effect, Shapley value)."""
        from .attribution import attribution_by_channel
        from .datadriven import markov_attribution, shapley_attribution

        touches = self.ctx.get("touches")
        if touches is None or touches.empty:
            return None
        conversions = self.conversions()
        rules = attribution_by_channel(touches, conversions, as_of=self.ctx.as_of,
                                       half_life_days=self.ctx.params.half_life_days, value_col="revenue")
        if rules.empty:
            return rules
        steps, paths = self.paths
        won = paths["contact_id"].map(conversions.set_index("contact_id")["revenue"]).where(paths["converted"])
        p = self.ctx.params
        learned = {"markov": markov_attribution(steps, paths, won, order=p.markov_order),
                   "shapley": shapley_attribution(steps, paths, won, max_channels=p.shapley_max_channels)}
        out = rules.copy()
        for model, credit in learned.items():
            credit = credit.reindex(out.index.union(credit.index))
            out = out.reindex(credit.index)
            out[("conversions", model)] = credit["conversions"].fillna(0.0)
            out[("value", model)] = credit["revenue"].fillna(0.0)
        return out.fillna(0.0).sort_index(axis=1, level=0, sort_remaining=False)

    @property
    def has_attributed_wins(self) -> bool:
        return self.attribution is not None and not self.attribution.empty

    @cached_property
    def attributed_roi(self) -> pd.DataFrame | None:
        from .attribution import attributed_roi

        return None if self.attribution is None else attributed_roi(self.attribution, self.table["spend"])

    TABLE_KEYS = ["channel", "group", "sessions", "leads", "mqls", "opportunities", "customers", "spend", "cpl",
                  "cost_per_mql", "cost_per_sqo", "cac", "revenue", "roi"]

    def tables(self) -> dict:
        from .serialise import records

        attribution = []
        if self.has_attributed_wins:  # SPEC: [{model, channel, conversions, revenue}], every model
            a = self.attribution
            long = a["conversions"].stack().rename("conversions").to_frame().join(
                a["value"].stack().rename("revenue")).reset_index()
            long.columns = ["channel", "model", "conversions", "revenue"]
            attribution = records(long[["model", "channel", "conversions", "revenue"]])
        t = self.table.reset_index()
        g = self.groups.reset_index()
        keys = [k for k in self.TABLE_KEYS if k in t]
        return {"attribution": attribution, "channels": records(t, {k: k for k in keys}),
                "channel_groups": records(g, {"group": "group", **{k: k for k in keys[2:] if k in g}})}
