"""The tidy KPI table of a client run: every KPI any page shows, one row each (SPEC ``kpis.csv``).

Pages read their headline values through :class:`KpiBook`, so a card, a table cell,
``kpis.csv`` and ``metrics.json`` show one number for one (metric, period, dimension).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._math import safe_div, wilson_interval
from .catalogue import BY_NAME
from .economics import mrr_growth
from .volumes import COUNTS

KPI_COLUMNS = ["client", "as_of", "metric", "period", "period_start", "period_end", "dimension",
               "dimension_value", "value", "unit", "n", "low", "high"]
PREVIOUS = "previous window"
YEAR_AGO = "window a year earlier"


@dataclass(frozen=True)
class Kpi:
    """One row of the KPI table."""

    metric: str
    period: str
    value: float
    unit: str
    period_start: pd.Timestamp | None = None
    period_end: pd.Timestamp | None = None
    dimension: str = ""
    dimension_value: str = ""
    n: float = np.nan
    low: float = np.nan
    high: float = np.nan
    # how much of the period the value's source covers (kpi_kit.metrics.coverage): a comparison with
    # a base that is not "full" is n/a; not a kpis.csv column (n/a there is the empty value)
    coverage: str = "full"

    @property
    def key(self) -> str:
        """``metric|period|dimension|dimension_value``: how a page marks the value it shows."""
        return "|".join((self.metric, self.period, self.dimension, str(self.dimension_value)))


# metrics.json scalar -> the period of its KPI-table row, which carries the scalar's own name
# (None: the last full month; "trailing": the churn window)
SCALARS = {"mrr": None, "arr": None, "arpu": None, "customers": None, "logo_churn_rate": "trailing",
           "ltv": "trailing", "cac": "window", "cac_paid_only": "window", "ltv_to_cac": "window",
           "cac_payback_months": "window", "nrr": "trailing", "grr": "trailing", "quick_ratio": "trailing",
           "nrr_t12m": "trailing 12 months", "grr_t12m": "trailing 12 months", "win_rate": "window",
           "avg_deal_size": "window", "avg_sales_cycle_days": "window", "weighted_pipeline": "as_of",
           "lead_to_close_cvr": "window", "lead_to_close_cvr_year_ago": YEAR_AGO,
           "revenue_last_12m": "trailing 12 months", "revenue_growth": "complete years",
           "revenue_target_next_12m": "next 12 months", "pipeline_coverage": "this quarter",
           "required_coverage": "window", "pipeline_velocity": "as_of", "mrr_top10_share": None}


def scalar_keys(ctx) -> dict[str, tuple[str, str]]:
    """metrics.json scalar -> the (metric, period) of its KPI-table row."""
    resolve = {None: str(ctx.last), "trailing": f"trailing {ctx.params.churn_window_months} months"}
    return {name: (name, resolve.get(period, period)) for name, period in SCALARS.items()}


def unit_of(metric: str) -> str:
    return BY_NAME[metric].unit if metric in BY_NAME else "number"


class KpiBook:
    """Collects KPI rows while a run's metrics are read, and looks them up by key."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.rows: dict[str, Kpi] = {}

    def add(self, metric: str, period: str, value, *, window=None, start=None, end=None, dimension: str = "",
            dimension_value: str = "", n=np.nan, successes=None, unit: str | None = None,
            coverage: str = "full", low=None, high=None) -> Kpi:
        if window is not None:
            start, end = window.start, window.end
        if low is None:  # a rate's Wilson interval; a plan's range is given as it is
            low, high = wilson_interval(successes, n) if successes is not None else (np.nan, np.nan)
        low, high = (np.nan if pd.isna(x) else float(x) for x in (low, high))
        value = float(value) if value is not None and not pd.isna(value) else np.nan
        k = Kpi(metric, period, value, unit or unit_of(metric), start, end, dimension, str(dimension_value),
                float(n) if n is not None and not pd.isna(n) else np.nan, low, high, coverage)
        self.rows[k.key] = k
        return k

    def get(self, metric: str, period: str = "window", dimension: str = "", dimension_value: str = "") -> Kpi:
        return self.rows["|".join((metric, period, dimension, str(dimension_value)))]

    def find(self, metric: str, period: str = "window", dimension: str = "", dimension_value: str = "") -> Kpi | None:
        return self.rows.get("|".join((metric, period, dimension, str(dimension_value))))

    def value(self, metric: str, period: str = "window", dimension: str = "", dimension_value: str = "") -> float:
        k = self.rows.get("|".join((metric, period, dimension, str(dimension_value))))
        return np.nan if k is None else k.value

    def frame(self) -> pd.DataFrame:
        p = self.ctx.params
        rows = [{"client": p.client, "as_of": p.as_of.isoformat(), "metric": k.metric, "period": k.period,
                 "period_start": None if k.period_start is None else f"{k.period_start:%Y-%m-%d}",
                 "period_end": None if k.period_end is None else f"{k.period_end:%Y-%m-%d}",
                 "dimension": k.dimension, "dimension_value": k.dimension_value, "value": k.value, "unit": k.unit,
                 "n": k.n, "low": k.low, "high": k.high} for k in self.rows.values()]
        return pd.DataFrame(rows, columns=KPI_COLUMNS)


def build(m) -> KpiBook:
    """Every KPI of the run ``m`` (a :class:`~kpi_kit.metrics.ClientMetrics`) in one book."""
    ctx = m.ctx
    book = KpiBook(ctx)
    windows = {"window": ctx.window, PREVIOUS: ctx.previous, YEAR_AGO: ctx.year_ago}
    months = {str(mo): ctx.month_window(mo) for mo in (*ctx.window.months, ctx.last - 12)}
    _counts(m, book, windows | months)
    _funnel(m, book, windows)
    _channels(m, book)
    _economics(m, book)
    _overview(m, book)
    _cohorts(m, book)
    _plan(m, book)
    for metric, period in scalar_keys(ctx).values():  # every scalar has its row, n/a where the data lacks it
        if book.find(metric, period) is None:
            span = _span_of(ctx, period)
            book.add(metric, period, np.nan, start=span[0], end=span[1])
    return book


def _span_of(ctx, period: str) -> tuple:
    """(first day, last day) a scalar's period names; (None, None) for one without dates."""
    Win = type(ctx.window)
    last = ctx.last
    spans = {"window": ctx.window, YEAR_AGO: ctx.year_ago, str(last): ctx.month_window(last),
             "trailing 12 months": Win(last - 11, last), "next 12 months": Win(last + 1, last + 12),
             f"trailing {ctx.params.churn_window_months} months": Win(last - (ctx.params.churn_window_months - 1), last)}
    if period == "as_of":
        return ctx.as_of, ctx.as_of
    w = spans.get(period)
    return (None, None) if w is None else (w.start, w.end)


def _counts(m, book, periods):
    v = m.volumes
    for metric in ("contacts", *COUNTS):
        if not v.available(metric):
            continue
        for label, w in periods.items():
            book.add(metric, label, v.count(metric, w), window=w, unit="count", coverage=v.status(metric, w))


def _funnel(m, book, windows):
    f = m.funnel
    v = m.volumes
    if v.bookings is not None:  # won deals and revenue recorded without a sales process
        for label, w in windows.items():
            book.add(v.amount_metric, label, v.booked(w), window=w, coverage=v.booking_status(w))
    if m.ctx.has("deals"):
        for label, w in windows.items():
            o = f.deal_outcomes(w)
            closed = o["won"] + o["lost"]
            book.add("win_rate", label, o["win_rate"], window=w, n=closed, successes=o["won"])
            book.add("avg_deal_size", label, o["avg_deal_size"], window=w, n=o["won"] - o["won_without_amount"])
            book.add("avg_sales_cycle_days", label, f.sales_cycle(w), window=w, n=o["won"])
        for r in f.deals_by_quarter.itertuples():
            w = m.ctx.quarter_window(pd.Period(r.quarter.split(" ")[0], freq="Q"))
            book.add("win_rate", r.period, r.win_rate, window=w, n=r.won + r.lost, successes=r.won)
            book.add(v.amount_metric, r.period, v.booked(w), window=w, coverage=v.booking_status(w))
            book.add("avg_deal_size", r.period, r.avg_deal_size, window=w, n=r.won - r.won_without_amount)
            book.add("avg_sales_cycle_days", r.period, r.sales_cycle_days, window=w, n=r.won)
        p = f.pipeline
        book.add("weighted_pipeline", "as_of", p["weighted_pipeline"], start=m.ctx.as_of, end=m.ctx.as_of,
                 n=p["open_deals"] - p["without_probability"])
        book.add("open_pipeline", "as_of", p["pipeline"], start=m.ctx.as_of, end=m.ctx.as_of,
                 n=p["open_deals"] - p["without_amount"])  # open deals whose amount is known
    if m.ctx.has("contacts"):
        ltc = f.lead_to_close.set_index("period")
        for label, key, metric in (("window", "current", "lead_to_close_cvr"),
                                   (YEAR_AGO, "year earlier", "lead_to_close_cvr"),
                                   (YEAR_AGO, "year earlier", "lead_to_close_cvr_year_ago")):  # its scalar's name
            w = windows[label]
            r = ltc.loc[key]
            # a share of the period's leads, with its Wilson interval, only while customers do not outnumber them
            share = not pd.isna(r["rate"]) and r["customers"] <= r["leads"]
            book.add(metric, label, r["rate"], window=w, n=r["leads"], successes=r["customers"] if share else None)
        for r in f.conversion.itertuples():
            book.add("stage_conversion", "window (cohort)", r.rate, window=m.ctx.window, dimension="step",
                     dimension_value=f"{r._1}→{r.to}", n=r.reached_from, successes=r.reached_to)


CHANNEL_COLUMNS = {"leads": "leads", "mqls": "mqls", "sals": "sals", "sqls": "sqls", "opportunities": "opportunities",
                   "customers": "new_customers", "won_deals": "won_deals", "sessions": "sessions", "spend": "spend",
                   "cpl": "cpl", "cost_per_mql": "cost_per_mql", "cost_per_sqo": "cost_per_sqo", "cac": "cac_paid_only",
                   "revenue": "bookings", "roi": "roi", "mer": "mer", "visits_per_lead": "visits_per_lead",
                   "value_per_lead": "value_per_lead", "value_per_visit": "value_per_visit"}


def _channels(m, book):
    c = m.channel
    w = m.ctx.window
    # the channel table's "revenue" is what the volumes book: bookings, or recorded revenue (a revenue file)
    names = CHANNEL_COLUMNS | {"revenue": m.volumes.amount_metric}
    for label, frame, dim in (("window", c.table, "channel"), ("window", c.groups.drop(index="total"), "group")):
        for col, metric in names.items():
            if col not in frame or c.groups[col].isna().all():  # the client's data cannot give it: not shown
                continue
            for name, value in frame[col].items():
                book.add(metric, label, value, window=w, dimension=dim, dimension_value=name)
    if c.has_contacts:  # each channel's cohort step conversion (the heatmap), with n and its Wilson interval
        chain = ["created", *c.stages]
        for name, r in c.cohort.iterrows():
            for a, b in zip(chain, chain[1:]):
                book.add("stage_conversion", "window (cohort)", r[f"{a}_to_{b}"], window=w,
                         dimension="channel/step", dimension_value=f"{name}/{a}→{b}", n=r[a], successes=r[b])
    if c.has_attributed_wins:  # every model's credit and ROI per channel: "model/channel"
        a, roi = c.attribution, c.attributed_roi
        for metric, frame in (("attributed_conversions", a["conversions"]), ("attributed_revenue", a["value"]),
                              ("attributed_roi", roi)):
            for model in frame.columns:
                for channel, value in frame[model].items():
                    book.add(metric, "window", value, window=w, dimension="model/channel",
                             dimension_value=f"{model}/{channel}")
    total, prev = c.total, c.previous_groups.loc["total"]
    # counts and bookings are in the book already, from the volumes (the channels sum to them)
    counts = {"leads", "mqls", "sals", "sqls", "opportunities", "customers", "won_deals", "revenue"}
    for col, metric in names.items():
        if col in total.index and col not in counts:
            book.add(metric, "window", total[col], window=w)
            book.add(metric, PREVIOUS, prev[col], window=m.ctx.previous)


def _economics(m, book):
    e = m.economics
    ctx = m.ctx
    s = e.scalars()
    w = ctx.window
    last = ctx.month_window(ctx.last)
    n = ctx.params.churn_window_months
    trailing = type(w)(ctx.last - (n - 1), ctx.last)
    span = f"trailing {n} months"
    book.add("cac", "window", s["cac"], window=w, n=m.volumes.count("new_customers", w))
    book.add("cac_paid_only", "window", s["cac_paid_only"], window=w, n=m.volumes.count("new_customers", w))
    if not e.has_mrr:
        return
    b = e.bridge.set_index("month")
    for mo in (*ctx.window.months, ctx.last - 12):  # every month of the window: portfolio sparklines read them
        mw = ctx.month_window(mo)
        row = b.loc[mo] if mo in b.index else None
        for col, metric in (("ending_mrr", "mrr"), ("customers", "customers"), ("arpu", "arpu"),
                            ("new", "new_mrr"), ("logo_churn_rate", "logo_churn_rate")):
            book.add(metric, str(mo), np.nan if row is None else row[col], window=mw)
        book.add("arr", str(mo), np.nan if row is None else 12 * row["ending_mrr"], window=mw)
    book.add("mrr_growth", "trailing 12 months", mrr_growth(e.bridge, ctx.last), window=type(w)(ctx.last - 11, ctx.last))
    for metric in ("logo_churn_rate", "nrr", "grr", "quick_ratio", "ltv"):
        book.add(metric, span, s[metric], window=trailing)
    for metric in ("ltv_to_cac", "cac_payback_months"):
        book.add(metric, "window", s[metric], window=w)
    t12 = type(w)(ctx.last - 11, ctx.last)
    book.add("nrr_t12m", "trailing 12 months", s["nrr_t12m"], window=t12)
    book.add("grr_t12m", "trailing 12 months", s["grr_t12m"], window=t12)
    mon = e.monthly.set_index("month")
    if ctx.last in mon.index and e.acquisition is not None:
        tw = type(w)(ctx.last - 2, ctx.last)
        for metric in ("ltv_to_cac", "cac_payback_months"):
            book.add(metric, "trailing 3 months", mon.loc[ctx.last, metric], window=tw)
    q = e.cac_quarterly
    if q is not None:
        for r in q.itertuples():
            qw = ctx.quarter_window(r.quarter)
            book.add("cac", r.period, r.cac, window=qw, n=r.new_customers)
            book.add("cac_paid_only", r.period, r.paid_cac, window=qw, n=r.new_customers)
            book.add("ltv_to_cac", r.period, r.ltv_to_cac, window=qw)
            book.add("cac_payback_months", r.period, r.payback_months, window=qw)
            if hasattr(r, "magic_number"):
                book.add("magic_number", r.period, r.magic_number, window=qw)
    book.add("cost_to_serve", str(ctx.last), e.last_cost_to_serve, window=last)
    for by, r in e.by_group.items():
        # a segment's LTV:CAC and payback would divide by the blended CAC (costs are not split by
        # segment): SPEC "Vocabulary" shows no ratio against a cost that is not the group's own
        # a channel's ratios are over its paid-media CAC: their own names (one kpis.csv name, one definition)
        ratios = (("ltv_to_cac", "ltv_to_paid_cac"), ("payback_months", "cac_payback_months_paid")) if by == "channel" \
            else ()
        for name, row in r.iterrows():
            for col, metric in (("ltv", "ltv"), *ratios):
                book.add(metric, "window", row[col], window=w, dimension=by, dimension_value=name)


def _overview(m, book):
    o = m.overview
    ctx = m.ctx
    s = o.series
    skip = {"leads", "mqls", "customers", "mrr", "new_mrr", "logo_churn_rate", "ltv", "ltv_to_cac",
            "cac_payback_months"}  # already in the book from their own domain
    for key in s.columns:
        if key in skip or s[key].dropna().empty:
            continue
        metric = m.volumes.amount_metric if key == "bookings" else key  # recorded revenue is never "bookings"
        for mo in (ctx.last, ctx.last - 1, ctx.last - 12):
            mw = ctx.month_window(mo)
            book.add(metric, str(mo), s[key].get(mo, np.nan), window=mw, coverage=o.status(key, mw))
    g = o.revenue_goal()  # each under its metrics.json scalar's name; n/a rows too (no data is not zero)
    nxt = type(ctx.window)(ctx.last + 1, ctx.last + 12)
    t12 = type(ctx.window)(ctx.last - 11, ctx.last)
    book.add("revenue_last_12m", "trailing 12 months", g["last_year"], window=t12)
    book.add("revenue_growth", "complete years", g["growth"], n=len(g["growth_rates"]))
    book.add("revenue_target_next_12m", "next 12 months", g["target"], window=nxt)


def _cohorts(m, book):
    from .cohort import GROUP_AGES

    c = m.cohort
    if not c.has_mrr:
        return
    unit = "month" if c.grain == "month" else "quarter"
    for k in ((6, 12) if c.grain == "month" else (2, 4)):
        # n: the customers old enough to stand behind the point; only logo retention is a share of
        # them (a Wilson interval), revenue retention is a ratio of MRR (n, no interval)
        logo, revenue = c.point(c.logo_curve, k), c.point(c.revenue_curve, k)
        book.add("logo_retention", "all cohorts", logo["rate"], dimension="age", dimension_value=f"{k} {unit}s",
                 n=logo["customers"], successes=logo["active"])
        book.add("revenue_retention", "all cohorts", revenue["rate"], dimension="age",
                 dimension_value=f"{k} {unit}s", n=revenue["customers"])
    for by, r in c.by.items():  # the cohort page's "retained at k" by channel and segment
        for row in r.itertuples(index=False):
            name = getattr(row, by)
            for k in GROUP_AGES:
                book.add("logo_retention", "all cohorts", getattr(row, f"logo_retention_{k}m"), dimension=f"{by}/age",
                         dimension_value=f"{name}/{k} months", n=getattr(row, f"customers_{k}m"),
                         successes=getattr(row, f"retained_{k}m"))
    book.add("paying_customers_ever", "all time", safe_div(c.cmrr["customer_id"].nunique(), 1), unit="count")


def _plan(m, book):
    """The plan's rows: each planned quarter's required volume per stage (with its range), this
    quarter's pipeline coverage, the coverage the win rate needs, velocity, ARR and concentration."""
    p = m.plan
    ctx = m.ctx
    for r in p.table.itertuples():
        q = r.quarter
        w = type(ctx.window)(q.asfreq("M", "start"), q.asfreq("M", "end"))
        unit = "money" if r.stage in ("bookings", "spend") else "count"
        book.add("plan_required", f"{q.year}-Q{q.quarter}", r.required, window=w, dimension="stage",
                 dimension_value=r.stage, unit=unit, low=r.low, high=r.high)
    if m.funnel.has_deals:
        c = p.coverage
        q = c["quarter"]
        qw = type(ctx.window)(q.asfreq("M", "start"), q.asfreq("M", "end"))
        book.add("pipeline_coverage", "this quarter", c["coverage"], window=qw)
        book.add("required_coverage", "window", c["required"], window=ctx.window)
        book.add("pipeline_velocity", "as_of", c["velocity"], start=ctx.as_of, end=ctx.as_of, n=c["open_deals"])
    for r in p.mrr_forecast.itertuples():
        book.add("mrr_forecast", str(r.month), r.mrr, window=ctx.month_window(r.month), dimension="scenario",
                 dimension_value=r.scenario, unit="money")
    for r in p.backtest.itertuples():
        book.add("forecast_mape", "back-test", r.mape, dimension="model/horizon",
                 dimension_value=f"{r.model}/{r.horizon} months", n=r.n)
    for r in p.arr.itertuples():
        book.add("net_new_arr", str(r.month), r.net_new_arr, window=ctx.month_window(r.month))
    if m.economics.has_mrr:
        share = p.concentration
        book.add("mrr_top10_share", str(ctx.last), share["share"], window=ctx.month_window(ctx.last),
                 n=share["customers"])
