"""The cohort page: sections of sentences, tables and charts over the run's cohort metrics
(:class:`~kpi_kit.metrics.cohort.CohortMetrics`); it computes no number of its own."""

from __future__ import annotations

import html

import pandas as pd

from .. import charts
from .._dates import last_full_month
from ..formatting import fmt_money, fmt_pct, is_missing
from ..metrics import cohort as co
from . import blocks as rp
from . import takeaways as tk
from ._base import Report
from .section import Section, section

MRR = ("has_mrr", "paying customers by the last full month, from a subscriptions or mrr file")


def ltv_cells(ltv, churn_events, min_sample: int, currency: str = "USD") -> pd.Series:
    """Per group: (the LTV as a table shows it, whether it is marked). An LTV resting on fewer than
    ``min_sample`` churn events keeps its value, followed by their count ("$102,933 (3 churn
    events)"); with no churn it is n/a (SPEC: undefined, never 0 or infinity). An object Series
    of (text, marked) pairs, for :func:`~kpi_kit.reports.blocks.table` to format and grey.

    Examples
    --------
    >>> ltv_cells([102933.0, 178.0, float("nan")], [3, 1869, 0], 30).tolist()
    [('$102,933 (3 churn events)', True), ('$178', False), ('n/a (no churn)', False)]
    """
    out = []
    for v, e in zip(ltv, churn_events):
        if is_missing(v):
            out.append(("n/a (no churn)" if not is_missing(e) and e == 0 else "n/a", False))
        elif is_missing(e) or e < min_sample:
            out.append((f"{fmt_money(v, currency)} ({rp.plural(0 if is_missing(e) else int(e), 'churn event')})",
                        True))
        else:
            out.append((fmt_money(v, currency), False))
    return pd.Series(out, dtype=object)


def ltv_note(ltv, churn_events, min_sample: int) -> rp.Block | None:
    """The line under a table whose LTVs rest on few churn events (styled as the table's own
    small-sample line), or None."""
    few = [not is_missing(v) and (is_missing(e) or e < min_sample) for v, e in zip(ltv, churn_events)]
    if not any(few):
        return None
    text = (f"An LTV divides by a churn rate: one resting on fewer than {min_sample:,} churn events is greyed, "
            f"with their count, and not ranked.")
    return rp.Block(f'<p class="kk-smallnote">{html.escape(text)}</p>', text)


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
            return Section.not_shown("Headline numbers", MRR[1])
        k6, k12 = (6, 12) if self.grain == "month" else (2, 4)
        age = lambda k: f"{k} {self.unit}s"  # noqa: E731

        def scope(k: int) -> str:  # which cohorts a card pools; one over few customers says so, with its n
            p = self.co.point(self.co.logo_curve, k)
            few = f"; {rp.plural(p['customers'], 'customer')}: too few to read" if p["small"] and p["customers"] else ""
            return f"{self._pooled()}{few}"

        items = [rp.KPI.of(self.book, "Paying customers ever", "paying_customers_ever", "all time"),
                 rp.KPI.of(self.book, f"Logo retention at {age(k6)} ({scope(k6)})", "logo_retention", "all cohorts",
                           dimension="age", dimension_value=age(k6)),
                 rp.KPI.of(self.book, f"Logo retention at {age(k12)} ({scope(k12)})", "logo_retention",
                           "all cohorts", dimension="age", dimension_value=age(k12)),
                 rp.KPI.of(self.book, f"Cohort revenue retention ({self.unit} {k12}; {scope(k12)})",
                           "revenue_retention", "all cohorts", dimension="age", dimension_value=age(k12))]
        strip = rp.kpi_strip(items, self.currency, previous_label=None, year_label=None)
        line = rp.note(self._pooled_line())
        return rp.Block(strip._repr_html_() + line._repr_html_(), f"{strip!r}\n{line!r}")

    def _pooled(self) -> str:
        """The cohorts a pooled figure covers, in words: "all cohorts of 10+ customers" (smaller ones are
        left out of the pooled curves), or "all cohorts"."""
        least = self.params.min_cohort_size
        return f"all cohorts of {least:,}+ customers" if least > 1 else "all cohorts"

    def _pooled_line(self, nrr: bool = True) -> str:
        """The line under the cards: which cohorts pooled retention leaves out, and (``nrr``) how cohort
        revenue retention differs from NRR (SPEC "Vocabulary": "Retention")."""
        start = self.cohorts[self.cohorts["period"] == 0]
        small = start[start["small"]]
        least = self.params.min_cohort_size
        if len(small):
            text = (f"Pooled retention leaves out the {rp.plural(len(small), 'cohort')} of fewer than {least:,} "
                    f"customers ({rp.plural(int(small['customers'].sum()), 'customer')}), too small to weigh in.")
        else:
            text = "Pooled retention covers every cohort" + (
                f" (none has fewer than {least:,} customers)." if least > 1 else ".")
        if not nrr:
            return text
        return text + (f" Cohort revenue retention ({self.unit} k) follows one start cohort: its MRR k {self.unit}s "
                       f"after its first paid {self.unit} over its MRR then. NRR (trailing 12 months) follows every "
                       f"customer paying 12 months ago, whenever they started, so the two differ.")

    @section("Logo retention by cohort", MRR)
    def logo_retention(self) -> Section:
        return Section("Logo retention by cohort", self._heatmap("logo_rate"), takeaway=self._heatmap_sentence())

    @section("Revenue retention by cohort", MRR)
    def revenue_retention(self) -> Section:
        return Section("Revenue retention by cohort", self._heatmap("revenue_rate"),
                       takeaway=self._heatmap_sentence())

    HEATMAP_ROWS = 24  # the most recent cohorts a heatmap draws

    def _least(self) -> int:
        return max(self.params.min_cohort_size, self.params.min_sample)

    @property
    def pooled_by_quarter(self) -> bool:
        """Whether the heatmaps pool monthly cohorts by quarter: every monthly cohort they would draw has
        fewer customers than a rate can be read over (a fully greyed chart shows nothing)."""
        if self.grain != "month" or self.cohorts.empty:
            return False
        size = self.cohorts.drop_duplicates("cohort")["customers"].tail(self.HEATMAP_ROWS)
        return bool((size < self._least()).all()) and not self.co.quarterly_cohorts.empty

    def _heatmap_sentence(self) -> str | None:
        """Which rows of the heatmap are greyed as too small to read (or that monthly cohorts are
        pooled by quarter, all being too small), or None when none is."""
        least = self._least()
        pooled = self.pooled_by_quarter
        cohorts = self.co.quarterly_cohorts if pooled else self.cohorts
        size = cohorts.drop_duplicates("cohort")["customers"].tail(self.HEATMAP_ROWS)  # the rows drawn
        small = int((size < least).sum())
        text = (f"Every monthly cohort has fewer than {least:,} customers, too few to read alone: the heatmap pools "
                f"them by quarter of first payment (sizes in the row labels)." if pooled else "")
        if not small:
            return text or None
        unit = "quarterly cohort" if pooled else "cohort"
        which = f"Every {unit}" if small == len(size) else rp.plural(small, unit)
        return (f"{text} {which} drawn {'has' if small == 1 or small == len(size) else 'have'} fewer than {least:,} "
                f"customers (greyed; sizes in the row labels): a single cell is a rate over too few customers "
                f"to read alone; the pooled curves below rest on more.").strip()

    def _heatmap(self, value: str):
        pooled = self.pooled_by_quarter
        return charts.retention_heatmap(self.co.quarterly_cohorts if pooled else self.cohorts, value=value,
                                        unit="quarter" if pooled else self.unit, last=self.HEATMAP_ROWS,
                                        min_cohort_size=self.params.min_cohort_size,
                                        min_sample=self.params.min_sample)

    @section("Average retention curves", MRR)
    def average(self) -> Section:
        chart = charts.average_retention_chart(self.co.logo_curve, self.co.revenue_curve, unit=self.unit,
                                               min_sample=self.params.min_sample)
        return Section("Average retention curves", chart, self._curve_table(), rp.note(self._pooled_line(nrr=False)),
                       self._sizes_table(), takeaway=self._average_sentence())

    @section("Retention by acquisition channel", MRR)
    def by_channel(self) -> Section:
        return self._by("channel")

    @section("Retention by segment", MRR)
    def by_segment(self) -> Section:
        return self._by("segment")

    def _by(self, by: str) -> Section:
        title = "Retention by acquisition channel" if by == "channel" else f"Retention by {by}"
        if by not in self.by:
            return Section.not_shown(title, f"a customers file giving each customer's {by}")
        chart = charts.retention_curves_chart(self.co.curves_by(by), self.by[by].set_index(by)["customers"], by=by,
                                              min_cohort_size=self.params.min_cohort_size,
                                              max_groups=self.params.chart_channels, min_sample=self.params.min_sample)
        return Section(title, chart, *self._group_table(by), takeaway=self._group_sentence(by))

    @section("Funnel cohorts over time", ("has_conversions", "contacts with the date they became customers"))
    def funnel_cohorts(self) -> Section:
        return Section("Funnel cohorts over time", charts.conversion_curves_chart(self.co.funnel_curves),
                       takeaway=self._funnel_sentence())

    @property
    def has_conversions(self) -> bool:
        return self.co.has_conversions

    # -- tables and takeaways ---------------------------------------------------------------------
    def _age(self, k: int) -> str:
        return rp.plural(int(k), self.unit)

    def _average_sentence(self) -> str:
        logo, rev = self.co.logo_curve, self.co.revenue_curve
        least = self.params.min_sample
        k = 12 if self.grain == "month" else 4
        p, r = self.co.point(logo, k), self.co.point(rev, k)
        if not p["customers"]:
            return "No cohort is old enough yet to read a one-year retention."
        behind = f"{rp.plural(p['customers'], 'customer')} in {rp.plural(p['cohorts'], 'cohort')}"
        if p["small"]:  # never a finding on a handful of customers: say what it rests on instead
            text = (f"One-year retention rests on only {behind} old enough (fewer than {least:,}): too few to "
                    f"read yet")
            read = logo[~logo["small"] & (logo["period"] > 0)]
            if len(read):
                q = self.co.point(logo, int(read["period"].iloc[-1]))
                text += (f"; after {self._age(read['period'].iloc[-1])}, {fmt_pct(q['rate'], 0)} of customers "
                         f"still pay ({rp.plural(q['customers'], 'customer')} behind this point)")
            text += "."
        else:
            text = (f"After {self._age(k)}, {fmt_pct(p['rate'], 0)} of customers still pay (95 % interval "
                    f"{fmt_pct(p['low'])}–{fmt_pct(p['high'])}, {behind}) and cohort MRR is "
                    f"{fmt_pct(r['rate'], 0)} of its starting level"
                    f"{'; expansion more than offsets lost logos' if r['rate'] > 1 else ''}.")
        start = self.co.first_small_age(logo)
        if start is not None and start > 0 and start <= int(logo["period"].max()):
            text += (f" From {self._age(start)} on, fewer than {least:,} customers are old enough to stand behind "
                     f"each point (dotted in the chart, greyed in the table): the curve is not read there.")
        return text

    AGES = {"month": (1, 3, 6, 9, 12, 18, 24, 36, 48, 60, 72, 84, 96, 108, 120),
            "quarter": (1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 28, 32, 36, 40)}

    def _curve_table(self):
        """The pooled curves at a few ages, with the customers behind each point and the logo rate's
        95 % interval; ages over fewer than ``min_sample`` customers greyed with their n."""
        logo = self.co.logo_curve.set_index("period")
        rev = self.co.revenue_curve.set_index("period")["rate"]
        ages = [k for k in self.AGES[self.unit] if k in logo.index]
        if not ages:
            return None
        c = logo.loc[ages]
        t = pd.DataFrame({"age": [self._age(k) for k in ages], "cohorts": c["cohorts"].to_numpy(),
                          "customers": c["customers"].to_numpy(), "logo retention": c["rate"].to_numpy(),
                          "95 % interval": [f"{fmt_pct(lo)}–{fmt_pct(hi)}" if not is_missing(lo) else "n/a"
                                            for lo, hi in zip(c["low"], c["high"])],
                          "cohort revenue retention": rev.reindex(ages).to_numpy()})
        n = c["customers"].to_numpy()
        keyed = {self._age(k): k for k in ((6, 12) if self.grain == "month" else (2, 4))}
        key = lambda metric: lambda i: (f"{metric}|all cohorts|age|{t['age'].iloc[i]}"  # noqa: E731
                                        if t["age"].iloc[i] in keyed else None)
        rev = "cohort revenue retention"
        return rp.table(t, {"cohorts": "count", "customers": "count", "logo retention": "percent", rev: "percent"},
                        samples={"logo retention": n, rev: n}, min_sample=self.params.min_sample,
                        sample_noun="customers old enough",
                        caption=f"Pooled retention by age, {self._pooled()} (n = customers old enough)",
                        kpis={"logo retention": key("logo_retention"), rev: key("revenue_retention")})

    def _sizes_table(self, last: int = 12):
        s = self.cohorts[self.cohorts["period"] == 0].tail(last)
        t = pd.DataFrame({"cohort": [co._label(p) for p in s["cohort"]], "customers": s["customers"].to_numpy(),
                          "starting MRR": s["cohort_mrr_0"].to_numpy(), "small": s["small"].to_numpy()})
        return rp.table(t.drop(columns="small"), {"customers": "count", "starting MRR": "money"}, muted=t["small"],
                        currency=self.currency)

    def _group_table(self, by: str):
        """Retention, revenue per customer and LTV by group: a value over fewer than ``min_sample``
        customers old enough is greyed with its n, an LTV over fewer churn events with their count."""
        r = self.by[by]
        least = self.params.min_sample
        t = pd.DataFrame({by: r[by], "customers": r["customers"]})
        samples, fmt, keys = {}, {"customers": "count"}, {}
        names = list(r[by])
        for label, col in (("retained at", "logo_retention"), ("revenue per customer", "revenue_per_customer")):
            for k in co.GROUP_AGES:
                name = f"{label} {k}m"
                t[name] = r[f"{col}_{k}m"].to_numpy()
                samples[name] = r[f"customers_{k}m"].to_numpy()
                fmt[name] = "percent" if col == "logo_retention" else "money"
                if col == "logo_retention":
                    keys[name] = lambda i, k=k: f"logo_retention|all cohorts|{by}/age|{names[i]}/{k} months"
            if col == "logo_retention":  # the churn the LTV divides by, over the churn window
                churn = f"logo churn, monthly ({rp.trailing(self.params.churn_window_months)})"
                t[churn] = r["churn_rate"].to_numpy()
                fmt[churn] = "percent"
        t["ltv"] = ltv_cells(r["ltv"], r["churn_events"], least, self.currency).set_axis(t.index)
        fmt["ltv"] = lambda v: v[0]
        note = ltv_note(r["ltv"], r["churn_events"], least)
        table = rp.table(t, fmt, muted=r["customers"] < self.params.min_cohort_size, currency=self.currency,
                         samples=samples, min_sample=least, sample_noun="customers old enough", kpis=keys,
                         classes={"ltv": lambda v: "kk-small" if v[1] else None})  # (text, marked)
        return (table, note) if note else (table,)

    def _group_sentence(self, by: str):
        """The group table's takeaway, read from its own columns: 12-month logo retention ("retained at
        12m") and the monthly churn rate over the trailing churn window ("churn rate"), each best and
        worst over named groups that are not small samples
        (:func:`~kpi_kit.reports.takeaways.group_retention_sentence`)."""
        return tk.group_retention_sentence(self.by[by], by, min_sample=self.params.min_sample,
                                           window_months=self.params.churn_window_months, currency=self.currency)

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
