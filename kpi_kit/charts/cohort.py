"""Cohort charts: retention heatmaps and curves by first paid month, and conversion curves of
contact cohorts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from . import style as kp


def _cohort_label(cohort) -> str:
    """``Period('2026-01')`` -> ``'2026-01'``, a quarter -> ``'2026Q1'``, anything else as text."""
    if isinstance(cohort, pd.Period):
        return cohort.strftime("%Y-%m") if cohort.freqstr.startswith("M") else str(cohort)
    return str(cohort)


def retention_heatmap(cohorts: pd.DataFrame, *, value: str = "logo_rate", unit: str = "month", last: int = 24,
                      max_age: int | None = None, min_cohort_size: int = 10, min_sample: int | None = None, ax=None):
    """Retention triangle: one row per cohort of first payment (labelled with its size), one column
    per age, small cohorts greyed out.

    Parameters
    ----------
    cohorts : DataFrame
        Tidy, one row per cohort and age: ``cohort`` (Period or label), ``period`` (age in months or
        quarters, 0 at first payment), ``customers`` (the cohort's size) and the ``value`` column.
    value : {"logo_rate", "revenue_rate"}
        Logo retention (share still paying, colour scale 0–100 %) or revenue retention (cohort MRR ÷
        starting MRR, scale up to its largest value, at least 100 %).
    unit : {"month", "quarter"}
        The cohorts' grain, for the labels.
    last : int
        The most recent cohorts drawn.
    max_age : int, optional
        Oldest age drawn; by default 24 months or 8 quarters.
    min_cohort_size : int
        Cohorts with fewer customers are greyed out.
    min_sample : int, optional
        Cohorts with fewer customers are greyed out too: each of their cells is a rate over fewer
        than ``min_sample`` customers (SPEC "Small samples").
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` + 0.5 in wide, 0.22 in per cohort + 1.5 in high
        (at least 3 in).

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = retention_heatmap(cohorts, value="revenue_rate", min_cohort_size=10)  # doctest: +SKIP
    """
    t = cohorts.pivot(index="cohort", columns="period", values=value).tail(last)
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["customers"].reindex(t.index)
    small = (sizes < max(min_cohort_size, min_sample or 0)).to_numpy()
    t.index = [f"{_cohort_label(c)} (n={n})" for c, n in zip(t.index, sizes)]
    max_age = (24 if unit == "month" else 8) if max_age is None else max_age
    t = t.loc[:, [c for c in t.columns if c <= max_age]]
    logo = value == "logo_rate"
    fit = ax is None
    if fit:  # a little wider than other charts: 25 ages of three-digit values at a readable size
        _, ax = plt.subplots(figsize=(kp.WIDTH + 0.5, max(3.0, 0.22 * len(t) + 1.5)))
    return kp.heatmap(t, fit_margins=fit, title=f"{'Logo' if logo else 'Revenue'} retention by {unit} of first payment",
                      xlabel=f"{unit.capitalize()}s since first payment", ylabel="Cohort (customers)",
                      mask_rows=small, vmax=1.0 if logo else max(1.0, float(np.nanmax(t.to_numpy(dtype=float)))),
                      cbar_label="share of cohort" if logo else "cohort MRR ÷ MRR at start", ax=ax)


def average_retention_chart(logo: pd.DataFrame, revenue: pd.DataFrame | None = None, *, unit: str = "month",
                            min_sample: int | None = None, ax=None):
    """Pooled logo and revenue retention by age, over bars of the customers behind each point.

    Parameters
    ----------
    logo : DataFrame
        The average logo retention curve: ``period`` (age), ``rate`` and ``customers`` (customers
        behind the point, drawn as grey bars on a right-hand axis; ``cohorts`` when there is no
        ``customers`` column); ``low`` and ``high``, where given, are drawn as a band (its 95 % interval).
    revenue : DataFrame, optional
        The average revenue retention curve: ``period`` and ``rate``.
    unit : {"month", "quarter"}
        The cohorts' grain, for the labels.
    min_sample : int, optional
        Points resting on fewer customers are drawn dotted with hollow markers, and the bars get a
        dashed line at ``min_sample``: few cohorts reach the oldest ages, and a curve read there can
        seem to rise on a handful of customers.
    ax : Axes, optional
        Axes for the curves (the bars get a twin axis behind them); by default a new figure ``WIDTH`` × 3.8 in.

    Returns
    -------
    Axes
        The retention axes; the customer-count axis is its twin (``ax.figure.axes``).

    Examples
    --------
    >>> ax = average_retention_chart(logo_curve, revenue_curve, unit="month", min_sample=30)  # doctest: +SKIP
    """
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.8)) if ax is None else (ax.figure, ax)
    behind = "customers" if "customers" in logo else "cohorts"
    n = logo.set_index("period")[behind]
    if "low" in logo and logo["low"].notna().any():  # the logo rate's 95 % interval: wide where few customers
        ax.fill_between(logo["period"], logo["low"], logo["high"], color=kp.ACCENT, alpha=0.12, lw=0,
                        label="Logo retention, 95 % interval")
    for c, label, colour in ((logo, "Logo retention", kp.ACCENT), (revenue, "Cohort revenue retention", kp.GOOD)):
        if c is None:
            continue
        small = (n.reindex(c["period"]).to_numpy(dtype=float) < min_sample) if min_sample else \
            np.zeros(len(c), bool)
        solid = c[~small]
        ax.plot(solid["period"], solid["rate"], color=colour, lw=2, marker="o", ms=3, label=label)
        if small.any():  # the tail on few customers: dotted from the last solid point on, hollow markers
            tail = c[small] if solid.empty else pd.concat([solid.tail(1), c[small]])
            ax.plot(tail["period"], tail["rate"], color=colour, lw=1.2, ls=":", alpha=0.6)
            ax.plot(c.loc[small, "period"], c.loc[small, "rate"], ls="none", marker="o", ms=4, mfc="white",
                    mec=colour, alpha=0.8)
    ax2 = ax.twinx()
    ax2.bar(n.index, n.to_numpy(), color=kp.GRID, alpha=0.7, label=f"{behind.capitalize()} behind each point (right)")
    if min_sample and behind == "customers":
        ax2.axhline(min_sample, color=kp.MUTED, lw=0.8, ls="--",
                    label=f"{min_sample:,} customers: fewer and the point is dotted (right)")
    ax2.set_ylabel(behind.capitalize())
    ax2.grid(False)
    ax2.set_zorder(0)
    ax.set_zorder(1)
    ax.patch.set_visible(False)
    kp.percent_axis(ax)
    ax.axhline(1.0, color=kp.MUTED, lw=0.8, ls=":")
    ax.set_title(f"Average retention by {unit}s since first payment (cohorts pooled)")
    ax.set_xlabel(f"{unit.capitalize()}s since first payment")
    ax.set_ylabel("Retention")
    kp.legend_below(ax)  # with the twin's bars
    return ax


def retention_curves_chart(curves: pd.DataFrame, sizes: pd.Series | None = None, *, by: str = "channel",
                           min_cohort_size: int = 10, max_age: int = 24, ax=None, max_groups: int | None = None,
                           min_sample: int | None = None):
    """Pooled logo retention curve of each group (channel, segment, ...), groups and ages with too few
    customers left out.

    Parameters
    ----------
    curves : DataFrame
        Tidy, one row per group and age: ``<by>`` (group), ``period`` (months since first payment),
        ``rate`` and ``customers`` (customers behind the point).
    sizes : Series, optional
        Customers per group (index: group), shown in the legend; by default ``customers`` at age 0.
    by : str
        The group column; ``"channel"`` colours lines by channel.
    min_cohort_size : int
        Groups with fewer customers, and ages with fewer customers behind them, are left out.
    max_age : int
        Oldest age drawn.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 4 in.
    max_groups : int, optional
        The largest groups drawn (a curve is a rate: the rest are left out, not folded).
    min_sample : int, optional
        Raises both cuts to ``min_sample`` customers: a curve stops where fewer customers are old
        enough to stand behind it (SPEC "Small samples"), so it does not wander on a handful of them.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = retention_curves_chart(curves, sizes, by="segment", min_cohort_size=10)  # doctest: +SKIP
    """
    if sizes is None:
        sizes = curves[curves["period"] == 0].groupby(by)["customers"].sum()
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.0)) if ax is None else (ax.figure, ax)
    largest = set(kp.top_labels(sizes, max_groups))  # a curve is a rate: the rest are left out, not folded
    least = max(min_cohort_size, min_sample or 0)
    for name, part in curves.groupby(by):
        if sizes.get(name, 0) < least or name not in largest:
            continue
        part = part[(part["period"] <= max_age) & (part["customers"] >= least)]
        colour = kp.channel_colour(name) if by == "channel" else None
        ax.plot(part["period"], part["rate"], lw=2, color=colour, label=f"{name} (n={sizes[name]})")
    kp.percent_axis(ax)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Logo retention by {by}" + (f" (ages with {least:,}+ customers behind them)" if min_sample else ""))
    ax.set_xlabel("Months since first payment")
    ax.set_ylabel("Share still paying")
    kp.legend_below(ax)
    return ax


def conversion_curves_chart(curves: pd.DataFrame, *, cohorts: int = 8, step: int = 3, ax=None):
    """Cumulative conversion to customer of contact cohorts by months since creation, a line per
    cohort, later cohorts darker.

    Parameters
    ----------
    curves : DataFrame
        Tidy, one row per creation-month cohort and age: ``cohort`` (Period[M] or label),
        ``months_since`` and ``rate`` (share of the cohort converted by then).
    cohorts : int
        Lines drawn: the most recent cohorts, every ``step``-th one (for readability).
    step : int
        Months between the cohorts drawn.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 4 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = conversion_curves_chart(funnel_curves, cohorts=8)  # doctest: +SKIP
    """
    keep = sorted(curves["cohort"].unique())[-(cohorts * step)::step]
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.0)) if ax is None else (ax.figure, ax)
    cmap = plt.get_cmap("Blues")
    for i, c in enumerate(keep):
        part = curves[curves["cohort"] == c]
        ax.plot(part["months_since"], part["rate"], lw=2, color=cmap(0.35 + 0.65 * i / max(1, len(keep) - 1)),
                label=str(c))
    kp.percent_axis(ax, decimals=1)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))  # whole months
    ax.set_title("Cumulative conversion to customer by months since contact creation")
    ax.set_xlabel("Months since the contact was created")
    ax.set_ylabel("Share of cohort that became customers")
    kp.legend_below(ax, title="Creation month")
    return ax


__all__ = ["retention_heatmap", "average_retention_chart", "retention_curves_chart", "conversion_curves_chart"]
