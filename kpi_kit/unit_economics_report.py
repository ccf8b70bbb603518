"""The unit-economics notebook's analysis: MRR bridge, churn, ARPU, LTV, CAC, payback, cost to serve.

MRR logic lives in :mod:`kpi_kit.mrr` (shared with the cohort notebook); this module
only selects periods, joins costs and draws.
"""

from __future__ import annotations

from functools import cached_property

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import mrr as mr
from . import plotting as kp
from . import report as rp
from ._dates import last_full_month, reporting_window, to_day
from ._math import mean_defined, safe_div
from .data import ClientData
from .formatting import fmt_money, fmt_pct, is_missing

MOVEMENT_COLOURS = {"new": "#2563eb", "expansion": "#059669", "reactivation": "#0891b2",
                    "contraction": "#f59e0b", "churn": "#b91c1c"}
BRIDGE_KEYS = ["month", "starting_mrr", "new", "expansion", "contraction", "churn", "reactivation", "ending_mrr",
               "customers", "churned_customers", "logo_churn_rate", "arpu", "gross_revenue_churn",
               "net_revenue_churn", "grr", "nrr", "quick_ratio"]


class UnitEconomicsReport:
    """Unit economics of one client (SPEC "MRR" … "Magic number").

    Examples
    --------
    >>> r = UnitEconomicsReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.scalars()["ltv_to_cac"]  # doctest: +SKIP
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.params = p = data.params
        self.as_of = to_day(p.as_of)
        self.window = reporting_window(p.as_of, p.window_months)
        self.currency = p.currency
        self.last = last_full_month(p.as_of)

    # -- numbers ---------------------------------------------------------------------------
    @property
    def has_mrr(self) -> bool:
        return self.data.has("subscriptions") or self.data.has("mrr")

    @cached_property
    def cmrr(self) -> pd.DataFrame | None:
        return mr.client_customer_mrr(self.data)

    @cached_property
    def movements(self) -> pd.DataFrame:
        """Every customer-month's MRR movement, computed once for the bridge, churn drivers and CAC."""
        return mr.mrr_movements(self.cmrr)

    @cached_property
    def bridge(self) -> pd.DataFrame:
        return mr.mrr_bridge(self.cmrr, movements=self.movements)

    @cached_property
    def trailing(self) -> pd.DataFrame:
        return mr.trailing_retention(self.cmrr, months=12)

    @cached_property
    def acquisition(self) -> pd.DataFrame | None:
        costs, spend = self.data.get("costs"), self.data.get("spend")
        if costs is None and spend is None:
            return None
        return mr.acquisition_costs(costs, spend, self.params.cost_groups)

    @cached_property
    def service(self) -> pd.DataFrame | None:
        costs = self.data.get("costs")
        return None if costs is None else mr.service_costs(costs, self.params.cost_groups)

    def _in_window(self, df: pd.DataFrame, col: str = "month") -> pd.DataFrame:
        return df[(df[col] >= self.window.first) & (df[col] <= self.window.last)]

    @cached_property
    def new_customers_in_window(self) -> int:
        if self.has_mrr:
            return int(self._in_window(self.bridge)["new_customers"].sum())
        c = self.data["contacts"]
        return int(self.window.contains(c["customer_at"]).sum()) if "customer_at" in c else 0

    def cac(self, *, paid_only: bool = False) -> float:
        """(Acquisition costs + spend) in the window / new customers in the window (SPEC ``cac``)."""
        if self.acquisition is None:
            return np.nan
        acq = self._in_window(self.acquisition)
        total = acq["spend"].sum() if paid_only else acq["total"].sum()
        return safe_div(total, self.new_customers_in_window)

    @cached_property
    def cac_monthly(self) -> pd.DataFrame | None:
        return None if self.acquisition is None else mr.cac_by_month(self.acquisition, self.bridge)

    def scalars(self) -> dict:
        if not self.has_mrr:
            keys = ("mrr", "arpu", "customers", "logo_churn_rate", "ltv", "nrr", "grr", "quick_ratio",
                    "ltv_to_cac", "cac_payback_months")
            return {k: np.nan for k in keys} | {"cac": self.cac()}
        s = mr.unit_economics(self.bridge, self.as_of, churn_window_months=self.params.churn_window_months,
                              gross_margin=self.params.gross_margin, cac=self.cac())
        s["cac"] = self.cac()
        s["cac_paid_only"] = self.cac(paid_only=True)
        t = self.trailing
        last = t[t["month"] == self.last]
        s["nrr_t12m"] = float(last["nrr"].iloc[0]) if len(last) else np.nan
        s["grr_t12m"] = float(last["grr"].iloc[0]) if len(last) else np.nan
        return s

    @cached_property
    def magic(self) -> pd.DataFrame | None:
        return None if self.acquisition is None or not self.has_mrr else mr.magic_number(self.bridge, self.acquisition)

    @cached_property
    def cost_to_serve(self) -> pd.DataFrame | None:
        return None if self.service is None or not self.has_mrr else mr.cost_to_serve(self.service, self.bridge)

    def metrics(self) -> dict:
        if not self.has_mrr:  # the SPEC's keys stay present, empty
            return {"mrr_bridge": []}
        b = self.bridge[[k for k in BRIDGE_KEYS if k in self.bridge]]
        b = b[b["month"] <= self.last]
        out = {"mrr_bridge": rp.records(b)}
        if self.magic is not None:
            out["magic_number"] = rp.records(self.magic)
        if self.cost_to_serve is not None:
            out["cost_to_serve"] = rp.records(self.cost_to_serve)
        return out

    # -- report blocks ---------------------------------------------------------------------
    def header(self):
        return rp.header("Unit economics report", self.data, self.window)

    @rp.needs("has_mrr", "Unit economics", "a subscriptions or mrr file")
    def kpis(self):
        s = self.scalars()
        b = self.bridge.set_index("month")
        prev_month = self.last - 1
        year_month = self.last - 12
        get = lambda m, col: float(b.loc[m, col]) if m in b.index else np.nan  # noqa: E731
        k = [rp.KPI("MRR", s["mrr"], "money", get(prev_month, "ending_mrr"), get(year_month, "ending_mrr")),
             rp.KPI("Paying customers", s["customers"], "count", get(prev_month, "customers"),
                    get(year_month, "customers")),
             rp.KPI("ARPU", s["arpu"], "money", get(prev_month, "arpu"), get(year_month, "arpu")),
             rp.KPI(f"Logo churn ({self.params.churn_window_months}-mo avg)", s["logo_churn_rate"], "percent",
                    higher_is_better=False),
             rp.KPI("LTV:CAC", s["ltv_to_cac"], "ratio"),
             rp.KPI("CAC payback", s["cac_payback_months"], "months", higher_is_better=False)]
        if self.acquisition is None:  # no costs or spend: CAC cannot exist, so neither can these cards
            k = k[:4] + [rp.KPI("LTV", s["ltv"], "money")]
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
        """Churned MRR in the window by customer ``segment`` (or channel) against its share of MRR."""
        customers = self.data.get("customers")
        if customers is None or by not in customers:
            return None
        mv = self.movements
        mv = mv[(mv["month"] >= self.window.first) & (mv["month"] <= self.window.last)]
        group = customers.set_index("customer_id")[by]
        churned = mv[mv["movement"] == "churn"].groupby(mv["customer_id"].map(group).fillna("unknown"))["amount"] \
            .sum().abs()
        now = self.cmrr[self.cmrr["month"] == self.window.first - 1]
        base = now.groupby(now["customer_id"].map(group).fillna("unknown"))["mrr"].sum()
        out = pd.DataFrame({"churned_mrr": churned, "starting_mrr": base}).fillna(0)
        out["share_of_churned_mrr"] = safe_div(out["churned_mrr"], out["churned_mrr"].sum())
        out["share_of_mrr"] = safe_div(out["starting_mrr"], out["starting_mrr"].sum())
        out.index.name = by
        return out.sort_values("churned_mrr", ascending=False)

    @rp.needs("has_mrr", "CAC by quarter", "a subscriptions or mrr file")
    def cac_table(self):
        """CAC by quarter: fully loaded and paid only, new customers, LTV:CAC and payback."""
        if self.acquisition is None:
            return rp.missing("CAC by quarter", "costs or spend")
        acq = self.acquisition.copy()
        acq["quarter"] = acq["month"].dt.asfreq("Q")
        b = self.bridge.copy()
        b["quarter"] = b["month"].dt.asfreq("Q")
        q = acq.groupby("quarter")[["costs", "spend", "total"]].sum().join(
            b.groupby("quarter")["new_customers"].sum(), how="inner")
        q = q[q.index <= self.last.asfreq("Q")].tail(8)
        q["cac"] = safe_div(q["total"], q["new_customers"])
        q["paid_cac"] = safe_div(q["spend"], q["new_customers"])
        s = self.scalars()
        margin_arpu = s["arpu"] * self.params.gross_margin
        q["ltv_to_cac"] = safe_div(s["ltv"], q["cac"])
        q["payback_months"] = safe_div(q["cac"], margin_arpu)
        if self.magic is not None:
            q = q.join(self.magic.set_index("quarter")["magic_number"])
        t = q.reset_index().rename(columns={"total": "acquisition cost", "new_customers": "new customers",
                                            "cac": "CAC (fully loaded)", "paid_cac": "CAC (paid only)",
                                            "ltv_to_cac": "LTV:CAC", "payback_months": "payback",
                                            "magic_number": "magic number"})
        partial = t["quarter"].map(lambda q: q.asfreq("M", "end") > self.last)  # one row a quarter
        t["quarter"] = t["quarter"].astype(str) + np.where(partial, " (to date)", "")
        cols = ["quarter", "acquisition cost", "new customers", "CAC (fully loaded)", "CAC (paid only)", "LTV:CAC",
                "payback", "magic number"]
        return rp.table(t[[c for c in cols if c in t]],
                        {"acquisition cost": "money", "new customers": "count", "CAC (fully loaded)": "money",
                         "CAC (paid only)": "money", "LTV:CAC": "ratio", "payback": "months",
                         "magic number": lambda v: "n/a" if is_missing(v) else f"{v:.2f}"}, currency=self.currency)

    @rp.needs("has_mrr", "CAC by month", "a subscriptions or mrr file")
    def cac_chart(self, months: int = 24):
        """Monthly CAC, fully loaded and paid only, with its trailing three-month figure."""
        if self.cac_monthly is None:
            return rp.show_missing("CAC by month", "costs or spend")
        m = self.cac_monthly[self.cac_monthly["month"] <= self.last].tail(months)
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

    @cached_property
    def by_group(self) -> dict[str, pd.DataFrame]:
        """LTV, CAC, LTV:CAC and payback per acquisition channel and per segment (where customers carry them)."""
        from . import cohorts as co

        customers = self.data.get("customers")
        out = {}
        if customers is None or not self.has_mrr:
            return out
        window_new = self.movements
        window_new = window_new[(window_new["movement"] == "new") & (window_new["month"] >= self.window.first)
                                & (window_new["month"] <= self.window.last)]
        for by in ("channel", "segment"):
            if by not in customers:
                continue
            r = co.retention_by(self.cmrr, customers, by=by, gross_margin=self.params.gross_margin).set_index(by)
            new = window_new["customer_id"].map(customers.set_index("customer_id")[by]).fillna("unknown") \
                .value_counts()
            r["new_in_window"] = new.reindex(r.index).fillna(0)
            if by == "channel":
                spend = self.data.get("spend")
                paid = pd.Series(dtype=float)
                if spend is not None:
                    paid = spend[self.window.contains(spend["date"])].groupby("channel")["spend"].sum()
                r["cac"] = safe_div(paid.reindex(r.index).fillna(0), r["new_in_window"])
                r["cac_basis"] = "paid spend"
            else:  # no per-segment costs: blended fully loaded CAC
                r["cac"] = self.cac()
                r["cac_basis"] = "blended"
            r["ltv_to_cac"] = safe_div(r["ltv"], r["cac"])
            arpu = r["arpu"] if "arpu" in r else np.nan
            r["payback_months"] = safe_div(r["cac"], arpu * self.params.gross_margin)
            out[by] = r
        return out

    def ltv_cac_chart(self, by: str = "channel"):
        r = self.by_group.get(by)
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
        r = self.by_group.get(by)
        if r is None:
            return rp.missing(f"Unit economics by {by}", f"a customers file with a `{by}` column")
        cols = [c for c in ("customers", "new_in_window", "arpu", "churn_rate", "ltv", "cac", "ltv_to_cac",
                            "payback_months") if c in r]
        t = r[cols].reset_index().rename(columns=lambda c: c.replace("_", " "))
        return rp.table(t, {"customers": "count", "new in window": "count", "arpu": "money", "churn rate": "percent",
                            "ltv": "money", "cac": "money", "ltv to cac": "ratio", "payback months": "months"},
                        currency=self.currency)

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
        cts = self.cost_to_serve
        last_cts = float(cts.loc[cts["month"] == self.last, "cost_to_serve"].iloc[0]) if cts is not None and \
            (cts["month"] == self.last).any() else np.nan
        contribution = s["arpu"] * self.params.gross_margin - last_cts if not is_missing(last_cts) else np.nan
        from .channels import channel_table, rollup

        roi = np.nan
        if self.data.get("spend") is not None:
            t = channel_table(self.data["contacts"], list(self.params.stages), self.window, deals=self.data.get("deals"),
                              spend=self.data.get("spend"), traffic=self.data.get("traffic"))
            roi = rollup(t, list(self.params.stages)).loc["total", "roi"]
        rows = [("Gross margin (parameter)", fmt_pct(self.params.gross_margin, 0)),
                ("ARPU (last full month)", fmt_money(s["arpu"], self.currency)),
                ("Cost to serve per customer (last full month)", fmt_money(last_cts, self.currency)),
                ("Contribution per customer per month (ARPU × margin − cost to serve)",
                 fmt_money(contribution, self.currency)),
                ("LTV", fmt_money(s["ltv"], self.currency) if not is_missing(s["ltv"])
                 else "n/a (no churn observed: LTV undefined)"),
                ("CAC (fully loaded, window)", fmt_money(s["cac"], self.currency)),
                ("Marketing ROI (window, won revenue vs spend)", fmt_pct(roi, 0, signed=True)),
                ("Magic number (last full quarter)", self._last_magic())]
        return rp.table(pd.DataFrame(rows, columns=["measure", "value"]))

    def _last_magic(self) -> str:
        m = self.magic
        if m is None or m.empty:
            return "n/a"
        done = m[m["quarter"] < self.as_of.to_period("Q")] if self.last != self.last.asfreq("Q", "end").asfreq(
            "M") else m[m["quarter"] <= self.last.asfreq("Q")]
        v = done["magic_number"].iloc[-1] if len(done) else np.nan
        return "n/a" if is_missing(v) else f"{v:.2f} ({done['quarter'].iloc[-1]})"

    @rp.needs("has_mrr", "Key figures", "a subscriptions or mrr file")
    def scalars_table(self):
        s = self.scalars()
        rows = [("MRR", s["mrr"], "money"), ("ARPU", s["arpu"], "money"),
                ("Logo churn rate (monthly, avg)", s["logo_churn_rate"], "percent"),
                ("NRR (monthly, avg)", s["nrr"], "percent"), ("GRR (monthly, avg)", s["grr"], "percent"),
                ("NRR (trailing 12 months)", s.get("nrr_t12m"), "percent"),
                ("GRR (trailing 12 months)", s.get("grr_t12m"), "percent"),
                ("Quick ratio (avg)", s["quick_ratio"], "ratio"), ("LTV", s["ltv"], "money"),
                ("CAC (fully loaded)", s["cac"], "money"), ("CAC (paid only)", s.get("cac_paid_only"), "money"),
                ("LTV:CAC", s["ltv_to_cac"], "ratio"), ("CAC payback", s["cac_payback_months"], "months")]
        from .formatting import fmt_value

        t = pd.DataFrame([(n, fmt_value(v, u, self.currency)) for n, v, u in rows], columns=["metric", "value"])
        return rp.table(t)

    def mean_over_churn_window(self, col: str) -> float:
        b = self.bridge
        b = b[(b["month"] > self.last - self.params.churn_window_months) & (b["month"] <= self.last)]
        return mean_defined(b[col])
