"""The cohort page: sections of sentences, tables and charts over the run's cohort metrics
(:class:`~kpi_kit.metrics.cohort.CohortMetrics`); it computes no number of its own."""

from __future__ import annotations

import pandas as pd

from .. import charts
from .._dates import last_full_month
from ..formatting import fmt_money, fmt_pct, is_missing
from ..metrics import cohort as co
from . import blocks as rp
from ._base import Report
from .section import Section, section

MRR = ("has_mrr", "a subscriptions or mrr file")


class CohortReport(Report):
    """The cohort notebook: how long customers keep paying and which channels and segments keep best.

    Examples
    --------
    >>> r = CohortReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.section("logo_retention")  # doctest: +SKIP
    """

    title = "Cohort report"

    def __init__(self, data, previous_metrics: str | None = None):
        super().__init__(data, previous_metrics)
        self.co = c = self.m.cohort
        self.grain = c.grain
        self.unit = "month" if self.grain == "month" else "quarter"
        self.has_mrr, self.has_customers = c.has_mrr, c.has_customers

    @property
    def cohorts(self) -> pd.DataFrame:
        return self.co.cohorts

    @property
    def by(self) -> dict[str, pd.DataFrame]:
        return self.co.by

    def kpis(self):
        if not self.has_mrr:
            return Section.not_shown("Headline numbers", "a subscriptions or mrr file")
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

    @section("Logo retention by cohort", MRR)
    def logo_retention(self) -> Section:
        return Section("Logo retention by cohort", self._heatmap("logo_rate"))

    @section("Revenue retention by cohort", MRR)
    def revenue_retention(self) -> Section:
        return Section("Revenue retention by cohort", self._heatmap("revenue_rate"))

    def _heatmap(self, value: str):
        return charts.retention_heatmap(self.cohorts, value=value, unit=self.unit,
                                        min_cohort_size=self.params.min_cohort_size)

    @section("Average retention curves", MRR)
    def average(self) -> Section:
        chart = charts.average_retention_chart(self.co.logo_curve, self.co.revenue_curve, unit=self.unit)
        return Section("Average retention curves", chart, self._sizes_table(), takeaway=self._average_sentence())

    @section("Retention by acquisition channel", MRR)
    def by_channel(self) -> Section:
        return self._by("channel")

    @section("Retention by segment", MRR)
    def by_segment(self) -> Section:
        return self._by("segment")

    def _by(self, by: str) -> Section:
        title = "Retention by acquisition channel" if by == "channel" else f"Retention by {by}"
        if by not in self.by:
            return Section.not_shown(title, f"a customers file with a `{by}` column (linked by customer_id)")
        chart = charts.retention_curves_chart(self.co.curves_by(by), self.by[by].set_index(by)["customers"], by=by,
                                              min_cohort_size=self.params.min_cohort_size,
                                              max_groups=self.params.chart_channels)
        return Section(title, chart, self._group_table(by), takeaway=self._group_sentence(by))

    @section("Funnel cohorts over time", ("has_conversions", "contacts with a customer_at date"))
    def funnel_cohorts(self) -> Section:
        return Section("Funnel cohorts over time", charts.conversion_curves_chart(self.co.funnel_curves),
                       takeaway=self._funnel_sentence())

    @property
    def has_conversions(self) -> bool:
        return self.co.has_conversions

    # -- tables and takeaways ---------------------------------------------------------------------
    def _average_sentence(self) -> str:
        logo = self.co.logo_curve.set_index("period")
        rev = self.co.revenue_curve.set_index("period")
        k = 12 if self.grain == "month" else 4
        if k not in logo.index:
            return "No cohort is old enough yet to read a one-year retention."
        behind = rp.plural(int(logo.loc[k, "cohorts"]), "cohort")
        return (f"After {k} {self.unit}s, {fmt_pct(logo.loc[k, 'rate'], 0)} of customers still pay and cohort MRR is "
                f"{fmt_pct(rev.loc[k, 'rate'], 0)} of its starting level ({behind} behind "
                f"this point){'; expansion more than offsets lost logos' if rev.loc[k, 'rate'] > 1 else ''}.")

    def _sizes_table(self, last: int = 12):
        s = self.cohorts[self.cohorts["period"] == 0].tail(last)
        t = pd.DataFrame({"cohort": [co._label(p) for p in s["cohort"]], "customers": s["customers"].to_numpy(),
                          "starting MRR": s["cohort_mrr_0"].to_numpy(), "small": s["small"].to_numpy()})
        return rp.table(t.drop(columns="small"), {"customers": "count", "starting MRR": "money"}, muted=t["small"],
                        currency=self.currency)

    def _group_table(self, by: str):
        r = self.by[by]
        cols = [by, "customers", "logo_retention_6m", "logo_retention_12m", "logo_retention_24m", "churn_rate",
                "revenue_per_customer_6m", "revenue_per_customer_12m", "revenue_per_customer_24m", "ltv"]
        t = r[cols].rename(columns=lambda c: c.replace("logo_retention_", "retained at ").replace(
            "revenue_per_customer_", "revenue per customer ").replace("_", " "))
        fmt = {c: "percent" for c in t.columns if c.startswith("retained") or c == "churn rate"}
        fmt |= {c: "money" for c in t.columns if c.startswith("revenue") or c == "ltv"} | {"customers": "count"}
        return rp.table(t, fmt, muted=r["customers"] < self.params.min_cohort_size, currency=self.currency)

    def _group_sentence(self, by: str):
        r = self.by[by]
        r = r[(r["customers"] >= self.params.min_cohort_size) & r["logo_retention_12m"].notna()]
        if r.empty:
            return f"No {by} has enough customers a year old to compare."
        best = r.loc[r["logo_retention_12m"].idxmax()]
        worst = r.loc[r["logo_retention_12m"].idxmin()]
        return (f"{best[by]} customers stay longest ({fmt_pct(best['logo_retention_12m'], 0)} still pay after 12 "
                f"months, LTV {fmt_money(best['ltv'], self.currency) if not is_missing(best['ltv']) else 'n/a'}); "
                f"{worst[by]} customers churn fastest ({fmt_pct(worst['logo_retention_12m'], 0)} after 12 months).")

    def _funnel_sentence(self) -> str:
        f = self.co.funnel_curves
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
