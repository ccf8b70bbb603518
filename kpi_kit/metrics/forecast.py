"""MRR forecast with scenarios and its back-test (SPEC "Plan: from the goal to the KPIs", "MRR forecast").

Numbers only: the forecast page draws them with :func:`kpi_kit.charts.mrr_forecast_chart`.

* **Base model.** At an origin month ``t``, the trailing ``trailing``-month (3) means of new MRR,
  expansion and reactivation (amounts per month) and of the contraction and churn *rates*
  (contraction / starting MRR, churn / starting MRR) are applied forward from MRR at ``t``:
  ``MRR[k+1] = MRR[k] + new + expansion + reactivation − (contraction rate + churn rate) × MRR[k]``.
  Only months up to ``t`` are used. A month whose movements are unknown (NaN: history rebuilt
  from a snapshot, ``history_rebuilt_before``) is skipped in the means, and a month with no
  starting MRR in the rates' mean; with none left the forecast is n/a (NaN).
* **Scenarios.** Target = base × (1 + uplift × k / 12) and worst = base × (1 − uplift × k / 12)
  ``k`` months ahead (never below 0): the band widens linearly and reaches ±``uplift`` (the
  client's ``revenue_uplift``) at 12 months, the revenue target's yearly uplift.
* **Back-test.** From every origin ``t`` with at least ``min_history`` months of MRR up to and
  including ``t``, each model forecasts 1, 3 and 6 months ahead where ``t + h`` is at most the last
  full month; MAPE = mean |forecast − actual| / actual. A pair counts when its actual is known and
  not 0 and every model compared has a forecast for it, so the models are scored on the same pairs.
  ``naive`` is MRR of ``t``; ``ets`` (statsmodels' Holt-Winters exponential smoothing, additive damped
  trend, fitted on MRR levels up to ``t``) is measured only when asked for: it is the one slow model.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

GAINS = ("new", "expansion", "reactivation")
LOSSES = ("contraction", "churn")
MODELS = ("base", "naive", "ets")
SCENARIOS = ("base", "target", "worst")


def _monthly(bridge: pd.DataFrame) -> pd.DataFrame:
    """The bridge indexed by a gap-free PeriodIndex (months missing from it are unknown), with the
    MRR at month end, the month's gains and its loss rate; NaN where unknown."""
    if bridge is None or len(bridge) == 0 or "ending_mrr" not in bridge:
        return pd.DataFrame({"mrr": [], "gain": [], "loss_rate": []}, index=pd.PeriodIndex([], freq="M"),
                            dtype="float64")
    b = bridge.set_index(pd.PeriodIndex(bridge["month"], freq="M")).sort_index()
    b = b[~b.index.duplicated(keep="last")]
    b = b.reindex(pd.period_range(b.index.min(), b.index.max(), freq="M"))
    cols = [*GAINS, *LOSSES]
    moves = (b[cols] if set(cols) <= set(b.columns) else b.reindex(columns=cols)).astype("float64")
    known = moves.notna().all(axis=1)  # a month's movements are known together or not at all
    starting = b["starting_mrr"].astype("float64") if "starting_mrr" in b else pd.Series(np.nan, index=b.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss_rate = (moves["contraction"] + moves["churn"]) / starting.where(starting > 0)
    return pd.DataFrame({"mrr": b["ending_mrr"].astype("float64"),
                         "gain": moves[list(GAINS)].sum(axis=1).where(known),
                         "loss_rate": loss_rate.where(known)}, index=b.index)


def _drivers(monthly: pd.DataFrame, trailing: int) -> pd.DataFrame:
    """Per origin month: its MRR, the trailing mean of gains per month and of the loss rate (unknown
    months skipped; NaN when none is left in the window)."""
    if trailing < 1:
        raise ValueError(f"trailing must be at least 1 month, not {trailing}")
    roll = monthly[["gain", "loss_rate"]].rolling(trailing, min_periods=1).mean()
    return pd.DataFrame({"mrr": monthly["mrr"], "gain": roll["gain"], "loss_rate": roll["loss_rate"]})


def _project(mrr: float, gain: float, loss_rate: float, horizon: int) -> np.ndarray:
    """MRR 1..``horizon`` months after a month at ``mrr``: each month adds ``gain`` and loses
    ``loss_rate`` of the month before. All NaN when any input is unknown."""
    out = np.full(horizon, np.nan)
    if not (np.isfinite(mrr) and np.isfinite(gain) and np.isfinite(loss_rate)):
        return out
    level = mrr
    for k in range(horizon):
        level = level + gain - loss_rate * level
        out[k] = level
    return out


def _months_after(origin: pd.Period, horizon: int) -> pd.PeriodIndex:
    return pd.period_range(origin + 1, periods=horizon, freq="M", name="month")


def base_forecast(bridge: pd.DataFrame, origin: pd.Period, horizon: int, *, trailing: int = 3) -> pd.Series:
    """The kit's base MRR forecast for the ``horizon`` months after ``origin``, fitted on the bridge's
    months up to ``origin`` only.

    Parameters
    ----------
    bridge : DataFrame
        The MRR bridge (:func:`kpi_kit.metrics.economics.mrr_bridge`): ``month`` (Period[M]),
        ``starting_mrr``, ``new``, ``expansion``, ``contraction``, ``churn``, ``reactivation``,
        ``ending_mrr``. Movements may be NaN (unknown: rebuilt history).
    origin : Period
        The last month the forecast knows; its ``ending_mrr`` is the starting level.
    horizon : int
        Months forecast (``origin + 1`` … ``origin + horizon``).
    trailing : int
        Months averaged for the gains and rates: ``origin − trailing + 1`` … ``origin``, unknown
        months skipped.

    Returns
    -------
    Series
        MRR by month (PeriodIndex named ``month``), named ``mrr``; all NaN (n/a) when ``origin``
        is not in the bridge, its MRR is unknown, or no month of the trailing window has known
        movements (or, for the rates, a starting MRR).

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2026-01", periods=3, freq="M"),
    ...                   "starting_mrr": [1000.0, 1000.0, 1000.0], "new": [100.0, 100.0, 100.0],
    ...                   "expansion": [0.0] * 3, "reactivation": [0.0] * 3, "contraction": [0.0] * 3,
    ...                   "churn": [50.0, 50.0, 50.0], "ending_mrr": [1050.0, 1050.0, 1000.0]})
    >>> base_forecast(b, pd.Period("2026-03", "M"), 2).round(2).tolist()  # 1000 + 100 − 5 % × 1000
    [1050.0, 1097.5]
    """
    origin = pd.Period(origin, freq="M")
    d = _drivers(_monthly(bridge), trailing)
    if origin in d.index:
        row = d.loc[origin]
        values = _project(float(row["mrr"]), float(row["gain"]), float(row["loss_rate"]), horizon)
    else:
        values = np.full(horizon, np.nan)
    return pd.Series(values, index=_months_after(origin, horizon), name="mrr", dtype="float64")


def basis_months(bridge: pd.DataFrame, origin: pd.Period, *, trailing: int = 3) -> int:
    """Months of known movements the base model averages at ``origin`` (at most ``trailing``): fewer
    than ``trailing`` is a forecast resting on less history than the model's window, worth saying.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2026-01", periods=3, freq="M"),
    ...                   "starting_mrr": [1000.0] * 3, "new": [np.nan, np.nan, 10.0], "expansion": [np.nan, np.nan, 0.0],
    ...                   "reactivation": [np.nan, np.nan, 0.0], "contraction": [np.nan, np.nan, 0.0],
    ...                   "churn": [np.nan, np.nan, 5.0], "ending_mrr": [1000.0, 1000.0, 1005.0]})
    >>> basis_months(b, pd.Period("2026-03", "M"))
    1
    """
    origin = pd.Period(origin, freq="M")
    gain = _monthly(bridge)["gain"]
    return int(gain[(gain.index > origin - trailing) & (gain.index <= origin)].notna().sum())


def mrr_forecast(bridge: pd.DataFrame, last: pd.Period, *, months: int = 12, uplift: float = 0.05,
                 trailing: int = 3) -> pd.DataFrame:
    """Base, target and worst MRR for the ``months`` months after ``last`` (the last full month).

    Target and worst widen linearly around base: ``k`` months ahead, target = base × (1 + uplift ×
    k / 12) and worst = base × (1 − uplift × k / 12), never below 0, so at 12 months they stand
    ±``uplift`` (the client's ``revenue_uplift``, the yearly uplift of the revenue target) from
    base. A base that is n/a makes all three n/a.

    Parameters
    ----------
    bridge : DataFrame
        The MRR bridge (see :func:`base_forecast`).
    last : Period
        The last full month: the forecast's origin.
    months : int
        Months forecast.
    uplift : float
        The scenarios' distance from base at 12 months, as a share of base.
    trailing : int
        Months averaged by the base model.

    Returns
    -------
    DataFrame
        ``month`` (Period[M]), ``scenario`` (``base``, ``target``, ``worst``) and ``mrr``; one row per
        scenario and month, scenario by scenario.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2026-01", periods=3, freq="M"),
    ...                   "starting_mrr": [1000.0] * 3, "new": [0.0] * 3, "expansion": [0.0] * 3,
    ...                   "reactivation": [0.0] * 3, "contraction": [0.0] * 3, "churn": [0.0] * 3,
    ...                   "ending_mrr": [1000.0] * 3})
    >>> f = mrr_forecast(b, pd.Period("2026-03", "M"), months=12, uplift=0.06)
    >>> f[f["month"] == pd.Period("2027-03", "M")]["mrr"].round(2).tolist()  # base, target, worst
    [1000.0, 1060.0, 940.0]
    """
    base = base_forecast(bridge, last, months, trailing=trailing)
    step = uplift * np.arange(1, months + 1) / 12
    mrr = {"base": base.to_numpy(), "target": np.maximum(base.to_numpy() * (1 + step), 0.0),
           "worst": np.maximum(base.to_numpy() * (1 - step), 0.0)}
    return pd.DataFrame({"month": pd.PeriodIndex(np.tile(base.index, len(SCENARIOS)), freq="M"),
                         "scenario": np.repeat(SCENARIOS, months),
                         "mrr": np.concatenate([mrr[s] for s in SCENARIOS])})


def ets_forecast(bridge: pd.DataFrame, origin: pd.Period, horizon: int, *, min_months: int = 10) -> pd.Series:
    """MRR for the ``horizon`` months after ``origin`` by exponential smoothing (statsmodels'
    Holt-Winters ``ExponentialSmoothing``: additive, damped trend, no seasonality, parameters
    estimated) fitted on month-end MRR up to ``origin`` only. A back-test model, several times
    slower than the base model: see the README's "MRR forecast" for how it compared.

    Parameters
    ----------
    bridge : DataFrame
        The MRR bridge: ``month`` and ``ending_mrr`` are used.
    origin : Period
        The last month the model sees.
    horizon : int
        Months forecast.
    min_months : int
        Known months of MRR up to ``origin`` needed for a fit; fewer give n/a.

    Returns
    -------
    Series
        MRR by month (PeriodIndex named ``month``), named ``mrr``; all NaN when there is too little
        history or the fit fails.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2025-01", periods=12, freq="M"),
    ...                   "ending_mrr": [1000.0 + 100 * i for i in range(12)]})
    >>> ets_forecast(b, pd.Period("2025-12", "M"), 1).round(-1).tolist()  # doctest: +SKIP
    [2200.0]
    """
    origin = pd.Period(origin, freq="M")
    index = _months_after(origin, horizon)
    y = _monthly(bridge)["mrr"]
    y = y[y.index <= origin]
    values = np.full(horizon, np.nan)
    if len(y) and y.index[-1] == origin and y.notna().sum() >= min_months and np.isfinite(y.iloc[-1]):
        y = y.loc[y.notna().idxmax():].interpolate()  # the series from its first known month, gaps bridged
        from statsmodels.tsa.holtwinters import ExponentialSmoothing  # heavy import, only when asked for

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes on short series: the back-test judges the fit
            try:
                fit = ExponentialSmoothing(y.to_numpy(), trend="add", damped_trend=True,
                                           initialization_method="estimated").fit()
                values = np.asarray(fit.forecast(horizon), dtype="float64")
            except (ValueError, np.linalg.LinAlgError):
                pass
    return pd.Series(values, index=index, name="mrr", dtype="float64")


def backtest(bridge: pd.DataFrame, last: pd.Period, *, horizons=(1, 3, 6), min_history: int = 12,
             models=("base", "naive"), trailing: int = 3) -> pd.DataFrame:
    """How far each model's forecasts were off on the client's own history (SPEC "Back-test").

    From every origin month ``t`` of the bridge with at least ``min_history`` months of known MRR up
    to and including ``t``, each model forecasts ``h`` months ahead for every ``h`` of ``horizons``
    with ``t + h`` at most ``last``, fitted on months up to ``t`` only. MAPE is the mean of
    |forecast − actual| / actual over the pairs (origin, horizon). A pair is left out when its actual
    is unknown or 0, or when any model of ``models`` has no forecast for it (the models are scored
    on the same pairs).

    Parameters
    ----------
    bridge : DataFrame
        The MRR bridge (see :func:`base_forecast`).
    last : Period
        The last full month: no actual after it is used.
    horizons : sequence of int
        Months ahead.
    min_history : int
        Months of MRR an origin needs, itself included.
    models : sequence of str
        Among ``base`` (the kit's model), ``naive`` (MRR of ``t``) and ``ets`` (:func:`ets_forecast`;
        one model fit per origin, much slower than the others).
    trailing : int
        Months averaged by the base model.

    Returns
    -------
    DataFrame
        ``model``, ``horizon``, ``mape`` (a share: 0.024 is 2.4 %; NaN when ``n`` is 0) and ``n`` (pairs),
        one row per model and horizon, model by model.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2025-01", periods=13, freq="M"),
    ...                   "starting_mrr": [0.0] + [100.0 * i for i in range(1, 13)],
    ...                   "new": [100.0] * 13, "expansion": [0.0] * 13, "reactivation": [0.0] * 13,
    ...                   "contraction": [0.0] * 13, "churn": [0.0] * 13,
    ...                   "ending_mrr": [100.0 * i for i in range(1, 14)]})
    >>> backtest(b, pd.Period("2026-01", "M"), horizons=(1,)).round(4).values.tolist()  # 1,300 from 1,200
    [['base', 1, 0.0, 1], ['naive', 1, 0.0769, 1]]
    """
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown forecast model(s) {unknown}; expected some of {list(MODELS)}")
    horizons = tuple(int(h) for h in horizons)
    last = pd.Period(last, freq="M")
    monthly = _monthly(bridge)
    monthly = monthly[monthly.index <= last]
    d = _drivers(monthly, trailing)
    mrr = monthly["mrr"]
    history = mrr.notna().cumsum()
    top = max(horizons, default=0)
    errors = {(m, h): [] for m in models for h in horizons}
    for t in mrr.index[(history >= min_history).to_numpy()]:
        reach = min(top, (last - t).n)
        if reach < 1 or not np.isfinite(mrr[t]):
            continue
        paths = {}
        for m in models:
            if m == "base":
                row = d.loc[t]
                paths[m] = _project(float(row["mrr"]), float(row["gain"]), float(row["loss_rate"]), reach)
            elif m == "naive":
                paths[m] = np.full(reach, float(mrr[t]))
            else:
                paths[m] = ets_forecast(bridge, t, reach).to_numpy()  # it sees months up to t only
        for h in horizons:
            if h > reach:
                continue
            actual = mrr.get(t + h, np.nan)
            forecasts = [paths[m][h - 1] for m in models]
            if not np.isfinite(actual) or actual == 0 or not np.all(np.isfinite(forecasts)):
                continue
            for m, f in zip(models, forecasts):
                errors[(m, h)].append(abs(f - actual) / abs(actual))
    rows = [{"model": m, "horizon": h, "mape": float(np.mean(errors[(m, h)])) if errors[(m, h)] else np.nan,
             "n": len(errors[(m, h)])} for m in models for h in horizons]
    return pd.DataFrame(rows, columns=["model", "horizon", "mape", "n"]).astype({"n": "int64", "mape": "float64"})


__all__ = ["base_forecast", "basis_months", "mrr_forecast", "backtest", "ets_forecast"]
