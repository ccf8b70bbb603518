"""Alt text for a chart, read from what it draws: the HTML pages put it on the chart's image.

:func:`alt_text` describes a matplotlib Figure from its artists, without drawing it: the kind of chart
(line, bar, stacked or grouped bar, heatmap, scatter, stacked area, or small multiples of N panels),
its title, what its axes measure, and its key numbers, formatted like the axis that shows them
(``$418k``, ``27.2%``, ``Nov 2025``):

- a line: its first and last points ("MRR (left) from $418k in Nov 2025 to $695k in Oct 2026"); more
  than three lines: the highest and lowest where most of them are compared (the last x that half of
  them reach: "in Oct 2026 highest Paid Search 268, lowest Events 4");
- bars: the largest and smallest bar with its category (the largest and smallest stack of a stacked
  chart; bar and model of a grouped one);
- a heatmap: its rows, columns and the range of its values;
- a scatter: the points with the highest and lowest y, named by their annotation;
- a stacked area: the largest and smallest layer at the last x.

Every value comes from the drawn data. A chart whose generic description reads badly can carry its
own: :func:`set_alt_text` (it wins over the generic one). Section (:mod:`kpi_kit.reports.section`)
puts the text into the output's metadata, ``{"kpi_kit": {"alt": ...}}``, and the report template
writes it into ``<img alt="...">``.

Examples
--------
>>> fig, ax = plt.subplots()  # doctest: +SKIP
>>> ax.plot(months, mrr); ax.set_title("MRR per month"); money_axis(ax)  # doctest: +SKIP
>>> alt_text(fig)  # doctest: +SKIP
'Line chart: MRR per month. MRR (USD) from $418k in Nov 2025 to $695k in Oct 2026.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np

MAX_CHARS = 300  # an alt text is read aloud: longer ones are cut down to titles (see alt_text)
ATTR = "kpi_kit_alt"  # the Figure attribute holding a chart's own alt text (set_alt_text)
MAX_LINES = 3  # lines described one by one; more are summarised by their highest and lowest
_MINUS = "\N{MINUS SIGN}"


def _figure_of(chart):
    """The Figure of a Figure, an Axes or an array of Axes; None for anything else."""
    if isinstance(chart, np.ndarray):
        chart = chart.flat[0] if chart.size else None
    fig = getattr(chart, "figure", None)
    if fig is not None and hasattr(fig, "savefig"):
        return fig
    return chart if hasattr(chart, "savefig") else None


def set_alt_text(chart, text: str | None):
    """Give ``chart`` (a Figure, an Axes or an array of Axes) an alt text of its own, which
    :func:`alt_text` returns instead of the generic description (None: back to the generic one).
    Returns ``chart``, so a report can write ``Section(title, set_alt_text(charts.x(...), text))``.

    Examples
    --------
    >>> ax = set_alt_text(charts.funnel_chart(counts), "Funnel: 900 leads, 300 MQLs, 20 customers")  # doctest: +SKIP
    """
    fig = _figure_of(chart)
    if fig is None:
        raise TypeError(f"set_alt_text needs a Figure or Axes, got {type(chart).__name__}")
    setattr(fig, ATTR, text)
    return chart


# -- formatting values like their axis --------------------------------------------------------------
def _number(v: float) -> str:
    text = f"{abs(v):,.0f}" if abs(v) >= 100 else f"{abs(v):.3g}"
    return f"{_MINUS}{text}" if v < 0 and text.strip("0.") else text


def _value(axis, v: float) -> str:
    """``v`` as ``axis`` shows it: the kit's money, count and percent formats; plain numbers otherwise."""
    fmt = axis.get_major_formatter() if axis is not None else None
    if isinstance(fmt, mticker.PercentFormatter):
        pct = v / fmt.xmax * 100
        text = f"{abs(pct):.1f}".removesuffix(".0")
        return f"{_MINUS if pct < 0 and text != '0' else ''}{text}{fmt.symbol or ''}"
    if isinstance(fmt, (mticker.FuncFormatter, mticker.StrMethodFormatter, mticker.FormatStrFormatter)):
        try:
            text = str(fmt(v, None)).strip()
        except Exception:  # noqa: BLE001 - a chart's own formatter: fall back to a plain number
            text = ""
        if text:
            return text
    return _number(v)


def _is_date(axis) -> bool:
    if isinstance(axis.get_major_formatter(), (mdates.DateFormatter, mdates.AutoDateFormatter,
                                                 mdates.ConciseDateFormatter)):
        return True
    name = type(axis.get_converter()).__name__ if hasattr(axis, "get_converter") else ""
    return "Date" in name and "Period" not in name


def _tick_labels(axis) -> dict[float, str]:
    """Tick position -> label of an axis with ticks set one by one (``set_xticks(x, labels)``)."""
    locator = axis.get_major_locator()
    if not isinstance(locator, mticker.FixedLocator):
        return {}
    try:
        locs = list(locator())
        labels = axis.get_major_formatter().format_ticks(locs)
    except Exception:  # noqa: BLE001 - a chart's own formatter: no labels
        return {}
    return {float(loc): " ".join(str(text).split()) for loc, text in zip(locs, labels) if str(text).strip()}


def _categories(axis) -> bool:
    """Whether ``axis`` names categories (strings plotted, or ticks set with labels), not values."""
    from matplotlib.category import StrCategoryFormatter

    return isinstance(axis.get_major_formatter(), StrCategoryFormatter) or bool(_tick_labels(axis))


def _place(axis, v: float) -> str:
    """Where ``v`` lies on a date or category axis ("Nov 2025", "Paid Search"), or its value."""
    from matplotlib.category import StrCategoryFormatter

    fmt = axis.get_major_formatter()
    if _is_date(axis):
        pattern = fmt.fmt if isinstance(fmt, mdates.DateFormatter) and isinstance(fmt.fmt, str) else "%b %Y"
        return mdates.num2date(v).strftime(pattern)
    if isinstance(fmt, StrCategoryFormatter):
        return " ".join(fmt(round(v)).split())
    labels = _tick_labels(axis)
    if labels:
        loc = min(labels, key=lambda t: abs(t - v))
        if abs(loc - v) <= 0.5:
            return labels[loc]
    return _value(axis, v)


def _at(axis, v: float, *, unit: bool = False) -> str:
    """"in Nov 2025", "in 2026Q1", "at 12" or, with ``unit``, "at 12 months since first payment"."""
    place = _place(axis, v)
    if _is_date(axis) or _categories(axis):
        return f"in {place}"
    label = " ".join(axis.get_label_text().split())
    return f"at {place} {_lower_first(label)}" if label and unit else f"at {place}"


def _lower_first(text: str) -> str:
    """``Months since …`` -> ``months since …``; acronyms (``LTV ÷ CAC``, ``MRR``) as they are."""
    return f"{text[0].lower()}{text[1:]}" if len(text) > 1 and text[1].islower() else text


def _clean(text) -> str:
    return " ".join(str(text or "").split()).rstrip(".")


def _shown_label(artist) -> str:
    """An artist's legend label, or "" for matplotlib's automatic ones (``_child0``)."""
    label = _clean(artist.get_label())
    return "" if not label or label.startswith("_") else label


# -- one panel --------------------------------------------------------------------------------------
@dataclass
class _Panel:
    title: str
    kinds: list[str] = field(default_factory=list)
    measure: str = ""  # what an unnamed series measures, said after the title of a panel among several
    facts: list[str] = field(default_factory=list)

    def kind(self) -> str:
        kinds = list(dict.fromkeys(self.kinds))
        if not kinds:
            return "chart"
        if kinds == ["heatmap"]:
            return "heatmap"
        return " and ".join(kinds) + " chart"


def _title(ax) -> str:
    return next((_clean(ax.get_title(loc)) for loc in ("left", "center", "right") if _clean(ax.get_title(loc))), "")


def _value_axis(ax, horizontal: bool):
    return ax.xaxis if horizontal else ax.yaxis


def _measure(ax, horizontal: bool = False) -> str:
    return _clean(_value_axis(ax, horizontal).get_label_text())


def _is_guide(ax, line) -> bool:
    """Lines drawn in axes coordinates along one axis (``axhline``, ``axvline``)."""
    return line.get_transform() != ax.transData


def _lines(ax, *, skip_unlabelled: bool, scatter: bool) -> tuple[list, list[str]]:
    """The data lines of ``ax`` as (name, x, y) with finite points, and the labels of its guides."""
    series, guides = [], []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        label = _shown_label(line)
        xy = np.asarray(line.get_xydata(), dtype=float)
        ok = np.isfinite(xy).all(axis=1) if xy.ndim == 2 and len(xy) else np.zeros(0, bool)
        if _is_guide(ax, line) or (scatter and len(xy) == 2):
            if label:
                guides.append(label)
            continue
        if str(line.get_linestyle()) in ("None", "none", "", " ") or (line.get_alpha() or 1.0) < 0.7:
            continue  # markers over another line, or the faint monthly points under a bold average
        if not ok.any() or (skip_unlabelled and not label):
            continue
        series.append((label, xy[ok, 0], xy[ok, 1]))
    return series, guides


def _common_x(series: list) -> float | None:
    """The largest x at which at least half of the lines (two at least) have a point: where many lines
    are compared ("in Oct 2026", "at 12 months"); None when no two lines share an x."""
    counts: dict[float, int] = {}
    for _, x, _ in series:
        for v in set(np.round(x, 9)):
            counts[v] = counts.get(v, 0) + 1
    need = max(2, -(-len(series) // 2))
    shared = [v for v, n in counts.items() if n >= need]
    return max(shared) if shared else None


def _line_facts(ax, series: list, panel: _Panel, *, single: bool) -> list[str]:
    if not series:
        return []
    y = ax.yaxis
    if len(series) > MAX_LINES:
        named = [(name or f"line {i + 1}", x, v) for i, (name, x, v) in enumerate(series)]
        at = _common_x(named)
        if at is not None:
            points = [(name, v[np.isclose(x, at)][0]) for name, x, v in named if np.isclose(x, at).any()]
            hi, lo = max(points, key=lambda p: p[1]), min(points, key=lambda p: p[1])
            where = f"{len(series)} lines; {_at(ax.xaxis, at, unit=True)}"
            if hi[1] == lo[1]:
                return [f"{where} all at {_value(y, hi[1])}"]
            return [f"{where} highest {hi[0]} {_value(y, hi[1])}, lowest {lo[0]} {_value(y, lo[1])}"]
        lasts = [(name, x[-1], v[-1]) for name, x, v in named]
        hi, lo = max(lasts, key=lambda s: s[2]), min(lasts, key=lambda s: s[2])
        return [f"{len(series)} lines; at their last points highest {hi[0]} {_value(y, hi[2])} "
                f"({_place(ax.xaxis, hi[1])}), lowest {lo[0]} {_value(y, lo[2])} ({_place(ax.xaxis, lo[1])})"]
    facts = []
    for name, x, v in series:
        if not name and (single or len(series) > 1):
            name = _measure(ax)
        elif not name:
            panel.measure = panel.measure or _measure(ax)
        if len(x) == 1:
            text = f"{_value(y, v[0])} {_at(ax.xaxis, x[0], unit=True)}"
        else:  # the x axis' unit once, after the last point: "from 100% at 0 to 91% at 18 months since ..."
            text = (f"from {_value(y, v[0])} {_at(ax.xaxis, x[0])} "
                    f"to {_value(y, v[-1])} {_at(ax.xaxis, x[-1], unit=True)}")
        facts.append(f"{name} {text}" if name else text)
    return facts


def _bars(ax) -> tuple[list, bool]:
    """The visible bar containers of ``ax`` as (label, positions, values, horizontal), and whether they
    stack: several containers over the same positions (side by side they are grouped)."""
    from matplotlib.container import BarContainer

    out = []
    for c in ax.containers:
        if not isinstance(c, BarContainer) or not c.patches or not any(p.get_visible() for p in c.patches):
            continue
        horizontal = c.orientation == "horizontal"
        pos = np.array([p.get_y() + p.get_height() / 2 if horizontal else p.get_x() + p.get_width() / 2
                        for p in c.patches], dtype=float)
        values = np.asarray(c.datavalues, dtype=float) if c.datavalues is not None else \
            np.array([p.get_width() if horizontal else p.get_height() for p in c.patches], dtype=float)
        out.append((_shown_label(c), pos, values, horizontal))
    positions = [round(p, 6) for _, pos, _, _ in out for p in pos]
    return out, len(out) > 1 and len(set(positions)) < len(positions)


def _bar_facts(ax, bars: list, stacked: bool, panel: _Panel, *, single: bool) -> None:
    horizontal = bars[0][3]
    cat_axis, val_axis = (ax.yaxis, ax.xaxis) if horizontal else (ax.xaxis, ax.yaxis)
    measure = _measure(ax, horizontal)
    if stacked:
        totals: dict[float, float] = {}
        for _, pos, values, _ in bars:
            for p, v in zip(pos, values):
                if np.isfinite(v):
                    totals[round(p, 6)] = totals.get(round(p, 6), 0.0) + v
        if not totals:
            return
        panel.kinds.append("stacked bar")
        names = [b[0] for b in bars if b[0]]
        what = f"{measure}, {len(bars)} stacked series" + (f" ({', '.join(names)})" if names else "")
        hi, lo = max(totals, key=totals.get), min(totals, key=totals.get)
        total = "net" if any(np.nanmin(values) < 0 for _, _, values, _ in bars if len(values)) else "total"
        if len(totals) == 1:
            panel.facts.append(f"{what}: {total} {_value(val_axis, totals[hi])} ({_place(cat_axis, hi)})")
            return
        panel.facts.append(f"{what}: {total} highest {_value(val_axis, totals[hi])} ({_place(cat_axis, hi)}), "
                           f"lowest {_value(val_axis, totals[lo])} ({_place(cat_axis, lo)})")
        return
    cells = [(name, p, v) for name, pos, values, _ in bars for p, v in zip(pos, values) if np.isfinite(v)]
    if not cells:
        return
    grouped = len(bars) > 1 and len({round(p, 6) for _, pos, _, _ in bars for p in pos}) > len(bars[0][1])
    panel.kinds.append("grouped bar" if grouped else "horizontal bar" if horizontal else "bar")
    hi, lo = max(cells, key=lambda c: c[2]), min(cells, key=lambda c: c[2])

    def where(cell):
        return f"{_place(cat_axis, cell[1])}, {cell[0]}" if grouped and cell[0] else _place(cat_axis, cell[1])

    name = "" if grouped else bars[0][0] or (measure if single else "")
    if not grouped and not name:
        panel.measure = panel.measure or measure
    text = f"highest {_value(val_axis, hi[2])} ({where(hi)}), lowest {_value(val_axis, lo[2])} ({where(lo)})"
    if len(cells) == 1:
        text = f"{_value(val_axis, hi[2])} ({where(hi)})"
    if grouped:
        text = f"{len(bars)} series by {_clean(cat_axis.get_label_text()).lower() or 'category'}; {text}"
    panel.facts.append(f"{name}: {text}" if name else text)


def _heatmap_facts(ax, image, panel: _Panel) -> None:
    data = np.ma.masked_invalid(np.ma.asarray(image.get_array(), dtype=float))
    panel.kinds.append("heatmap")
    rows, cols = data.shape[:2]
    across = " by ".join(_lower_first(t) for t in (_measure(ax), _measure(ax, True)) if t)
    shape = f"{rows} × {cols} cells" + (f", {across}" if across else "")
    if data.count() == 0:
        panel.facts.append(f"{shape}, no values")
        return
    cb = getattr(image, "colorbar", None)
    axis = None if cb is None else (cb.ax.yaxis if cb.orientation == "vertical" else cb.ax.xaxis)
    lo, hi = float(data.min()), float(data.max())
    values = f"values from {_value(axis, lo)} to {_value(axis, hi)}" if lo != hi else f"every value {_value(axis, hi)}"
    panel.facts.append(f"{shape}; {values}")


def _scatter_facts(ax, points, panel: _Panel) -> None:
    from matplotlib.text import Annotation

    xy = np.asarray(points.get_offsets(), dtype=float)
    xy = xy[np.isfinite(xy).all(axis=1)] if xy.ndim == 2 else np.zeros((0, 2))
    if not len(xy):
        return
    panel.kinds.append("scatter")
    names = {}
    for t in ax.texts:
        if isinstance(t, Annotation) and t.get_text():
            names[(round(float(ax.convert_xunits(t.xy[0])), 9), round(float(ax.convert_yunits(t.xy[1])), 9))] = t.get_text()

    def point(i):
        x, y = xy[i]
        name = names.get((round(x, 9), round(y, 9)))
        at = f"{_value(ax.yaxis, y)} against {_value(ax.xaxis, x)}"
        return f"{name} {at}" if name else at

    what = f"{len(xy)} points, {_lower_first(_measure(ax) or 'y')} against {_lower_first(_measure(ax, True) or 'x')}"
    hi, lo = int(np.argmax(xy[:, 1])), int(np.argmin(xy[:, 1]))
    panel.facts.append(f"{what}; highest {point(hi)}, lowest {point(lo)}" if len(xy) > 1 else f"{what}; {point(hi)}")


def _area_facts(ax, layers: list, panel: _Panel) -> None:
    """Stacked areas (``stackplot``): each layer's thickness at the last x."""
    last = max(float(np.nanmax(p.vertices[:, 0])) for c in layers for p in c.get_paths() if len(p.vertices))
    sizes = []
    for c in layers:
        ys = [v[1] for p in c.get_paths() for v in p.vertices if np.isclose(v[0], last)]
        if ys:
            sizes.append((_shown_label(c), max(ys) - min(ys)))
    if not sizes:
        return
    panel.kinds.append("stacked area" if len(layers) > 1 else "area")
    hi, lo = max(sizes, key=lambda s: s[1]), min(sizes, key=lambda s: s[1])
    text = f"{len(layers)} layers; {_at(ax.xaxis, last)} largest {hi[0]} {_value(ax.yaxis, hi[1])}"
    panel.facts.append(text + (f", smallest {lo[0]} {_value(ax.yaxis, lo[1])}" if len(sizes) > 1 else ""))


def _panel(group: list, *, single: bool) -> _Panel:
    """What the axes of one place in the figure (an axes and its twins) draw."""
    from matplotlib.collections import PathCollection, PolyCollection

    panel = _Panel(next((t for t in map(_title, group) if t), ""))
    guides: list[str] = []
    for ax in group:
        for image in ax.images:
            _heatmap_facts(ax, image, panel)
        bars, stacked = _bars(ax)
        if bars:
            _bar_facts(ax, bars, stacked, panel, single=single)
        scatter = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
        for points in scatter:
            _scatter_facts(ax, points, panel)
        series, more = _lines(ax, skip_unlabelled=bool(bars), scatter=bool(scatter))
        guides += more
        areas = [c for c in ax.collections if isinstance(c, PolyCollection) and _shown_label(c)
                 and any(len(p.vertices) for p in c.get_paths())]
        if areas and not series:
            _area_facts(ax, areas, panel)
        if series:
            panel.kinds.append("line")
            panel.facts += _line_facts(ax, series, panel, single=single)
    if not panel.facts:
        panel.facts.append("no data drawn")
    panel.facts += guides
    return panel


def _groups(fig) -> list[list]:
    """The visible axes of ``fig`` but colour bars, twins (same position) grouped with the first."""
    groups: dict[tuple, list] = {}
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        groups.setdefault(tuple(np.round(ax.get_position().bounds, 4)), []).append(ax)
    return list(groups.values())


def _bare(measure: str) -> str:
    """``"Cost per lead (USD)"`` -> ``"cost per lead"``: a measure without its unit, to find it in a title."""
    return re.sub(r"\s*\([^)]*\)$", "", measure).lower()


def _fit(candidates: list[str], limit: int) -> str:
    """The first candidate (most detailed first) within ``limit`` characters, else the last cut to it."""
    for text in candidates:
        if len(text) <= limit:
            return text
    text = candidates[-1]
    return text[: limit - 1].rstrip(" ,;:") + "…"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "…")) else f"{text}."


def _capital(text: str) -> str:
    """``from $418k …`` -> ``From $418k …`` (a second sentence); names and numbers as they are."""
    first = text.split(" ", 1)[0]
    return f"{text[0].upper()}{text[1:]}" if first in ("from", "no", "highest") else text


def alt_text(chart, *, limit: int = MAX_CHARS) -> str:
    """One or two sentences saying what ``chart`` (a Figure, an Axes or an array of Axes) shows and its
    key numbers, at most ``limit`` characters; the chart's own text if it has one (:func:`set_alt_text`).

    Examples
    --------
    >>> alt_text(ax)  # doctest: +SKIP
    'Line chart: MRR per month. MRR (USD) from $418k in Nov 2025 to $695k in Oct 2026.'
    >>> alt_text(indicator_axes)  # doctest: +SKIP
    'Small multiples, 18 panels: From the top of the funnel to revenue: ... Sessions · leading, ... and 12 more.'
    """
    fig = _figure_of(chart)
    if fig is None:
        return ""
    own = getattr(fig, ATTR, None)
    if own:
        return str(own)
    suptitle = _clean(fig.get_suptitle())
    groups = _groups(fig)
    if not groups:
        return _sentence(f"Chart: {suptitle}, nothing drawn" if suptitle else "Empty chart")
    panels = [_panel(g, single=len(groups) == 1) for g in groups]
    if len(panels) == 1:
        p = panels[0]
        head = f"{p.kind()[0].upper()}{p.kind()[1:]}: {suptitle or p.title or 'untitled'}"
        if suptitle and p.title and p.title != suptitle:
            head += f" ({p.title})"
        return _fit([_sentence(f"{head}. {_capital('; '.join(p.facts[:n]))}") for n in range(len(p.facts), 0, -1)]
                    + [_sentence(head)], limit)
    kinds = {p.kind() for p in panels}
    kind = f"{next(iter(kinds))}s" if len(kinds) == 1 and "chart" not in kinds else "charts"
    head = f"Small multiples, {len(panels)} panels" if len(panels) > 4 else \
        f"{kind[0].upper()}{kind[1:]}, {len(panels)} panels"
    head += f": {suptitle}" if suptitle else ""
    titled = [p.title or f"panel {i + 1}" for i, p in enumerate(panels)]
    measured = [f"{t} ({_lower_first(p.measure)})" if p.measure and _bare(p.measure) not in t.lower() else t
                for t, p in zip(titled, panels)]

    def listing(facts: int) -> str:
        parts = [f"{m}: {', '.join(p.facts[:facts])}" if facts else t for t, m, p in zip(titled, measured, panels)]
        return _sentence(f"{head}. " + ("; ".join(parts) if facts else ", ".join(parts)))

    def first_facts(k: int) -> str:  # the first k panels with their key numbers, the others' titles
        parts = [f"{m}: {p.facts[0]}" for m, p in zip(measured[:k], panels[:k])]
        return _sentence(f"{head}. " + "; ".join(parts) + (f"; {', '.join(titled[k:])}" if k < len(panels) else ""))

    most = max(len(p.facts) for p in panels)
    candidates = [listing(n) for n in range(most, 0, -1)]
    if len(panels) <= 4:  # a few panels: their numbers before their titles
        candidates += [first_facts(k) for k in range(len(panels) - 1, 0, -1)]
    candidates.append(listing(0))
    for shown in range(len(titled) - 1, 0, -1):  # titles only, as many as fit
        candidates.append(_sentence(f"{head}. {', '.join(titled[:shown])} and {len(titled) - shown} more"))
    return _fit(candidates, limit)


__all__ = ["alt_text", "set_alt_text", "MAX_CHARS"]
