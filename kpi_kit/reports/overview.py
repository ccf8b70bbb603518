"""The KPI overview page: leading and lagging indicators on one page, goals and OKR pacing, alerts,
snapshot changes and the weighted pipeline forecast. It reads the other domains' values through the
run's metrics (:class:`~kpi_kit.metrics.overview.OverviewMetrics`), so every number matches the
detailed pages; it computes no number of its own."""

from __future__ import annotations

import pandas as pd

from .. import charts
from .._math import safe_div
from ..formatting import NO_DATA, fmt_count, fmt_money, fmt_pct, fmt_pp, fmt_value, is_missing, with_period
from ..metrics.catalogue import BY_NAME
from ..metrics.overview import INDICATORS, changes
from . import blocks as rp
from . import takeaways as tk
from ._base import Report
from .section import Section, section

# The overview's indicators, top of the funnel to revenue; labels, units and kinds from the catalogue.
SERIES = {k: (BY_NAME[k].label, BY_NAME[k].unit, BY_NAME[k].kind, BY_NAME[k].higher_is_better) for k in INDICATORS}
SERIES["customers"] = (BY_NAME["new_customers"].label, *SERIES["customers"][1:])
SERIES["ltv"] = ("LTV (churn over the trailing churn window)", *SERIES["ltv"][1:])
SERIES["ltv_to_cac"] = ("LTV:CAC, trailing 3-month CAC", *SERIES["ltv_to_cac"][1:])
SERIES["cac_payback_months"] = ("CAC payback, trailing 3-month CAC", *SERIES["cac_payback_months"][1:])
# indicators read over trailing months rather than the one month: their own table, their basis in the label
TRAILING = ("ltv", "ltv_to_cac", "cac_payback_months")


def forecast_sentence(forecast: pd.DataFrame, targets: pd.DataFrame, last: pd.Period, currency: str) -> str:
    """What open deals are expected to bring in the quarter after ``last`` (the month of ``as_of``'s
    quarter, to date), naming the slipped deals (expected close already passed) inside that figure,
    and the bookings target's coverage with and without them.

    Examples
    --------
    >>> f = pd.DataFrame({"month": pd.PeriodIndex(["2026-11", "2026-12"], freq="M"), "expected": [300.0, 100.0],
    ...                   "slipped_deals": [2, 0], "slipped_expected": [200.0, 0.0]})
    >>> forecast_sentence(f, pd.DataFrame(), pd.Period("2026-10", "M"), "USD")[:90]
    'Open deals are expected to bring $400 of bookings in 2026Q4, of which $200 from 2 slipped d'
    """
    q = (last + 1).asfreq("Q")
    in_q = forecast[forecast["month"].dt.asfreq("Q") == q]
    expected = in_q["expected"].sum()
    slipped = in_q["slipped_expected"].sum() if "slipped_expected" in in_q else 0.0
    n_slipped = int(in_q["slipped_deals"].sum()) if "slipped_deals" in in_q else 0
    text = f"Open deals are expected to bring {fmt_money(expected, currency)} of bookings in {q}"
    if n_slipped:
        text += (f", of which {fmt_money(slipped, currency)} from {rp.plural(n_slipped, 'slipped deal')} (their "
                 f"expected close has already passed; counted in {(last + 1).strftime('%B')})")
    if not targets.empty:
        bq = targets[(targets["metric"] == "bookings") & (targets["period_start"].dt.to_period("Q") == q)]
        if len(bq):
            booked = bq["actual"].iloc[0]
            remaining = bq["target"].iloc[0] - (0 if is_missing(booked) else booked)
            text += f", against {fmt_money(remaining, currency)} still to book for its target: "
            covered = fmt_pct(safe_div(expected, remaining), 0)
            text += (f"{covered} covered counting the slipped deals, {fmt_pct(safe_div(expected - slipped, remaining), 0)}"
                     " without them" if n_slipped else f"{covered} covered")
    return text + "."


class OverviewReport(Report):
    """The page a marketing lead opens first.

    Examples
    --------
    >>> r = OverviewReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.section("goal")  # doctest: +SKIP
    """

    title = "KPI overview"

    def __init__(self, data, previous_metrics: str | None = None):
        super().__init__(data, previous_metrics)
        self.o = self.m.overview
        self.funnel, self.economics = self.m.funnel, self.m.economics
        self.months = self.o.months

    @property
    def series(self) -> pd.DataFrame:
        return self.o.series

    @property
    def targets(self) -> pd.DataFrame:
        return self.o.targets

    @property
    def alerts(self) -> list[dict]:
        return self.o.alerts

    def yearly_revenue(self) -> pd.Series:
        return self.o.yearly_revenue()

    def revenue_goal(self) -> dict:
        return self.o.revenue_goal()

    def lags(self) -> pd.DataFrame:
        return self.o.lags()

    def snapshot(self) -> pd.DataFrame | None:
        return self.o.snapshot()

    def forecast(self) -> pd.DataFrame | None:
        return self.o.forecast()

    @section("What changed")
    def what_changed(self) -> Section:
        return Section("What changed", self.summary())

    @section("Alerts")
    def divergence_alerts(self) -> Section:
        if not self.alerts:
            return Section("Alerts", takeaway=f"No divergence in {self.last:%b %Y}: no leading volume rose more than "
                           f"{fmt_pct(self.params.alert_threshold, 0)} on the month while the conversion below it fell "
                           f"as much, both changes significant at 5 %.")
        return Section("Alerts", rp.alert([f"{a['text']} ({a['month']})" for a in self.alerts]))

    @section("The revenue target")
    def goal(self) -> Section:
        if self.yearly_revenue().empty:
            return Section.not_shown("The revenue target", "subscriptions, mrr, won deals or a revenue file covering a full year")
        g = self.revenue_goal()
        takeaway = None
        if is_missing(g["target"]):  # say why there is no target rather than print one on a growth of 0 %
            takeaway = f"No revenue target for the next 12 months: {g.get('why') or 'no year-over-year growth'}."
        return Section("The revenue target", self._goal_table(), takeaway=takeaway)

    @section("OKRs and KPI targets")
    def okrs(self) -> Section:
        if self.targets.empty:
            return Section.not_shown("OKRs and KPI targets", "a targets file")
        return Section("OKRs and KPI targets", self._targets_table(), takeaway=self.targets_sentence())

    @section("Leading and lagging indicators")
    def indicators(self) -> Section:
        keys = [k for k in SERIES if not self.series[k].dropna().empty]
        if not keys:
            return Section.not_shown("Leading and lagging indicators",
                                     "traffic, engagement, contacts, deals or subscriptions")
        label = lambda k: BY_NAME[self.m.volumes.amount_metric].label if k == "bookings" else SERIES[k][0]  # noqa: E731
        chart = charts.indicator_chart(self.series, [(k, label(k), *SERIES[k][1:3]) for k in keys],
                                       targets=self.data.get("targets"), currency=self.currency)
        return Section("Leading and lagging indicators", self._indicator_table(), self._indicator_table(trailing=True),
                       chart)

    @section("How long leading indicators take to show in results")
    def lag(self) -> Section:
        lags = self.lags().rename(columns={"pair": "Leading → lagging", "lag_months": "Lag (months)",
                                           "correlation": "Correlation of monthly changes"})
        table = rp.table(lags, {"Lag (months)": lambda v: "n/a" if is_missing(v) else f"{v:.0f}",
                                "Correlation of monthly changes": lambda v: "n/a" if is_missing(v) else f"{v:.2f}"})
        return Section("How long leading indicators take to show in results", table, takeaway=self._lag_sentence())

    @section("The pipeline forecast", ("has_deals", "a deals file with open deals"))
    def pipeline_forecast(self) -> Section:
        f = self.forecast()
        chart = None
        if not f.empty and not (f["without_probability"] == f["open_deals"]).all():
            chart = charts.forecast_chart(f[f["month"] <= self.last + 7], targets=self.data.get("targets"),
                                          currency=self.currency)
        return Section("The pipeline forecast", chart, takeaway=self._forecast_sentence())

    @property
    def has_deals(self) -> bool:
        return self.data.has("deals")

    @section("Snapshot changes")
    def snapshot_changes(self) -> Section:
        diff = self.snapshot()
        table = None
        if diff is not None:
            stages = [s for s in self.m.ctx.stages if f"{s}_change" in diff]
            t = diff.tail(12)[["cohort"] + [f"{s}_{w}" for s in stages for w in ("then", "now")]]
            t.columns = ["cohort"] + [f"{s} {w}" for s in stages for w in ("then", "now")]
            table = rp.table(t, {c: "count" for c in t.columns if c != "cohort"})
        return Section("Snapshot changes", table, takeaway=self._snapshot_sentence())

    # -- tables and takeaways ---------------------------------------------------------------------
    def _goal_table(self):
        y = self.yearly_revenue()
        g = self.revenue_goal()
        basis = ("month-end MRR summed over each 12 months" if self.m.ctx.has_mrr else
                 " and ".join(n for stem, n in (("deals", "won deal amounts"), ("revenue", "recorded revenue"))
                              if self.data.has(stem)))
        rows = [(period, fmt_money(v, self.currency)) for period, v in y.items()]
        if is_missing(g["target"]):  # no complete year-over-year growth: no target, never a growth of 0 %
            why = g.get("why") or "no year-over-year growth"
            rows += [("Average YoY growth", f"n/a ({why})"), ("Target for the next 12 months", "n/a")]
        else:
            rows += [("Average YoY growth", " and ".join(fmt_pct(r) for r in g["growth_rates"])
                      + f" → mean {fmt_pct(g['growth'])}"),
                     ("Uplift (assumed for this client)", fmt_pct(g["uplift"])),
                     ("Target for the next 12 months",
                      f"{fmt_money(g['last_year'], self.currency)} × (1 + {fmt_pct(g['growth'])}"
                      f" + {fmt_pct(g['uplift'])}) = {fmt_money(g['target'], self.currency)}")]
        # without MRR or a revenue file the yearly figures are bookings (won deals), and say so
        word = "Bookings, standing in for revenue" if not self.m.ctx.has_mrr and self.data.has("deals") else "Revenue"
        t = rp.table(pd.DataFrame(rows, columns=[f"{word} ({basis})", "Value"]))
        return t

    def _targets_table(self, current_only: bool = True):
        t = self.targets
        if current_only:  # the periods running now and the last finished month, quarter and year
            live = t[t["status"].isin(["on track", "behind"])]
            done = t[t["status"].isin(["met", "missed"])]
            recent = done.sort_values("period_start").groupby("metric").tail(1)
            t = pd.concat([live, recent]).sort_values(["metric", "period_start"])
        money = {"bookings", "new_mrr", "revenue", "mrr", "spend"}
        fmt = lambda unit: lambda v: fmt_value(v, unit, self.currency)  # noqa: E731
        shown = t.assign(
            target=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["target"])],
            actual=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["actual"])],
            pace_to_date=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["pace_to_date"])],
            projected=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["projected"])],
        ).drop(columns="period_start").rename(columns={"pace_to_date": "pace to date"})
        colours = {"on track": "kk-good", "met": "kk-good", "behind": "kk-bad", "missed": "kk-bad"}
        return rp.table(shown, {"attained": "percent", "metric": rp.display_name}, classes={"status": colours.get})

    def targets_sentence(self) -> str:
        t = self.targets
        if t.empty:
            return "No targets were set."
        live = t[t["status"].isin(["on track", "behind"])]
        behind = live[live["status"] == "behind"]
        text = f"{len(live) - len(behind)} of {len(live)} targets running now are on pace"
        if len(behind):
            worst = behind.loc[(behind["actual"] / behind["pace_to_date"]).idxmin()]
            text += (f"; furthest behind is {worst['metric']} ({worst['period']}) at "
                     f"{fmt_pct(safe_div(worst['actual'], worst['pace_to_date']), 0)} of its pace")
        return text + "."

    # -- leading vs lagging ------------------------------------------------------------------
    def _indicator_table(self, trailing: bool = False):
        """Each indicator's last full month with its change on the month and on the year (rates in pp);
        ``trailing``: the ratios read over trailing months instead, in a table of their own, so each
        value column holds one basis."""
        rows, keys = [], []
        n = self.params.churn_window_months
        period = {"ltv": f"trailing {n} months", "ltv_to_cac": "trailing 3 months",
                  "cac_payback_months": "trailing 3 months"}
        amount = self.m.volumes.amount_metric  # the bookings row is recorded revenue without a sales process
        for key, (label, unit, kind, _better) in SERIES.items():
            s = self.series[key]
            if s.dropna().empty or (key in TRAILING) != trailing:
                continue
            if key == "bookings":
                label = BY_NAME[amount].label
            if key == "ltv":
                label = f"LTV (churn over the {rp.trailing(n)})"
            last = changes(s).loc[self.last]
            value, before, year = s.get(self.last), s.get(self.last - 1), s.get(self.last - 12)
            if unit == "percent":  # a rate's change is in percentage points
                mom, yoy = (value - before) * 100, (value - year) * 100
            else:
                mom, yoy = last["mom"], last["yoy"]
            outside = self.o.status(key, self.ctx.month_window(self.last)) == "none"  # not 0, not n/a
            rows.append({"indicator": label, "kind": kind,
                         "value": NO_DATA if outside else fmt_value(value, unit, self.currency),
                         "MoM": (mom, unit), "YoY": (yoy, unit)})
            metric = {"customers": "new_customers", "bookings": amount}.get(key, key)
            keys.append(f"{metric}|{period.get(key, str(self.last))}||")
        if not rows:
            return None
        change = lambda v: fmt_pp(v[0]) if v[1] == "percent" else fmt_pct(v[0], signed=True)  # noqa: E731
        column = f"at the end of {self.last:%b %Y}" if trailing else self.last.strftime("%b %Y")
        t = pd.DataFrame(rows).rename(columns={"value": column, "indicator": "Indicator", "kind": "Kind",
                                               "MoM": "Change on the month", "YoY": "Change on the year"})
        return rp.table(t, {"Change on the month": change, "Change on the year": change},
                        kpis={column: lambda i: keys[i]})

    def _lag_sentence(self) -> str:
        lags = self.lags().dropna()
        if lags.empty:
            return "Too little history to estimate how long leading indicators take to show in results."
        r = lags.iloc[0]
        return (f"{r['pair']}: changes in the first show up in the second about {rp.plural(int(r['lag_months']), 'month')} "
                f"later (correlation {r['correlation']:.2f} of month-over-month changes).")

    def _snapshot_sentence(self) -> str:
        diff = self.snapshot()
        if diff is None:
            return ("No earlier run of this client was found in the output folder, so there is nothing to compare "
                    "yet; this run's cohort funnel is kept in metrics.json for the next one.")
        last_stage = self.m.ctx.stages[-1]
        moved = diff[f"{last_stage}_change"].sum()
        biggest = diff.loc[diff[f"{self.m.ctx.stages[0]}_change"].abs().idxmax()] if len(diff) else None
        text = (f"Since the run of {diff.attrs.get('previous_as_of')}, earlier cohorts gained {moved:,.0f} "
                f"{last_stage}s")
        if biggest is not None:
            text += f"; the {biggest['cohort']} cohort moved most"
        return text + "."

    def _forecast_sentence(self) -> str:
        f = self.forecast()
        if f.empty:
            return "No deals are open, so there are no expected bookings to forecast."
        no_amount = int(f["without_amount"].sum()) if "without_amount" in f else 0
        unknown = f" {fmt_count(no_amount)} open deals have no amount (unknown, not 0)." if no_amount else ""
        if (f["without_probability"] == f["open_deals"]).all():
            return (f"None of the {f['open_deals'].sum():,.0f} open deals has a probability, so expected bookings "
                    "cannot be forecast." + unknown)
        return forecast_sentence(f, self.targets, self.last, self.currency) + unknown.replace(
            "(unknown, not 0).", "and are left out.")

    # -- summary -----------------------------------------------------------------------------
    def summary(self):
        """What changed: the largest qualifying changes of the headline KPIs, ranked
        (:attr:`~kpi_kit.metrics.overview.OverviewMetrics.what_changed`; counts and rates significant at
        5 %, amounts moved by at least the alert threshold; rates in pp), the headline KPIs that did not
        change significantly, then targets, the revenue target and the alerts."""
        import html

        changed = tk.what_changed_lines(self.o.what_changed, self.currency)
        lines = []
        if not self.targets.empty:  # without targets, the page's "Not shown" list says so, once
            lines.append(self.targets_sentence())
        g = self.revenue_goal()
        if not is_missing(g["target"]):
            lines.append(f"At the current growth rate plus {fmt_pct(g['uplift'], 0)} uplift, the revenue target for the "
                         f"next twelve months is {fmt_money(g['target'], self.currency)}.")
        lines.append(f"{rp.plural(len(self.alerts), 'divergence alert')} this month (a leading volume up while the "
                     f"conversion below it fell, both significantly)." if self.alerts else
                     "No leading indicator diverged significantly from its conversion this month.")
        moved = [line for line in changed if not line.startswith(("No significant change", "Counts and rates"))]
        still = [line for line in changed if line.startswith(("No significant change", "Counts and rates"))]
        items = "".join(f"<li>{html.escape(line)}</li>" for line in moved)
        none = ("No headline KPI changed significantly." if changed else
                "No headline KPI can be compared with an earlier period: the data does not fully cover the window "
                "before this one or the same month a year earlier.")
        body = (f'<ul class="kk-note" style="font-size:15px">{items}</ul>' if moved else
                f'<p class="kk-note" style="font-size:15px">{html.escape(none)}</p>')
        rest = " ".join([*still, *lines])
        text = "\n".join([*(moved or [none]), rest])
        return rp.Block(rp.CSS + body + f'<p class="kk-note">{html.escape(rest)}</p>', text)

    def kpis(self):
        """Up to six headline cards, each only where the client's data supports it; every card reads
        its KPI-table row (the same value the detailed pages show)."""
        last, prev, year = str(self.last), str(self.last - 1), str(self.last - 12)
        month = f"{self.last:%b %Y}"
        b, v = self.book, self.m.volumes
        monthly = lambda label, metric: rp.KPI.of(b, with_period(label, month), metric, last, previous=prev,  # noqa: E731
                                                  year_ago=year)
        k = []
        if self.m.ctx.has_mrr:
            k.append(monthly("MRR", "mrr"))
        if "lead" in self.m.ctx.stages and v.available("leads"):
            k.append(monthly("Leads", "leads"))
        elif "mql" in self.m.ctx.stages and v.available("mqls"):  # a funnel that starts at MQL
            k.append(monthly("MQLs", "mqls"))
        if v.available("new_customers"):
            k.append(monthly("New customers", "new_customers"))
        if v.bookings is not None and not self.m.ctx.has_mrr:  # won deals or recorded revenue
            k.append(monthly(BY_NAME[v.amount_metric].label, v.amount_metric))
        if self.m.funnel.has_deals:  # a sales process: revenue recorded without deals has no win rate
            k.append(rp.KPI.of(b, "Win rate (window)", "win_rate"))
        if self.m.ctx.has_mrr and not is_missing(b.value("ltv_to_cac")):
            k.append(rp.KPI.of(b, "LTV:CAC (window)", "ltv_to_cac"))
        elif self.m.ctx.has_mrr:
            k.append(monthly("Logo churn", "logo_churn_rate"))
        if self.m.funnel.has_deals and not is_missing(b.value("weighted_pipeline", "as_of")) \
                and self.m.funnel.pipeline["open_deals"]:
            k.append(rp.KPI.of(b, f"Weighted pipeline ({self.as_of:%d %b %Y})", "weighted_pipeline", "as_of"))
        if not k and not self.series["roi"].dropna().empty:
            k.append(monthly(BY_NAME["roi"].label, "roi"))
        if self.data.has("spend"):
            k.append(rp.KPI.of(b, "Spend (window)", "spend"))
        return rp.kpi_strip(k[:6], self.currency, previous_label="vs prev. month", year_label="vs year earlier")

