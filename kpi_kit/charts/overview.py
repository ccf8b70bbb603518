"""Overview charts: leading and lagging indicators as small multiples, and the pipeline forecast."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import style as kp
from .grid import Grid


def indicator_chart(series: pd.DataFrame, spec: Iterable[tuple], *, targets: pd.DataFrame | None = None,
                    currency: str = "USD", months: int = 24) -> Grid:
    """Small multiples of monthly indicators, each panel a small figure of its own (a :class:`Grid`:
    the page shows three to a row on a laptop, one on a phone): leading ones in blue, lagging ones in
    green, monthly targets dashed, every y axis from zero (a count, an amount, a rate or a duration
    drawn from its minimum would make a few per cent look dramatic).

    The months drawn are the last ``months`` of ``series``, from the first with data in any panel.
    Margins are fixed (``tight_layout`` would measure every tick label of every panel), the same in
    every panel, so the panels line up.

    Parameters
    ----------
    series : DataFrame
        One row per month (PeriodIndex, monthly), one column per indicator (NaN where unknown).
    spec : list of (key, label, unit, kind)
        One per panel, in order: the column of ``series``, its title, its unit (``"money"``,
        ``"percent"``, ``"count"``; anything else keeps the plain tick format) and its kind
        (``"leading"`` or ``"lagging"``). Further items of a tuple are ignored.
    targets : DataFrame, optional
        Target rows: ``metric`` (a key), ``period_start``, ``period_end`` (dates) and ``target``; those
        covering one calendar month are drawn.
    currency : str
        ISO code for money panels.
    months : int
        The most recent months drawn (two years: enough for year-over-year).

    Returns
    -------
    Grid
        One figure per panel (``PANEL`` in size), in order; ``grid.axes`` their Axes.

    Examples
    --------
    >>> spec = [("leads", "Leads", "count", "leading"), ("mrr", "MRR", "money", "lagging")]
    >>> grid = indicator_chart(series, spec, targets=targets, currency="USD")  # doctest: +SKIP
    """
    import textwrap

    spec = [tuple(s)[:4] for s in spec]
    if not spec:
        raise ValueError("indicator_chart needs at least one panel")
    keys = [s[0] for s in spec]
    series = series.set_axis(pd.PeriodIndex(series.index, freq="M"))
    shown = series.index[-months:]  # without a young company's early noise
    first = series.loc[shown, keys].dropna(how="all").index.min()  # nor months before the data starts
    shown = shown[shown >= first] if not pd.isna(first) else shown
    x = shown.to_timestamp()
    width, height = kp.PANEL
    titles = [textwrap.wrap(f"{label} · {kind}", 38) for _, label, _, kind in spec]
    lines = max(len(t) for t in titles)  # one top margin for every panel: they line up
    figures = []
    for (key, _label, unit, kind), title in zip(spec, titles):
        fig, ax = plt.subplots(figsize=(width, height + 0.16 * (lines - 1)))
        s = series[key].reindex(shown).to_numpy(dtype=float)
        ax.plot(x, s, color=kp.ACCENT if kind == "leading" else kp.GOOD, lw=1.8)
        drawn = [s]
        if targets is not None:
            tm = targets[targets["metric"] == key]
            tm = tm[(tm["period_start"].dt.to_period("M") == tm["period_end"].dt.to_period("M"))
                    & (tm["period_start"] >= x[0])]
            if len(tm):
                ax.plot(tm["period_start"], tm["target"], color=kp.INK, ls="--", lw=1, label="target")
                drawn.append(tm["target"].to_numpy(dtype=float))
        ax.set_title("\n".join(title), fontsize=9, loc="left")
        kp.unit_axis(ax, unit, currency, percent_decimals=1)
        ax.tick_params(labelsize=8)
        ax.set_xlim(x[0], x[-1])
        kp.zero_based(ax, np.concatenate(drawn))
        kp.month_axis(ax)
        inch_w, inch_h = 1 / fig.get_figwidth(), 1 / fig.get_figheight()
        fig.subplots_adjust(left=0.62 * inch_w, right=1 - 0.12 * inch_w, bottom=0.3 * inch_h,
                            top=1 - (0.12 + 0.16 * lines) * inch_h)
        figures.append(fig)
    return Grid(figures, caption="From the top of the funnel to revenue: leading (blue) and lagging (green) "
                                 "indicators by month, targets dashed, every axis from zero.")


def forecast_chart(forecast: pd.DataFrame, *, targets: pd.DataFrame | None = None, metric: str = "bookings",
                   currency: str = "USD", ax=None):
    """Expected bookings of open deals by expected close month, with the bookings target spread
    evenly over its months as dashed steps.

    Parameters
    ----------
    forecast : DataFrame
        One row per expected close month to draw: ``month`` (Period[M]) and ``expected`` (amount ×
        probability summed).
    targets : DataFrame, optional
        Target rows: ``metric``, ``period_start``, ``period_end`` (dates) and ``target``; the rows of
        ``metric`` are drawn.
    metric : str
        The target metric drawn.
    currency : str
        ISO code, for the axis label and ticks.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 3.6 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = forecast_chart(forecast, targets=targets, currency="USD")  # doctest: +SKIP
    """
    f = forecast
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
    x = pd.PeriodIndex(f["month"], freq="M").to_timestamp()
    slipped = f["slipped_expected"] if "slipped_expected" in f else pd.Series(0.0, index=f.index)
    ax.bar(x, f["expected"] - slipped, width=20, color=kp.ACCENT, label="Expected bookings (amount × probability)")
    if (slipped > 0).any():  # deals whose expected close has passed, moved to the next month: their own bar
        ax.bar(x, slipped, width=20, bottom=f["expected"] - slipped, color=kp.MUTED, hatch="//", edgecolor="white",
               label="Of which slipped deals (expected close already passed)")
    if targets is not None:
        b = targets[targets["metric"] == metric]
        for r in b.itertuples():
            months = pd.period_range(r.period_start, r.period_end, freq="M")
            per_month = r.target / len(months)
            ax.plot(months.to_timestamp(), [per_month] * len(months), color=kp.INK, ls="--", lw=1.2)
        if len(b):
            ax.plot([], [], color=kp.INK, ls="--", label="Bookings target per month")
    kp.money_axis(ax, currency)
    ax.set_xlim(x.min() - pd.Timedelta(days=20), x.max() + pd.Timedelta(days=20))
    ax.xaxis.set_major_locator(kp.MonthStartLocator())
    ax.xaxis.set_major_formatter(mpl.dates.DateFormatter("%b %Y"))
    ax.set_title("Weighted pipeline forecast by expected close month")
    ax.set_ylabel(f"Expected bookings ({currency})")
    ax.set_xlabel("Expected close month")
    kp.legend_below(ax)
    return ax


__all__ = ["indicator_chart", "forecast_chart"]
