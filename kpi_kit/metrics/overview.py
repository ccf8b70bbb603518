"""KPI overview metrics (SPEC "Revenue target", "Targets / OKRs", "Leading vs lagging"): goals,
target pacing, month-over-month series, lag estimation, divergence alerts, snapshot diffs and the
weighted pipeline forecast. Pure functions over tidy frames; the report composes them."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from .._dates import to_day
from .._math import safe_div
from ..formatting import fmt_pct
from .volumes import monthly_amount


# -- revenue target ---------------------------------------------------------------------------------
def revenue_target(yearly_revenue: pd.Series, *, uplift: float = 0.05, years: int = 3) -> dict:
    """Next year's revenue target = last year's revenue × (1 + average YoY growth over the last
    (up to) ``years`` years + ``uplift``).

    ``yearly_revenue`` holds complete 12-month periods, oldest first (an incomplete first period
    must be left out by the caller). With a single year there is no growth to average: the target
    is last year × (1 + uplift) and ``growth`` is NaN.

    Examples
    --------
    >>> r = revenue_target(pd.Series([100.0, 120.0, 150.0]), uplift=0.05)
    >>> round(r["growth"], 4), round(r["target"], 2)
    (0.225, 191.25)
    """
    y = yearly_revenue.dropna().astype(float)
    if y.empty:
        return {"last_year": np.nan, "growth": np.nan, "growth_rates": [], "uplift": uplift, "target": np.nan}
    rates = (y / y.shift(1) - 1).iloc[1:].replace([np.inf, -np.inf], np.nan).dropna().tail(years)
    growth = float(rates.mean()) if len(rates) else np.nan
    last = float(y.iloc[-1])
    target = last * (1 + (0.0 if np.isnan(growth) else growth) + uplift)
    return {"last_year": last, "growth": growth, "growth_rates": rates.tolist(), "uplift": uplift, "target": target}


# -- target pacing -----------------------------------------------------------------------------------
def pace(target: float, actual: float, period_start, period_end, as_of, *, start_value: float = 0.0,
         level: bool = False) -> dict:
    """Pacing of one target.

    Flow metrics (leads, bookings, …): ``actual`` is the total so far; the linear pace to date is
    target × elapsed share of the period and the projection extrapolates the daily rate. Level
    metrics (MRR): ``actual`` is the latest value; pace and projection run linearly from
    ``start_value`` at the period start.

    Examples
    --------
    >>> p = pace(310.0, 100.0, "2026-01-01", "2026-01-31", "2026-01-10")
    >>> p["pace_to_date"], p["projected"], p["on_track"]
    (100.0, 310.0, True)
    """
    start, end, as_of = to_day(period_start), to_day(period_end), to_day(as_of)
    total = (end - start).days + 1
    elapsed = min(max((as_of - start).days + 1, 0), total)
    share = elapsed / total
    if level:
        pace_to_date = start_value + (target - start_value) * share
        projected = start_value + safe_div(actual - start_value, share) if elapsed else np.nan
    else:
        pace_to_date = target * share
        projected = safe_div(actual, share) if elapsed else np.nan
    return {"elapsed_share": share, "attained": safe_div(actual, target), "pace_to_date": float(pace_to_date),
            "projected": float(projected), "on_track": bool(actual >= pace_to_date) if elapsed else None,
            "finished": elapsed == total}


# -- series, changes, lag ----------------------------------------------------------------------------
def changes(series: pd.Series) -> pd.DataFrame:
    """Month-over-month and year-over-year change of a monthly series (Period index)."""
    s = series.astype(float)
    return pd.DataFrame({"value": s, "mom": safe_div(s, s.shift(1)) - 1, "yoy": safe_div(s, s.shift(12)) - 1})


def estimate_lag(leading: pd.Series, lagging: pd.Series, *, max_lag: int = 6, min_overlap: int = 6) -> dict:
    """The lag (in periods) at which ``leading`` best predicts ``lagging``: the shift with the largest
    Pearson correlation of the two series' month-over-month changes (differences remove the shared
    trend). NaN when fewer than ``min_overlap`` points overlap.

    Examples
    --------
    >>> x = pd.Series(np.sin(np.arange(30)) + np.arange(30))
    >>> estimate_lag(x, x.shift(2))["lag"]
    2
    """
    a, b = leading.astype(float).diff(), lagging.astype(float).diff()
    scores = {}
    for k in range(0, max_lag + 1):
        pair = pd.concat([a.shift(k), b], axis=1).dropna()
        if len(pair) >= min_overlap and pair.std().min() > 0:
            scores[k] = float(pair.corr().iloc[0, 1])
    if not scores:
        return {"lag": np.nan, "correlation": np.nan, "scores": {}}
    best = max(scores, key=scores.get)
    return {"lag": best, "correlation": scores[best], "scores": scores}


# -- alerts ---------------------------------------------------------------------------------------
def divergence_alert(name: str, volume: pd.Series, rate: pd.Series, *, threshold: float = 0.10,
                     volume_label: str, rate_label: str) -> dict | None:
    """An alert when the last value of ``volume`` rose by more than ``threshold`` against the month
    before while ``rate`` (the conversion below it) fell by more than ``threshold`` (relative)."""
    if len(volume) < 2 or len(rate) < 2:
        return None
    dv = safe_div(volume.iloc[-1], volume.iloc[-2]) - 1
    dr = safe_div(rate.iloc[-1], rate.iloc[-2]) - 1
    if np.isnan(dv) or np.isnan(dr) or not (dv > threshold and dr < -threshold):
        return None
    return {"alert": name, "month": str(volume.index[-1]), "volume_change": float(dv), "rate_change": float(dr),
            "text": f"{volume_label} {fmt_pct(dv, 0, signed=True)} MoM while {rate_label} {fmt_pct(dr, 0, signed=True)}"}


# -- snapshots -------------------------------------------------------------------------------------
def snapshot_diff(current: list[dict], previous: list[dict], stages: list[str]) -> pd.DataFrame:
    """How each cohort's funnel numbers moved between an earlier run and this one.

    ``current`` and ``previous`` are ``funnel_cohorts`` rows of two metrics.json files; only
    cohorts in both are compared. Columns: cohort, then per stage its value then, now and change.
    """
    cur = pd.DataFrame(current).set_index("cohort")
    prev = pd.DataFrame(previous).set_index("cohort")
    common = cur.index.intersection(prev.index)
    cols = [s for s in ["created", *stages] if s in cur and s in prev]
    out = pd.DataFrame(index=common)
    for s in cols:
        out[f"{s}_then"] = prev.loc[common, s]
        out[f"{s}_now"] = cur.loc[common, s]
        out[f"{s}_change"] = cur.loc[common, s] - prev.loc[common, s]
    out.index.name = "cohort"
    return out.reset_index()


# -- pipeline forecast -----------------------------------------------------------------------------
def pipeline_forecast(deals: pd.DataFrame, as_of, *, cycle_days: float, expected_col: str = "expected_close_at") -> pd.DataFrame:
    """Expected bookings by month from open deals: Σ amount × probability by expected close month.

    The expected close is ``expected_close_at`` where the client has it, else ``created_at`` plus
    the typical sales cycle; a date already past counts in the month after ``as_of`` (the deal is
    late but still open). Deals without a probability are left out (counted in ``without_probability``),
    as are deals without an amount (unknown, not 0; counted in ``without_amount``).
    """
    as_of = to_day(as_of)
    o = deals[deals["status"] == "open"].copy()
    expected = o[expected_col] if expected_col in o else pd.Series(pd.NaT, index=o.index)
    fallback = o["created_at"] + pd.to_timedelta(0 if np.isnan(cycle_days) else cycle_days, unit="D")
    expected = expected.where(expected.notna(), fallback)
    expected = expected.where(expected > as_of, as_of + pd.offsets.MonthBegin(1))
    o["month"] = expected.dt.to_period("M")
    has = o["probability"].notna() if "probability" in o else pd.Series(False, index=o.index)
    o["weighted"] = (o["amount"] * o.get("probability", np.nan)).where(has & o["amount"].notna(), 0.0)
    g = o.groupby("month").agg(open_deals=("amount", "size"), pipeline=("amount", lambda s: s.sum(min_count=1)),
                               expected=("weighted", "sum"),
                               without_probability=("amount", lambda s: int((~has[s.index]).sum())),
                               without_amount=("amount", lambda s: int(s.isna().sum())))
    return g.reset_index()


# The overview's indicators, top of the funnel to revenue; labels, units and kinds in the catalogue.
INDICATORS = ("sessions", "time_on_site", "social_engagement", "event_attendees", "webinar_attendees", "leads",
              "mqls", "pipeline", "open_pipeline", "customers", "bookings", "new_mrr", "mrr", "logo_churn_rate",
              "roi", "ltv", "ltv_to_cac", "cac_payback_months")


# where each overview indicator not counted by the volumes is read from: (file, date column)
_SOURCE = {"sessions": ("traffic", "date"), "time_on_site": ("traffic", "date"), "spend": ("spend", "date"),
           "social_engagement": ("engagement", "date"), "event_attendees": ("engagement", "date"),
           "webinar_attendees": ("engagement", "date"), "pipeline": ("deals", "created_at"),
           "open_pipeline": ("deals", "created_at")}


class OverviewMetrics:
    """The overview's numbers: monthly leading and lagging indicators, the revenue goal, target
    pacing, lags, alerts, snapshot changes and the pipeline forecast. Every value another domain
    owns is read from it (counts from the volumes, LTV and CAC from economics), never re-derived.

    Examples
    --------
    >>> o = compute(load_client(load_params("data/clients/demo.yaml"))).overview  # doctest: +SKIP
    >>> o.revenue_goal()["target"]  # doctest: +SKIP
    """

    def __init__(self, m):
        self.m = m
        self.ctx = m.ctx
        self.previous_metrics = m.previous_metrics

    @cached_property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.ctx.last - 35, self.ctx.last, freq="M")

    def _monthly(self, df, date_col, value_col, how="sum") -> pd.Series:
        if df is None or df.empty:
            return pd.Series(np.nan, index=self.months)
        s = df.groupby(df[date_col].dt.to_period("M"))[value_col].agg(how)
        return s.reindex(self.months)

    @cached_property
    def series(self) -> pd.DataFrame:
        """One column per metric of :data:`INDICATORS`, one row per month (NaN where the data lacks it)."""
        d, m = self.ctx.data, self.months
        out = pd.DataFrame(index=m)
        traffic = d.get("traffic")
        out["sessions"] = self._monthly(traffic, "date", "sessions")
        if traffic is not None and "avg_session_seconds" in traffic:
            t = traffic.assign(w=traffic["avg_session_seconds"] * traffic["sessions"])
            out["time_on_site"] = safe_div(self._monthly(t, "date", "w"), out["sessions"])
        eng = d.get("engagement")
        for metric in ("social_engagement", "event_attendees", "webinar_attendees"):
            part = eng[eng["metric"] == metric] if eng is not None else None
            if part is not None and len(part):  # a month without an event had no attendees
                first = part["date"].min().to_period("M")
                s = self._monthly(part, "date", "value")
                out[metric] = s.where(s.index < first, s.fillna(0))
            else:
                out[metric] = np.nan
        v = self.m.volumes
        for stage, col in (("lead", "leads"), ("mql", "mqls"), ("customer", "customers")):
            metric = "new_customers" if col == "customers" else col
            out[col] = v.monthly(metric, m) if stage in self.ctx.stages and v.available(metric) else np.nan
        deals = d.get("deals")
        if deals is not None and len(deals):
            started = m >= deals["created_at"].min().to_period("M")  # no zeros before the CRM's first deal
            out["pipeline"] = monthly_amount(deals["created_at"], deals["amount"], m).where(started)
            open_pipeline = self._open_pipeline_at_month_ends(deals).where(started)
            # deals that never stay open (revenue recorded as won deals) have no pipeline to show
            out["open_pipeline"] = open_pipeline if open_pipeline.fillna(0).any() else np.nan
        out["bookings"] = v.booked_monthly(m)  # won deals and revenue recorded without a sales process
        if self.m.economics.has_mrr:
            b = self.m.economics.bridge.set_index("month")
            out["new_mrr"] = b["new"].reindex(m)
            out["mrr"] = b["ending_mrr"].reindex(m)
            out["logo_churn_rate"] = b["logo_churn_rate"].reindex(m)
            u = self.m.economics.monthly.set_index("month")  # the scalars' own function, month by month
            out["ltv"] = u["ltv"].reindex(m)
            if self.m.economics.acquisition is not None:  # CAC over the trailing three months
                out["ltv_to_cac"] = u["ltv_to_cac"].reindex(m)
                out["cac_payback_months"] = u["cac_payback_months"].reindex(m)
        for col in out.columns:  # a month outside its source's coverage has no data, not 0
            span = self.span_of(col)
            if span is not None:
                out[col] = out[col].where(span.mask(m))
        spend = d.get("spend")
        if spend is not None and v.bookings is not None and len(v.bookings) + (0 if deals is None else len(deals)):
            s = self._monthly(spend, "date", "spend").where(self.span_of("spend").mask(m))
            out["roi"] = safe_div(out["bookings"] - s, s)
        return out.reindex(columns=list(INDICATORS))

    def span_of(self, indicator: str):
        """The months ``indicator`` (or ``spend``) has data for
        (:class:`~kpi_kit.metrics.coverage.Span`); None for those derived from MRR (a state kept up
        to date) or when the data cannot say. ROI needs both its bookings and its spend."""
        if indicator in ("leads", "mqls", "customers"):
            return self.m.volumes.coverage("new_customers" if indicator == "customers" else indicator)
        if indicator == "bookings":
            return self.m.volumes.booking_coverage()
        if indicator == "roi":
            a, b = self.span_of("bookings"), self.span_of("spend")
            return None if a is None or b is None else type(a)(max(a.first, b.first), min(a.last, b.last))
        stem, column = _SOURCE.get(indicator, (None, None))
        return None if stem is None else self.ctx.coverage.of(stem, column)

    def status(self, indicator: str, window) -> str:
        """How much of ``window`` ``indicator``'s coverage spans: ``full``, ``partial`` or ``none``."""
        span = self.span_of(indicator)
        return "full" if span is None else span.status(window)

    def _open_pipeline_at_month_ends(self, deals: pd.DataFrame) -> pd.Series:
        """Amount of deals open at each month end. (Unweighted: the export holds today's probabilities
        only, and deals closed since have none, so a weighted history would be understated.) Deals
        without an amount are left out; a month end whose open deals all lack one is unknown (NaN)."""
        closed = deals["closed_at"] if "closed_at" in deals else pd.Series(pd.NaT, index=deals.index)
        values = []
        for month in self.months:  # one vectorised step per month
            d = month.end_time.normalize()
            is_open = (deals["created_at"] <= d) & (closed.isna() | (closed > d))
            amounts = deals.loc[is_open, "amount"]
            values.append(float(amounts.sum()) if amounts.notna().any() or amounts.empty else np.nan)
        return pd.Series(values, index=self.months)

    def yearly_revenue(self) -> pd.Series:
        """Revenue of complete trailing 12-month periods ending at the last full month, oldest first:
        Σ month-end MRR where there is MRR, else bookings. A period only partly inside the data is left
        out (SPEC "Partial periods"): for MRR, one starting before the first month with MRR; for
        bookings, one starting before the first full month of the deals file (data starting on the
        23rd covers a week of its month, not the month) or running past the month its closing dates
        stop (:mod:`kpi_kit.metrics.coverage`)."""
        last = self.ctx.last
        if self.m.economics.has_mrr:
            b = self.m.economics.bridge.set_index("month")["ending_mrr"]
            first = b.index.min()  # has_mrr: someone paid by the last full month, so the bridge has a month
        elif self.m.volumes.bookings is not None:
            v = self.m.volumes
            bk = v.bookings
            b = bk.groupby(bk["date"].dt.to_period("M"))["amount"].sum()
            starts = [d[c].min() for d, c in ((self.ctx.get("deals"), "created_at"), (self.ctx.get("revenue"), "date"))
                      if d is not None and len(d)]
            start_day = min(starts) if starts else pd.NaT
            first = last + 1 if b.empty else start_day.to_period("M") + int(start_day.day != 1)
            span = v.booking_coverage()
            last = min(last, span.last) if span is not None else last
        else:
            return pd.Series(dtype=float)
        out = {}
        for k in range(4):
            end = self.ctx.last - 12 * k
            start = end - 11
            if end > last:
                continue
            if start < first:
                break
            # a month without revenue is missing from b: the sum skips it
            out[f"{start.strftime('%b %Y')} – {end.strftime('%b %Y')}"] = float(b.reindex(
                pd.period_range(start, end, freq="M")).sum())
        return pd.Series(out).iloc[::-1]

    def revenue_goal(self) -> dict:
        return revenue_target(self.yearly_revenue(), uplift=self.ctx.params.revenue_uplift)

    def _actual(self, metric: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[float, float]:
        """(actual to date, start value for level metrics) of a target's metric over its period."""
        stop = min(end, self.ctx.as_of)
        d = self.ctx.data
        if metric in ("contacts", "leads", "mqls", "sals", "sqls", "opportunities", "customers"):
            return self.m.volumes.count_between("new_customers" if metric == "customers" else metric, start, stop), 0.0
        if metric == "sessions" and d.get("traffic") is not None:
            t = d["traffic"]
            return float(t.loc[t["date"].between(start, stop), "sessions"].sum()), 0.0
        if metric == "bookings" and self.m.volumes.bookings is not None:
            return self.m.volumes.booked_between(start, stop), 0.0
        if metric == "spend" and d.get("spend") is not None:
            s = d["spend"]
            return float(s.loc[s["date"].between(start, stop), "spend"].sum()), 0.0
        if self.m.economics.has_mrr and metric in ("new_mrr", "revenue", "mrr"):
            b = self.m.economics.bridge.set_index("month")
            months = b.index[(b.index >= start.to_period("M")) & (b.index <= min(stop.to_period("M"), self.ctx.last))]
            if metric == "new_mrr":
                return float(b.loc[months, "new"].sum()), 0.0
            if metric == "revenue":
                return float(b.loc[months, "ending_mrr"].sum()), 0.0
            before = start.to_period("M") - 1
            start_value = float(b.loc[before, "ending_mrr"]) if before in b.index else 0.0
            return (float(b.loc[months[-1], "ending_mrr"]) if len(months) else np.nan), start_value
        return np.nan, 0.0

    @cached_property
    def targets(self) -> pd.DataFrame:
        """Every targets row with actual, % attained, linear pace to date, projection and status."""
        t = self.ctx.data.get("targets")
        if t is None or t.empty:
            return pd.DataFrame()
        rows = []
        for r in t.itertuples():
            if r.period_start > self.ctx.as_of:
                status, actual, start_value = "not started", np.nan, 0.0
                p = {"attained": np.nan, "pace_to_date": np.nan, "projected": np.nan, "on_track": None, "finished": False}
            else:
                actual, start_value = self._actual(r.metric, r.period_start, r.period_end)
                p = pace(r.target, actual, r.period_start, r.period_end, self.ctx.as_of, start_value=start_value,
                            level=r.metric == "mrr")
                if pd.isna(actual):
                    status = "no data"
                elif p["finished"]:
                    status = "met" if actual >= r.target else "missed"
                else:
                    status = "on track" if p["on_track"] else "behind"
            rows.append({"metric": r.metric, "period": f"{r.period_start:%Y-%m-%d} – {r.period_end:%Y-%m-%d}",
                         "period_start": r.period_start, "target": r.target, "actual": actual,
                         "attained": p["attained"], "pace_to_date": p["pace_to_date"], "projected": p["projected"],
                         "status": status})
        return pd.DataFrame(rows)

    def lags(self) -> pd.DataFrame:
        pairs = [("leads", "customers", "Leads → new customers"), ("mqls", "customers", "MQLs → new customers"),
                 ("pipeline", "bookings", "Pipeline created → bookings"), ("sessions", "leads", "Sessions → leads")]
        rows = []
        for a, b, label in pairs:
            sa, sb = self.series[a], self.series[b]
            if sa.dropna().empty or sb.dropna().empty:
                continue
            est = estimate_lag(sa, sb)
            rows.append({"pair": label, "lag_months": est["lag"], "correlation": est["correlation"]})
        return pd.DataFrame(rows)

    @cached_property
    def alerts(self) -> list[dict]:
        s = self.series.loc[:self.ctx.last]
        th = self.ctx.params.alert_threshold
        rules = [("sessions", safe_div(s["leads"], s["sessions"]), "Sessions", "visit-to-lead rate"),
                 ("leads", safe_div(s["mqls"], s["leads"]), "Leads", "lead-to-MQL rate"),
                 ("mqls", safe_div(s["customers"], s["mqls"]), "MQLs", "MQL-to-customer rate")]
        deals = self.ctx.data.get("deals")
        if deals is not None:
            closed = deals[deals["status"].isin(["won", "lost"])]
            m = closed["closed_at"].dt.to_period("M")
            win = safe_div((closed["status"] == "won").groupby(m).sum(), closed.groupby(m).size())
            rules.append(("pipeline", pd.Series(win).reindex(s.index), "Pipeline created", "win rate"))
        out = []
        for volume, rate, vlabel, rlabel in rules:
            a = divergence_alert(volume, s[volume].dropna(), pd.Series(rate).reindex(s[volume].dropna().index),
                                    threshold=th, volume_label=vlabel, rate_label=rlabel)
            if a:
                out.append(a)
        return out

    def snapshot(self) -> pd.DataFrame | None:
        if not self.previous_metrics or not Path(self.previous_metrics).exists():
            return None
        prev = json.loads(Path(self.previous_metrics).read_text())
        if not prev.get("tables", {}).get("funnel_cohorts"):
            return None
        cur = self.m.funnel.tables()["funnel_cohorts"]
        diff = snapshot_diff(cur, prev["tables"].get("funnel_cohorts", []), self.ctx.stages)
        diff.attrs["previous_as_of"] = prev.get("as_of")
        return diff

    def forecast(self) -> pd.DataFrame | None:
        deals = self.ctx.data.get("deals")
        if deals is None:
            return None
        return pipeline_forecast(deals, self.ctx.as_of, cycle_days=self.m.funnel.sales_cycle(self.ctx.window))

