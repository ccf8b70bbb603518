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
from .._math import proportions_differ, safe_div
from ..contract import UNKNOWN
from ..formatting import fmt_pct, fmt_pp
from .volumes import monthly_amount


# -- revenue target ---------------------------------------------------------------------------------
def revenue_target(yearly_revenue: pd.Series, *, uplift: float = 0.05, years: int = 3) -> dict:
    """Next year's revenue target = last year's revenue × (1 + average YoY growth over the last
    (up to) ``years`` years + ``uplift``).

    ``yearly_revenue`` holds complete 12-month periods, oldest first (an incomplete first period
    must be left out by the caller). The target needs at least one year-over-year growth, so two
    complete periods (SPEC "Partial periods"): with one, or when no growth can be measured (every
    earlier year's revenue was 0), ``growth`` and ``target`` are NaN, never a growth of 0 %, and
    ``why`` says why in the client's words (empty when there is a target).

    Examples
    --------
    >>> r = revenue_target(pd.Series([100.0, 120.0, 150.0]), uplift=0.05)
    >>> round(r["growth"], 4), round(r["target"], 2)
    (0.225, 191.25)
    >>> r = revenue_target(pd.Series([200.0]))
    >>> r["target"], r["why"]
    (nan, 'only one complete year of revenue (a target needs two, to measure a year-over-year growth)')
    """
    y = yearly_revenue.dropna().astype(float)
    if y.empty:
        return {"last_year": np.nan, "growth": np.nan, "growth_rates": [], "uplift": uplift, "target": np.nan,
                "why": "no complete year of revenue"}
    rates = (y / y.shift(1) - 1).iloc[1:].replace([np.inf, -np.inf], np.nan).dropna().tail(years)
    growth = float(rates.mean()) if len(rates) else np.nan
    last = float(y.iloc[-1])
    why = ("" if len(rates) else
           "only one complete year of revenue (a target needs two, to measure a year-over-year growth)"
           if len(y) == 1 else "no year-over-year growth can be measured: the earlier years' revenue is 0")
    target = np.nan if why else last * (1 + growth + uplift)
    return {"last_year": last, "growth": growth, "growth_rates": rates.tolist(), "uplift": uplift, "target": target,
            "why": why}


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
def counts_differ(a, b, alpha: float = 0.05) -> bool | None:
    """Whether two event counts over periods of equal length differ at significance ``alpha``: the
    exact conditional test of two Poisson counts (``a`` of ``a + b`` against one half, two-sided).
    None when a count is unknown or both are 0.

    Examples
    --------
    >>> counts_differ(223, 179), counts_differ(22, 19), counts_differ(0, 0)
    (True, False, None)
    """
    if any(v is None or not np.isfinite(v) or v < 0 for v in (a, b)) or a + b == 0:
        return None
    from scipy.special import bdtr

    # scipy.stats.binomtest(k, n, 0.5), two-sided: the distribution is symmetric, so the p-value is twice
    # the tail beyond the smaller count (at most 1); the tests compare the two
    k, n = int(round(a)), int(round(a + b))
    return bool(min(1.0, 2 * bdtr(min(k, n - k), n, 0.5)) < alpha)


def divergence_alert(name: str, volume: pd.Series, successes: pd.Series, base: pd.Series, *,
                     threshold: float = 0.10, volume_label: str, rate_label: str, volume_unit: str = "count",
                     alpha: float = 0.05) -> dict | None:
    """An alert when, in the last month against the one before, ``volume`` rose by more than
    ``threshold`` while the conversion below it (``successes / base``) fell by more than ``threshold``
    of its value, both changes significant at ``alpha`` (SPEC "Takeaways and alerts"): the rate's fall
    by the two-proportion test, a count's rise by :func:`counts_differ` (an amount, ``volume_unit``
    ``"money"``, has no such test: its rise need only pass the threshold). A rate above 100 % (customers
    of a month outnumbering its MQLs) is no share to test and raises no alert. The rate's change is in
    percentage points (``rate_change_pp``)."""
    months = volume.dropna().index
    if len(months) < 2:
        return None
    now, then = months[-1], months[-2]
    v_then, v_now = float(volume[then]), float(volume[now])
    number = lambda x: np.nan if pd.isna(x) else float(x)  # noqa: E731 - pd.NA (nullable counts) is unknown too
    s_then, s_now = (number(successes.get(m, np.nan)) for m in (then, now))
    n_then, n_now = (number(base.get(m, np.nan)) for m in (then, now))
    r_then, r_now = safe_div(s_then, n_then), safe_div(s_now, n_now)
    dv = safe_div(v_now, v_then) - 1
    if any(np.isnan(x) for x in (dv, r_then, r_now)) or r_then > 1 or r_now > 1 or r_then == 0:
        return None
    if not (dv > threshold and (r_now / r_then - 1) < -threshold):
        return None
    if volume_unit == "count" and counts_differ(v_now, v_then, alpha) is not True:
        return None
    if proportions_differ(s_now, n_now, s_then, n_then, alpha) is not True:
        return None
    pp = (r_now - r_then) * 100
    counts = f" ({v_then:,.0f} → {v_now:,.0f})" if volume_unit == "count" else ""
    return {"alert": name, "month": str(now), "volume_change": float(dv), "rate_before": float(r_then),
            "rate_now": float(r_now), "rate_change_pp": float(pp),
            "text": f"{volume_label} {fmt_pct(dv, 0, signed=True)} month over month{counts} while {rate_label} "
                    f"fell {fmt_pp(abs(pp)).lstrip('+')} to {fmt_pct(r_now)} ({s_now:,.0f} of {n_now:,.0f} against "
                    f"{s_then:,.0f} of {n_then:,.0f}; significant at 5 %)"}


def _successes(rate, n) -> float:
    """The successes behind a rate over ``n`` (rounded: the book keeps the rate and its n)."""
    return float(round(rate * n)) if not (pd.isna(rate) or pd.isna(n)) else np.nan


def headline_changes(rows: list[dict], *, threshold: float = 0.10, alpha: float = 0.05) -> pd.DataFrame:
    """Rank changes of headline KPIs for "What changed" (SPEC "Takeaways and alerts").

    Each row gives ``kpi``, ``label``, ``unit``, ``value``, ``before`` and ``period`` (the periods
    compared, in words), and for a rate (``unit`` ``percent``) ``successes``/``n`` and
    ``successes_before``/``n_before``. A change *qualifies* when it is significant at ``alpha``: a rate
    by the two-proportion test, a count by :func:`counts_differ`. Amounts and ratios (MRR, LTV,
    LTV:CAC, CAC, bookings, spend) are totals of the whole book, not samples, and have no such test:
    they qualify when they moved by at least ``threshold`` (the alert threshold) of their value.
    Rows with an undefined value or base are left out. Ordered by the size of the change relative to
    the earlier value (a rate's pp change over its earlier rate), qualifying rows first.

    Columns: the row's keys plus ``change`` (relative), ``change_pp`` (rates, in pp), ``test``
    (``two-proportion``, ``Poisson`` or ``none``), ``significant`` (True, False or None when untested),
    ``qualifies``, ``magnitude`` and ``threshold``.

    Examples
    --------
    >>> rows = [{"kpi": "leads", "label": "Leads", "unit": "count", "value": 150, "before": 100, "period": "p"},
    ...         {"kpi": "mrr", "label": "MRR", "unit": "money", "value": 105.0, "before": 100.0, "period": "p"}]
    >>> headline_changes(rows)[["kpi", "qualifies"]].values.tolist()
    [['leads', True], ['mrr', False]]
    """
    out = []
    for r in rows:
        value, before = r["value"], r["before"]
        if pd.isna(value) or pd.isna(before) or before == 0:
            continue
        r = dict(r)
        r["change"] = float(value / before - 1)
        r["change_pp"] = float((value - before) * 100) if r["unit"] == "percent" else np.nan
        if r["unit"] == "percent":
            r["test"] = "two-proportion"
            r["significant"] = (proportions_differ(r.get("successes"), r.get("n"), r.get("successes_before"),
                                                   r.get("n_before"), alpha) if value <= 1 and before <= 1 else None)
            qualifies = r["significant"] is True
        elif r["unit"] == "count":
            r["test"] = "Poisson"
            r["significant"] = counts_differ(value, before, alpha)
            qualifies = r["significant"] is True
        else:
            r["test"], r["significant"] = "none", None
            qualifies = abs(r["change"]) >= threshold
        r["qualifies"] = bool(qualifies and r["change"] != 0)
        r["magnitude"] = abs(r["change"])
        r["threshold"] = threshold
        out.append(r)
    cols = ["kpi", "label", "unit", "value", "before", "period", "n", "successes", "n_before",
            "successes_before", "change", "change_pp", "test", "significant", "qualifies", "magnitude", "threshold"]
    frame = pd.DataFrame(out).reindex(columns=cols)
    if frame.empty:
        return frame
    return frame.sort_values(["qualifies", "magnitude"], ascending=[False, False], kind="stable").reset_index(drop=True)


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
    the typical sales cycle. A deal whose expected close is already past on ``as_of`` is *slipped*:
    it counts in the month after ``as_of`` (late but still open) and is shown apart
    (``slipped_deals``, ``slipped_expected``), so coverage can be said with and without it. Deals
    without a probability are left out (counted in ``without_probability``), as are deals without an
    amount (unknown, not 0; counted in ``without_amount``).

    Examples
    --------
    >>> deals = pd.DataFrame({"status": ["open", "open"], "amount": [100.0, 50.0], "probability": [0.5, 0.4],
    ...                       "created_at": pd.to_datetime(["2026-09-01", "2026-10-01"]),
    ...                       "expected_close_at": pd.to_datetime(["2026-10-15", "2026-12-10"])})
    >>> pipeline_forecast(deals, "2026-10-31", cycle_days=30)[["month", "expected", "slipped_expected"]].values.tolist()
    [[Period('2026-11', 'M'), 50.0, 50.0], [Period('2026-12', 'M'), 20.0, 0.0]]
    """
    as_of = to_day(as_of)
    o = deals[deals["status"] == "open"].copy()
    expected = o[expected_col] if expected_col in o else pd.Series(pd.NaT, index=o.index)
    fallback = o["created_at"] + pd.to_timedelta(0 if np.isnan(cycle_days) else cycle_days, unit="D")
    expected = expected.where(expected.notna(), fallback)
    slipped = expected <= as_of
    expected = expected.where(~slipped, as_of + pd.offsets.MonthBegin(1))
    o["month"] = expected.dt.to_period("M")
    has = o["probability"].notna() if "probability" in o else pd.Series(False, index=o.index)
    o["weighted"] = (o["amount"] * o.get("probability", np.nan)).where(has & o["amount"].notna(), 0.0)
    o["slipped_weighted"] = o["weighted"].where(slipped, 0.0)
    o["slipped"] = slipped.astype("int64")
    g = o.groupby("month").agg(open_deals=("amount", "size"), pipeline=("amount", lambda s: s.sum(min_count=1)),
                               expected=("weighted", "sum"),
                               without_probability=("amount", lambda s: int((~has[s.index]).sum())),
                               without_amount=("amount", lambda s: int(s.isna().sum())),
                               slipped_deals=("slipped", "sum"), slipped_expected=("slipped_weighted", "sum"))
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
            out["roi"] = safe_div(self._paid_bookings(spend, m).where(out["bookings"].notna()) - s, s)
        return out.reindex(columns=list(INDICATORS))

    def _paid_bookings(self, spend: pd.DataFrame, months: pd.PeriodIndex) -> pd.Series:
        """Bookings per month credited to a channel with spend that month (the channel table's rule,
        so a month's ROI is the window's ROI over one month); NaN throughout when no booking is tied
        to a channel (ROI is then n/a, not −100 %)."""
        bk = self.m.volumes.bookings
        if bk is None or (bk["channel"] == UNKNOWN).all():
            return pd.Series(np.nan, index=months)
        per = spend.groupby([spend["date"].dt.to_period("M"), "channel"])["spend"].sum()
        paid = set(per[per > 0].index)
        month = bk["date"].dt.to_period("M")
        keep = [(mo, ch) in paid for mo, ch in zip(month, bk["channel"])]
        tied = set(month[(bk["channel"] != UNKNOWN).to_numpy()])  # a month whose bookings all lack a channel: n/a
        return monthly_amount(bk["date"][keep], bk["amount"][keep], months).where(months.isin(tied) | ~months.isin(month))

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
        Σ month-end MRR where there is MRR, else bookings (:meth:`yearly_bookings`). A period only partly
        inside the data is left out (SPEC "Partial periods"): for MRR, one starting before the first
        month with MRR."""
        if self.m.economics.has_mrr:
            b = self.m.economics.bridge.set_index("month")["ending_mrr"]
            # has_mrr: someone paid by the last full month, so the bridge has a month
            return self._complete_years(b, b.index.min(), self.ctx.last)
        return self.yearly_bookings()

    def yearly_bookings(self) -> pd.Series:
        """Bookings of complete trailing 12-month periods ending at the last full month, oldest first
        (the revenue target's base without MRR, the plan's bookings target's always). A period starting
        before the first full month of the deals file (data starting on the 23rd covers a week of its
        month, not the month) or running past the month its closing dates stop is left out
        (:mod:`kpi_kit.metrics.coverage`)."""
        v = self.m.volumes
        if v.bookings is None:
            return pd.Series(dtype=float)
        bk = v.bookings
        b = bk.groupby(bk["date"].dt.to_period("M"))["amount"].sum()
        starts = [d[c].min() for d, c in ((self.ctx.get("deals"), "created_at"), (self.ctx.get("revenue"), "date"))
                  if d is not None and len(d)]
        start_day = min(starts) if starts else pd.NaT
        first = self.ctx.last + 1 if b.empty else start_day.to_period("M") + int(start_day.day != 1)
        span = v.booking_coverage()
        return self._complete_years(b, first, min(self.ctx.last, span.last) if span is not None else self.ctx.last)

    def _complete_years(self, monthly: pd.Series, first: pd.Period, last: pd.Period) -> pd.Series:
        """Σ ``monthly`` over the (up to four) 12-month periods ending 0, 12, 24, 36 months before the last
        full month that lie within ``first`` .. ``last``, oldest first."""
        out = {}
        for k in range(4):
            end = self.ctx.last - 12 * k
            start = end - 11
            if end > last:
                continue
            if start < first:
                break
            # a month without revenue is missing from monthly: the sum skips it
            out[f"{start.strftime('%b %Y')} – {end.strftime('%b %Y')}"] = float(monthly.reindex(
                pd.period_range(start, end, freq="M")).sum())
        return pd.Series(out, dtype=float).iloc[::-1]

    def revenue_goal(self) -> dict:
        return revenue_target(self.yearly_revenue(), uplift=self.ctx.params.revenue_uplift)

    def _actual(self, metric: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[float, float]:
        """(actual to date, start value for level metrics) of a target's metric over its period."""
        stop = min(end, self.ctx.as_of)
        d = self.ctx.data
        if metric in ("contacts", "leads", "mqls", "sals", "sqls", "opportunities", "new_customers"):
            return self.m.volumes.count_between(metric, start, stop), 0.0
        if metric == "sessions" and d.get("traffic") is not None:
            t = d["traffic"]
            return float(t.loc[t["date"].between(start, stop), "sessions"].sum()), 0.0
        if metric == "bookings" and self.m.volumes.bookings is not None:
            return self.m.volumes.booked_between(start, stop), 0.0
        if metric == "spend" and d.get("spend") is not None:
            s = d["spend"]
            return float(s.loc[s["date"].between(start, stop), "spend"].sum()), 0.0
        if self.m.economics.has_mrr and metric in ("new_mrr", "revenue", "mrr", "customers"):
            b = self.m.economics.bridge.set_index("month")
            months = b.index[(b.index >= start.to_period("M")) & (b.index <= min(stop.to_period("M"), self.ctx.last))]
            if metric == "new_mrr":
                return float(b.loc[months, "new"].sum()), 0.0
            if metric == "revenue":
                return float(b.loc[months, "ending_mrr"].sum()), 0.0
            col = "customers" if metric == "customers" else "ending_mrr"  # a level: paying customers, MRR
            before = start.to_period("M") - 1
            start_value = float(b.loc[before, col]) if before in b.index else 0.0
            return (float(b.loc[months[-1], col]) if len(months) else np.nan), start_value
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
                            level=r.metric in ("mrr", "customers"))
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
        """The divergence alerts of the last full month (:func:`divergence_alert`): a leading volume up
        while the conversion below it fell, both significantly; rates' changes in pp."""
        s = self.series.loc[:self.ctx.last]
        th = self.ctx.params.alert_threshold
        rules = [("sessions", "leads", "sessions", "Sessions", "visit-to-lead rate", "count"),
                 ("leads", "mqls", "leads", "Leads", "lead-to-MQL rate", "count"),
                 ("mqls", "customers", "mqls", "MQLs", "MQL-to-customer rate", "count")]
        frame = {k: s[k] for k in ("sessions", "leads", "mqls", "customers", "pipeline")}
        deals = self.ctx.data.get("deals")
        if deals is not None:
            closed = deals[deals["status"].isin(["won", "lost"])]
            m = closed["closed_at"].dt.to_period("M")
            frame["won"] = (closed["status"] == "won").groupby(m).sum().reindex(s.index)
            frame["closed"] = closed.groupby(m).size().reindex(s.index)
            rules.append(("pipeline", "won", "closed", "Pipeline created", "win rate", "money"))
        out = []
        for volume, successes, base, vlabel, rlabel, unit in rules:
            a = divergence_alert(volume, frame[volume], frame[successes], frame[base], threshold=th,
                                 volume_label=vlabel, rate_label=rlabel, volume_unit=unit)
            if a:
                out.append(a)
        return out

    @cached_property
    def what_changed(self) -> pd.DataFrame:
        """The headline KPIs' changes, ranked (:func:`headline_changes`): the window's counts, amounts
        and rates against the previous window (lead-to-close CVR against the window a year earlier,
        its only base), and the month-end states (MRR, LTV, LTV:CAC, logo churn) of the last full
        month against the same month a year earlier. Values are the KPI book's and the overview
        series' (the cards' and the indicator table's); a value whose period its source does not fully
        cover is left out."""
        from .kpis import PREVIOUS, YEAR_AGO  # the book imports this module

        book, ctx = self.m.book, self.ctx
        windows = {PREVIOUS: ctx.previous, YEAR_AGO: ctx.year_ago}
        rows = []
        labels = {"leads": "Leads", "mqls": "MQLs", "new_customers": "New customers", "bookings": "Bookings",
                  "win_rate": "Win rate", "lead_to_close_cvr": "Lead-to-close CVR",
                  "avg_deal_size": "Average deal size", "spend": "Spend", "cpl": "Blended CPL",
                  "cac_paid": "Paid-media CAC", "cac_paid_only": "Paid-media CAC"}
        for metric, label in labels.items():
            base = YEAR_AGO if metric == "lead_to_close_cvr" else PREVIOUS
            now, then = book.find(metric, "window"), book.find(metric, base)
            if now is None or then is None or now.coverage != "full" or then.coverage != "full":
                continue
            row = {"kpi": metric, "label": label, "unit": now.unit, "value": now.value, "before": then.value,
                   "period": f"{ctx.window.label()} against {windows[base].label()}"}
            if now.unit == "percent":
                row |= {"n": now.n, "successes": _successes(now.value, now.n), "n_before": then.n,
                        "successes_before": _successes(then.value, then.n)}
            rows.append(row)
        last, year = ctx.last, ctx.last - 12
        month = f"{last:%b %Y} against {year:%b %Y}"
        series = self.series
        states = {"mrr": ("MRR (month end)", "money"), "ltv": (f"LTV (churn over the trailing "
                                                               f"{ctx.params.churn_window_months} months)", "money"),
                  "ltv_to_cac": ("LTV:CAC (trailing 3-month CAC)", "ratio"),
                  "logo_churn_rate": ("Logo churn rate (monthly)", "percent")}
        for key, (label, unit) in states.items():
            s = series[key]
            row = {"kpi": key, "label": label, "unit": unit, "value": s.get(last, np.nan),
                   "before": s.get(year, np.nan), "period": month}
            if key == "logo_churn_rate" and self.m.economics.has_mrr:  # churned of the customers at the month's start
                b = self.m.economics.bridge.set_index("month")
                start, churned = b["customers"], b["churned_customers"]
                row |= {"n": float(start.get(last - 1, np.nan)), "successes": float(churned.get(last, np.nan)),
                        "n_before": float(start.get(year - 1, np.nan)),
                        "successes_before": float(churned.get(year, np.nan))}
            rows.append(row)
        return headline_changes(rows, threshold=ctx.params.alert_threshold)

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

