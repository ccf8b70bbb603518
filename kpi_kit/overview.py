"""KPI overview metrics (SPEC "Revenue target", "Targets / OKRs", "Leading vs lagging"): goals,
target pacing, month-over-month series, lag estimation, divergence alerts, snapshot diffs and the
weighted pipeline forecast. Pure functions over tidy frames; the report composes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._dates import to_day
from ._math import safe_div
from .formatting import fmt_pct


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
    late but still open). Deals without a probability are left out (counted in ``without_probability``).
    """
    as_of = to_day(as_of)
    o = deals[deals["status"] == "open"].copy()
    expected = o[expected_col] if expected_col in o else pd.Series(pd.NaT, index=o.index)
    fallback = o["created_at"] + pd.to_timedelta(0 if np.isnan(cycle_days) else cycle_days, unit="D")
    expected = expected.where(expected.notna(), fallback)
    expected = expected.where(expected > as_of, as_of + pd.offsets.MonthBegin(1))
    o["month"] = expected.dt.to_period("M")
    has = o["probability"].notna() if "probability" in o else pd.Series(False, index=o.index)
    o["weighted"] = (o["amount"] * o.get("probability", np.nan)).where(has, 0.0)
    g = o.groupby("month").agg(open_deals=("amount", "size"), pipeline=("amount", "sum"), expected=("weighted", "sum"),
                               without_probability=("amount", lambda s: int((~has[s.index]).sum())))
    return g.reset_index()
