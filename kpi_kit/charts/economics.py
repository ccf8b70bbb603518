"""Unit-economics charts: MRR movements and MRR, churn, CAC, LTV:CAC and payback, cost to serve."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from . import style as kp

MOVEMENT_COLOURS = {"new": "#2563eb", "expansion": "#059669", "reactivation": "#0891b2",
                    "contraction": "#f59e0b", "churn": "#b91c1c"}


def _month_starts(months) -> pd.DatetimeIndex:
    return pd.PeriodIndex(months, freq="M").to_timestamp()


def waterfall_chart(bridge: pd.DataFrame, *, currency: str = "USD", ax=None):
    """MRR movements per month: gains stacked above zero, losses below, and the net change as a line.

    Parameters
    ----------
    bridge : DataFrame
        The MRR bridge, one row per month to draw: ``month`` (Period[M]), ``new``, ``expansion``,
        ``reactivation``, ``contraction`` and ``churn`` (losses as positive amounts), ``starting_mrr``
        and ``ending_mrr`` (the net line is their difference).
    currency : str
        ISO code, for the axis label and ticks.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 4.4 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = waterfall_chart(bridge.tail(24), currency="EUR")  # doctest: +SKIP
    """
    b = bridge
    x = _month_starts(b["month"])
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.4)) if ax is None else (ax.figure, ax)
    width = 20  # days
    for cols, sign in ((("new", "expansion", "reactivation"), 1), (("contraction", "churn"), -1)):
        bottom = np.zeros(len(b))
        for i, col in enumerate(cols):
            bars = ax.bar(x, sign * b[col], width, bottom=bottom, color=MOVEMENT_COLOURS[col], label=col.capitalize())
            if i:  # a bar stacked on another pins the axis at its base (the top of the stack when it is
                for bar in bars:  # empty) and would leave the tallest stack no margin: only zero is pinned
                    bar.sticky_edges.y.clear()
            bottom += sign * b[col].to_numpy(dtype=float)
    net = b["ending_mrr"] - b["starting_mrr"]
    ax.plot(x, net, color=kp.INK, marker="o", ms=3, lw=1.5, label="Net new MRR")
    ax.axhline(0, color=kp.MUTED, lw=0.8)
    kp.money_axis(ax, currency)
    kp.month_axis(ax)
    ax.set_title("MRR movements per month")
    ax.set_ylabel(f"MRR change ({currency})")
    ax.set_xlabel("Month")
    kp.legend_below(ax)  # never over the bars
    return ax


def mrr_chart(bridge: pd.DataFrame, *, currency: str = "USD", ax=None):
    """Month-end MRR as a filled area, with paying customers as a dashed line on a right-hand axis.

    Parameters
    ----------
    bridge : DataFrame
        One row per month to draw: ``month`` (Period[M]), ``ending_mrr`` and ``customers``.
    currency : str
        ISO code, for the axis label and ticks.
    ax : Axes, optional
        Axes for the MRR (the customers get a twin axis); by default a new figure ``WIDTH`` × 3.8 in.

    Returns
    -------
    Axes
        The MRR axes; the customers axis is its twin (``ax.figure.axes``).

    Examples
    --------
    >>> ax = mrr_chart(bridge, currency="USD")  # doctest: +SKIP
    """
    b = bridge
    x = _month_starts(b["month"])
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.8)) if ax is None else (ax.figure, ax)
    ax.fill_between(x, b["ending_mrr"], color="#bfdbfe")
    ax.plot(x, b["ending_mrr"], color=kp.ACCENT, lw=2, label="MRR (left)")
    kp.money_axis(ax, currency)
    ax.set_ylabel(f"MRR ({currency})")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(x, b["customers"], color=kp.INK, lw=1.5, ls="--", label="Paying customers (right)")
    kp.count_axis(ax2)
    ax2.set_ylabel("Paying customers")
    ax2.set_ylim(bottom=0)
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    kp.month_axis(ax)
    ax.set_title("MRR and paying customers at month end")
    ax.set_xlabel("Month")
    kp.legend_below(ax)  # with the twin's line
    return ax


def churn_chart(bridge: pd.DataFrame, *, window_months: int = 6, ax=None):
    """Monthly logo, gross and net revenue churn as faint points, each with a bold trailing average.

    Parameters
    ----------
    bridge : DataFrame
        One row per month to draw: ``month`` (Period[M]), ``logo_churn_rate``, ``gross_revenue_churn``
        and ``net_revenue_churn`` (shares of the starting base).
    window_months : int
        Months in the drawn trailing average (the client's churn window).
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 3.6 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = churn_chart(bridge.tail(24), window_months=6)  # doctest: +SKIP
    """
    b = bridge
    x = _month_starts(b["month"])
    n = window_months
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
    series = (("logo_churn_rate", "Logo churn", kp.BAD), ("gross_revenue_churn", "Gross revenue churn", "#f59e0b"),
              ("net_revenue_churn", "Net revenue churn", kp.ACCENT))
    for col, label, colour in series:
        ax.plot(x, b[col], color=colour, lw=1, alpha=0.45, marker="o", ms=2)
        ax.plot(x, b[col].rolling(n, min_periods=1).mean(), color=colour, lw=2.2, label=f"{label} ({n}-mo avg)")
    ax.axhline(0, color=kp.MUTED, lw=0.8)
    kp.percent_axis(ax, decimals=1)
    kp.month_axis(ax)
    ax.set_title("Monthly churn rates with their trailing average")
    ax.set_ylabel("Share of starting base")
    ax.set_xlabel("Month")
    kp.legend_below(ax)
    return ax


def cac_chart(monthly: pd.DataFrame, *, currency: str = "USD", trailing_months: int = 3, ax=None):
    """Monthly CAC, fully loaded and paid only, as faint points, each with its trailing CAC in bold.

    The trailing CAC is a KPI (acquisition cost over new customers of the trailing months), so it is
    read from ``monthly``, not computed here.

    Parameters
    ----------
    monthly : DataFrame
        One row per month to draw: ``month`` (Period[M]), ``cac`` and ``paid_cac`` (the month's own),
        ``cac_trailing`` and ``paid_cac_trailing`` (over the trailing ``trailing_months``).
    currency : str
        ISO code, for the axis label and ticks.
    trailing_months : int
        Months behind the trailing columns, for the legend.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 3.6 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = cac_chart(cac_monthly.tail(24), currency="USD")  # doctest: +SKIP
    """
    m = monthly
    x = _month_starts(m["month"])
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
    for col, label, colour in (("cac", "Fully loaded", kp.ACCENT), ("paid_cac", "Paid only", "#f59e0b")):
        ax.plot(x, m[col], color=colour, lw=1, alpha=0.45, marker="o", ms=2)
        ax.plot(x, m[f"{col}_trailing"], color=colour, lw=2.2, label=f"{label} (trailing {trailing_months} months)")
    kp.money_axis(ax, currency)
    kp.month_axis(ax)
    ax.set_ylim(bottom=0)
    ax.set_title("CAC by month: acquisition cost per new customer")
    ax.set_ylabel(f"CAC ({currency})")
    ax.set_xlabel("Month")
    kp.legend_below(ax)
    return ax


def ltv_cac_chart(groups: pd.DataFrame, *, by: str = "channel", cac_basis: str | None = None,
                  ratio_guide: float = 3.0, payback_guide: float = 12.0, log_above: float = 30.0,
                  fig=None) -> np.ndarray:
    """LTV:CAC and CAC payback per group as two bar panels sharing the group axis, each titled with
    its CAC's basis. The guides (3:1, 12 months) are drawn only against a fully loaded CAC (SPEC
    "Vocabulary"): a paid-media CAC leaves out the acquisition costs the guides assume.

    The LTV:CAC axis turns logarithmic when a group's ratio exceeds ``log_above`` (one cheap group
    would flatten the rest on a linear axis). Missing values draw as empty bars.

    Parameters
    ----------
    groups : DataFrame
        Indexed by group (channel, segment, ...): ``ltv_to_cac`` and ``payback_months``. Pass the
        groups to draw only (e.g. those with new customers in the window).
    by : str
        What the groups are, for the labels; ``"channel"`` colours bars by channel.
    cac_basis : str, optional
        The CAC named in the titles; by default "paid-media" by channel and "fully loaded" otherwise.
        Guides are drawn only for "fully loaded".
    ratio_guide, payback_guide : float
        Where the dashed guides are drawn (3:1, 12 months).
    log_above : float
        Largest LTV:CAC drawn on a linear axis.
    fig : Figure, optional
        An empty figure to draw into; by default a new one ``WIDTH`` × 3.8 in.

    Returns
    -------
    ndarray of Axes
        Shape (2,): LTV:CAC, then payback.

    Examples
    --------
    >>> g = pd.DataFrame({"ltv_to_cac": [4.2, 1.5], "payback_months": [8.0, 20.0]}, index=["Email", "Events"])
    >>> axes = ltv_cac_chart(g, by="channel")  # doctest: +SKIP
    """
    r = groups
    if fig is None:
        fig, axes = plt.subplots(1, 2, figsize=(kp.WIDTH, 3.8), sharey=True)
    else:
        axes = fig.subplots(1, 2, sharey=True)
    basis = cac_basis or ("paid-media" if by == "channel" else "fully loaded")
    guides = basis == "fully loaded"
    colours = [kp.channel_colour(c) for c in r.index] if by == "channel" else kp.STAGE_COLOURS[1:len(r) + 1]
    axes[0].barh(r.index, r["ltv_to_cac"].fillna(0), color=colours)
    if guides:
        axes[0].axvline(ratio_guide, color=kp.INK, ls="--", lw=1.2, label=f"{ratio_guide:g}:1 guide")
    if r["ltv_to_cac"].max() > log_above:
        axes[0].set_xscale("log")
        axes[0].xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    axes[0].set_title(f"LTV : {basis} CAC")
    axes[0].set_xlabel(f"LTV ÷ {basis} CAC" + (" (log scale)" if axes[0].get_xscale() == "log" else ""))
    axes[1].barh(r.index, r["payback_months"].fillna(0), color=colours)
    if guides:
        axes[1].axvline(payback_guide, color=kp.INK, ls="--", lw=1.2, label=f"{payback_guide:g}-month guide")
        kp.legend_below(axes[0])
        kp.legend_below(axes[1])
    axes[1].set_title(f"CAC payback on {basis} CAC")
    axes[1].set_xlabel("Months")
    axes[0].set_ylabel(by.capitalize())
    fig.suptitle(f"LTV : {basis} CAC and payback by {by}", x=0.01, ha="left", fontweight="bold")
    fig.tight_layout()
    return axes


def cost_to_serve_chart(costs: pd.DataFrame, *, gross_margin: float = 1.0, currency: str = "USD", ax=None):
    """Cost to serve per paying customer against ARPU × gross margin, per month.

    Parameters
    ----------
    costs : DataFrame
        One row per month to draw: ``month`` (Period[M]), ``cost_to_serve`` (per paying customer) and
        ``arpu`` of the same month.
    gross_margin : float
        The client's gross margin (0–1); the reference line is ARPU scaled by it.
    currency : str
        ISO code, for the axis label and ticks.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 3.6 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = cost_to_serve_chart(costs, gross_margin=0.8, currency="USD")  # doctest: +SKIP
    """
    c = costs
    x = _month_starts(c["month"])
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
    ax.plot(x, c["cost_to_serve"], color=kp.BAD, lw=2, marker="o", ms=3, label="Cost to serve per customer")
    ax.plot(x, c["arpu"].to_numpy(dtype=float) * gross_margin, color=kp.ACCENT, lw=2, label="ARPU × gross margin")
    kp.money_axis(ax, currency)
    kp.month_axis(ax)
    ax.set_ylim(bottom=0)
    ax.set_title("Cost to serve per paying customer, per month")
    ax.set_ylabel(f"Per customer per month ({currency})")
    ax.set_xlabel("Month")
    kp.legend_below(ax)
    return ax


__all__ = ["MOVEMENT_COLOURS", "waterfall_chart", "mrr_chart", "churn_chart", "cac_chart", "ltv_cac_chart",
           "cost_to_serve_chart"]
