"""The unit-economics page: sections of sentences, tables and charts over the run's economics
metrics (:class:`~kpi_kit.metrics.economics.EconomicsMetrics`); it computes no number of its own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import charts
from .._math import safe_div
from ..formatting import fmt_money, fmt_pct, fmt_value, is_missing, with_period
from ..metrics.catalogue import BY_NAME
from . import blocks as rp
from . import takeaways as tk
from ._base import Report
from .cohort import ltv_cells, ltv_note
from .section import Section, section


def marked(cell) -> str | None:
    """The CSS class of a (text or value, marked) table cell: greyed when marked."""
    return "kk-small" if cell[1] else None


def _trailing(n: int) -> str:
    """A label's "trailing 6 months" / "trailing month" (a KPI-table period keeps its own name)."""
    return rp.trailing(n)

MRR = ("has_mrr", "paying customers by the last full month, from a subscriptions or mrr file")

# The headline LTV:CAC and payback (the metrics.json scalars) name their CAC's basis, as every variant
# does (SPEC "Vocabulary": one headline per concept, a variant only under a label naming its basis)
LTV_CAC_LABEL, PAYBACK_LABEL = "LTV:CAC (fully loaded CAC, window)", "CAC payback (fully loaded CAC, window)"


class UnitEconomicsReport(Report):
    """The unit-economics notebook: where MRR comes from and goes, what a customer is worth and
    what it costs to win one.

    Examples
    --------
    >>> r = UnitEconomicsReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.section("cac")  # doctest: +SKIP
    """

    title = "Unit economics report"

    def __init__(self, data, previous_metrics: str | None = None):
        super().__init__(data, previous_metrics)
        self.e = e = self.m.economics
        self.has_mrr = e.has_mrr
        self.bridge, self.acquisition, self.cost_to_serve, self.magic = e.bridge, e.acquisition, e.cost_to_serve, e.magic

    def scalars(self) -> dict:
        return self.e.scalars()

    def _in_window(self, df: pd.DataFrame, col: str = "month") -> pd.DataFrame:
        return df[(df[col] >= self.window.first) & (df[col] <= self.window.last)]

    def kpis(self):
        if not self.has_mrr:
            return Section.not_shown("Headline numbers", MRR[1])
        last, prev, year = str(self.last), str(self.last - 1), str(self.last - 12)
        n = self.params.churn_window_months
        month = f"{self.last:%b %Y}"
        k = [rp.KPI.of(self.book, f"MRR ({month})", "mrr", last, previous=prev, year_ago=year),
             rp.KPI.of(self.book, f"Paying customers ({month})", "customers", last, previous=prev, year_ago=year),
             rp.KPI.of(self.book, f"ARPU ({month})", "arpu", last, previous=prev, year_ago=year),
             rp.KPI.of(self.book, f"Logo churn, monthly ({_trailing(n)} avg)", "logo_churn_rate",
                       f"trailing {n} months"),
             rp.KPI.of(self.book, LTV_CAC_LABEL, "ltv_to_cac"),
             rp.KPI.of(self.book, PAYBACK_LABEL, "cac_payback_months")]
        if self.acquisition is None:  # no costs or spend: CAC cannot exist, so neither can these cards
            k = k[:4] + [rp.KPI.of(self.book, f"LTV (churn over {_trailing(n)})", "ltv", f"trailing {n} months")]
        return rp.kpi_strip(k, self.currency, previous_label="vs prev. month", year_label="vs year earlier")

    @section("The reading", MRR)
    def reading(self) -> Section:
        return Section("The reading", takeaway=self._reading())

    @section("The MRR bridge", MRR)
    def mrr_bridge(self) -> Section:
        return Section("The MRR bridge", charts.waterfall_chart(self.bridge.tail(24), currency=self.currency),
                       *self._bridge_tables())

    @section("MRR over time", MRR)
    def mrr(self) -> Section:
        return Section("MRR over time", charts.mrr_chart(self.bridge, currency=self.currency))

    @section("Churn", MRR)
    def churn(self) -> Section:
        return Section("Churn", charts.churn_chart(self.bridge.tail(24),
                                                   window_months=self.params.churn_window_months))

    @section("Key figures", MRR)
    def key_figures(self) -> Section:
        return Section("Key figures", rp.collapsed(self._scalars_table(), "Every key figure in one table (the headline "
                                                                        "cards and more)"))

    @section("CAC, payback and magic number", MRR)
    def cac(self) -> Section:
        if self.e.cac_monthly is None:
            return Section.not_shown("CAC, payback and magic number", "costs or spend")
        return Section("CAC, payback and magic number", charts.cac_chart(self.e.cac_monthly.tail(24),
                                                                           currency=self.currency), self._cac_table())

    @section("Unit economics by acquisition channel", MRR)
    def by_channel(self) -> Section:
        return self._by("channel")

    @section("Unit economics by segment", MRR)
    def by_segment(self) -> Section:
        return self._by("segment")

    def _by(self, by: str) -> Section:
        title = f"Unit economics by {by}"
        r = self.e.by_group.get(by)
        if r is None:
            return Section.not_shown(title, f"a customers file giving each customer's {by}")
        new = r[r["new_in_window"] > 0]
        # a ratio needs the group's own costs: channels have their paid media, segments share one
        # blended CAC (costs are not split by segment), so only channels get the chart, on paid-media CAC
        chart = charts.ltv_cac_chart(new, by=by, cac_basis="paid-media") \
            if by == "channel" and new["ltv_to_cac"].notna().any() else None
        return Section(title, chart, *self._group_table(by), takeaway=self._group_sentence(by))

    @section("Cost to serve and profitability", MRR)
    def profitability(self) -> Section:
        c = self.cost_to_serve
        chart = None
        if c is not None:
            c = c.tail(24)
            c = c.assign(arpu=self.bridge.set_index("month")["arpu"].reindex(c["month"]).to_numpy())
            chart = charts.cost_to_serve_chart(c, gross_margin=self.params.gross_margin, currency=self.currency)
        return Section("Cost to serve and profitability", chart, self._profitability_table())

    # -- tables and takeaways ---------------------------------------------------------------------
    # The bridge as two tables of eight columns each: fifteen columns ran past a 1000-px page.
    BRIDGE_MOVEMENTS = {"month": "month", "starting_mrr": "start MRR", "new": "new", "expansion": "expansion",
                        "reactivation": "reactivation", "contraction": "contraction", "churn": "churn",
                        "ending_mrr": "end MRR"}
    BRIDGE_RATES = {"month": "month", "customers": "customers", "churned_customers": "churned",
                    "logo_churn_rate": "logo churn", "arpu": "ARPU", "grr": "GRR", "nrr": "NRR",
                    "quick_ratio": "quick ratio"}

    def _bridge_tables(self, months: int = 13) -> tuple:
        """The last ``months`` of the bridge: the MRR movements, then customers and rates."""
        b = self.bridge[self.bridge["month"] <= self.last].tail(months)
        month = {"month": lambda m: m.strftime("%Y-%m")}
        movements = b[list(self.BRIDGE_MOVEMENTS)].rename(columns=self.BRIDGE_MOVEMENTS)
        rates = b[list(self.BRIDGE_RATES)].rename(columns=self.BRIDGE_RATES)
        return (rp.table(movements, {c: "money" for c in movements.columns if c != "month"} | month,
                         currency=self.currency, caption="MRR movements", collapse=True),
                rp.table(rates, {"customers": "count", "churned": "count", "logo churn": "percent", "ARPU": "money",
                                 "GRR": "percent", "NRR": "percent", "quick ratio": "ratio"} | month,
                         currency=self.currency, caption="Customers, churn and retention"))

    def _reading(self) -> str:
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
        drivers = self.e.churn_drivers()
        if drivers is not None and len(drivers) and drivers["churned_mrr"].sum() > 0:
            top = drivers.iloc[0]
            churned = int(drivers["churned_customers"].sum())
            if churned < self.params.min_sample:  # a share of a few churns names no segment as the driver
                text += (f" Churned MRR by segment rests on only {rp.plural(churned, 'churned customer')}: too few "
                         f"to say which segment drives it.")
            else:
                text += (f" {top.name} customers account for {fmt_pct(top['share_of_churned_mrr'], 0)} of churned MRR "
                         f"({rp.plural(int(top['churned_customers']), 'churned customer')} of {churned:,}) while "
                         f"holding {fmt_pct(top['share_of_mrr'], 0)} of MRR.")
        return text

    def _cac_table(self):
        """CAC by quarter: fully loaded and paid-media, new customers, and the headline LTV and ARPU
        against each quarter's fully loaded CAC (each column header names that basis)."""
        q = self.e.cac_quarterly
        periods = list(q["period"])
        key = lambda metric: lambda i: f"{metric}|{periods[i]}||"  # noqa: E731
        loaded, paid = "CAC (fully loaded)", "paid-media CAC"
        ratio, payback = "LTV:CAC (quarter's fully loaded CAC)", "CAC payback (quarter's fully loaded CAC)"
        t = q.assign(quarter=q["quarter"].astype(str) + np.where(q["partial"], " (to date)", "")).rename(columns={
            "total": "acquisition cost", "new_customers": "new customers", "cac": loaded, "paid_cac": paid,
            "ltv_to_cac": ratio, "payback_months": payback, "magic_number": "magic number"})
        cols = ["quarter", "acquisition cost", "new customers", loaded, paid, ratio, payback, "magic number"]
        table = rp.table(t[[c for c in cols if c in t]],
                         {"acquisition cost": "money", "new customers": "count", loaded: "money", paid: "money",
                          ratio: "ratio", payback: "months",
                          "magic number": lambda v: "n/a" if is_missing(v) else f"{v:.2f}"}, currency=self.currency,
                         kpis={loaded: key("cac"), paid: key("cac_paid_only"), ratio: key("ltv_to_cac"),
                               payback: key("cac_payback_months")},
                         caption="By quarter: LTV:CAC and payback divide the headline LTV and last month's ARPU by "
                                 "each quarter's CAC")
        why = t[t["magic_number_why"].fillna("") != ""] if "magic_number_why" in t else t.iloc[:0]
        if why.empty:
            return table
        line = rp.note("Magic number n/a: " + "; ".join(f"{r.quarter}, {r.magic_number_why}" for r in why.itertuples())
                       + ".")
        return rp.Block(table._repr_html_() + line._repr_html_(), repr(table) + "\n" + repr(line))

    def _group_table(self, by: str = "channel") -> tuple:
        """LTV by group, with the churn events behind each LTV: an LTV (and its LTV:CAC) over fewer than
        ``min_sample`` of them is greyed and the LTV carries their count. Channels add their paid-media
        CAC, LTV:CAC and payback (their own costs); segments do not: costs are not split by segment,
        and a segment's ratio against the blended CAC would credit it with every segment's costs."""
        r = self.e.by_group[by]
        least = self.params.min_sample
        span = _trailing(self.params.churn_window_months)
        cols = ["customers", "new_in_window", "arpu", "churn_rate", "churn_events", "ltv"]
        cols += ["cac", "ltv_to_cac", "payback_months"] if by == "channel" else []
        t = r[[c for c in cols if c in r]].reset_index()
        t["ltv"] = ltv_cells(r["ltv"], r["churn_events"], least, self.currency).set_axis(t.index)
        if "ltv_to_cac" in t:  # an LTV:CAC is as weak as its LTV: (value, marked) pairs, greyed alike
            t["ltv_to_cac"] = pd.Series(list(zip(t["ltv_to_cac"], (m for _, m in t["ltv"]))), index=t.index,
                                        dtype=object)
        ratio, payback = "LTV : paid-media CAC", "CAC payback on paid-media CAC"
        churn, arpu = f"logo churn, monthly ({span})", f"ARPU ({span} avg)"
        t = t.rename(columns={"customers": "customers ever", "new_in_window": "new customers (window)", "arpu": arpu,
                              "churn_rate": churn, "churn_events": "churn events", "ltv": "LTV",
                              "cac": "paid-media CAC", "ltv_to_cac": ratio, "payback_months": payback})
        names = list(t[by])
        key = lambda metric, d=by: lambda i: f"{metric}|window|{d}|{names[i]}"  # noqa: E731
        keys = {"LTV": key("ltv")}
        if by == "channel":  # the channel page's own numbers
            keys |= {ratio: key("ltv_to_paid_cac"), payback: key("cac_payback_months_paid"),
                     "paid-media CAC": key("cac_paid_only"),
                     "new customers (window)": key("new_customers")}
        table = rp.table(t, {"customers ever": "count", "new customers (window)": "count", arpu: "money",
                             churn: "percent", "churn events": "count", "LTV": lambda v: v[0],
                             "paid-media CAC": "money", ratio: lambda v: fmt_value(v[0], "ratio", self.currency),
                             payback: "months"}, currency=self.currency, kpis=keys,
                         classes={"LTV": marked, ratio: marked})
        note = ltv_note(r["ltv"], r["churn_events"], least)
        parts = (table, note) if note else (table,)
        if by != "channel":
            parts += (rp.note(f"No LTV:CAC or CAC payback by {by}: costs are not split by {by}, so each {by}'s "
                              f"ratio would divide by the one blended CAC."),)
        return parts

    def _group_sentence(self, by: str) -> str:
        """How a group's LTV is read against the headline one, and which LTVs can be ranked."""
        r = self.e.by_group[by]
        least = self.params.min_sample
        n = self.params.churn_window_months
        s = self.scalars()
        events = self.e.ltv_churn_events
        headline = fmt_money(s["ltv"], self.currency) if not is_missing(s["ltv"]) else "n/a"
        text = (f"Each {by}'s LTV divides its ARPU by its churn over the {_trailing(n)}, as the headline LTV "
                f"({headline}, {rp.plural(events, 'churn event')}) does; a {by}'s churn is pooled over its "
                f"customers' paying months, the headline's averaged month by month.")
        # the highest and lowest LTV among named groups over enough churn events, from the table's frame
        return text + tk.group_ltv_sentence(r, by, min_sample=least, currency=self.currency)

    def _events(self) -> str:
        """The churn events behind the headline LTV, as its labels name them ("1,869 churn events";
        "only 12 churn events" below ``min_sample``)."""
        events = self.e.ltv_churn_events
        return ("only " if events < self.params.min_sample else "") + rp.plural(events, "churn event")

    def _profitability_table(self):
        s = self.scalars()
        last_cts = self.e.last_cost_to_serve
        contribution = s["arpu"] * self.params.gross_margin - last_cts if not is_missing(last_cts) else np.nan
        magic, quarter = self.e.last_magic()
        n = self.params.churn_window_months
        rows = [("Gross margin (assumed for this client)", fmt_pct(self.params.gross_margin, 0), ""),
                (f"ARPU ({self.last:%b %Y})", fmt_money(s["arpu"], self.currency), f"arpu|{self.last}||"),
                (f"Cost to serve per customer ({self.last:%b %Y})", fmt_money(last_cts, self.currency),
                 f"cost_to_serve|{self.last}||"),
                ("Contribution per customer per month (ARPU × margin − cost to serve)",
                 fmt_money(contribution, self.currency), ""),
                (f"LTV (churn over {_trailing(n)}: {self._events()})",
                 fmt_money(s["ltv"], self.currency) if not is_missing(s["ltv"])
                 else "n/a (no churn observed: LTV undefined)", f"ltv|trailing {n} months||"),
                ("CAC (fully loaded, window)", fmt_money(s["cac"], self.currency), "cac|window||"),
                (with_period(BY_NAME["roi"].label, "window"), fmt_pct(self.book.value("roi"), 0, signed=True),
                 "roi|window||"),
                (f"Magic number ({quarter or 'last full quarter'})", "n/a" if is_missing(magic) else f"{magic:.2f}", "")]
        keys = [r[2] for r in rows]
        return rp.table(pd.DataFrame([r[:2] for r in rows], columns=["measure", "value"]),
                        kpis={"value": lambda i: keys[i]})

    def _scalars_table(self):
        n = self.params.churn_window_months
        span, shown = f"trailing {n} months", _trailing(n)  # the KPI table's period; the label's words
        rows = [(f"MRR ({self.last:%b %Y})", "mrr", str(self.last)), (f"ARPU ({self.last:%b %Y})", "arpu", str(self.last)),
                (f"Logo churn rate (monthly, {shown} avg)", "logo_churn_rate", span),
                (f"NRR (monthly, {shown} avg)", "nrr", span), (f"GRR (monthly, {shown} avg)", "grr", span),
                ("NRR (trailing 12 months)", "nrr_t12m", "trailing 12 months"),
                ("GRR (trailing 12 months)", "grr_t12m", "trailing 12 months"),
                (f"Quick ratio ({shown} avg)", "quick_ratio", span), (f"LTV (churn over {shown}: {self._events()})", "ltv", span),
                ("CAC (fully loaded, window)", "cac", "window"), ("Paid-media CAC (window)", "cac_paid_only", "window"),
                (LTV_CAC_LABEL, "ltv_to_cac", "window"), (PAYBACK_LABEL, "cac_payback_months", "window")]
        kpis = [self.book.get(metric, period) for _, metric, period in rows]
        t = pd.DataFrame([(label, fmt_value(k.value, k.unit, self.currency)) for (label, _, _), k in zip(rows, kpis)],
                         columns=["metric", "value"])
        return rp.table(t, kpis={"value": lambda i: kpis[i].key})
