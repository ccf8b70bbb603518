"""The funnel page: sections of sentences, tables and charts over the run's funnel metrics
(:class:`~kpi_kit.metrics.funnel.FunnelMetrics`); it computes no number of its own."""

from __future__ import annotations

import pandas as pd

from .. import charts
from .._math import proportions_differ, safe_div
from ..formatting import fmt_count, fmt_days, fmt_money, fmt_pct, fmt_pp, is_missing, with_period
from ..metrics.catalogue import BY_NAME
from ..metrics.funnel import count_metric, stage_label
from ..metrics.kpis import PREVIOUS, YEAR_AGO
from . import blocks as rp
from . import takeaways as tk
from ._base import Report
from .section import Section, section


def _deals(n) -> str:
    """"1 deal was" / "3 deals were"."""
    n = int(n)
    return f"{fmt_count(n)} {'deal was' if n == 1 else 'deals were'}"

CONTACTS = ("has_contacts", "a contacts file")
CYCLE = "sales cycle (mean days, won deals)"  # the deals' cycle; the cohorts' is a median over contacts
DEALS = ("has_deals", "a deals file")


def _change(cur: float, old: float, differ: bool | None) -> str:
    """How a takeaway names a rate's change between two periods (SPEC "Small samples"): a rise or a
    fall only when the two-proportion test finds it significant at 5 %."""
    if differ is None:  # both 0 % or both 100 %, or a base of zero
        return "unchanged" if cur == old else "not comparable"
    if not differ:
        return "not a significant change"
    return "a significant rise" if cur > old else "a significant fall"


class FunnelReport(Report):
    """The funnel notebook: how contacts move from creation to customer.

    Examples
    --------
    >>> report = FunnelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> report.section("deals")  # doctest: +SKIP
    """

    title = "Funnel report"

    def __init__(self, data, previous_metrics: str | None = None):
        super().__init__(data, previous_metrics)
        self.f = f = self.m.funnel
        self.stages, self.chain = f.stages, f.chain
        self.has_contacts, self.has_deals = f.has_contacts, f.has_deals

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
                               if one_year else None, year_ago=None if one_year else year))
        if self.has_deals:
            for metric in ("win_rate", "avg_deal_size", "avg_sales_cycle_days"):  # the catalogue's names: the
                # sales cycle's says its basis ("mean days, won deals"), apart from the cohorts' median
                k.append(rp.KPI.of(self.book, with_period(BY_NAME[metric].label, "window"), metric, previous=PREVIOUS,
                                   year_ago=None if one_year else YEAR_AGO))
        return rp.kpi_strip(k[:6], self.currency,
                            previous_label="vs prior 12 months" if one_year else "vs prev. period",
                            year_label=None if one_year else "vs year earlier")

    @section("The funnel (cohort view)", CONTACTS)
    def funnel(self) -> Section:
        title = f"Cohort view: contacts created {self.window.label()}, stage reached by {self.as_of:%d %b %Y}"
        return Section("The funnel (cohort view)", charts.funnel_chart(self.f.funnel_counts(), title=title),
                       takeaway=self._funnel_sentence())

    @section("Stage conversion and velocity (cohort view)", CONTACTS)
    def conversion(self) -> Section:
        t = self.f.conversion.merge(self.f.velocity, on=["from", "to"])
        t["step"] = [f"{stage_label(a)} → {stage_label(b)}" for a, b in zip(t["from"], t["to"])]
        t = t[["step", "reached_from", "reached_to", "rate", "median_days", "out_of_order"]]
        t.columns = ["step", "reached first", "reached next", "conversion", "median days", "out of order"]
        steps = [f"{a}→{b}" for a, b in zip(self.f.conversion["from"], self.f.conversion["to"])]
        table = rp.table(t, {"reached first": "count", "reached next": "count", "conversion": "percent",
                             "median days": lambda v: "n/a" if is_missing(v) else f"{v:.0f}", "out of order": "count"},
                         kpis={"conversion": lambda i: f"stage_conversion|window (cohort)|step|{steps[i]}"},
                         samples={"conversion": t["reached first"]}, min_sample=self.params.min_sample,
                         sample_noun="contacts at the step's start")
        return Section("Stage conversion and velocity (cohort view)", table, takeaway=self._velocity_sentence())

    @section("The cohort funnel", CONTACTS)
    def cohorts(self) -> Section:
        m = self.f.cohort_matrix()
        c = self.f.cohorts.set_index("cohort").reindex(pd.PeriodIndex(m.index, freq="M"))
        immature = ~c["mature"].to_numpy(dtype=bool)
        # a cohort of fewer than min_sample contacts is greyed too, its n in the row's label
        small = ~(c["created"].to_numpy(dtype=float) >= self.params.min_sample)
        m.index = [f"{label} (n={n:,.0f})" if s else label for label, n, s in zip(m.index, c["created"], small)]
        return Section("The cohort funnel", charts.cohort_heatmap(m, immature=immature | small),
                       takeaway=self._cohort_sentence())

    @section("Monthly stage volumes", CONTACTS)
    def volumes(self) -> Section:
        stages = [s for s in ("lead", "mql", "sql", "customer") if s in self.chain][:4]
        v = self.f.volumes
        return Section("Monthly stage volumes", charts.volumes_chart(v[v["month"] >= self.year_ago.first], stages=stages),
                       takeaway=self._volumes_sentence())

    @section("Stage conversion by quarter", CONTACTS)
    def quarterly(self) -> Section:
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
        fmt = {c: "percent" for c in label.values()} | {f"QoQ {last}": "pp"}
        n = q.pivot(index="step", columns="quarter", values="entered").reindex(rate.index)
        samples = {label[c]: n[c].to_numpy() for c in rate.columns}
        before = list(rate.columns).index(last) - 1
        if before >= 0:  # a change rests on the smaller of its two quarters
            samples[f"QoQ {last}"] = n[[rate.columns[before], last]].min(axis=1).to_numpy()
        return Section("Stage conversion by quarter", rp.table(
            out.reset_index(), fmt, samples=samples, min_sample=self.params.min_sample,
            sample_noun="contacts entering the step in the quarter"), takeaway=self._quarterly_sentence())

    @section("Deal outcomes and pipeline", DEALS)
    def deals(self) -> Section:
        d = self.f.deals_by_quarter
        periods = list(d["period"])
        key = lambda metric: lambda i: f"{metric}|{periods[i]}||"  # noqa: E731
        t = d.drop(columns=["period", "won_without_amount"]).rename(columns={
            "won": "won deals", "lost": "lost deals", "win_rate": "win rate", "avg_deal_size": "average deal size",
            "sales_cycle_days": CYCLE})
        table = rp.table(t, {"won deals": "count", "lost deals": "count", "win rate": "percent", "bookings": "money",
                             "average deal size": "money", CYCLE: "days"}, currency=self.currency,
                         kpis={"win rate": key("win_rate"), "bookings": key("bookings"),
                               "average deal size": key("avg_deal_size"), CYCLE: key("avg_sales_cycle_days")},
                         samples={"win rate": d["won"] + d["lost"]}, min_sample=self.params.min_sample,
                         sample_noun="closed deals")
        return Section("Deal outcomes and pipeline", charts.deals_chart(d, currency=self.currency,
                                                                        min_sample=self.params.min_sample), table,
                       takeaway=self._deals_sentence())

    @section("Lead-to-close conversion", CONTACTS)
    def lead_to_close(self) -> Section:
        t = self.f.lead_to_close.rename(columns={"customers": "new customers"})
        periods = ["window", YEAR_AGO]
        table = rp.table(t, {"leads": "count", "new customers": "count", "rate": "percent"},
                         kpis={"rate": lambda i: f"lead_to_close_cvr|{periods[i]}||"},
                         samples={"rate": t["leads"]}, min_sample=self.params.min_sample, sample_noun="leads")
        return Section("Lead-to-close conversion", table, takeaway=self._lead_to_close_sentence())

    # -- takeaways ---------------------------------------------------------------------------
    def _funnel_sentence(self) -> str:
        conv = self.f.conversion.dropna(subset=["rate"])
        counts = self.f.funnel_counts()
        total, last = counts.iloc[0], counts.iloc[-1]
        text = (f"Of {fmt_count(total)} contacts created in the window, {fmt_count(last)} "
                f"({fmt_pct(safe_div(last, total))}) reached {stage_label(self.chain[-1])} by "
                f"{self.as_of:%d %b %Y}")
        # the weakest step: argmin of the conversion table's rate over steps that are not small samples
        return text + tk.weakest_step(conv, min_sample=self.params.min_sample, label=stage_label) + "."

    def _velocity_sentence(self) -> str:
        """The slowest step (argmax of the table's median days over steps with ``min_sample`` dated
        contacts) and the pairs dated out of order (:func:`~kpi_kit.reports.takeaways.slowest_step`)."""
        return tk.slowest_step(self.f.velocity, min_sample=self.params.min_sample, label=stage_label, days=fmt_days)

    def _cohort_sentence(self) -> str:
        c = self.f.cohorts
        imm = c[~c["mature"] & (c["created"] > 0)]
        cyc = self.f.sales_cycle_for_maturity
        if imm.empty:
            text = f"Every cohort is older than the {self._cycle_basis()}."
        else:
            text = (f"Cohorts from {imm['cohort'].iloc[0]:%b %Y} on (greyed) are younger than the "
                    f"{self._cycle_basis()}, {fmt_days(cyc)}, so they are still converting.")
        shown = c.set_index("cohort").reindex(pd.PeriodIndex(self.f.cohort_matrix().index, freq="M"))
        small = int(((shown["created"] > 0) & (shown["created"] < self.params.min_sample) & shown["mature"]).sum())
        if small:
            text += (f" {rp.plural(small, 'older cohort')} of fewer than {self.params.min_sample:,} contacts "
                     f"{'is' if small == 1 else 'are'} greyed too, with {'its' if small == 1 else 'their'} n.")
        return text

    def _cycle_basis(self) -> str:
        """The sales cycle the cohort view waits for, with its basis: the median over contacts, unlike
        the deals' mean, or the one set for this client."""
        if self.params.sales_cycle_days is not None:
            return "sales cycle set for this client"
        return "typical sales cycle (median days from contact creation to customer, over contacts)"

    def _volumes_sentence(self) -> str:
        t = self.f.target_attainment()
        if t.empty and not self.data.has("targets"):
            return "Without a targets file, no monthly targets are drawn."
        if t.empty:
            return "The targets file has no monthly targets for funnel volumes, so none are shown."
        parts = [f"{r.metric} {fmt_pct(r.attainment, 0)} of target ({r.months})" for r in t.itertuples()]
        return "Against monthly targets: " + "; ".join(parts) + "."

    def _quarterly_sentence(self) -> str:
        q = self.f.quarterly
        maturing = q.groupby("quarter")["maturing"].transform("any")
        settled = q[~maturing].dropna(subset=["change_pp"])
        if settled.empty:
            return "Not enough settled quarters to compare stage conversion quarter over quarter."
        last_q = settled["quarter"].max()
        latest = settled[settled["quarter"] == last_q]
        prev_q = str(pd.Period(last_q, freq="Q") - 1)
        before = q[q["quarter"] == prev_q].set_index(["from", "to"])
        # a change is a rise or a fall only when the two-proportion test finds it significant
        differ = pd.Series([proportions_differ(r.converted, r.entered, *before.loc[(r._1, r.to), ["converted", "entered"]])
                            for r in latest.itertuples()], index=latest.index, dtype=object)
        lead = f"In {last_q}, the last quarter whose contacts have had time to convert, "
        # quarters after it are in the table only when they are maturing (not when the data stopped)
        tail = "; later quarters are still maturing." if (q["quarter"] > last_q).any() else "."
        significant = latest[differ.eq(True)]
        if len(significant):
            big = significant.loc[significant["change_pp"].abs().idxmax()]
            direction = "rose" if big["change_pp"] > 0 else "fell"
            return (lead + f"{stage_label(big['from'])} → {stage_label(big['to'])} conversion {direction} "
                    f"{fmt_pp(abs(big['change_pp'])).lstrip('+')} to {fmt_pct(big['rate'])}, a significant change{tail}")
        big = latest.loc[latest["change_pp"].abs().idxmax()]
        old = before.loc[(big["from"], big["to"])]
        return (lead + f"no step's conversion changed significantly from {prev_q}: the largest move, "
                f"{stage_label(big['from'])} → {stage_label(big['to'])}, is {fmt_pct(big['rate'])} against "
                f"{fmt_pct(old['rate'])} (n={fmt_count(big['entered'])} and {fmt_count(old['entered'])} contacts){tail}")

    def _deals_sentence(self) -> str:
        cur, prev = self.f.deal_outcomes(self.window), self.f.deal_outcomes(self.previous)
        p = self.f.pipeline
        closed, closed_before = cur["won"] + cur["lost"], prev["won"] + prev["lost"]
        differ = proportions_differ(cur["won"], closed, prev["won"], closed_before)
        against = ("" if is_missing(prev["win_rate"]) or is_missing(cur["win_rate"]) else
                   f": {_change(cur['win_rate'], prev['win_rate'], differ)}" + (
                       "" if differ else f", n={fmt_count(closed)} and {fmt_count(closed_before)} closed deals"))
        text = (f"Over the window {_deals(cur['won'])} won and {fmt_count(cur['lost'])} lost (deal counts): "
                f"win rate {fmt_pct(cur['win_rate'])} (prior period {fmt_pct(prev['win_rate'])}{against}), average deal "
                f"{fmt_money(cur['avg_deal_size'], self.currency)}"
                + (f" ({rp.plural(int(cur['won_without_amount']), 'won deal has', 'won deals have')} no amount: left out of it)"
                   if cur["won_without_amount"] else "")
                + f", sales cycle {fmt_days(self.f.sales_cycle(self.window))} (mean days, won deals). ")
        if not p["open_deals"]:
            return text + "No deal is open."
        text += f"Open pipeline: {rp.plural(int(p['open_deals']), 'deal')}"
        if is_missing(p["pipeline"]):  # unknown is not zero: no open deal has an amount
            return text + (f"; {rp.plural(int(p['without_amount']), 'open deal has', 'open deals have')} no amount, "
                           "so neither its value nor "
                           "its weighted value is known.")
        text += f" worth {fmt_money(p['pipeline'], self.currency)}"
        if p["without_amount"]:
            text += f" ({rp.plural(int(p['without_amount']), 'open deal has', 'open deals have')} no amount: left out)"
        if is_missing(p["weighted_pipeline"]):
            text += (", none with a probability, so the weighted pipeline is not known"
                     if p["without_probability"] == p["open_deals"] else
                     "; none has both an amount and a probability, so the weighted pipeline is not known")
        else:
            text += f", weighing {fmt_money(p['weighted_pipeline'], self.currency)} by probability"
            if p["without_probability"]:
                text += f" ({fmt_count(p['without_probability'])} open deals without a probability left out)"
        return text + "."

    def _lead_to_close_sentence(self) -> str:
        ltc = self.f.lead_to_close.set_index("period")
        now, then = ltc.loc["current"], ltc.loc["year earlier"]
        cur, old = now["rate"], then["rate"]
        overlaps = self.params.window_months > 12  # SPEC: a base period overlapping the current one is no base
        if overlaps and not is_missing(cur):
            return (f"Lead-to-close CVR is {fmt_pct(cur, 2)}; the window a year earlier ({then['window']}) overlaps "
                    f"this {self.params.window_months}-month window, so the two are not compared.")
        if is_missing(cur) or is_missing(old):
            why = then.get("why") if isinstance(then.get("why"), str) else ""  # coverage, where the metrics say
            why = why or ("overlaps the window" if overlaps else "")
            return f"Lead-to-close CVR is {fmt_pct(cur)} (a year earlier: {fmt_pct(old)}{f', {why}' if why else ''})."
        noun = "leads" if "lead" in self.stages else f"{stage_label(self.stages[0])}s"
        n = f"n={fmt_count(now['leads'])} and {fmt_count(then['leads'])} {noun}"
        # customers of a period need not come from its leads: above 100 % the CVR is no proportion to test
        differ = proportions_differ(now["customers"], now["leads"], then["customers"], then["leads"]) \
            if cur <= 1 and old <= 1 else None
        if differ:
            return (f"Lead-to-close CVR {'rose' if cur > old else 'fell'} {fmt_pp(abs(cur - old) * 100).lstrip('+')} "
                    f"to {fmt_pct(cur, 2)} from {fmt_pct(old, 2)} a year earlier, a significant change ({n}).")
        why = ("not a significant change" if differ is False else "unchanged" if cur == old else
               "not tested as a change: customers outnumber leads, so the CVR is no share of them")
        return f"Lead-to-close CVR is {fmt_pct(cur, 2)} against {fmt_pct(old, 2)} a year earlier, {why} ({n})."
