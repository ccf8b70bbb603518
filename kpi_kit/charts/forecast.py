"""The MRR forecast chart: MRR to date, then the base forecast with its target and worst scenarios."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import style as kp

HISTORY_MONTHS = 24  # months of actual MRR drawn before the forecast
SCENARIO_STYLE = {  # scenario -> (label, colour, line style)
    "base": ("Base forecast", kp.ACCENT, "-"),
    "target": ("Target scenario", kp.GOOD, "--"),
    "worst": ("Worst scenario", kp.BAD, "--"),
}


def mrr_forecast_chart(history: pd.Series, forecast: pd.DataFrame, *, currency: str = "USD", ax=None):
    """Month-end MRR of the last 24 months as a line, then the forecast: base solid, target and worst
    dashed with the band between them shaded; each forecast line starts from the last actual MRR.

    Parameters
    ----------
    history : Series
        Actual month-end MRR indexed by month (PeriodIndex); the last 24 months are drawn.
    forecast : DataFrame
        ``month`` (Period[M]), ``scenario`` (``base``, ``target``, ``worst``) and ``mrr``, as
        :func:`kpi_kit.metrics.forecast.mrr_forecast` gives them; a scenario with no known value is not drawn.
    currency : str
        ISO code, for the axis label and ticks.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 3.8 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = mrr_forecast_chart(bridge.set_index("month")["ending_mrr"], forecast, currency="USD")  # doctest: +SKIP
    """
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.8)) if ax is None else (ax.figure, ax)
    h = pd.Series(history, dtype="float64").tail(HISTORY_MONTHS)
    h.index = pd.PeriodIndex(h.index, freq="M")
    if len(h):
        ax.plot(h.index.to_timestamp(), h.to_numpy(), color=kp.INK, lw=2, marker="o", ms=3, label="Actual MRR")
    f = forecast[forecast["mrr"].notna()] if len(forecast) else forecast
    months = sorted(pd.PeriodIndex(f["month"], freq="M").unique()) if len(f) else []
    n = len(pd.PeriodIndex(forecast["month"], freq="M").unique()) if len(forecast) else 0
    # each line starts at the last actual month when the forecast follows it
    joined = bool(len(h) and len(months) and months[0] == h.index[-1] + 1 and np.isfinite(h.iloc[-1]))
    lines = {}
    for scenario in SCENARIO_STYLE:
        s = f[f["scenario"] == scenario] if len(f) else f
        if not len(s):
            continue
        s = pd.Series(s["mrr"].to_numpy(dtype="float64"), index=pd.PeriodIndex(s["month"], freq="M")).sort_index()
        if joined:
            s = pd.concat([pd.Series([h.iloc[-1]], index=h.index[-1:]), s])
        lines[scenario] = s
        label, colour, style = SCENARIO_STYLE[scenario]
        ax.plot(s.index.to_timestamp(), s.to_numpy(), color=colour, lw=2 if scenario == "base" else 1.4, ls=style,
                label=label)
    if "target" in lines and "worst" in lines:
        band = pd.concat([lines["worst"], lines["target"]], axis=1, join="inner")
        ax.fill_between(band.index.to_timestamp(), band.iloc[:, 0], band.iloc[:, 1], color=kp.ACCENT, alpha=0.08,
                        lw=0)
    if joined:
        ax.axvline(h.index[-1].to_timestamp(), color=kp.MUTED, lw=0.8, ls=":")
    values = [h.to_numpy(), *(s.to_numpy() for s in lines.values())]
    kp.money_axis(ax, currency)
    ax.set_ylim(0, kp.upper_limit(np.concatenate(values) if values else []))
    kp.month_axis(ax)
    ax.set_title(f"MRR forecast, next {n} months" if n else "MRR forecast")
    ax.set_ylabel(f"MRR ({currency})")
    ax.set_xlabel("Month")
    kp.legend_below(ax)
    return ax


__all__ = ["mrr_forecast_chart"]
