"""The funnel notebook's analysis: every number, table, chart and sentence, computed once.

The notebook only calls these methods, so its logic is tested here and not in cells.
"""

from __future__ import annotations

from functools import cached_property

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import funnel as fn
from . import plotting as kp
from . import report as rp
from ._dates import last_full_month, reporting_window, to_day
from ._math import safe_div
from .data import ClientData
from .formatting import fmt_count, fmt_days, fmt_money, fmt_pct, fmt_pp, is_missing


def stage_label(stage: str) -> str:
    return stage.upper() if len(stage) <= 3 else stage.capitalize()


class FunnelReport:
    """Funnel metrics of one client over its reporting window (SPEC "Definitions").

    Examples
    --------
    >>> from kpi_kit import load_client, load_params
    >>> report = FunnelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> report.scalars()["win_rate"]  # doctest: +SKIP
    0.27
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.params = p = data.params
        self.as_of = to_day(p.as_of)
        self.stages = list(p.stages)
        self.chain = ["created", *self.stages]
        self.window = reporting_window(p.as_of, p.window_months)
        self.previous = self.window.shift(-p.window_months)
        self.year_ago = self.window.shift(-12)
        self.contacts = data["contacts"]
        self.deals = data.get("deals")
        self.currency = p.currency
        self.has_contacts = data.has("contacts")
        self.has_deals = data.has("deals")

    # -- numbers ---------------------------------------------------------------------------
    @cached_property
    def sales_cycle_for_maturity(self) -> float:
        if self.params.sales_cycle_days is not None:
            return float(self.params.sales_cycle_days)
        return fn.typical_sales_cycle_days(self.contacts)

    @cached_property
    def cohorts(self) -> pd.DataFrame:
        return fn.cohort_funnel(self.contacts, self.stages, self.as_of,
                                maturity_days=self.sales_cycle_for_maturity)

    @cached_property
    def period(self) -> pd.DataFrame:
        first = self.contacts["created_at"].min()
        first = first.to_period("M") if not pd.isna(first) else self.window.first
        months = pd.period_range(min(first, self.year_ago.first), last_full_month(self.as_of), freq="M")
        return fn.period_funnel(self.contacts, self.stages, months)

    @cached_property
    def conversion(self) -> pd.DataFrame:
        return fn.stage_conversion(self.contacts, self.stages, self.window)

    @cached_property
    def velocity(self) -> pd.DataFrame:
        return fn.stage_velocity(self.contacts, self.stages, self.window)

    @cached_property
    def quarterly(self) -> pd.DataFrame:
        return fn.conversion_by_quarter(self.contacts, self.stages, self.as_of)

    @cached_property
    def lead_to_close(self) -> pd.DataFrame:
        return fn.lead_to_close(self.contacts, self.stages, self.window)

    @cached_property
    def volumes(self) -> pd.DataFrame:
        return fn.volumes_with_targets(self.period, self.data.get("targets"))

    def window_volume(self, stage: str, window=None) -> int:
        """Contacts entering ``stage`` during ``window`` (the reporting window by default)."""
        w = window or self.window
        p = self.period
        return int(p.loc[p["month"].between(w.first, w.last), stage].sum())

    def deal_outcomes(self, window) -> dict:
        if self.deals is None:
            return {"won": 0, "lost": 0, "won_amount": 0.0, "win_rate": np.nan, "avg_deal_size": np.nan}
        return fn.deal_outcomes(self.deals, window)

    def sales_cycle(self, window) -> float:
        if self.deals is None:
            return np.nan
        return fn.sales_cycle_days(self.deals, self.contacts, window)

    @cached_property
    def pipeline(self) -> dict:
        if self.deals is None:
            return {"open_deals": 0, "pipeline": 0.0, "weighted_pipeline": np.nan, "without_probability": 0}
        return fn.weighted_pipeline(self.deals)

    @cached_property
    def deals_by_quarter(self) -> pd.DataFrame:
        if self.deals is None:
            return pd.DataFrame()
        last_q = self.window.last.asfreq("Q")
        first_deal = self.deals["created_at"].min()
        first_q = max(last_q - 7, first_deal.to_period("Q")) if not pd.isna(first_deal) else last_q - 7
        rows = []
        for q in pd.period_range(min(first_q, last_q), last_q, freq="Q"):  # no quarters before the first deal
            first, last = q.asfreq("M", "start"), min(q.asfreq("M", "end"), self.window.last)
            w = type(self.window)(first, last)
            o = fn.deal_outcomes(self.deals, w)
            partial = q.asfreq("M", "end") > self.window.last
            rows.append({"quarter": f"{q} (to date)" if partial else str(q), "won": o["won"], "lost": o["lost"],
                         "win_rate": o["win_rate"],
                         "bookings": o["won_amount"], "avg_deal_size": o["avg_deal_size"],
                         "sales_cycle_days": fn.sales_cycle_days(self.deals, self.contacts, w)})
        return pd.DataFrame(rows)

    def scalars(self) -> dict:
        o = self.deal_outcomes(self.window)
        ltc = self.lead_to_close.set_index("period")["rate"] if self.has_contacts else \
            pd.Series(np.nan, index=["current", "year earlier"])
        return {"win_rate": o["win_rate"], "avg_deal_size": o["avg_deal_size"],
                "avg_sales_cycle_days": self.sales_cycle(self.window),
                "weighted_pipeline": self.pipeline["weighted_pipeline"],
                "lead_to_close_cvr": ltc["current"], "lead_to_close_cvr_year_ago": ltc["year earlier"]}

    def metrics(self) -> dict:
        """The funnel's tables for ``metrics.json`` (SPEC keys); empty without contacts."""
        if not self.has_contacts:
            return {"funnel_cohorts": [], "funnel_conversion": [], "stage_velocity": []}
        stages = self.chain
        return {
            "funnel_cohorts": rp.records(self.cohorts.assign(mature=self.cohorts["mature"]),
                                         {"cohort": "cohort", **{s: s for s in stages}, "mature": "mature"}),
            "funnel_conversion": rp.records(self.conversion, {"from": "from", "to": "to", "rate": "rate"}),
            "stage_velocity": rp.records(self.velocity, {"from": "from", "to": "to",
                                                         "median_days": "median_days"}),
        }

    # -- report blocks ---------------------------------------------------------------------
    def header(self):
        return rp.header("Funnel report", self.data, self.window)

    def kpis(self):
        k = []
        one_year = self.params.window_months == 12
        for stage, label in (("lead", "Leads"), ("mql", "MQLs"), ("customer", "New customers")):
            if stage not in self.chain or not self.has_contacts:
                continue
            # a window longer than a year overlaps the one a year earlier: no comparison
            kpi = rp.KPI(label, self.window_volume(stage), "count", self.window_volume(stage, self.previous),
                         self.window_volume(stage, self.year_ago) if self.params.window_months <= 12 else np.nan)
            k.append(kpi)
        if self.has_contacts:
            ltc = self.lead_to_close.set_index("period")["rate"]
            k.append(rp.KPI("Lead-to-close CVR", ltc["current"], "percent", ltc["year earlier"]
                            if one_year else np.nan, ltc["year earlier"]))
        if self.has_deals:
            cur, prev, yr = (self.deal_outcomes(w) for w in (self.window, self.previous, self.year_ago))
            k.append(rp.KPI("Win rate", cur["win_rate"], "percent", prev["win_rate"], yr["win_rate"]))
            k.append(rp.KPI("Avg deal size", cur["avg_deal_size"], "money", prev["avg_deal_size"],
                            yr["avg_deal_size"]))
            k.append(rp.KPI("Sales cycle", self.sales_cycle(self.window), "days", self.sales_cycle(self.previous),
                            self.sales_cycle(self.year_ago), higher_is_better=False))
        k = k[:6]
        return rp.kpi_strip(k, self.currency,
                            previous_label="vs prior 12 months" if one_year else "vs prev. period",
                            year_label=None if one_year else "vs year earlier")

    def target_attainment(self) -> pd.DataFrame:
        """Window volumes against the sum of their monthly targets, over months with a target."""
        v = self.volumes
        v = v[v["month"].between(self.window.first, self.window.last) & v["target"].notna()]
        if v.empty:
            return pd.DataFrame(columns=["metric", "months", "actual", "target", "attainment"])
        g = v.groupby("metric", sort=False).agg(first=("month", "min"), last=("month", "max"),
                                                actual=("actual", "sum"), target=("target", "sum"))
        g["months"] = [f"{a:%b %Y} – {b:%b %Y}" for a, b in zip(g["first"], g["last"])]
        g["attainment"] = safe_div(g["actual"], g["target"])
        return g.reset_index()[["metric", "months", "actual", "target", "attainment"]]

    def funnel_counts(self) -> pd.Series:
        """Contacts created in the window reaching each stage by ``as_of``."""
        c = self.contacts[self.window.contains(self.contacts["created_at"])]
        return fn.reached(c, self.stages).sum().rename(index=stage_label)

    @rp.needs("has_contacts", mode="quiet")
    def funnel_chart(self, ax=None):
        counts = self.funnel_counts()
        counts.index = ["Created" if s == "Created" else s for s in counts.index]
        return kp.funnel_chart(counts, title=f"Funnel of contacts created {self.window.label()}", ax=ax)

    @rp.needs("has_contacts", "The funnel", "a contacts file", mode="sentence")
    def funnel_sentence(self) -> str:
        conv = self.conversion.dropna(subset=["rate"])
        counts = self.funnel_counts()
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
        t = self.conversion.merge(self.velocity, on=["from", "to"])
        t["step"] = [f"{stage_label(a)} → {stage_label(b)}" for a, b in zip(t["from"], t["to"])]
        t = t[["step", "reached_from", "reached_to", "rate", "median_days", "out_of_order"]]
        t.columns = ["step", "reached first", "reached next", "conversion", "median days", "out of order"]
        return rp.table(t, {"reached first": "count", "reached next": "count", "conversion": "percent",
                            "median days": lambda v: "n/a" if is_missing(v) else f"{v:.0f}",
                            "out of order": "count"})

    @rp.needs("has_contacts", "Stage conversion and velocity", "a contacts file", mode="sentence")
    def velocity_sentence(self) -> str:
        v = self.velocity.dropna(subset=["median_days"])
        if v.empty:
            return "No contact has dates for two consecutive stages, so velocity is undefined."
        slow = v.loc[v["median_days"].idxmax()]
        ooo = int(self.velocity["out_of_order"].sum())
        return (f"The slowest step is {stage_label(slow['from'])} → {stage_label(slow['to'])} at a median "
                f"{fmt_days(slow['median_days'])}; {fmt_count(ooo)} pairs dated out of order were left out.")

    def cohort_matrix(self, months: int = 24) -> pd.DataFrame:
        c = self.cohorts.tail(months).set_index("cohort")
        created = np.flatnonzero(c["created"].to_numpy() > 0)
        if len(created):  # months before the first or after the last contact are not cohorts
            c = c.iloc[created[0]:created[-1] + 1]
        rates = pd.DataFrame({stage_label(s): safe_div(c[s], c["created"]) for s in self.stages})
        rates.index = [str(i) for i in c.index]
        return rates

    @rp.needs("has_contacts", mode="quiet")
    def cohort_heatmap(self, ax=None):
        m = self.cohort_matrix()
        immature = ~self.cohorts.set_index("cohort")["mature"].reindex(pd.PeriodIndex(m.index, freq="M")).to_numpy()
        ax = kp.heatmap(m, title="Cohort conversion: share of each month's contacts reaching a stage",
                        xlabel="Stage reached by as_of", ylabel="Creation month (cohort)", mask_rows=immature,
                        cbar_label="share of cohort", ax=ax)
        return ax

    @rp.needs("has_contacts", "The cohort funnel", "a contacts file", mode="sentence")
    def cohort_sentence(self) -> str:
        imm = self.cohorts[~self.cohorts["mature"] & (self.cohorts["created"] > 0)]
        cyc = self.sales_cycle_for_maturity
        if imm.empty:
            return "Every cohort is older than the typical sales cycle."
        return (f"Cohorts from {imm['cohort'].iloc[0]:%b %Y} on (greyed) are younger than the typical "
                f"sales cycle of {fmt_days(cyc)} from creation to customer, so they are still converting.")

    @rp.needs("has_contacts", mode="quiet")
    def volumes_chart(self):
        stages = [s for s in ("lead", "mql", "sql", "customer") if s in self.chain][:4]
        rows, cols = (1 if len(stages) <= 2 else 2), (1 if len(stages) == 1 else 2)
        fig, axes = plt.subplots(rows, cols, figsize=(kp.WIDTH, 6.0 if rows == 2 else 3.4), sharex=True, squeeze=False)
        v = self.volumes
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
        t = self.target_attainment()
        if t.empty:
            return "The targets file has no monthly targets for funnel volumes, so none are shown."
        parts = [f"{r.metric} {fmt_pct(r.attainment, 0)} of target ({r.months})" for r in t.itertuples()]
        return "Against monthly targets: " + "; ".join(parts) + "."

    @rp.needs("has_contacts", mode="quiet")
    def quarterly_table(self):
        q = self.quarterly.copy()
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
        q = self.quarterly
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
        d = self.deals_by_quarter.rename(columns={
            "win_rate": "win rate", "avg_deal_size": "avg deal size", "sales_cycle_days": "sales cycle"})
        return rp.table(d, {"won": "count", "lost": "count", "win rate": "percent", "bookings": "money",
                            "avg deal size": "money", "sales cycle": "days"}, currency=self.currency)

    @rp.needs("has_deals", mode="quiet")
    def deals_chart(self, ax=None):
        d = self.deals_by_quarter
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
        cur, prev = self.deal_outcomes(self.window), self.deal_outcomes(self.previous)
        p = self.pipeline
        text = (f"Over the window {fmt_count(cur['won'])} deals were won and {fmt_count(cur['lost'])} lost: "
                f"win rate {fmt_pct(cur['win_rate'])} (prior period {fmt_pct(prev['win_rate'])}), average deal "
                f"{fmt_money(cur['avg_deal_size'], self.currency)}, sales cycle "
                f"{fmt_days(self.sales_cycle(self.window))}. ")
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
        return rp.table(self.lead_to_close, {"leads": "count", "customers": "count", "rate": "percent"})

    @rp.needs("has_contacts", "Lead-to-close conversion", "a contacts file", mode="sentence")
    def lead_to_close_sentence(self) -> str:
        ltc = self.lead_to_close.set_index("period")
        cur, old = ltc.loc["current", "rate"], ltc.loc["year earlier", "rate"]
        if is_missing(cur) or is_missing(old):
            return f"Lead-to-close CVR is {fmt_pct(cur)} (a year earlier: {fmt_pct(old)})."
        return (f"Lead-to-close CVR is {fmt_pct(cur, 2)}, {fmt_pp((cur - old) * 100)} against "
                f"{fmt_pct(old, 2)} a year earlier.")
