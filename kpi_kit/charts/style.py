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

from ..formatting import currency_symbol

WIDTH = 9.0  # inches: readable at A4 width at 100 dpi
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
GOOD, BAD, ACCENT = "#15803d", "#b91c1c", "#2563eb"
# Fixed colours for the usual channels keep a channel's colour in every report and client.
CHANNEL_COLOURS = {
    "Paid Search": "#2563eb", "Paid Social": "#7c3aed", "Organic Search": "#059669",
    "Direct": "#64748b", "Email": "#d97706", "Events": "#db2777", "Referral": "#0891b2",
    "Outbound": "#b91c1c", "Partners": "#0d9488", "Display": "#9333ea", "Other": "#94a3b8",
}
# Colours for channels without a fixed one: away from the fixed channels' hues.
_FALLBACK = ["#a16207", "#4d7c0f", "#9f1239", "#57534e", "#c2410c", "#0f766e", "#86198f", "#1e40af",
             "#854d0e", "#3f6212"]
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
    """Give each of a client's channels without a fixed colour its own fallback colour, in sorted
    order, so two channels of one client never share a colour (a hash of the name could collide)."""
    _ASSIGNED.clear()
    unknown = sorted({str(c) for c in channels if isinstance(c, str) and c not in CHANNEL_COLOURS})
    for i, c in enumerate(unknown):
        _ASSIGNED[c] = _FALLBACK[i % len(_FALLBACK)]


def channel_colour(channel: str) -> str:
    """The colour of ``channel``: fixed for known names, else the one :func:`register_channels`
    gave it, else stable from a hash of the name."""
    if channel in CHANNEL_COLOURS:
        return CHANNEL_COLOURS[channel]
    if channel in _ASSIGNED:
        return _ASSIGNED[channel]
    return _FALLBACK[zlib.crc32(str(channel).encode()) % len(_FALLBACK)]


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
        "legend.fontsize": 9, "axes.prop_cycle": mpl.cycler(color=_FALLBACK),
        "svg.hashsalt": "kpi_kit", "image.cmap": "Blues",
        # labels come from the client's data: "Promo $$ week" is a channel name, not math text
        "text.parse_math": False,
        # titles sit just above the axes: no chart has top tick labels or an offset text ("1e6") to
        # dodge, and matplotlib's automatic title placement measures every y tick label on each draw
        "axes.titley": 1.0, "axes.formatter.useoffset": False, "axes.formatter.limits": (-5, 9),
    })


_MARGIN = 1.0  # inches of canvas around the figure for what reaches past its edge (rotated ticks, legends)


def _reaches_past(fig, renderer, margin_px: float) -> bool:
    """Whether a free-floating artist (a legend, a text) lies beyond ``margin_px`` of the figure.
    Everything else hangs off an axes inside the figure, so what it draws is one piece that
    would touch the canvas' border if it reached that far."""
    width, height = fig.bbox.width, fig.bbox.height

    def outside(x0, y0, x1, y1):
        return x0 < -margin_px or y0 < -margin_px or x1 > width + margin_px or y1 > height + margin_px

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


def figure_png(fig) -> bytes | None:
    """The figure as PNG bytes, cropped like ``savefig(bbox_inches="tight")`` but drawn once.

    Matplotlib's "tight" draws the whole figure to measure it and again into the cropped canvas,
    and measuring (every tick label's box) costs nearly as much as drawing: together a third or
    more of a report's chart time. Here the figure is drawn once onto a canvas :data:`_MARGIN`
    inches larger on every side (month labels and legends often reach past the figure's edge) and
    cropped to what was drawn plus ``savefig.pad_inches``. If the drawing touches the canvas'
    border, or a legend or text lies beyond the margin, the figure is saved the tight way instead.
    The kernel shows figures through this function (see :func:`use_style`).

    Examples
    --------
    >>> fig, ax = plt.subplots()  # doctest: +SKIP
    >>> png = figure_png(fig)  # doctest: +SKIP
    """
    import io

    from matplotlib.transforms import Bbox
    from PIL import Image

    if not fig.axes and not fig.lines:
        return None  # as IPython: an empty figure shows nothing
    dpi, m = fig.dpi, _MARGIN
    width, height = fig.get_size_inches()
    raw, out = io.BytesIO(), io.BytesIO()
    fig.canvas.print_figure(raw, format="rgba", dpi=dpi, bbox_inches=Bbox.from_extents(-m, -m, width + m, height + m))
    data = np.frombuffer(raw.getbuffer(), dtype=np.uint8)
    cols = next(c for c in (int((width + 2 * m) * dpi) + d for d in (0, 1, -1)) if data.size % (4 * c) == 0)
    pixels = data.reshape(-1, cols, 4)
    background = np.round(np.asarray(mpl.colors.to_rgba(fig.get_facecolor())) * 255).astype(np.uint8)
    drawn = (pixels != background).any(axis=2)
    ys, xs = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    pad = round(mpl.rcParams["savefig.pad_inches"] * dpi)
    if (not len(ys) or ys[0] < pad or xs[0] < pad or ys[-1] >= len(pixels) - pad or xs[-1] >= cols - pad
            or _reaches_past(fig, fig.canvas.renderer, m * dpi)):
        fig.canvas.print_figure(out, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        return out.getvalue()
    crop = pixels[ys[0] - pad:ys[-1] + pad + 1, xs[0] - pad:xs[-1] + pad + 1]
    if background[3] == 255:
        crop = crop[..., :3]  # opaque: no alpha channel (a tenth smaller)
    # zlib level 3: a third less time than the default 6 for a few per cent more bytes
    Image.fromarray(crop).save(out, format="png", compress_level=3, dpi=(dpi, dpi))
    return out.getvalue()


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


def heatmap(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, fmt: str = "{:.0%}",
            mask_rows=None, vmax: float | None = None, ax=None, cbar_label: str = ""):
    """Annotated heatmap of a wide table (rows × columns of rates); ``mask_rows`` (bool per row)
    greys out rows such as immature or small cohorts."""
    ax = _ax(ax, (WIDTH, max(3.0, 0.22 * len(table) + 1.5)))
    data = table.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="Blues", vmin=0,
                   vmax=vmax if vmax is not None else np.nanmax(data) if np.isfinite(data).any() else 1)
    small = len(table) > 24
    annotate = table.shape[1] <= 13 and len(table) <= 36  # wider grids are read by colour alone
    for (i, j), v in np.ndenumerate(data):
        if annotate and np.isfinite(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7 if small else 8,
                    color="white" if v > (im.norm.vmax or 1) * 0.6 else INK)
    if mask_rows is not None:
        for i, m in enumerate(np.asarray(mask_rows, dtype=bool)):
            if m:
                ax.axhspan(i - 0.5, i + 0.5, color="white", alpha=0.55, lw=0)
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns],
                  rotation=20 if max((len(str(c)) for c in table.columns), default=0) > 8 else 0, ha="right"
                  if max((len(str(c)) for c in table.columns), default=0) > 8 else "center")
    step = max(1, len(table) // 18)
    ax.set_yticks(range(0, len(table), step), [str(r) for r in table.index[::step]])
    ax.grid(False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.02,
                            format=mticker.PercentFormatter(1.0, decimals=0) if "%" in fmt else None)
    cb.set_label(cbar_label)
    cb.outline.set_visible(False)
    return ax


def series_with_target(months: pd.Series, actual: pd.Series, target: pd.Series | None = None, *,
                       title: str, ylabel: str, colour: str = ACCENT, ax=None):
    """Monthly actuals as a line, with the target as a dashed step line where there is one."""
    ax = _ax(ax)
    x = pd.PeriodIndex(months).to_timestamp()
    ax.plot(x, actual.to_numpy(dtype=float), color=colour, lw=2, marker="o", ms=3, label="Actual")
    if target is not None and target.notna().any():
        ax.plot(x, target.to_numpy(dtype=float), color=INK, lw=1.2, ls="--", marker="_", ms=10,
                label="Target")
        ax.legend(loc="upper left")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    count_axis(ax)
    ax.set_ylim(bottom=0)
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
