"""One chart style for every report: palette keyed by channel, money and percent axes.

Plot functions take ``ax=None`` and return the Axes (pymc-marketing style).
"""

from __future__ import annotations

import zlib

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.legend import Legend

from ..formatting import currency_symbol

WIDTH = 6.5  # inches: at 100 dpi a chart is about 650 px, shown whole at A4 width and at least half size on a 390 px phone
PANEL = (3.0, 2.0)  # inches: one small multiple of a Grid (three to a row at 1280 px, one at 390 px)
WIDE_PANEL = (4.4, 3.0)  # inches: a Grid panel with more in it (two to a row at 1280 px)
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
GOOD, BAD, ACCENT = "#15803d", "#b91c1c", "#2563eb"
# The channel palette: Okabe & Ito's eight colours for colour-blind readers (black kept for a channel
# without a fixed colour) and three darker hues picked to stay apart from them under deuteranopia and protanopia
# (tests/charts/test_palette.py simulates both). Fixed colours for the usual channels keep a channel's
# colour in every report and client; "Other" is a neutral grey.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
PALETTE = [*OKABE_ITO, "#000000", "#5b3a29", "#01665e", "#1f4e79"]
OTHER_COLOUR = "#c8c0b0"  # a warm light grey: apart from the channels and from the models' greys
CHANNEL_COLOURS = {
    "Paid Search": "#0072B2", "Email": "#E69F00", "Organic Search": "#009E73", "Paid Social": "#CC79A7",
    "Referral": "#56B4E9", "Events": "#D55E00", "Display": "#F0E442", "Direct": "#1f4e79",
    "Outbound": "#5b3a29", "Partners": "#01665e", "Other": OTHER_COLOUR,
}
# Colours for channels without a fixed one: first the palette's colours none of the client's own
# channels has (see register_channels), then these, all away from the palette's hues.
_FALLBACK = ["#8c6d1f", "#7b3294", "#4d9221", "#b2182b", "#2166ac", "#c51b7d", "#35978f"]
# Attribution models never borrow a channel's colour: greys from light to dark for the rule models,
# hatched for the data-driven ones (so they read as a pair), all colourless (tests/charts/test_palette.py).
MODEL_STYLES = {
    "first_touch": ("#e0e0e0", ""), "last_touch": ("#c4c4c4", ""), "linear": ("#8f8f8f", ""),
    "position_based": ("#6b6b6b", ""), "time_decay": ("#4a4a4a", ""), "w_shaped": ("#2b2b2b", ""),
    "markov": ("#d0d0d0", "////"), "shapley": ("#7a7a7a", "xxxx"),
}
STAGE_COLOURS = ["#1e3a8a", "#1d4ed8", "#2563eb", "#3b82f6", "#60a5fa", "#93c5fd", "#bfdbfe"]


_ASSIGNED: dict[str, str] = {}  # this client's channels without a fixed colour (see register_channels)


MAX_CHANNELS = 10  # channels a chart draws one by one (the chart_channels parameter); the rest are "Other"
OTHER = "Other"


def top_labels(weights: pd.Series, n: int | None = None) -> list:
    """The ``n`` labels (index of ``weights``) with the largest weight, in that order (ties: first seen).

    Examples
    --------
    >>> top_labels(pd.Series({"a": 1, "b": 5, "c": 3}), 2)
    ['b', 'c']
    """
    n = MAX_CHANNELS if n is None else n
    w = pd.to_numeric(weights, errors="coerce").fillna(0)
    return list(w.sort_values(ascending=False, kind="stable").index[:n])


def fold_other(labels: pd.Series, keep) -> pd.Series:
    """``labels`` with every value not in ``keep`` replaced by ``"Other"`` (to be summed by the chart).

    Examples
    --------
    >>> fold_other(pd.Series(["a", "b", "c"]), ["a"]).tolist()
    ['a', 'Other', 'Other']
    """
    return labels.where(labels.isin(list(keep)), OTHER)


def shown_of(title: str, shown: int, total: int, what: str = "channels") -> str:
    """``title`` plus "(top 10 of 300 channels)" when a chart leaves some out or folds them."""
    return title if total <= shown else f"{title} (top {shown} of {total:,} {what})"


def register_channels(channels) -> None:
    """Give each of a client's channels without a fixed colour its own colour, in sorted order: first
    the palette's colours that none of the client's channels with a fixed colour has, then the
    fallback colours, so two channels of one client never share a colour (a hash could collide)."""
    _ASSIGNED.clear()
    names = {str(c) for c in channels if isinstance(c, str)}
    taken = {CHANNEL_COLOURS[c] for c in names if c in CHANNEL_COLOURS}
    free = [c for c in PALETTE if c not in taken] + _FALLBACK
    unknown = sorted(c for c in names if c not in CHANNEL_COLOURS)
    for i, c in enumerate(unknown):
        _ASSIGNED[c] = free[i % len(free)]


def channel_colour(channel: str) -> str:
    """The colour of ``channel``: fixed for known names, else the one :func:`register_channels`
    gave it, else stable from a hash of the name."""
    if channel in CHANNEL_COLOURS:
        return CHANNEL_COLOURS[channel]
    if channel in _ASSIGNED:
        return _ASSIGNED[channel]
    return _FALLBACK[zlib.crc32(str(channel).encode()) % len(_FALLBACK)]


def model_style(model: str, i: int = 0) -> dict:
    """Bar keywords of an attribution model: a grey (and a hatch for the data-driven models), never a
    channel's colour; a model the kit does not know gets the ``i``-th rule model's grey, hatched ``..``."""
    colour, hatch = MODEL_STYLES.get(model, (list(MODEL_STYLES.values())[i % 6][0], ".."))
    dark = _luminance(mpl.colors.to_rgb(colour)) < 0.25
    return {"color": colour, "hatch": hatch or None, "edgecolor": "white" if dark else INK, "linewidth": 0}


def use_style() -> None:
    """Apply the kit's matplotlib style; inside a kernel, make sure figures are captured inline.

    (With ``MPLBACKEND=Agg`` in the environment papermill would silently capture no figures.)
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None:
            mpl.use("module://matplotlib_inline.backend_inline")
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png")
            from matplotlib.figure import Figure

            shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    except ImportError:
        pass
    mpl.rcParams.update({
        "figure.figsize": (WIDTH, 4.0), "figure.dpi": 100, "savefig.dpi": 100,
        "savefig.bbox": "tight", "figure.facecolor": "white",
        "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold", "axes.titlelocation": "left",
        "axes.labelsize": 10, "axes.labelcolor": INK, "axes.edgecolor": GRID, "axes.grid": True,
        "grid.color": GRID, "grid.linewidth": 0.8, "axes.spines.top": False, "axes.spines.right": False,
        "axes.axisbelow": True, "xtick.color": MUTED, "ytick.color": MUTED, "legend.frameon": False,
        "legend.fontsize": 9, "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "svg.hashsalt": "kpi_kit", "image.cmap": "Blues",
        # labels come from the client's data: "Promo $$ week" is a channel name, not math text
        "text.parse_math": False,
        # titles sit just above the axes: no chart has top tick labels or an offset text ("1e6") to
        # dodge, and matplotlib's automatic title placement measures every y tick label on each draw
        "axes.titley": 1.0, "axes.formatter.useoffset": False, "axes.formatter.limits": (-5, 9),
    })


_MARGIN = 1.0  # inches of canvas around the figure for what reaches past its edge (rotated ticks, legends)
_MARGIN_BELOW = 2.0  # and under it, where legends below the axes hang (a legend of two rows reaches 1.2 in)


def _reaches_past(fig, renderer, margin_px: float, below_px: float | None = None) -> bool:
    """Whether a free-floating artist (a legend, a text) lies beyond ``margin_px`` of the figure
    (``below_px`` under it, if given). Everything else hangs off an axes inside the figure, so what it
    draws is one piece that would touch the canvas' border if it reached that far."""
    width, height = fig.bbox.width, fig.bbox.height
    below_px = margin_px if below_px is None else below_px

    def outside(x0, y0, x1, y1):
        return x0 < -margin_px or y0 < -below_px or x1 > width + margin_px or y1 > height + margin_px

    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    for legend in legends:
        if legend is not None and legend.get_visible() and outside(*legend.get_window_extent(renderer).extents):
            return True
    for text in [*fig.texts, *(t for ax in fig.axes for t in ax.texts)]:
        if text.get_visible() and text.get_text():
            x, y = text.get_transform().transform(text.get_position())  # its anchor: no text layout
            if outside(x, y, x, y):
                return True
    return False


def wrap_titles(fig) -> None:
    """Break a title (or suptitle) that would run past the figure's right edge into lines that fit: a
    long title must not widen the image past the chart (on a phone the whole image is scaled down)."""
    import textwrap

    renderer = None
    titles = [t for ax in fig.axes if ax.get_visible() for t in (ax._left_title, ax.title, ax._right_title)]
    for title in [fig._suptitle, *titles]:
        text = title.get_text() if title is not None else ""
        if not text or "\n" in text:
            continue
        renderer = renderer or _renderer(fig)
        box = title.get_window_extent(renderer)
        if box.x1 <= fig.bbox.width or box.width <= 0:
            continue
        room = fig.bbox.width - max(box.x0, 0.0)
        title.set_text("\n".join(textwrap.wrap(text, max(12, int(len(text) * room / box.width)))))


def figure_png(fig) -> bytes | None:
    """The figure as PNG bytes, cropped like ``savefig(bbox_inches="tight")`` but drawn once.

    Matplotlib's "tight" draws the whole figure to measure it and again into the cropped canvas,
    and measuring (every tick label's box) costs nearly as much as drawing: together a third or
    more of a report's chart time. Here the figure is drawn once onto a canvas larger than the
    figure (:data:`_MARGIN` inches on every side, :data:`_MARGIN_BELOW` under it: month labels and
    legends often reach past the figure's edge) and cropped to what was drawn plus
    ``savefig.pad_inches``. If the drawing touches the canvas' border, or a legend or text lies
    beyond the margin, it is measured on that drawing (its text sizes are cached) and drawn once
    more onto a canvas of the measured size. The kernel shows figures through this function (see
    :func:`use_style`).

    Examples
    --------
    >>> fig, ax = plt.subplots()  # doctest: +SKIP
    >>> png = figure_png(fig)  # doctest: +SKIP
    """
    import io

    from PIL import Image

    if not fig.axes and not fig.lines and not fig.legends:
        return None  # as IPython: an empty figure shows nothing (a legend of its own is something)
    wrap_titles(fig)
    dpi, pad_inches = fig.dpi, mpl.rcParams["savefig.pad_inches"]
    width, height = fig.get_size_inches()
    pixels = _drawn_canvas(fig, (-_MARGIN, -_MARGIN_BELOW, width + _MARGIN, height + _MARGIN))
    background = np.round(np.asarray(mpl.colors.to_rgba(fig.get_facecolor())) * 255).astype(np.uint8)
    # one 32-bit compare per pixel (its RGBA bytes as one word), not four
    drawn = pixels.view(np.uint32)[..., 0] != background.view(np.uint32)[0]
    ys, xs = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    pad = round(pad_inches * dpi)
    if (not len(ys) or ys[0] < pad or xs[0] < pad or ys[-1] >= drawn.shape[0] - pad or xs[-1] >= drawn.shape[1] - pad
            or _reaches_past(fig, fig.canvas.renderer, _MARGIN * dpi, _MARGIN_BELOW * dpi)):
        crop = _drawn_canvas(fig, fig.get_tightbbox(fig.canvas.renderer).padded(pad_inches).extents)
    else:
        crop = pixels[ys[0] - pad:ys[-1] + pad + 1, xs[0] - pad:xs[-1] + pad + 1]
    if background[3] == 255:
        crop = crop[..., :3]  # opaque: no alpha channel (a tenth smaller)
    out = io.BytesIO()
    # zlib level 3: a third less time than the default 6 for a few per cent more bytes
    Image.fromarray(np.ascontiguousarray(crop)).save(out, format="png", compress_level=3, dpi=(dpi, dpi))
    return out.getvalue()


def _drawn_canvas(fig, extents) -> np.ndarray:
    """The figure drawn once onto a canvas spanning ``extents`` (x0, y0, x1, y1 in inches, the figure
    from 0 to its size): its pixels, rows by columns by RGBA."""
    import io

    from matplotlib.transforms import Bbox

    raw = io.BytesIO()
    fig.canvas.print_figure(raw, format="rgba", dpi=fig.dpi, bbox_inches=Bbox.from_extents(*extents))
    data = np.frombuffer(raw.getbuffer(), dtype=np.uint8)
    x0, _, x1, _ = extents
    cols = next(c for c in (int((x1 - x0) * fig.dpi) + d for d in (0, 1, -1)) if data.size % (4 * c) == 0)
    return data.reshape(-1, cols, 4)


def show() -> None:
    """Display the figures drawn so far and end the cell without an ``Axes`` repr."""
    plt.show()


def money_axis(ax, currency: str = "USD", axis: str = "y"):
    """Format an axis as compact money: $0, $50k, $1.2M."""
    sym = currency_symbol(currency)

    def fmt(v, _pos):
        a = abs(v)
        for div, suf in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{'−' if v < 0 else ''}{sym}{a / div:.3g}{suf}"
        return f"{'−' if v < 0 else ''}{sym}{a:.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.FuncFormatter(fmt))
    return ax


def percent_axis(ax, axis: str = "y", decimals: int = 0):
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(
        mticker.PercentFormatter(xmax=1.0, decimals=decimals))
    return ax


def count_axis(ax, axis: str = "y"):
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
    return ax


def unit_axis(ax, unit, currency: str = "USD", *, percent_decimals: int = 0):
    """Format the y axis by the unit of what it shows: ``money``, ``percent``, ``count`` (thousands
    separators) or a function of the Axes; other units (ratio, months, number) keep plain ticks."""
    if callable(unit):
        unit(ax)
    elif unit == "money":
        money_axis(ax, currency)
    elif unit == "percent":
        percent_axis(ax, decimals=percent_decimals)
    elif unit == "count":
        count_axis(ax)
    return ax


def _renderer(fig):
    """The figure's renderer, for measuring text before the figure is drawn."""
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def _below_axes(ax, renderer) -> float:
    """Pixels from the bottom of ``ax`` to the bottom of what hangs under it (x tick labels, x label)."""
    box = ax.xaxis.get_tightbbox(renderer) if ax.xaxis.get_visible() else None
    return max(0.0, ax.bbox.y0 - box.y0) if box is not None else 0.0


LEGEND_GAP = 6.0  # points between a chart's lowest label and the legend under it


class LegendBelow(Legend):
    """A legend centred under a chart, outside its data: under the x tick labels and x label of
    the lowest of ``under`` (axes), centred on the first of them or on the figure (``centre``).

    Its anchor is measured whenever the legend is placed (drawn or measured), so it stays under
    the labels when ticks, labels or the layout change after it was made."""

    def __init__(self, parent, handles, labels, *, under, centre="axes", **kwargs):
        self._under, self._centre, self._sizing = list(under), centre, False
        super().__init__(parent, handles, labels, loc="upper center", **kwargs)

    def get_bbox_to_anchor(self):
        from matplotlib.transforms import Bbox, ScaledTranslation, TransformedBbox, blended_transform_factory

        fig = self.get_figure(root=True)
        if self._sizing:  # legend_below choosing its columns: only the legend's size is measured
            return TransformedBbox(Bbox.from_bounds(0.5, 0, 0, 0), self._under[0].transAxes)
        renderer = _renderer(fig)
        shown = [a for a in self._under if a.get_visible()] or self._under
        # measuring an axis' tick labels is the costly part, and this runs at every placement: only the
        # bottom row can hang lowest (a panel above it would have to draw over it), each measured once
        bottom = min(a.bbox.y0 for a in shown)
        below = {a: _below_axes(a, renderer) for a in shown if a.bbox.y0 < bottom + 1}
        lowest = min(below, key=lambda a: a.bbox.y0 - below[a])
        drop = below[lowest] / fig.dpi + LEGEND_GAP / 72
        if self._centre == "figure":
            base = blended_transform_factory(fig.transFigure, lowest.transAxes)
        else:
            base = blended_transform_factory(self._under[0].transAxes, lowest.transAxes)
        return TransformedBbox(Bbox.from_bounds(0.5, 0, 0, 0), base + ScaledTranslation(0, -drop, fig.dpi_scale_trans))


def legend_below(target, handles=None, labels=None, *, ncols: int | None = None, title: str | None = None,
                 **kwargs):
    """The one legend placement of the kit: centred under the chart, outside its data.

    ``target`` is an Axes (the legend hangs under its x tick labels and x label) or a Figure (one
    legend under all its panels, e.g. the channels of a grid). The legend is a :class:`LegendBelow`:
    it follows the labels and the layout as they change. ``ncols`` defaults to as many columns as
    fit the axes' width (the figure's for a Figure), balanced over the rows. ``handles`` and
    ``labels`` default to those of the axes and its twins (of every panel of a Figure), each label once.
    A layout applied afterwards (``tight_layout``) makes room for an axes' legend in the figure; a
    figure's legend hangs under the figure, inside the saved image (``bbox_inches="tight"``, :func:`figure_png`).

    Returns
    -------
    Legend or None
        None when there is nothing to show.

    Examples
    --------
    >>> ax.plot(x, y, label="Actual")  # doctest: +SKIP
    >>> legend = legend_below(ax)  # doctest: +SKIP
    """
    from matplotlib.figure import FigureBase

    on_figure = isinstance(target, FigureBase)
    fig = target if on_figure else target.figure
    under = [a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"] if on_figure else [target]
    if handles is None:
        pairs = {}
        for a in under if on_figure else [target, *_twins(target)]:
            for h, lab in zip(*a.get_legend_handles_labels()):
                pairs.setdefault(lab, h)
        handles, labels = list(pairs.values()), list(pairs)
    elif labels is None:
        labels = [h.get_label() for h in handles]
    handles, labels = list(handles), list(labels)
    if not handles:
        return None
    room = fig.bbox.width if on_figure else min(fig.bbox.width, target.bbox.width * 1.15)

    def make(n):
        legend = LegendBelow(target, handles, labels, under=under, centre="figure" if on_figure else "axes",
                             ncols=n, title=title, **kwargs)
        if on_figure:
            fig.legends.append(legend)
            legend._remove_method = fig.legends.remove
        else:
            if target.legend_ is not None:
                target.legend_.remove()
            target.legend_ = legend
            legend._remove_method = target._remove_legend
        fig.stale = True
        return legend

    if ncols is not None:
        return make(ncols)
    n = len(handles)
    renderer = _renderer(fig)

    def too_wide(legend) -> bool:
        legend._sizing = True  # its width does not depend on where it hangs: skip measuring the axes
        try:
            return legend.get_window_extent(renderer).width > room
        finally:
            legend._sizing = False

    legend = make(n)
    while n > 1 and too_wide(legend):
        legend.remove()
        n -= 1
        legend = make(n)
    balanced = -(-len(handles) // -(-len(handles) // n))  # as few columns as keep the same rows
    if balanced != n:
        legend.remove()
        legend = make(balanced)
    return legend


def _twins(ax) -> list:
    """The axes sharing ``ax``'s place (``twinx``): their lines belong in its legend."""
    return [a for a in ax.figure.axes if a is not ax and a.get_position().bounds == ax.get_position().bounds]


DATA_MARGIN = 0.08  # share of the data's range left free above its largest value


def upper_limit(values, *, margin: float = DATA_MARGIN, floor: float = 0.0) -> float:
    """The top of an axis from zero that fits ``values`` with a small margin (at least ``floor``;
    1 when there is nothing positive to show). Axes fit their own data: never another axis' limit.

    Examples
    --------
    >>> round(upper_limit([100.0, 232.0]), 2)
    250.56
    >>> upper_limit([float("nan")])
    1.0
    """
    v = pd.to_numeric(pd.Series(np.ravel(np.asarray(values, dtype=object))), errors="coerce")
    top = float(v.max()) if v.notna().any() else 0.0
    top = max(floor, top * (1 + margin))
    return top if top > 0 else 1.0


def zero_based(ax, values=None, axis: str = "y"):
    """Start the y (or x) axis at zero: counts, money and the like are compared by their height, and
    an axis from the data's minimum makes a 4 % change look like a doubling. Values below zero (net
    churn, a contraction) keep the axis reaching below zero; the top stays matplotlib's.

    Examples
    --------
    >>> ax.plot(months, [120.0, 125.0, 130.0]); zero_based(ax).get_ylim()[0]  # doctest: +SKIP
    0.0
    """
    v = pd.to_numeric(pd.Series(np.ravel(np.asarray(values if values is not None else [], dtype=object))),
                      errors="coerce")
    low = min(0.0, float(v.min())) if v.notna().any() else 0.0
    if axis == "y":
        ax.set_ylim(bottom=low)
    else:
        ax.set_xlim(left=low)
    return ax


def _ax(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize or (WIDTH, 4.0))
    return ax


def funnel_chart(counts: pd.Series, *, title: str = "Funnel", ax=None):
    """Horizontal funnel: one centred bar per stage, with the count and the conversion from the
    previous stage.

    Parameters
    ----------
    counts : Series
        Contacts reaching each stage, indexed by stage name in funnel order.

    Examples
    --------
    >>> ax = funnel_chart(pd.Series({"lead": 100, "mql": 40, "customer": 5}))  # doctest: +SKIP
    """
    ax = _ax(ax, (WIDTH, 0.55 * len(counts) + 1.2))
    values = counts.to_numpy(dtype=float)
    top = values.max() if len(values) and values.max() > 0 else 1.0
    y = np.arange(len(values))[::-1]
    colours = STAGE_COLOURS[: len(values)] if len(values) <= len(STAGE_COLOURS) else None
    ax.barh(y, values, left=(top - values) / 2, color=colours, height=0.72)
    for i, (yi, v) in enumerate(zip(y, values)):
        conv = "" if i == 0 or values[i - 1] == 0 else f"   {v / values[i - 1]:.0%} of previous"
        ax.text(top / 2, yi, f"{v:,.0f}", ha="center", va="center", color="white" if v > top * 0.12 else INK,
                fontweight="bold")
        ax.text(top * 1.01, yi, conv.strip(), ha="left", va="center", color=MUTED, fontsize=9)
    ax.set_yticks(y, [str(s).upper() if len(str(s)) <= 3 else str(s).capitalize() for s in counts.index])
    ax.set_xlim(0, top * 1.22)
    ax.set_xticks([])
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.set_title(title)
    ax.set_xlabel("Contacts reaching each stage (bar width)")
    return ax


def _luminance(rgb) -> float:
    """Relative luminance (WCAG) of an RGB colour with channels in 0–1."""
    c = np.asarray(rgb[:3], dtype=float)
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def text_colour_on(background) -> str:
    """White or ink, whichever contrasts more with ``background`` (any matplotlib colour).

    Examples
    --------
    >>> text_colour_on("#08306b"), text_colour_on("#f7fbff")
    ('white', '#1f2937')
    """
    lum = _luminance(mpl.colors.to_rgb(background))
    on_white, on_ink = 1.05 / (lum + 0.05), (lum + 0.05) / (_luminance(mpl.colors.to_rgb(INK)) + 0.05)
    return "white" if on_white >= on_ink else INK


CELL_FONT = (6.0, 8.0)  # points: cell values are drawn between these sizes, or not at all (6 pt at 100 dpi: 8.3 px)


def cell_fontsize(ax, shape: tuple[int, int], labels, renderer=None) -> float | None:
    """The font size (points) at which the widest of ``labels`` fits a cell of a ``shape`` (rows,
    columns) grid filling ``ax``, at most ``CELL_FONT[1]``; None below ``CELL_FONT[0]`` (too small to read)."""
    rows, cols = shape
    labels = {str(t) for t in labels if str(t)}
    if not rows or not cols or not labels:
        return None
    longest = max(map(len, labels))
    labels = [t for t in labels if len(t) >= longest - 1]  # the widest is among the longest
    renderer = renderer or _renderer(ax.figure)
    probe = mpl.font_manager.FontProperties(size=10)
    wide = max(renderer.get_text_width_height_descent(t, probe, ismath=False)[0] for t in labels)
    cell_w, cell_h = ax.bbox.width / cols, ax.bbox.height / rows
    size = min(CELL_FONT[1], 10 * 0.92 * cell_w / wide, 0.7 * cell_h * 72 / ax.figure.dpi)
    return size if size >= CELL_FONT[0] else None


def heatmap(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, fmt: str = "{:.0%}",
            mask_rows=None, vmax: float | None = None, ax=None, cbar_label: str = "", fit_margins: bool | None = None):
    """Heatmap of a wide table (rows × columns of rates), each cell carrying its value where the
    cells are big enough to read it (see :func:`cell_fontsize`; a percentage without its "%" sign
    when only that fits, the colour bar's label then saying so), else none, in white or ink, whichever
    contrasts more with the cell; ``mask_rows`` (bool per row) greys out rows such as immature or
    small cohorts. ``fit_margins`` (by default when it makes its own figure) sets the figure's margins to
    fit the row labels and the colour bar, so the image stays the figure's width."""
    own = ax is None
    ax = _ax(ax, (WIDTH, max(3.0, 0.22 * len(table) + 1.5)))
    data = table.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="Blues", vmin=0,
                   vmax=vmax if vmax is not None else np.nanmax(data) if np.isfinite(data).any() else 1)
    masked = np.zeros(len(table), bool) if mask_rows is None else np.asarray(mask_rows, dtype=bool)
    for i, m in enumerate(masked):
        if m:
            ax.axhspan(i - 0.5, i + 0.5, color="white", alpha=0.55, lw=0)
    xstep = 1 if table.shape[1] <= 13 else 3  # 25 ages: every third labelled (0, 3, 6, ...), the labels apart
    ax.set_xticks(range(0, table.shape[1], xstep), [str(c) for c in table.columns[::xstep]],
                  rotation=20 if max((len(str(c)) for c in table.columns), default=0) > 8 else 0, ha="right"
                  if max((len(str(c)) for c in table.columns), default=0) > 8 else "center")
    step = max(1, len(table) // 18)
    ax.set_yticks(range(0, len(table), step), [str(r) for r in table.index[::step]])
    if own if fit_margins is None else fit_margins:  # margins that fit the row labels and the colour bar
        fig, renderer = ax.figure, _renderer(ax.figure)
        font = ax.yaxis.get_majorticklabels()[0].get_fontproperties() if len(table) else None
        labels = sorted((str(r) for r in table.index[::step]), key=len)[-3:]
        wide = max((renderer.get_text_width_height_descent(t, font, ismath=False)[0] for t in labels), default=0)
        fig.subplots_adjust(left=(wide / fig.dpi + 0.42) / fig.get_figwidth(), right=1 - 0.72 / fig.get_figwidth())
    ax.grid(False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    percent = "%" in fmt
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.025, pad=0.015,
                            format=mticker.PercentFormatter(1.0, decimals=0) if percent else None)
    cb.set_label(cbar_label)
    cb.outline.set_visible(False)
    # the values, once the colour bar has taken its share of the width: the cells' size is final
    texts = {(i, j): fmt.format(v) for (i, j), v in np.ndenumerate(data) if np.isfinite(v)}
    size = cell_fontsize(ax, data.shape, texts.values())
    if size is None and percent:  # "87" fits where "87%" does not: the colour bar's label says the unit
        texts = {k: t.replace("%", "") for k, t in texts.items()}
        size = cell_fontsize(ax, data.shape, texts.values())
        if size is not None:
            cb.set_label(f"{cbar_label} (cell values in %)".strip())
    if size is not None:
        for (i, j), text in texts.items():
            colour = np.asarray(im.cmap(im.norm(data[i, j])))[:3]
            if masked[i]:  # under the white veil of a greyed-out row
                colour = 0.45 * colour + 0.55
            ax.text(j, i, text, ha="center", va="center", fontsize=size, color=text_colour_on(colour))
    return ax


def series_with_target(months: pd.Series, actual: pd.Series, target: pd.Series | None = None, *,
                       title: str, ylabel: str, colour: str = ACCENT, ax=None, legend: bool = True):
    """Monthly actuals as a line, with the target as a dashed step line where there is one (and a
    legend under the axes, unless ``legend`` is False: a grid of these draws one for all)."""
    ax = _ax(ax)
    x = pd.PeriodIndex(months).to_timestamp()
    ax.plot(x, actual.to_numpy(dtype=float), color=colour, lw=2, marker="o", ms=3, label="Actual")
    if target is not None and target.notna().any():
        ax.plot(x, target.to_numpy(dtype=float), color=INK, lw=1.2, ls="--", marker="_", ms=10,
                label="Target")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    count_axis(ax)
    ax.set_ylim(bottom=0)
    if legend and target is not None and target.notna().any():
        legend_below(ax)
    return ax


class MonthStartLocator(mticker.Locator):
    """Ticks on the first of every ``step``-th month (1 monthly, 3 quarters, 6 halves, 12 Januaries,
    24 every other January), computed with numpy month arithmetic (matplotlib's ``MonthLocator``
    builds a dateutil rule on every draw)."""

    def __init__(self, step: int = 1):
        self.step = step

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        vmin, vmax = sorted((vmin, vmax))
        first, last = (np.datetime64(mpl.dates.num2date(v).replace(tzinfo=None), "M") for v in (vmin, vmax))
        months = np.arange(first, last + 1)
        months = months[months.astype(np.int64) % self.step == 0]  # months since Jan 1970
        ticks = mpl.dates.date2num(months.astype("datetime64[D]"))
        return ticks[(ticks >= vmin) & (ticks <= vmax)]


def month_axis(ax):
    """Month ticks as dense as the axis' width allows without labels running into each other:
    monthly, quarterly, half-yearly or yearly."""
    lo, hi = ax.get_xlim()
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    ticks = ax.xaxis.get_major_ticks(1)  # one is enough to read the label size (and cheaper than all)
    size = ticks[0].label1.get_fontsize() if ticks else 10
    room = max(2, int(width_in / (0.075 * size)))  # a "Jan 2026" label needs about 0.75 in at 10 pt
    # the labels that would be drawn, not the months spanned (the axis' margins add part of one)
    step = next((s for s in (1, 3, 6, 12) if len(MonthStartLocator(s).tick_values(lo, hi)) <= room), 24)
    ax.xaxis.set_major_locator(MonthStartLocator(step))
    ax.xaxis.set_major_formatter(mpl.dates.DateFormatter("%b %Y"))
    return ax
