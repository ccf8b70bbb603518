"""Channel charts: cost per lead and CAC, conversion by channel, monthly trends, pipeline share,
attribution models and spend against attributed revenue."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..formatting import fmt_money
from . import style as kp
from .grid import Grid, legend_figure

MODEL_LABELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
                "position_based": "Position (40/20/40)", "time_decay": "Time decay", "w_shaped": "W-shaped",
                "markov": "Markov (data-driven)", "shapley": "Shapley (data-driven)"}
# models never borrow a channel's colour: greys, the two data-driven models hatched (kp.MODEL_STYLES)
MODEL_SHADES = [kp.MODEL_STYLES[m][0] for m in MODEL_LABELS]
_PAID_COLUMNS = ("spend", "cpl", "cac")  # trend panels drawn for paid channels only
_SUMMED_COLUMNS = ("leads", "mqls", "spend")  # summed over duplicate (month, channel) rows; others averaged


def _model_label(model: str, labels: Mapping[str, str] | None = None) -> str:
    return {**MODEL_LABELS, **(labels or {})}.get(model, model)


def cpl_cac_chart(costs: pd.DataFrame, blended: Mapping[str, float], *, currency: str = "USD", fig=None,
                  max_channels: int | None = None) -> np.ndarray:
    """Cost per lead and channel CAC as two bar panels, cheapest channel at the bottom, each with its
    blended figure as a dashed line.

    Parameters
    ----------
    costs : DataFrame
        Indexed by channel: ``cpl`` and ``cac`` (NaN where undefined; such channels are left out of that
        panel, and a panel with none is hidden). Pass the paid channels only.
    blended : mapping or Series
        The blended ``cpl`` and ``cac`` over all channels, drawn as the dashed lines.
    currency : str
        ISO code, for the axis labels, ticks and the legend's blended amounts.
    fig : Figure, optional
        An empty figure to draw into; by default a new one ``WIDTH`` × 3.8 in.

    Returns
    -------
    ndarray of Axes
        Shape (2,): CPL, then CAC.

    Examples
    --------
    >>> costs = pd.DataFrame({"cpl": [100.0, 40.0], "cac": [4000.0, 900.0]}, index=["Paid Search", "Email"])
    >>> axes = cpl_cac_chart(costs, {"cpl": 80.0, "cac": 2500.0}, currency="USD")  # doctest: +SKIP
    """
    if fig is None:
        fig, axes = plt.subplots(1, 2, figsize=(kp.WIDTH, 3.8))
    else:
        axes = fig.subplots(1, 2)
    for ax, col, label in ((axes[0], "cpl", "Cost per lead"), (axes[1], "cac", "Paid-media CAC")):
        s = costs[col].dropna()
        total = len(s)
        weight = costs["spend"] if "spend" in costs else -s  # the biggest budgets; else the cheapest
        s = s.loc[kp.top_labels(weight.loc[s.index], max_channels)].sort_values()
        if s.empty:
            ax.set_visible(False)
            continue
        ax.barh(s.index, s.to_numpy(), color=[kp.channel_colour(c) for c in s.index])
        ax.axvline(blended[col], color=kp.INK, ls="--", lw=1.2, label=f"Blended {fmt_money(blended[col], currency)}")
        kp.money_axis(ax, currency, axis="x")
        ax.set_title(kp.shown_of(f"{label} by channel", len(s), total))
        ax.set_xlabel(f"{label} ({currency})")
        kp.legend_below(ax)
    axes[0].set_ylabel("Channel")
    fig.tight_layout()
    return axes


def conversion_heatmap(cohort: pd.DataFrame, stages: Iterable[str], *, start: str = "created", ax=None,
                       max_channels: int | None = None, min_sample: int | None = None):
    """Step-by-step conversion of each channel's contacts (created in the window) as a heatmap.

    Parameters
    ----------
    cohort : DataFrame
        Indexed by channel, one column ``<from>_to_<to>`` (rate, 0–1) per consecutive pair of
        ``[start, *stages]``, e.g. ``created_to_lead``, ``lead_to_mql``, and the counts reaching each
        stage (``created``, ``lead``, ...), each step's base.
    stages : list of str
        The funnel's stages in order; the columns drawn are the steps between them.
    start : str
        The step before the first stage.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` wide, 0.22 in per channel + 1.5 in high (at least 3 in).
    min_sample : int, optional
        A rate over fewer contacts at its step's start than this is hatched, paled and labelled with
        its n ("100% n=3"); a legend under the chart says why. None marks nothing.

    Returns
    -------
    Axes

    Examples
    --------
    >>> cohort = pd.DataFrame({"created_to_lead": [0.9], "lead_to_mql": [0.4]}, index=["Email"])
    >>> ax = conversion_heatmap(cohort, ["lead", "mql"])  # doctest: +SKIP
    """
    chain = [start, *stages]
    steps = list(zip(chain, chain[1:]))
    m = cohort[[f"{a}_to_{b}" for a, b in steps]].copy()
    m.columns = [f"{a}→{b}" for a, b in steps]
    total = len(m)
    if start in cohort:  # the channels with the most contacts; a rate has no "Other" to fold into
        largest = set(kp.top_labels(cohort[start], max_channels))
        m = m.loc[[c for c in cohort.index if c in largest]]
    else:
        m = m.iloc[:kp.MAX_CHANNELS if max_channels is None else max_channels]
    title = kp.shown_of("Cohort view: stage conversion by channel (contacts created in the window)", len(m), total)
    ax = kp.heatmap(m, title=title, xlabel="Step", ylabel="Channel", cbar_label="conversion", vmax=1.0, ax=ax)
    bases = [a for a, _ in steps]
    if min_sample is not None and all(a in cohort for a in bases):
        n = cohort.loc[m.index, bases].to_numpy(dtype=float)
        _mark_small_cells(ax, m.to_numpy(dtype=float), n, min_sample)
    return ax


def _mark_small_cells(ax, rates: np.ndarray, n: np.ndarray, min_sample: int) -> None:
    """Hatch and pale the heatmap cells whose rate rests on fewer than ``min_sample`` contacts, and add
    their n to the cell's label (SPEC "Small samples": shown, but marked)."""
    from matplotlib.patches import Patch, Rectangle

    small = np.isfinite(rates) & ~(n >= min_sample)
    if not small.any():
        return
    for i, j in zip(*np.nonzero(small)):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", alpha=0.6, lw=0))
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor=kp.MUTED, lw=0,
                               alpha=0.5))
    labels = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    for (i, j), t in labels.items():
        if small[i, j]:
            t.set_text(f"{t.get_text()} n={n[i, j]:,.0f}")
            t.set_color(kp.INK)  # on the pale veil, whatever the colour beneath
    if labels:  # the longer labels must still fit their cells: one size for every label
        size = kp.cell_fontsize(ax, rates.shape, [t.get_text() for t in labels.values()])
        for t in labels.values():
            t.set_fontsize(size) if size is not None else t.set_visible(False)
    veil = Patch(facecolor="#f3f4f6", hatch="///", edgecolor=kp.MUTED, lw=0)
    kp.legend_below(ax, [veil], [f"fewer than {min_sample:,} contacts at the step's start: too few to rank (n shown)"])


def trend_chart(monthly: pd.DataFrame, panels: Iterable[tuple[str, str, str, str | Callable]], *,
                currency: str = "USD", channels=None, paid_channels=None,
                max_channels: int | None = None) -> Grid:
    """Monthly trends by channel, one panel per measure (at most four), one line per channel, with
    one legend of channels for every panel. Each panel is a figure of its own (a :class:`Grid`: two
    to a row on a laptop, one on a phone), its y axis from zero.

    Parameters
    ----------
    monthly : DataFrame
        Tidy, one row per month and channel: ``month`` (Period[M]), ``channel`` and a column per
        panel (e.g. ``leads``, ``spend``, ``cpl``, ``cac``). Pass only the months to draw.
    panels : list of (column, title, ylabel, unit)
        One per panel, in order; ``unit`` is ``"count"``, ``"money"``, ``"percent"`` or a function
        formatting the axes' y axis (as ``ChannelReport.trend_panels`` gives).
    currency : str
        ISO code for money panels.
    channels : list of str, optional
        Channels to draw, in legend order; by default those in ``monthly``, in order of appearance.
    paid_channels : list of str, optional
        Channels drawn in the ``spend``, ``cpl`` and ``cac`` panels; by default ``channels``.

    Returns
    -------
    Grid
        One figure per panel (``WIDE_PANEL`` in size), in order, and the legend of channels (``grid.legend``).

    Examples
    --------
    >>> panels = [("leads", "Leads per month", "Leads", "count"), ("spend", "Spend per month", "Spend (USD)", "money")]
    >>> grid = trend_chart(monthly, panels, currency="USD", paid_channels=["Paid Search"])  # doctest: +SKIP
    """
    panels = list(panels)
    if not 1 <= len(panels) <= 4:
        raise ValueError(f"trend_chart draws one to four panels, got {len(panels)}")
    channels = list(dict.fromkeys(monthly["channel"])) if channels is None else list(channels)
    paid = channels if paid_channels is None else list(paid_channels)
    n = kp.MAX_CHANNELS if max_channels is None else max_channels
    if len(set(channels) | set(paid)) > n:  # the largest by the first panel's volume; the rest summed as Other
        first = panels[0][0]
        volume = monthly.groupby("channel")[first].sum() if first in _SUMMED_COLUMNS else monthly["channel"].value_counts()
        keep = kp.top_labels(volume, n)
        channels = [c for c in channels if c in keep] + [kp.OTHER]
        paid = [c for c in paid if c in keep]
        monthly = monthly.assign(channel=kp.fold_other(monthly["channel"], keep))
    present = set(monthly["channel"])
    figures, legend = [], {}
    for col, title, ylabel, unit in panels:
        fig, ax = plt.subplots(figsize=kp.WIDE_PANEL)
        chosen = paid if col in _PAID_COLUMNS else channels
        if col not in _SUMMED_COLUMNS:  # an average of rates over many channels is no channel's rate
            chosen = [c for c in chosen if c != kp.OTHER]
        wide = monthly.pivot_table(index="month", columns="channel", values=col, aggfunc="sum" if col in
                                   _SUMMED_COLUMNS else "mean").reindex(columns=[c for c in chosen if c in present])
        x = pd.PeriodIndex(wide.index, freq="M").to_timestamp()
        for i, c in enumerate(wide.columns):  # by position: a client channel may share a name with "Other"
            line, = ax.plot(x, wide.iloc[:, i].to_numpy(dtype=float), color=kp.channel_colour(c), lw=1.8, marker="o"
                            if len(x) < 4 else None, label=c)
            legend.setdefault(c, line)
        ax.set_title(title, fontsize=11)
        ax.set_ylabel(ylabel)
        kp.unit_axis(ax, unit, currency)
        ax.tick_params(labelsize=9)
        kp.month_axis(ax)
        ax.tick_params(axis="x", labelrotation=30)
        kp.zero_based(ax, wide.to_numpy(dtype=float))
        fig.tight_layout()
        figures.append(fig)
    order = [c for c in [*channels, *paid] if c in legend]  # the channels' order, each once
    key = legend_figure([legend[c] for c in dict.fromkeys(order)], list(dict.fromkeys(order)), title="Channel")
    return Grid(figures, legend=key)


def pipeline_share_chart(monthly: pd.DataFrame, *, column: str = "opportunities", noun: str | None = None, ax=None,
                         max_channels: int | None = None):
    """Each channel's share of a month's new volume as a 100 % stacked area (months without volume
    left out).

    Parameters
    ----------
    monthly : DataFrame
        Tidy, one row per month and channel: ``month`` (Period[M]), ``channel`` and ``column``.
        Pass only the months to draw.
    column : str
        The volume to split, e.g. ``opportunities``, ``leads`` or ``mqls``.
    noun : str, optional
        What the volume is called in the title and axis label; by default ``column`` ("MQLs" for ``mqls``).
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 3.6 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = pipeline_share_chart(monthly, column="opportunities")  # doctest: +SKIP
    """
    keep = kp.top_labels(monthly.groupby("channel")[column].sum(), max_channels)
    wide = monthly.assign(channel=kp.fold_other(monthly["channel"], keep)).pivot_table(
        index="month", columns="channel", values=column, aggfunc="sum").fillna(0)
    wide = wide[wide.sum(axis=1) > 0]  # a month with no new volume has no shares
    share = wide.div(wide.sum(axis=1), axis=0)
    noun = noun or ("MQLs" if column == "mqls" else column)
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6)) if ax is None else (ax.figure, ax)
    ax.stackplot(pd.PeriodIndex(share.index, freq="M").to_timestamp(), share.T.to_numpy(), labels=share.columns,
                 colors=[kp.channel_colour(c) for c in share.columns], alpha=0.9)
    kp.percent_axis(ax)
    kp.month_axis(ax)
    ax.set_ylim(0, 1)
    ax.set_title(f"Share of new {noun} by channel")
    ax.set_ylabel(f"Share of {noun}")
    ax.set_xlabel("Month")
    kp.legend_below(ax)
    return ax


def attribution_chart(credit: pd.DataFrame, *, models=None, model_labels: Mapping[str, str] | None = None,
                      currency: str = "USD", ax=None, max_channels: int | None = None):
    """Revenue credited to each channel under each attribution model, as grouped bars (channels with
    the most credit first).

    Parameters
    ----------
    credit : DataFrame
        Indexed by channel, one column of attributed revenue per model (``first_touch``, ``last_touch``,
        ``linear``, ...).
    models : list of str, optional
        Models to draw, in bar order, each in its grey or hatch (:func:`~kpi_kit.charts.style.model_style`);
        by default the columns of ``credit``.
    model_labels : mapping, optional
        Legend label per model, on top of :data:`MODEL_LABELS`; a model without one shows its name.
    currency : str
        ISO code, for the axis label and ticks.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 4.2 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> credit = pd.DataFrame({"first_touch": [5e5, 2e5], "last_touch": [3e5, 4e5]}, index=["Email", "Events"])
    >>> ax = attribution_chart(credit, currency="USD")  # doctest: +SKIP
    """
    models = list(credit.columns) if models is None else list(models)
    a = credit[models]
    keep = kp.top_labels(a.sum(axis=1), max_channels)
    if len(a) > len(keep):  # the channels credited most; the others' credit summed as Other
        a = a.groupby(kp.fold_other(a.index.to_series(), keep)).sum()
    a = a.loc[a.sum(axis=1).sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.2)) if ax is None else (ax.figure, ax)
    width = 0.8 / len(models)
    x = np.arange(len(a))
    for i, model in enumerate(models):
        ax.bar(x + i * width - 0.4 + width / 2, a[model], width, label=_model_label(model, model_labels),
               **kp.model_style(model, i))
    ax.set_xticks(x, a.index, rotation=20)
    kp.money_axis(ax, currency)
    ax.set_title("Revenue credited to each channel by attribution model")
    ax.set_ylabel(f"Attributed revenue ({currency})")
    ax.set_xlabel("Channel")
    kp.legend_below(ax)  # with eight models the bars fill the plot: a legend inside would hide some
    return ax


def spend_revenue_chart(data: pd.DataFrame, *, x: str = "spend", y: str = "revenue", model: str | None = None,
                        model_labels: Mapping[str, str] | None = None, currency: str = "USD", ax=None,
                        max_channels: int | None = None):
    """Each channel's spend against its attributed revenue, with the break-even diagonal (points
    above it return more than they cost). Each axis fits its own data from zero: spend and revenue
    often differ by an order of magnitude, and a shared limit would squeeze the points into a corner.

    Parameters
    ----------
    data : DataFrame
        Indexed by channel (the point labels), with the ``x`` and ``y`` columns. Pass the paid channels only.
    x, y : str
        Columns of spend and attributed revenue.
    model : str, optional
        The attribution model behind ``y`` (e.g. ``"linear"``), named in the title via :data:`MODEL_LABELS`.
    model_labels : mapping, optional
        Labels on top of :data:`MODEL_LABELS`.
    currency : str
        ISO code, for the axis labels and ticks.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` × 4.4 in.

    Returns
    -------
    Axes

    Examples
    --------
    >>> d = pd.DataFrame({"spend": [2e5, 5e4], "revenue": [6e5, 2e4]}, index=["Paid Search", "Display"])
    >>> ax = spend_revenue_chart(d, model="linear", currency="USD")  # doctest: +SKIP
    """
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.4)) if ax is None else (ax.figure, ax)
    spend, revenue = data[x], data[y]
    ax.scatter(spend, revenue, s=80, c=[kp.channel_colour(c) for c in data.index], zorder=3, clip_on=False)
    right, top = kp.upper_limit(spend), kp.upper_limit(revenue)
    for c in kp.top_labels(spend, max_channels):  # every point drawn, the largest budgets named
        left = spend[c] > 0.7 * right  # names of points on the right read leftwards, inside the axes
        ax.annotate(c, (spend[c], revenue[c]), xytext=(-7 if left else 7, 4), textcoords="offset points",
                    ha="right" if left else "left", fontsize=9)
    # the diagonal runs to the larger limit and is cut at the axes' edge: it never widens an axis
    ax.plot([0, max(right, top)], [0, max(right, top)], color=kp.MUTED, ls="--", lw=1, label="Break-even (ROI 0)")
    ax.set_xlim(0, right)
    ax.set_ylim(0, top)
    kp.money_axis(ax, currency)
    kp.money_axis(ax, currency, axis="x")
    title = "Spend vs attributed revenue"
    ax.set_title(f"{title} ({_model_label(model, model_labels).lower()})" if model else title)
    ax.set_xlabel(f"Spend in window ({currency})")
    ax.set_ylabel(f"Attributed revenue ({currency})")
    kp.legend_below(ax)
    return ax


__all__ = ["MODEL_LABELS", "cpl_cac_chart", "conversion_heatmap", "trend_chart", "pipeline_share_chart",
           "attribution_chart", "spend_revenue_chart"]
