"""The cohort notebook's analysis: logo and revenue retention by first paid month, by channel and
segment, and funnel cohorts over time. MRR comes from :mod:`kpi_kit.mrr` (shared with unit economics)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import plotting as kp
from .. import report as rp
from .._dates import last_full_month
from ..data import ClientData
from ..formatting import fmt_money, fmt_pct, is_missing
from ..metrics import cohort as co
from ..metrics import compute


class CohortReport:
    """Retention cohorts of one client.

    Examples
    --------
    >>> r = CohortReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.metrics()["logo_retention"][0]  # doctest: +SKIP
    {'cohort': '2024-01', 'month': 0, 'rate': 1.0}
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.m = compute(data)
        self.co = c = self.m.cohort
        self.book = self.m.book
        self.params = p = data.params
        self.as_of, self.window = self.m.ctx.as_of, self.m.ctx.window
        self.currency = p.currency
        self.grain = c.grain
        self.unit = "month" if self.grain == "month" else "quarter"
        self.has_mrr, self.has_customers = c.has_mrr, c.has_customers

    @property
    def cmrr(self) -> pd.DataFrame | None:
        return self.co.cmrr

    @property
    def cohorts(self) -> pd.DataFrame:
        return self.co.cohorts

    @property
    def by(self) -> dict[str, pd.DataFrame]:
        return self.co.by

    @property
    def funnel_curves(self) -> pd.DataFrame:
        return self.co.funnel_curves

    @property
    def has_conversions(self) -> bool:
        return self.co.has_conversions

    def header(self):
        return rp.header("Cohort report", self.data, self.window)

    @rp.needs("has_mrr", "Retention cohorts", "a subscriptions or mrr file")
    def kpis(self):
        k6, k12 = (6, 12) if self.grain == "month" else (2, 4)
        age = lambda k: f"{k} {self.unit}s"  # noqa: E731
        items = [rp.KPI.of(self.book, "Paying customers ever", "paying_customers_ever", "all time"),
                 rp.KPI.of(self.book, f"Logo retention at {age(k6)} (all cohorts)", "logo_retention", "all cohorts",
                           dimension="age", dimension_value=age(k6)),
                 rp.KPI.of(self.book, f"Logo retention at {age(k12)} (all cohorts)", "logo_retention", "all cohorts",
                           dimension="age", dimension_value=age(k12)),
                 rp.KPI.of(self.book, f"Revenue retention at {age(k12)} (all cohorts)", "revenue_retention",
                           "all cohorts", dimension="age", dimension_value=age(k12))]
        return rp.kpi_strip(items, self.currency, previous_label=None, year_label=None)

    def heatmap(self, value: str = "logo_rate", last: int = 24):
        if not self.has_mrr:
            what = "Logo retention" if value == "logo_rate" else "Revenue retention"
            return rp.show_missing(f"{what} by cohort", "a subscriptions or mrr file")
        return self._heatmap(value, last)

    def _heatmap(self, value: str, last: int):
        t = co.retention_triangle(self.cohorts, value)
        sizes = self.cohorts.drop_duplicates("cohort").set_index("cohort")["customers"]
        sizes.index = [co._label(p) for p in sizes.index]
        t = t.tail(last)
        labels = [f"{i} (n={sizes[i]})" for i in t.index]
        small = (sizes.reindex(t.index) < self.params.min_cohort_size).to_numpy()
        t.index = labels
        t = t.loc[:, [c for c in t.columns if c <= (24 if self.grain == "month" else 8)]]
        kind = "Logo" if value == "logo_rate" else "Revenue"
        return kp.heatmap(t, title=f"{kind} retention by {self.unit} of first payment",
                          xlabel=f"{self.unit.capitalize()}s since first payment", ylabel="Cohort (customers)",
                          mask_rows=small, vmax=1.0 if value == "logo_rate" else max(1.0, float(np.nanmax(t.to_numpy()))),
                          cbar_label="share of cohort" if value == "logo_rate" else "cohort MRR ÷ MRR at start")

    @rp.needs("has_mrr", mode="quiet")  # the sentence above says why
    def average_chart(self):
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.8))
        for value, label, colour in (("logo_rate", "Logo retention", kp.ACCENT),
                                     ("revenue_rate", "Revenue retention", kp.GOOD)):
            c = co.average_curve(self.cohorts, value)
            ax.plot(c["period"], c["rate"], color=colour, lw=2, marker="o", ms=3, label=label)
        c = co.average_curve(self.cohorts, "logo_rate")
        ax2 = ax.twinx()
        ax2.bar(c["period"], c["cohorts"], color=kp.GRID, alpha=0.7, label="Cohorts behind each point (right)")
        ax2.set_ylabel("Cohorts")
        ax2.grid(False)
        ax2.set_zorder(0)
        ax.set_zorder(1)
        ax.patch.set_visible(False)
        kp.percent_axis(ax)
        ax.axhline(1.0, color=kp.MUTED, lw=0.8, ls=":")
        ax.set_title(f"Average retention by {self.unit}s since first payment (cohorts pooled)")
        ax.set_xlabel(f"{self.unit.capitalize()}s since first payment")
        ax.set_ylabel("Retention")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="lower left")
        return ax

    @rp.needs("has_mrr", "Average retention curves", "a subscriptions or mrr file", mode="sentence")
    def average_sentence(self) -> str:
        logo = co.average_curve(self.cohorts, "logo_rate").set_index("period")
        rev = co.average_curve(self.cohorts, "revenue_rate").set_index("period")
        k = 12 if self.grain == "month" else 4
        if k not in logo.index:
            return "No cohort is old enough yet to read a one-year retention."
        return (f"After {k} {self.unit}s, {fmt_pct(logo.loc[k, 'rate'], 0)} of customers still pay and cohort MRR is "
                f"{fmt_pct(rev.loc[k, 'rate'], 0)} of its starting level ({int(logo.loc[k, 'cohorts'])} cohorts behind "
                f"this point){'; expansion more than offsets lost logos' if rev.loc[k, 'rate'] > 1 else ''}.")

    @rp.needs("has_mrr", "Cohort sizes", "a subscriptions or mrr file")
    def sizes_table(self, last: int = 12):
        s = self.cohorts[self.cohorts["period"] == 0].tail(last)
        t = pd.DataFrame({"cohort": [co._label(p) for p in s["cohort"]], "customers": s["customers"].to_numpy(),
                          "starting MRR": s["cohort_mrr_0"].to_numpy(), "small": s["small"].to_numpy()})
        return rp.table(t.drop(columns="small"), {"customers": "count", "starting MRR": "money"}, muted=t["small"],
                        currency=self.currency)

    def group_table(self, by: str):
        if by not in self.by:  # the sentence above says why
            return None
        r = self.by[by]
        cols = [by, "customers", "logo_retention_6m", "logo_retention_12m", "logo_retention_24m", "churn_rate",
                "revenue_per_customer_6m", "revenue_per_customer_12m", "revenue_per_customer_24m", "ltv"]
        t = r[cols].rename(columns=lambda c: c.replace("logo_retention_", "retained at ").replace(
            "revenue_per_customer_", "revenue per customer ").replace("_", " "))
        fmt = {c: "percent" for c in t.columns if c.startswith("retained") or c == "churn rate"}
        fmt |= {c: "money" for c in t.columns if c.startswith("revenue") or c == "ltv"} | {"customers": "count"}
        return rp.table(t, fmt, muted=r["customers"] < self.params.min_cohort_size, currency=self.currency)

    def curves_chart(self, by: str):
        if by not in self.by:
            return None
        curves = self.co.curves_by(by)
        sizes = self.by[by].set_index(by)["customers"]
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.0))
        for name, part in curves.groupby(by):
            if sizes.get(name, 0) < self.params.min_cohort_size:
                continue
            part = part[(part["period"] <= 24) & (part["customers"] >= self.params.min_cohort_size)]
            colour = kp.channel_colour(name) if by == "channel" else None
            ax.plot(part["period"], part["rate"], lw=2, color=colour, label=f"{name} (n={sizes[name]})")
        kp.percent_axis(ax)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Logo retention by {by}")
        ax.set_xlabel("Months since first payment")
        ax.set_ylabel("Share still paying")
        ax.legend(loc="lower left", ncol=2)
        return ax

    def group_sentence(self, by: str):
        if by not in self.by:
            return rp.missing(f"Retention by {by}", f"subscriptions and a customers file with a `{by}` column "
                              "(linked by customer_id)")
        r = self.by[by]
        r = r[(r["customers"] >= self.params.min_cohort_size) & r["logo_retention_12m"].notna()]
        if r.empty:
            return f"No {by} has enough customers a year old to compare."
        best = r.loc[r["logo_retention_12m"].idxmax()]
        worst = r.loc[r["logo_retention_12m"].idxmin()]
        return (f"{best[by]} customers stay longest ({fmt_pct(best['logo_retention_12m'], 0)} still pay after 12 "
                f"months, LTV {fmt_money(best['ltv'], self.currency) if not is_missing(best['ltv']) else 'n/a'}); "
                f"{worst[by]} customers churn fastest ({fmt_pct(worst['logo_retention_12m'], 0)} after 12 months).")

    @rp.needs("has_conversions", mode="quiet")
    def funnel_chart(self, cohorts: int = 8):
        f = self.funnel_curves
        keep = sorted(f["cohort"].unique())[-(cohorts * 3)::3]  # every third month for readability
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.0))
        cmap = plt.get_cmap("Blues")
        for i, c in enumerate(keep):
            part = f[f["cohort"] == c]
            ax.plot(part["months_since"], part["rate"], lw=2, color=cmap(0.35 + 0.65 * i / max(1, len(keep) - 1)),
                    label=str(c))
        kp.percent_axis(ax, decimals=1)
        ax.set_title("Cumulative conversion to customer by months since contact creation")
        ax.set_xlabel("Months since the contact was created")
        ax.set_ylabel("Share of cohort that became customers")
        ax.legend(title="Creation month", ncol=2, loc="upper left")
        return ax

    @rp.needs("has_conversions", "Funnel cohorts over time", "contacts with a customer_at date", mode="sentence")
    def funnel_sentence(self) -> str:
        f = self.funnel_curves
        young = last_full_month(self.as_of) - 2  # this cohort and later ones are younger than three months
        at3 = f[(f["months_since"] == 3) & ~f["partial"]]
        if at3.empty:
            return "No contact cohort is three months old yet."
        latest = at3.iloc[-1]
        median = at3["rate"].median()
        text = (f"At three months old, the {latest['cohort']} cohort has converted {fmt_pct(latest['rate'], 2)} of its "
                f"contacts to customers, against a median {fmt_pct(median, 2)} for all cohorts at the same age")
        if f["cohort"].max() >= young:
            text += f" (cohorts from {young} on are younger than three months)"
        return text + "."
