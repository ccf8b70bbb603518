"""The unit-economics notebook's analysis: MRR bridge, churn, ARPU, LTV, CAC, payback, cost to serve.

MRR logic lives in :mod:`kpi_kit.mrr` (shared with the cohort notebook); this module
only selects periods, joins costs and draws.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import plotting as kp
from .. import report as rp
from .._math import safe_div
from ..data import ClientData
from ..formatting import fmt_money, fmt_pct, is_missing
from ..metrics import compute

MOVEMENT_COLOURS = {"new": "#2563eb", "expansion": "#059669", "reactivation": "#0891b2",
                    "contraction": "#f59e0b", "churn": "#b91c1c"}
BRIDGE_KEYS = ["month", "starting_mrr", "new", "expansion", "contraction", "churn", "reactivation", "ending_mrr",
               "customers", "churned_customers", "logo_churn_rate", "arpu", "gross_revenue_churn",
               "net_revenue_churn", "grr", "nrr", "quick_ratio"]


class UnitEconomicsReport:
    """The unit-economics notebook: sentences, tables and charts over the run's economics metrics
    (:class:`~kpi_kit.metrics.economics.EconomicsMetrics`); it computes no number of its own.

    Examples
    --------
    >>> r = UnitEconomicsReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.e.scalars()["ltv_to_cac"]  # doctest: +SKIP
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.m = compute(data)
        self.e = e = self.m.economics
        self.book = self.m.book
        self.params = p = data.params
        self.as_of, self.window, self.last = self.m.ctx.as_of, self.m.ctx.window, self.m.ctx.last
        self.currency = p.currency
        self.has_mrr = e.has_mrr
        self.bridge, self.acquisition, self.cost_to_serve, self.magic = e.bridge, e.acquisition, e.cost_to_serve, e.magic

    def scalars(self) -> dict:
        return self.e.scalars()

    def _in_window(self, df: pd.DataFrame, col: str = "month") -> pd.DataFrame:
        return df[(df[col] >= self.window.first) & (df[col] <= self.window.last)]

    # -- report blocks ---------------------------------------------------------------------
    def header(self):
        return rp.header("Unit economics report", self.data, self.window)

    @rp.needs("has_mrr", "Unit economics", "a subscriptions or mrr file")
    def kpis(self):
        last, prev, year = str(self.last), str(self.last - 1), str(self.last - 12)
        n = self.params.churn_window_months
        month = f"{self.last:%b %Y}"
        k = [rp.KPI.of(self.book, f"MRR ({month})", "mrr", last, previous=prev, year_ago=year),
             rp.KPI.of(self.book, f"Paying customers ({month})", "paying_customers", last, previous=prev, year_ago=year),
             rp.KPI.of(self.book, f"ARPU ({month})", "arpu", last, previous=prev, year_ago=year),
             rp.KPI.of(self.book, f"Logo churn (trailing {n} months, avg)", "logo_churn_rate", f"trailing {n} months"),
             rp.KPI.of(self.book, "LTV:CAC (window)", "ltv_to_cac"),
             rp.KPI.of(self.book, "CAC payback (window)", "cac_payback_months")]
        if self.acquisition is None:  # no costs or spend: CAC cannot exist, so neither can these cards
            k = k[:4] + [rp.KPI.of(self.book, f"LTV (trailing {n} months)", "ltv", f"trailing {n} months")]
        return rp.kpi_strip(k, self.currency, previous_label="vs prev. month", year_label="vs year earlier")

    @rp.needs("has_mrr", mode="quiet")  # the chart above says why
    def bridge_table(self, months: int = 13):
        b = self.bridge[self.bridge["month"] <= self.last].tail(months)
        cols = ["month", "starting_mrr", "new", "expansion", "reactivation", "contraction", "churn", "ending_mrr",
                "customers", "churned_customers", "logo_churn_rate", "arpu", "grr", "nrr", "quick_ratio"]
        t = b[cols].rename(columns=lambda c: c.replace("_", " "))
        money = {c: "money" for c in ("starting mrr", "new", "expansion", "reactivation", "contraction", "churn",
                                      "ending mrr", "arpu")}
        return rp.table(t, money | {"customers": "count", "churned customers": "count", "logo churn rate": "percent",
                                    "grr": "percent", "nrr": "percent", "quick ratio": "ratio",
                                    "month": lambda m: m.strftime("%Y-%m")}, currency=self.currency)

    @rp.needs("has_mrr", "The MRR bridge", "a subscriptions or mrr file")
    def waterfall_chart(self, months: int = 24):
        b = self.bridge[self.bridge["month"] <= self.last].tail(months)
        x = b["month"].dt.to_timestamp()
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.4))
        width = 20
        bottom = np.zeros(len(b))
        for col in ("new", "expansion", "reactivation"):
            ax.bar(x, b[col], width, bottom=bottom, color=MOVEMENT_COLOURS[col], label=col.capitalize())
            bottom += b[col].to_numpy()
        bottom = np.zeros(len(b))
        for col in ("contraction", "churn"):
            ax.bar(x, -b[col], width, bottom=bottom, color=MOVEMENT_COLOURS[col], label=col.capitalize())
            bottom -= b[col].to_numpy()
        net = b["ending_mrr"] - b["starting_mrr"]
        ax.plot(x, net, color=kp.INK, marker="o", ms=3, lw=1.5, label="Net new MRR")
        ax.axhline(0, color=kp.MUTED, lw=0.8)
        kp.money_axis(ax, self.currency)
        kp.month_axis(ax)
        ax.set_title("MRR movements per month")
        ax.set_ylabel(f"MRR change ({self.currency})")
        ax.set_xlabel("Month")
        ax.legend(ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)  # never over the bars
        return ax

    @rp.needs("has_mrr", "MRR over time", "a subscriptions or mrr file")
    def mrr_chart(self):
        b = self.bridge[self.bridge["month"] <= self.last]
        x = b["month"].dt.to_timestamp()
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.8))
        ax.fill_between(x, b["ending_mrr"], color="#bfdbfe")
        ax.plot(x, b["ending_mrr"], color=kp.ACCENT, lw=2, label="MRR (left)")
        kp.money_axis(ax, self.currency)
        ax.set_ylabel(f"MRR ({self.currency})")
        ax.set_ylim(bottom=0)
        ax2 = ax.twinx()
        ax2.plot(x, b["customers"], color=kp.INK, lw=1.5, ls="--", label="Paying customers (right)")
        kp.count_axis(ax2)
        ax2.set_ylabel("Paying customers")
        ax2.set_ylim(bottom=0)
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        kp.month_axis(ax)
        ax.set_title("MRR and paying customers at month end")
        ax.set_xlabel("Month")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper left")
        return ax

    @rp.needs("has_mrr", "Churn", "a subscriptions or mrr file")
    def churn_chart(self):
        b = self.bridge[self.bridge["month"] <= self.last].tail(24)
        x = b["month"].dt.to_timestamp()
        n = self.params.churn_window_months
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6))
        series = (("logo_churn_rate", "Logo churn", kp.BAD), ("gross_revenue_churn", "Gross revenue churn", "#f59e0b"),
                  ("net_revenue_churn", "Net revenue churn", kp.ACCENT))
        for col, label, colour in series:
            ax.plot(x, b[col], color=colour, lw=1, alpha=0.45, marker="o", ms=2)
            ax.plot(x, b[col].rolling(n, min_periods=1).mean(), color=colour, lw=2.2, label=f"{label} ({n}-mo avg)")
        ax.axhline(0, color=kp.MUTED, lw=0.8)
        kp.percent_axis(ax, decimals=1)
        kp.month_axis(ax)
        ax.set_title("Monthly churn rates with their trailing average")
        ax.set_ylabel("Share of starting base")
        ax.set_xlabel("Month")
        ax.legend(loc="upper left")
        return ax

    def reading(self) -> str:
        """Where MRR growth came from over the window, and what drove churn."""
        b = self._in_window(self.bridge)
        if b.empty:
            return "No MRR in the window."
        start, end = b["starting_mrr"].iloc[0], b["ending_mrr"].iloc[-1]
        gains = b[["new", "expansion", "reactivation"]].sum()
        losses = b[["contraction", "churn"]].sum()
        text = (f"MRR went from {fmt_money(start, self.currency)} to {fmt_money(end, self.currency)} over the window "
                f"({fmt_pct(safe_div(end, start) - 1, signed=True)}): new business added "
                f"{fmt_money(gains['new'], self.currency)}, expansion {fmt_money(gains['expansion'], self.currency)} and "
                f"returning customers {fmt_money(gains['reactivation'], self.currency)}, against "
                f"{fmt_money(losses['churn'], self.currency)} churned and {fmt_money(losses['contraction'], self.currency)} "
                f"contracted.")
        drivers = self.churn_drivers()
        if drivers is not None and len(drivers):
            top = drivers.iloc[0]
            text += (f" {top.name} customers account for {fmt_pct(top['share_of_churned_mrr'], 0)} of churned MRR "
                     f"while holding {fmt_pct(top['share_of_mrr'], 0)} of MRR.")
        return text

    @rp.needs("has_mrr", "The reading", "a subscriptions or mrr file")
    def reading_note(self):
        return rp.note(self.reading())

    def churn_drivers(self, by: str = "segment") -> pd.DataFrame | None:
        return self.e.churn_drivers(by)

    @rp.needs("has_mrr", "CAC by quarter", "a subscriptions or mrr file")
    def cac_table(self):
        """CAC by quarter: fully loaded and paid only, new customers, LTV:CAC and payback."""
        q = self.e.cac_quarterly
        if q is None:
            return rp.missing("CAC by quarter", "costs or spend")
        periods = list(q["period"])
        key = lambda metric: lambda i: f"{metric}|{periods[i]}||"  # noqa: E731
        t = q.assign(quarter=q["quarter"].astype(str) + np.where(q["partial"], " (to date)", "")).rename(columns={
            "total": "acquisition cost", "new_customers": "new customers", "cac": "CAC (fully loaded)",
            "paid_cac": "CAC (paid only)", "ltv_to_cac": "LTV:CAC", "payback_months": "payback",
            "magic_number": "magic number"})
        cols = ["quarter", "acquisition cost", "new customers", "CAC (fully loaded)", "CAC (paid only)", "LTV:CAC",
                "payback", "magic number"]
        return rp.table(t[[c for c in cols if c in t]],
                        {"acquisition cost": "money", "new customers": "count", "CAC (fully loaded)": "money",
                         "CAC (paid only)": "money", "LTV:CAC": "ratio", "payback": "months",
                         "magic number": lambda v: "n/a" if is_missing(v) else f"{v:.2f}"}, currency=self.currency,
                        kpis={"CAC (fully loaded)": key("cac"), "CAC (paid only)": key("cac_paid"),
                              "LTV:CAC": key("ltv_to_cac"), "payback": key("cac_payback_months")})

    @rp.needs("has_mrr", "CAC by month", "a subscriptions or mrr file")
    def cac_chart(self, months: int = 24):
        """Monthly CAC, fully loaded and paid only, with its trailing three-month figure."""
        if self.e.cac_monthly is None:
            return rp.show_missing("CAC by month", "costs or spend")
        m = self.e.cac_monthly.tail(months)
        x = m["month"].dt.to_timestamp()
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6))
        for col, paid_col, label, colour in (("total", "cac", "Fully loaded", kp.ACCENT),
                                             ("spend", "paid_cac", "Paid only", "#f59e0b")):
            ax.plot(x, m[paid_col], color=colour, lw=1, alpha=0.45, marker="o", ms=2)
            trailing = safe_div(m[col].rolling(3, min_periods=1).sum(), m["new_customers"].rolling(3, min_periods=1).sum())
            ax.plot(x, trailing, color=colour, lw=2.2, label=f"{label} (trailing 3 months)")
        kp.money_axis(ax, self.currency)
        kp.month_axis(ax)
        ax.set_ylim(bottom=0)
        ax.set_title("CAC by month: acquisition cost per new customer")
        ax.set_ylabel(f"CAC ({self.currency})")
        ax.set_xlabel("Month")
        ax.legend(loc="upper left")
        return ax

    def ltv_cac_chart(self, by: str = "channel"):
        r = self.e.by_group.get(by)
        if r is None or r.empty or not (r["new_in_window"] > 0).any():
            return rp.show_missing(f"LTV:CAC by {by}", f"customers with a `{by}` and subscriptions")
        r = r[r["new_in_window"] > 0]
        fig, axes = plt.subplots(1, 2, figsize=(kp.WIDTH, 3.8), sharey=True)
        colours = [kp.channel_colour(c) for c in r.index] if by == "channel" else kp.STAGE_COLOURS[1:len(r) + 1]
        axes[0].barh(r.index, r["ltv_to_cac"].fillna(0), color=colours)
        axes[0].axvline(3, color=kp.INK, ls="--", lw=1.2, label="3:1 guide")
        if r["ltv_to_cac"].max() > 30:  # one cheap channel would flatten the rest on a linear axis
            axes[0].set_xscale("log")
            axes[0].xaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
        axes[0].set_title("LTV:CAC")
        axes[0].set_xlabel("LTV ÷ CAC (log scale)" if axes[0].get_xscale() == "log" else "LTV ÷ CAC")
        axes[0].legend(loc="lower right")
        axes[1].barh(r.index, r["payback_months"].fillna(0), color=colours)
        axes[1].axvline(12, color=kp.INK, ls="--", lw=1.2, label="12-month guide")
        axes[1].set_title("CAC payback")
        axes[1].set_xlabel("Months")
        axes[1].legend(loc="lower right")
        axes[0].set_ylabel(by.capitalize())
        fig.suptitle(f"LTV:CAC and payback by {by} ({'paid spend' if by == 'channel' else 'blended'} CAC)",
                     x=0.01, ha="left", fontweight="bold")
        fig.tight_layout()
        return axes

    def group_table(self, by: str = "channel"):
        r = self.e.by_group.get(by)
        if r is None:
            return rp.missing(f"Unit economics by {by}", f"a customers file with a `{by}` column")
        cols = [c for c in ("customers", "new_in_window", "arpu", "churn_rate", "ltv", "cac", "ltv_to_cac",
                            "payback_months") if c in r]
        t = r[cols].reset_index().rename(columns=lambda c: c.replace("_", " "))
        t = t.rename(columns={"customers": "customers ever", "new in window": "new customers (window)",
                              "cac": "paid CAC" if by == "channel" else "CAC (blended)"})
        names = list(t[by])
        key = lambda metric, d=by: lambda i: f"{metric}|window|{d}|{names[i]}"  # noqa: E731
        keys = {"ltv to cac": key("ltv_to_cac"), "payback months": key("cac_payback_months")}
        if by == "channel":  # the channel page's own numbers
            keys |= {"paid CAC": key("cac_paid"), "new customers (window)": key("new_customers")}
        else:
            keys |= {"CAC (blended)": lambda i: "cac|window||"}
        return rp.table(t, {"customers ever": "count", "new customers (window)": "count", "arpu": "money",
                            "churn rate": "percent", "ltv": "money", "paid CAC": "money", "CAC (blended)": "money",
                            "ltv to cac": "ratio", "payback months": "months"}, currency=self.currency, kpis=keys)

    @rp.needs("has_mrr", "Cost to serve", "a subscriptions or mrr file")
    def cost_to_serve_chart(self):
        c = self.cost_to_serve
        if c is None:
            return rp.show_missing("Cost to serve", "costs with a service category")
        c = c[c["month"] <= self.last].tail(24)
        arpu = self.bridge.set_index("month")["arpu"].reindex(c["month"])
        x = c["month"].dt.to_timestamp()
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6))
        ax.plot(x, c["cost_to_serve"], color=kp.BAD, lw=2, marker="o", ms=3, label="Cost to serve per customer")
        ax.plot(x, arpu.to_numpy() * self.params.gross_margin, color=kp.ACCENT, lw=2, label="ARPU × gross margin")
        kp.money_axis(ax, self.currency)
        kp.month_axis(ax)
        ax.set_ylim(bottom=0)
        ax.set_title("Cost to serve per paying customer, per month")
        ax.set_ylabel(f"Per customer per month ({self.currency})")
        ax.set_xlabel("Month")
        ax.legend(loc="upper left")
        return ax

    @rp.needs("has_mrr", "Profitability", "a subscriptions or mrr file")
    def profitability_table(self):
        s = self.scalars()
        last_cts = self.e.last_cost_to_serve
        contribution = s["arpu"] * self.params.gross_margin - last_cts if not is_missing(last_cts) else np.nan
        magic, quarter = self.e.last_magic()
        n = self.params.churn_window_months
        rows = [("Gross margin (parameter)", fmt_pct(self.params.gross_margin, 0), ""),
                (f"ARPU ({self.last:%b %Y})", fmt_money(s["arpu"], self.currency), f"arpu|{self.last}||"),
                (f"Cost to serve per customer ({self.last:%b %Y})", fmt_money(last_cts, self.currency),
                 f"cost_to_serve|{self.last}||"),
                ("Contribution per customer per month (ARPU × margin − cost to serve)",
                 fmt_money(contribution, self.currency), ""),
                (f"LTV (churn over trailing {n} months)", fmt_money(s["ltv"], self.currency) if not is_missing(s["ltv"])
                 else "n/a (no churn observed: LTV undefined)", f"ltv|trailing {n} months||"),
                ("CAC (fully loaded, window)", fmt_money(s["cac"], self.currency), "cac|window||"),
                ("Marketing ROI (window, won revenue vs spend)", fmt_pct(self.book.value("roi"), 0, signed=True),
                 "roi|window||"),
                (f"Magic number ({quarter or 'last full quarter'})", "n/a" if is_missing(magic) else f"{magic:.2f}", "")]
        keys = [r[2] for r in rows]
        return rp.table(pd.DataFrame([r[:2] for r in rows], columns=["measure", "value"]),
                        kpis={"value": lambda i: keys[i]})

    @rp.needs("has_mrr", "Key figures", "a subscriptions or mrr file")
    def scalars_table(self):
        n = self.params.churn_window_months
        span = f"trailing {n} months"
        rows = [(f"MRR ({self.last:%b %Y})", "mrr", str(self.last)), (f"ARPU ({self.last:%b %Y})", "arpu", str(self.last)),
                (f"Logo churn rate (monthly, {span} avg)", "logo_churn_rate", span),
                (f"NRR (monthly, {span} avg)", "nrr", span), (f"GRR (monthly, {span} avg)", "grr", span),
                ("NRR (trailing 12 months)", "nrr", "trailing 12 months"),
                ("GRR (trailing 12 months)", "grr", "trailing 12 months"),
                (f"Quick ratio ({span} avg)", "quick_ratio", span), (f"LTV (churn over {span})", "ltv", span),
                ("CAC (fully loaded, window)", "cac", "window"), ("CAC (paid only, window)", "cac_paid", "window"),
                ("LTV:CAC (window)", "ltv_to_cac", "window"), ("CAC payback (window)", "cac_payback_months", "window")]
        from ..formatting import fmt_value

        kpis = [self.book.get(metric, period) for _, metric, period in rows]
        t = pd.DataFrame([(label, fmt_value(k.value, k.unit, self.currency)) for (label, _, _), k in zip(rows, kpis)],
                         columns=["metric", "value"])
        return rp.table(t, kpis={"value": lambda i: kpis[i].key})
