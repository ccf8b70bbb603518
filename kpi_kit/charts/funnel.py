"""Funnel charts: stages reached, cohort conversion, monthly volumes against target, deals by quarter."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import style as kp


def _stage_title(stage: str) -> str:
    """Panel title of a stage's monthly volume: ``MQLs per month``, ``New customers per month``."""
    if stage == "customer":
        return "New customers per month"
    return f"{stage.upper() if len(stage) <= 3 else stage.capitalize()}s per month"


def funnel_chart(counts: pd.Series, *, window_label: str | None = None, title: str | None = None, ax=None):
    """Horizontal funnel of the contacts reaching each stage, with the conversion from the previous one.

    Parameters
    ----------
    counts : Series
        Contacts reaching each stage, indexed by stage name in funnel order.
    window_label : str, optional
        The creation window, e.g. ``"Nov 2025 – Oct 2026"``; the title reads "Cohort view: contacts
        created <window_label>, stage reached by the report date".
    title : str, optional
        A title of its own (overrides ``window_label``); "Funnel" without either.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` wide and 0.55 in per stage + 1.2 in high.

    Returns
    -------
    Axes

    Examples
    --------
    >>> counts = pd.Series({"Lead": 900, "MQL": 300, "Customer": 20})
    >>> ax = funnel_chart(counts, window_label="Jan 2026 – Dec 2026")  # doctest: +SKIP
    """
    if title is None:
        title = (f"Cohort view: contacts created {window_label}, stage reached by the report date" if window_label
                 else "Funnel")
    return kp.funnel_chart(counts, title=title, ax=ax)


def cohort_heatmap(matrix: pd.DataFrame, *, immature=None, ax=None):
    """Share of each creation month's contacts reaching each stage, immature cohorts greyed out.

    Parameters
    ----------
    matrix : DataFrame
        One row per creation month (index: its label, e.g. ``"2026-01"``), one column per stage (column
        names are the stage labels shown), values the share of the cohort that reached the stage.
    immature : array-like of bool, optional
        Per row of ``matrix``, in its order: cohorts younger than the sales cycle, drawn greyed out.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` wide, 0.22 in per row + 1.5 in high (at least 3 in).

    Returns
    -------
    Axes

    Examples
    --------
    >>> m = pd.DataFrame({"Lead": [0.9, 0.95], "Customer": [0.03, 0.01]}, index=["2026-01", "2026-02"])
    >>> ax = cohort_heatmap(m, immature=[False, True])  # doctest: +SKIP
    """
    return kp.heatmap(matrix, title="Cohort conversion: share of each month's contacts reaching a stage",
                      xlabel="Stage reached by the report date", ylabel="Creation month (cohort)", mask_rows=immature,
                      cbar_label="share of cohort", ax=ax)


def volumes_chart(volumes: pd.DataFrame, *, stages=None, fig=None) -> np.ndarray:
    """Grid of monthly stage volumes (one panel per stage, at most four) against their target.

    Panels share the month axis: it is labelled once, under the bottom row, except under a top panel
    with nothing below it. Unused cells of the grid are hidden.

    Parameters
    ----------
    volumes : DataFrame
        Tidy monthly volumes, one row per month and stage: ``month`` (Period[M] or month-start
        dates), ``stage`` (``lead``, ``mql``, ..., ``customer``), ``actual`` and ``target`` (NaN where
        there is none; the column may be left out). Pass only the months to draw.
    stages : list of str, optional
        Stages to draw, in panel order (at most four); by default those in ``volumes``, in order.
    fig : Figure, optional
        An empty figure to draw the grid into; by default a new one ``WIDTH`` wide, 3.4 in high for
        one row and 6 in for two.

    Returns
    -------
    ndarray of Axes
        Shape (rows, cols): (1, 1) for one stage, (1, 2) for two, (2, 2) for three or four.

    Examples
    --------
    >>> axes = volumes_chart(volumes, stages=["lead", "mql", "customer"])  # doctest: +SKIP
    """
    stages = list(dict.fromkeys(volumes["stage"])) if stages is None else list(stages)
    if len(stages) > 4:
        raise ValueError(f"volumes_chart draws at most four stages, got {len(stages)}")
    rows, cols = (1 if len(stages) <= 2 else 2), (1 if len(stages) == 1 else 2)
    if fig is None:
        fig, axes = plt.subplots(rows, cols, figsize=(kp.WIDTH, 6.0 if rows == 2 else 3.4), sharex=True,
                                 squeeze=False)
    else:
        axes = fig.subplots(rows, cols, sharex=True, squeeze=False)
    for i, (ax, stage) in enumerate(zip(axes.flat, stages)):
        s = volumes[volumes["stage"] == stage]
        kp.series_with_target(s["month"], s["actual"], s["target"] if "target" in s else None,
                              title=_stage_title(stage), ylabel="Contacts", colour=kp.STAGE_COLOURS[min(i, 3) + 1],
                              ax=ax, legend=False)
        kp.month_axis(ax)
        ax.tick_params(axis="x", labelrotation=30)
    for ax in list(axes.flat)[len(stages):]:
        ax.set_visible(False)
    for top, below in zip(axes[0], axes[-1]) if rows == 2 else ():
        if below.get_visible():  # the shared month axis is labelled once, under the bottom row
            top.set_xlabel("")
        else:  # nothing below: this panel shows its own month labels
            top.xaxis.set_tick_params(labelbottom=True)
    fig.suptitle("Monthly volumes against target (dashed)", x=0.01, ha="left", fontweight="bold")
    fig.tight_layout()
    if any(line.get_label() == "Target" for ax in axes.flat for line in ax.get_lines()):
        kp.legend_below(fig)  # one "Actual / Target" for every panel, under the grid
    return axes


def deals_chart(quarters: pd.DataFrame, *, currency: str = "USD", ax=None, min_sample: int | None = None):
    """Bookings per quarter closed as bars, with the win rate as a line on a right-hand axis.

    Parameters
    ----------
    quarters : DataFrame
        One row per quarter, in order: ``quarter`` (label, e.g. ``"2026Q3"`` or ``"2026Q4 (to date)"``;
        a parenthesis goes on a second line), ``bookings`` and ``win_rate`` (0–1, NaN where unknown).
    currency : str
        ISO code of the bookings, for the axis label and tick format.
    ax : Axes, optional
        Axes for the bars (the win rate gets a twin axis); by default a new figure ``WIDTH`` × 3.6 in.
    min_sample : int, optional
        With ``won`` and ``lost`` columns: a quarter's win rate over fewer closed deals than this is
        drawn as a hollow grey point labelled with its n (SPEC "Small samples"). None marks nothing.

    Returns
    -------
    Axes
        The bookings axes; the win-rate axis is its twin (``ax.figure.axes``).

    Examples
    --------
    >>> q = pd.DataFrame({"quarter": ["2026Q1", "2026Q2"], "bookings": [9e5, 1.2e6], "win_rate": [0.25, 0.31]})
    >>> ax = deals_chart(q, currency="EUR")  # doctest: +SKIP
    """
    fig, ax1 = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
    labels = quarters["quarter"].astype(str).str.replace(" (", "\n(", regex=False)
    ax1.bar(labels, quarters["bookings"], color="#93c5fd", label="Bookings (left)")
    kp.money_axis(ax1, currency)
    ax1.set_ylabel(f"Bookings ({currency})")
    ax2 = ax1.twinx()
    win_rate = quarters["win_rate"]
    ax2.plot(labels, win_rate, color=kp.INK, marker="o", lw=2, label="Win rate (right)")
    if min_sample is not None and {"won", "lost"} <= set(quarters):
        n = (quarters["won"] + quarters["lost"]).to_numpy(dtype=float)
        small = win_rate.notna().to_numpy() & ~(n >= min_sample)
        if small.any():  # over a few deals: a hollow point with its n, not a full one
            ax2.plot(labels[small], win_rate[small], ls="none", marker="o", ms=8, mfc="white", mec=kp.MUTED, mew=1.5,
                     label=f"Win rate over fewer than {min_sample:,} closed deals (n shown)")
            for x, y, k in zip(labels[small], win_rate[small], n[small]):
                ax2.annotate(f"n={k:,.0f}", (x, y), xytext=(0, 7), textcoords="offset points", ha="center",
                             fontsize=8, color=kp.MUTED)
    kp.percent_axis(ax2)
    ax2.set_ylim(0, kp.upper_limit(win_rate, floor=0.05) if win_rate.notna().any() else 1)
    ax2.set_ylabel("Win rate")
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    ax1.set_title("Bookings and win rate by quarter closed")
    ax1.set_xlabel("Quarter closed")
    kp.legend_below(ax1)  # with the twin's line
    return ax1


__all__ = ["funnel_chart", "cohort_heatmap", "volumes_chart", "deals_chart"]
