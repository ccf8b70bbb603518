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


def _in_sentence(label: str) -> str:
    """A display name inside a sentence: "Leads" -> "leads", an acronym ("SQLs") kept."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def mrr_forecast_sentence(forecast: pd.DataFrame, backtest: pd.DataFrame, currency: str, horizon: int = 3) -> str:
    """Where MRR is heading in 12 months under each scenario, and how far the base model's forecasts
    ``horizon`` months ahead have been off on the client's own history, against the naive forecast.

    Examples
    --------
    >>> f = pd.DataFrame({"month": pd.PeriodIndex(["2027-10"] * 3, freq="M"), "scenario": ["base", "target", "worst"],
    ...                   "mrr": [1000.0, 1050.0, 950.0]})
    >>> b = pd.DataFrame({"model": ["base", "naive"], "horizon": [3, 3], "mape": [0.024, 0.051], "n": [18, 18]})
    >>> print(mrr_forecast_sentence(f, b, "USD")[-95:])
    3-month forecasts were off by 2.4% on average; the naive forecast (MRR stays as it is) by 5.1%.
    """
    end = forecast["month"].max()
    at = forecast[forecast["month"] == end].set_index("scenario")["mrr"]
    text = (f"At the last three months' pace MRR reaches {fmt_money(at.get('base'), currency)} in {end:%b %Y} "
            f"({fmt_money(at.get('worst'), currency)} to {fmt_money(at.get('target'), currency)} between the worst "
            "and target scenarios).")
    b = backtest[backtest["horizon"] == horizon].set_index("model")
    if "base" not in b.index or is_missing(b.loc["base", "mape"]):
        return text + f" Too little history to check how far {horizon}-month forecasts have been off (12 months needed)."
    return (text + f" On {fmt_count(b.loc['base', 'n'])} past forecasts, {horizon}-month forecasts were off by "
            f"{fmt_pct(b.loc['base', 'mape'], 1)} on average; the naive forecast (MRR stays as it is) by "
            f"{fmt_pct(b.loc['naive', 'mape'], 1)}.")


def coverage_sentence(c: dict, currency: str) -> str:
    """Pipeline coverage against what the quarter still needs, the coverage the win rate needs, and
    velocity with its four parts.

    Examples
    --------
    >>> c = {"quarter": pd.Period("2026Q4", "Q"), "coverage": 3.1, "required": 3.7, "win_rate": 0.27,
    ...      "remaining": 1_000_000.0, "open_pipeline": 3_100_000.0, "why": "", "velocity": 4000.0,
    ...      "open_deals": 100, "avg_deal_size": 20_000.0, "cycle_days": 135.0}
    >>> coverage_sentence(c, "USD")[:87]
    'Open pipeline of $3,100,000 covers the $1,000,000 still to book in 2026Q4 3.1×; 3.7× is'
    """
    q = c["quarter"]
    if c["why"]:
        text = f"Pipeline coverage of {q} is n/a: {c['why']}."
    else:
        verdict = "enough" if c["coverage"] >= c["required"] else "short of it"
        text = (f"Open pipeline of {fmt_money(c['open_pipeline'], currency)} covers the "
                f"{fmt_money(c['remaining'], currency)} still to book in {q} {c['coverage']:.1f}×; "
                f"{c['required']:.1f}× is needed at a {fmt_pct(c['win_rate'], 0)} win rate: {verdict}.")
    if not is_missing(c["velocity"]):
        text += (f" Pipeline velocity is {fmt_money(c['velocity'], currency)} of bookings a day: "
                 f"{fmt_count(c['open_deals'])} open deals × {fmt_pct(c['win_rate'], 1)} win rate × "
                 f"{fmt_money(c['avg_deal_size'], currency)} average deal / {c['cycle_days']:.0f} days mean cycle.")
    return text


def forecast_sentence(forecast: pd.DataFrame, targets: pd.DataFrame, last: pd.Period, currency: str) -> str:
    """What open deals are expected to bring in the quarter after ``last`` (the month of ``as_of``'s
    quarter, to date), naming the slipped deals (expected close already passed) inside that figure,
    and the bookings target's coverage with and without them.

    Examples
    --------
    >>> f = pd.DataFrame({"month": pd.PeriodIndex(["2026-11", "2026-12"], freq="M"), "expected": [300.0, 100.0],
    ...                   "slipped_deals": [2, 0], "slipped_expected": [200.0, 0.0]})
    >>> forecast_sentence(f, pd.DataFrame(), pd.Period("2026-10", "M"), "USD")[:91]
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

    # -- the plan: from the goal to the KPIs -------------------------------------------------------
    def _stage_labels(self) -> dict:
        from ..metrics.funnel import count_metric

        labels = {"bookings": "Bookings", "won_deals": "Won deals", "sessions": "Sessions", "spend": "Paid spend",
                  "opportunity": "Opportunities"}
        for stage in self.m.ctx.stages:
            labels.setdefault(stage, BY_NAME[count_metric(stage)].label if count_metric(stage) in BY_NAME
                              else stage.upper())
        return labels

    @section("The plan", ("has_deals", "a deals file (win rate and deal size turn bookings into deals)"))
    def plan(self) -> Section:
        p = self.m.plan
        t = p.table
        if t.empty or t["required"].isna().all():
            why = next((w for w in p.bookings_targets["why"] if w), "a bookings target")
            return Section.not_shown("The plan", f"a bookings target for the coming quarters ({why})")
        labels = self._stage_labels()
        first = p.quarters[0]
        q = t[t["quarter"] == first]
        money = {"bookings", "spend"}
        fmt = lambda stage, v: fmt_money(v, self.currency) if stage in money else fmt_count(v)  # noqa: E731
        label = f"{first.year}-Q{first.quarter}"
        rows = [{"Stage": labels.get(r.stage, r.stage),
                 "Now (a quarter, last four quarters' mean)": fmt(r.stage, r.current),
                 f"Required in {first}": fmt(r.stage, r.required),
                 "95 % range": "" if is_missing(r.low) or r.low == r.high else
                 f"{fmt(r.stage, r.low)} – {fmt(r.stage, r.high)}",
                 "Change needed": fmt_pct(r.change, 0, signed=True)} for r in q.itertuples()]
        stages = list(q["stage"])
        detail = rp.table(pd.DataFrame(rows), collapse=True, caption=f"The plan for {first}, stage by stage (the chart's "
                          "numbers)", kpis={f"Required in {first}":
                                                    lambda i: f"plan_required|{label}|stage|{stages[i]}"})
        wide = t.pivot(index="stage", columns="quarter", values="required").reindex(stages)
        quarters = list(wide.columns)
        per_quarter = pd.DataFrame({"Stage": [labels.get(s, s) for s in stages],
                                    **{str(c): [fmt(s, v) for s, v in zip(stages, wide[c])] for c in quarters}})
        keys = {str(c): (lambda c: lambda i: f"plan_required|{c.year}-Q{c.quarter}|stage|{stages[i]}")(c)
                for c in quarters}
        sources = p.bookings_targets.set_index("quarter")["source"]
        note = ("Bookings targets: " + "; ".join(f"{q_} from the {src}" for q_, src in sources.items() if src) + ".")
        chart = charts.plan_chart(q, labels=labels, quarter=str(first))
        return Section("The plan", detail, chart, rp.table(per_quarter, kpis=keys), rp.note(note),
                       takeaway=self._plan_sentence())

    def _plan_sentence(self) -> str:
        p = self.m.plan
        top = p.largest_rise()
        first = p.quarters[0]
        t = p.table[p.table["quarter"] == first].set_index("stage")
        bookings = t.loc["bookings", "required"] if "bookings" in t.index else float("nan")
        text = f"To book {fmt_money(bookings, self.currency)} in {first}"
        if top is None:
            return text + ", the stages' run-rates are not known, so the change needed cannot be said."
        labels = self._stage_labels()
        lead = self.m.plan.first_stage
        if lead in t.index and not is_missing(t.loc[lead, "required"]):
            r = t.loc[lead]
            text += (f", {_in_sentence(labels.get(lead, lead))} per quarter must go from {fmt_count(r['current'])} to "
                     f"{fmt_count(r['required'])} ({fmt_pct(r['change'], 0, signed=True)})")
        text += (f"; the largest rise is in {_in_sentence(labels.get(top['stage'], top['stage']))}: "
                 f"{fmt_pct(top['change'], 0, signed=True)} over the last four quarters' average, at today's rates.")
        return text

    @section("Pipeline coverage and velocity", ("has_deals", "a deals file with open deals"))
    def coverage(self) -> Section:
        c = self.m.plan.coverage
        q = c["quarter"]
        cards = [rp.KPI.of(self.book, f"Pipeline coverage ({q} to book)", "pipeline_coverage", "this quarter"),
                 rp.KPI.of(self.book, "Coverage needed (1 / win rate, window)", "required_coverage", "window"),
                 rp.KPI.of(self.book, f"Pipeline velocity (per day, {self.as_of:%d %b %Y})", "pipeline_velocity",
                           "as_of")]
        strip = rp.kpi_strip(cards, self.currency, previous_label=None, year_label=None)
        return Section("Pipeline coverage and velocity", strip, takeaway=coverage_sentence(c, self.currency))

    @section("The MRR forecast", ("has_mrr", "subscriptions or an mrr file"))
    def mrr_forecast(self) -> Section:
        p = self.m.plan
        f = p.mrr_forecast
        if f.empty:
            return Section.not_shown("The MRR forecast", "three months of known MRR movements (this client has "
                                     f"{rp.plural(p.forecast_basis, 'month')})")
        history = self.economics.bridge.set_index("month")["ending_mrr"]
        chart = charts.mrr_forecast_chart(history, f, currency=self.currency)
        bt = p.backtest
        rows = [{"Forecast": f"{h} month{'s' if h > 1 else ''} ahead",
                 "Base model error": fmt_pct(bt.loc[(bt["model"] == "base") & (bt["horizon"] == h), "mape"].squeeze(), 1),
                 "Naive error (MRR stays)": fmt_pct(
                     bt.loc[(bt["model"] == "naive") & (bt["horizon"] == h), "mape"].squeeze(), 1),
                 "Forecasts checked": fmt_count(bt.loc[(bt["model"] == "base") & (bt["horizon"] == h), "n"].squeeze())}
                for h in sorted(bt["horizon"].unique())]
        hs = sorted(bt["horizon"].unique())
        keys = {"Base model error": lambda i: f"forecast_mape|back-test|model/horizon|base/{hs[i]} months",
                "Naive error (MRR stays)": lambda i: f"forecast_mape|back-test|model/horizon|naive/{hs[i]} months"}
        table = rp.table(pd.DataFrame(rows), kpis=keys,
                         caption="How far such forecasts were off on this client's own history (MAPE)")
        return Section("The MRR forecast", chart, table, takeaway=mrr_forecast_sentence(f, bt, self.currency))

    @section("ARR and concentration", ("has_mrr", "subscriptions or an mrr file"))
    def arr(self) -> Section:
        p = self.m.plan
        a = p.arr.dropna(subset=["arr"])
        if a.empty:
            return Section.not_shown("ARR and concentration", "MRR in the reporting window")
        months = [str(m_) for m_ in a["month"]]
        t = pd.DataFrame({"Month": [m_.strftime("%b %Y") for m_ in a["month"]],
                          "ARR (12 × MRR)": [fmt_money(v, self.currency) for v in a["arr"]],
                          "Net new ARR": [fmt_money(v, self.currency) for v in a["net_new_arr"]]})
        table = rp.table(t, collapse=True, caption="ARR and net new ARR by month (12 × the MRR charted on unit "
                         "economics)", kpis={"ARR (12 × MRR)": lambda i: f"arr|{months[i]}||",
                                  "Net new ARR": lambda i: f"net_new_arr|{months[i]}||"})
        churned = p.churned_accounts
        lost = None
        if not churned.empty:
            lost = rp.table(pd.DataFrame({
                "Customer": churned["customer_id"], "Churned in": [m_.strftime("%b %Y") for m_ in
                                                                   pd.PeriodIndex(churned["month"], freq="M")],
                "MRR lost": [fmt_money(v, self.currency) for v in churned["mrr_lost"]]}),
                caption="The largest accounts lost in the window (MRR they paid the month before)", collapse=True)
        conc = p.concentration
        last = self.m.ctx.last
        text = (f"ARR is {fmt_money(self.book.value('arr', str(last)), self.currency)} at the end of "
                f"{last:%b %Y}; the {conc['top']} largest of {fmt_count(conc['customers'])} paying customers bring "
                f"{fmt_pct(conc['share'], 0)} of MRR")
        if not churned.empty:
            top = churned.iloc[0]
            text += (f"; the largest account lost in the window, {top['customer_id']}, paid "
                     f"{fmt_money(top['mrr_lost'], self.currency)} a month")
        share = rp.KPI.of(self.book, f"Top {conc['top']} customers' share of MRR ({last:%b %Y})", "mrr_top10_share",
                          str(last))
        return Section("ARR and concentration", rp.kpi_strip([share], self.currency, previous_label=None,
                                                             year_label=None), table, lost, takeaway=text + ".")

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

    @property
    def has_mrr(self) -> bool:
        return self.m.ctx.has_mrr

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
        label = lambda m: BY_NAME[m].label if m in BY_NAME else rp.display_name(m)  # noqa: E731 - the catalogue's name
        return rp.table(shown, {"attained": "percent", "metric": label}, classes={"status": colours.get})

    def targets_sentence(self) -> str:
        t = self.targets
        if t.empty:
            return "No targets were set."
        live = t[t["status"].isin(["on track", "behind"])]
        behind = live[live["status"] == "behind"]
        text = f"{len(live) - len(behind)} of {len(live)} targets running now are on pace"
        if len(behind):
            worst = behind.loc[(behind["actual"] / behind["pace_to_date"]).idxmin()]
            name = _in_sentence(BY_NAME[worst["metric"]].label) if worst["metric"] in BY_NAME else worst["metric"]
            text += (f"; furthest behind is {name} ({worst['period']}) at "
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
        caption = ("The ratios over trailing months at the end of the last full month, with their changes" if trailing
                   else f"Every indicator in {self.last:%b %Y}, with its change on the month and on the year")
        return rp.table(t, {"Change on the month": change, "Change on the year": change},
                        kpis={column: lambda i: keys[i]}, collapse=True, caption=caption)

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

