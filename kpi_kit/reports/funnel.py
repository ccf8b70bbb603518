"""The funnel notebook's analysis: every number, table, chart and sentence, computed once.

The notebook only calls these methods, so its logic is tested here and not in cells.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import plotting as kp
from .. import report as rp
from .._math import safe_div
from ..data import ClientData
from ..formatting import fmt_count, fmt_days, fmt_money, fmt_pct, fmt_pp, is_missing
from ..metrics import compute
from ..metrics.funnel import count_metric, stage_label
from ..metrics.kpis import PREVIOUS, YEAR_AGO


class FunnelReport:
    """The funnel notebook: sentences, tables and charts over the run's funnel metrics
    (:class:`~kpi_kit.metrics.funnel.FunnelMetrics`); it computes no number of its own.

    Examples
    --------
    >>> from kpi_kit import load_client, load_params
    >>> report = FunnelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> report.f.scalars()["win_rate"]  # doctest: +SKIP
    0.27
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.m = compute(data)
        self.f = f = self.m.funnel
        self.book = self.m.book
        self.params = data.params
        self.as_of = self.m.ctx.as_of
        self.stages, self.chain = f.stages, f.chain
        self.window, self.previous, self.year_ago = self.m.ctx.window, self.m.ctx.previous, self.m.ctx.year_ago
        self.currency = self.params.currency
        self.has_contacts, self.has_deals = f.has_contacts, f.has_deals

    # -- report blocks ---------------------------------------------------------------------
    def header(self):
        return rp.header("Funnel report", self.data, self.window)

    def kpis(self):
        """Headline cards: the window's period counts, lead-to-close, win rate, deal size and cycle."""
        k = []
        # a window longer than a year overlaps the one a year earlier: no comparison
        year = YEAR_AGO if self.params.window_months <= 12 else None
        one_year = self.params.window_months == 12
        labels = {"lead": "Leads", "mql": "MQLs", "customer": "New customers"}
        for stage in ("lead", "mql", "customer"):
            if stage in self.chain and self.m.volumes.available(count_metric(stage)):
                k.append(rp.KPI.of(self.book, f"{labels[stage]} (window)", count_metric(stage), previous=PREVIOUS,
                                   year_ago=None if one_year else year))
        if self.has_contacts:
            k.append(rp.KPI.of(self.book, "Lead-to-close CVR (window)", "lead_to_close_cvr", previous=YEAR_AGO
                               if one_year else None, year_ago=None if one_year else YEAR_AGO))
        if self.has_deals:
            for metric, label in (("win_rate", "Win rate"), ("avg_deal_size", "Avg deal size"),
                                  ("avg_sales_cycle_days", "Sales cycle")):
                k.append(rp.KPI.of(self.book, f"{label} (window)", metric, previous=PREVIOUS,
                                   year_ago=None if one_year else YEAR_AGO))
        return rp.kpi_strip(k[:6], self.currency,
                            previous_label="vs prior 12 months" if one_year else "vs prev. period",
                            year_label=None if one_year else "vs year earlier")

    @rp.needs("has_contacts", mode="quiet")
    def funnel_chart(self, ax=None):
        return kp.funnel_chart(self.f.funnel_counts(), ax=ax,
                               title=f"Cohort view: contacts created {self.window.label()}, stage reached by as_of")

    @rp.needs("has_contacts", "The funnel", "a contacts file", mode="sentence")
    def funnel_sentence(self) -> str:
        conv = self.f.conversion.dropna(subset=["rate"])
        counts = self.f.funnel_counts()
        total, last = counts.iloc[0], counts.iloc[-1]
        text = (f"Of {fmt_count(total)} contacts created in the window, {fmt_count(last)} "
                f"({fmt_pct(safe_div(last, total))}) reached {stage_label(self.chain[-1])} by "
                f"{self.as_of:%d %b %Y}")
        if len(conv):
            weakest = conv.loc[conv["rate"].idxmin()]
            text += (f"; the weakest step is {stage_label(weakest['from'])} → {stage_label(weakest['to'])} "
                     f"at {fmt_pct(weakest['rate'])}")
        return text + "."

    @rp.needs("has_contacts", mode="quiet")
    def conversion_table(self):
        t = self.f.conversion.merge(self.f.velocity, on=["from", "to"])
        t["step"] = [f"{stage_label(a)} → {stage_label(b)}" for a, b in zip(t["from"], t["to"])]
        t = t[["step", "reached_from", "reached_to", "rate", "median_days", "out_of_order"]]
        t.columns = ["step", "reached first", "reached next", "conversion", "median days", "out of order"]
        return rp.table(t, {"reached first": "count", "reached next": "count", "conversion": "percent",
                            "median days": lambda v: "n/a" if is_missing(v) else f"{v:.0f}",
                            "out of order": "count"})

    @rp.needs("has_contacts", "Stage conversion and velocity", "a contacts file", mode="sentence")
    def velocity_sentence(self) -> str:
        v = self.f.velocity.dropna(subset=["median_days"])
        if v.empty:
            return "No contact has dates for two consecutive stages, so velocity is undefined."
        slow = v.loc[v["median_days"].idxmax()]
        ooo = int(self.f.velocity["out_of_order"].sum())
        return (f"The slowest step is {stage_label(slow['from'])} → {stage_label(slow['to'])} at a median "
                f"{fmt_days(slow['median_days'])}; {fmt_count(ooo)} pairs dated out of order were left out.")

    @rp.needs("has_contacts", mode="quiet")
    def cohort_heatmap(self, ax=None):
        m = self.f.cohort_matrix()
        immature = ~self.f.cohorts.set_index("cohort")["mature"].reindex(pd.PeriodIndex(m.index, freq="M")).to_numpy()
        ax = kp.heatmap(m, title="Cohort conversion: share of each month's contacts reaching a stage",
                        xlabel="Stage reached by as_of", ylabel="Creation month (cohort)", mask_rows=immature,
                        cbar_label="share of cohort", ax=ax)
        return ax

    @rp.needs("has_contacts", "The cohort funnel", "a contacts file", mode="sentence")
    def cohort_sentence(self) -> str:
        imm = self.f.cohorts[~self.f.cohorts["mature"] & (self.f.cohorts["created"] > 0)]
        cyc = self.f.sales_cycle_for_maturity
        if imm.empty:
            return "Every cohort is older than the typical sales cycle."
        return (f"Cohorts from {imm['cohort'].iloc[0]:%b %Y} on (greyed) are younger than the typical "
                f"sales cycle of {fmt_days(cyc)} from creation to customer, so they are still converting.")

    @rp.needs("has_contacts", mode="quiet")
    def volumes_chart(self):
        stages = [s for s in ("lead", "mql", "sql", "customer") if s in self.chain][:4]
        rows, cols = (1 if len(stages) <= 2 else 2), (1 if len(stages) == 1 else 2)
        fig, axes = plt.subplots(rows, cols, figsize=(kp.WIDTH, 6.0 if rows == 2 else 3.4), sharex=True, squeeze=False)
        v = self.f.volumes
        v = v[v["month"] >= self.year_ago.first]
        for i, (ax, stage) in enumerate(zip(axes.flat, stages)):
            s = v[v["stage"] == stage]
            kp.series_with_target(s["month"], s["actual"], s["target"], title=f"{stage_label(stage)}s per month"
                                  if stage != "customer" else "New customers per month",
                                  ylabel="Contacts", colour=kp.STAGE_COLOURS[min(i, 3) + 1 if i else 1], ax=ax)
            kp.month_axis(ax)
            ax.tick_params(axis="x", labelrotation=30)
        for ax in list(axes.flat)[len(stages):]:
            ax.set_visible(False)
        for top, below in zip(axes[0], axes[-1]) if rows == 2 else ():
            if below.get_visible():  # the shared month axis is labelled once, under the bottom row
                top.set_xlabel("")
            else:  # nothing below: this panel shows its own month labels
                top.xaxis.set_tick_params(labelbottom=True)
        fig.suptitle("Monthly volumes against target (dashed)", x=0.01, ha="left", fontweight="bold")
        fig.tight_layout()
        return axes

    @rp.needs("has_contacts", "Monthly stage volumes", "a contacts file", mode="sentence")
    def volumes_sentence(self) -> str:
        t = self.f.target_attainment()
        if t.empty:
            return "The targets file has no monthly targets for funnel volumes, so none are shown."
        parts = [f"{r.metric} {fmt_pct(r.attainment, 0)} of target ({r.months})" for r in t.itertuples()]
        return "Against monthly targets: " + "; ".join(parts) + "."

    @rp.needs("has_contacts", mode="quiet")
    def quarterly_table(self):
        q = self.f.quarterly.copy()
        q["step"] = [f"{stage_label(a)} → {stage_label(b)}" for a, b in zip(q["from"], q["to"])]
        rate = q.pivot(index="step", columns="quarter", values="rate").reindex(q["step"].unique())
        change = q.pivot(index="step", columns="quarter", values="change_pp").reindex(rate.index)
        maturing = q.groupby("quarter")["maturing"].any()
        settled = [c for c in rate.columns if not maturing[c]]
        last = settled[-1] if settled else rate.columns[-1]
        label = {c: f"{c} *" if maturing[c] else c for c in rate.columns}
        out = rate.rename(columns=label)
        out[f"QoQ {last}"] = change[last]
        out = out.reset_index()
        fmt = {c: "percent" for c in label.values()} | {f"QoQ {last}": "pp"}
        return rp.table(out, fmt)

    @rp.needs("has_contacts", "Stage conversion by quarter", "a contacts file", mode="sentence")
    def quarterly_sentence(self) -> str:
        q = self.f.quarterly
        maturing = q.groupby("quarter")["maturing"].transform("any")
        settled = q[~maturing].dropna(subset=["change_pp"])
        if settled.empty:
            return "Not enough settled quarters to compare stage conversion quarter over quarter."
        last_q = settled["quarter"].max()
        latest = settled[settled["quarter"] == last_q]
        big = latest.loc[latest["change_pp"].abs().idxmax()]
        direction = "rose" if big["change_pp"] > 0 else "fell"
        return (f"In {last_q}, the last quarter whose contacts have had time to convert, "
                f"{stage_label(big['from'])} → {stage_label(big['to'])} conversion {direction} "
                f"{fmt_pp(abs(big['change_pp'])).lstrip('+')} to {fmt_pct(big['rate'])}; later quarters are "
                f"still maturing.")

    @rp.needs("has_deals", mode="quiet")
    def deals_table(self):
        d = self.f.deals_by_quarter
        periods = list(d["period"])
        key = lambda metric: lambda i: f"{metric}|{periods[i]}||"  # noqa: E731
        d = d.drop(columns="period").rename(columns={
            "won": "won deals", "lost": "lost deals", "win_rate": "win rate", "avg_deal_size": "avg deal size",
            "sales_cycle_days": "sales cycle"})
        return rp.table(d, {"won deals": "count", "lost deals": "count", "win rate": "percent", "bookings": "money",
                            "avg deal size": "money", "sales cycle": "days"}, currency=self.currency,
                        kpis={"win rate": key("win_rate"), "bookings": key("bookings"),
                              "avg deal size": key("avg_deal_size"), "sales cycle": key("avg_sales_cycle_days")})

    @rp.needs("has_deals", mode="quiet")
    def deals_chart(self, ax=None):
        d = self.f.deals_by_quarter
        fig, ax1 = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
        labels = d["quarter"].str.replace(" (", "\n(", regex=False)
        ax1.bar(labels, d["bookings"], color="#93c5fd", label="Bookings (left)")
        kp.money_axis(ax1, self.currency)
        ax1.set_ylabel(f"Bookings ({self.currency})")
        ax1.set_xlabel("Quarter closed")
        ax2 = ax1.twinx()
        ax2.plot(labels, d["win_rate"], color=kp.INK, marker="o", lw=2, label="Win rate (right)")
        kp.percent_axis(ax2)
        ax2.set_ylim(0, max(0.5, float(np.nanmax(d["win_rate"])) * 1.2) if d["win_rate"].notna().any() else 1)
        ax2.set_ylabel("Win rate")
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        ax1.set_title("Bookings and win rate by quarter closed")
        h1, l1 = ax1.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax1.legend(h1 + h2, l1 + l2, loc="upper left")
        return ax1

    @rp.needs("has_deals", "Deal outcomes and pipeline", "a deals file", mode="sentence")
    def deals_sentence(self) -> str:
        cur, prev = self.f.deal_outcomes(self.window), self.f.deal_outcomes(self.previous)
        p = self.f.pipeline
        text = (f"Over the window {fmt_count(cur['won'])} deals were won and {fmt_count(cur['lost'])} lost (deal counts): "
                f"win rate {fmt_pct(cur['win_rate'])} (prior period {fmt_pct(prev['win_rate'])}), average deal "
                f"{fmt_money(cur['avg_deal_size'], self.currency)}, sales cycle "
                f"{fmt_days(self.f.sales_cycle(self.window))}. ")
        if not p["open_deals"]:
            return text + "No deal is open."
        text += f"Open pipeline: {fmt_count(p['open_deals'])} deals worth {fmt_money(p['pipeline'], self.currency)}"
        if is_missing(p["weighted_pipeline"]):
            text += ", none with a probability, so the weighted pipeline is not known"
        else:
            text += f", weighing {fmt_money(p['weighted_pipeline'], self.currency)} by probability"
            if p["without_probability"]:
                text += f" ({fmt_count(p['without_probability'])} open deals without a probability left out)"
        return text + "."

    @rp.needs("has_contacts", mode="quiet")
    def lead_to_close_table(self):
        t = self.f.lead_to_close.rename(columns={"customers": "new customers"})
        periods = ["window", YEAR_AGO]
        return rp.table(t, {"leads": "count", "new customers": "count", "rate": "percent"},
                        kpis={"rate": lambda i: f"lead_to_close_cvr|{periods[i]}||"})

    @rp.needs("has_contacts", "Lead-to-close conversion", "a contacts file", mode="sentence")
    def lead_to_close_sentence(self) -> str:
        ltc = self.f.lead_to_close.set_index("period")
        cur, old = ltc.loc["current", "rate"], ltc.loc["year earlier", "rate"]
        if is_missing(cur) or is_missing(old):
            return f"Lead-to-close CVR is {fmt_pct(cur)} (a year earlier: {fmt_pct(old)})."
        return (f"Lead-to-close CVR is {fmt_pct(cur, 2)}, {fmt_pp((cur - old) * 100)} against "
                f"{fmt_pct(old, 2)} a year earlier.")
