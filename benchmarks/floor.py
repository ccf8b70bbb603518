"""The drawing floor (issue #32): the least it costs to draw a report's figures and tables with plain
matplotlib and pandas, to compare the kit's time with.

One client's notebooks are run once in this process (the in-process kernel, as ``kpi-kit run``); every
figure the kit encodes (``kpi_kit.charts.style.figure_png``) and the arguments of every table it
formats (``kpi_kit.reports.blocks.table``) are kept. Each figure is then described as plain data
(``extract``, untimed): sizes, positions, limits, ticks and their labels, lines, bars, fills, images,
texts, legends. The floor redraws it from that description with plain matplotlib calls and one
``savefig`` to PNG (``draw``): no layout, locator, formatter, legend placement or tight bounding box to
work out, as everything is known in advance. Its canvas is the kit image's extent (the figure plus what
hangs past its edge, such as legends under the axes), so both images show the same thing at the same
size, and its PNG is compressed at the kit's zlib level (``--compress-level``). The tables' floor is
``DataFrame.to_html``.

The kit's ``figure_png`` (on the captured figure, its artists already built) and the floor (building
the figure, then ``savefig``, timed apart) are timed side by side, figure by figure, as are the
tables; medians of ``--repeats`` runs. A fidelity check counts the artists (lines, bars, texts, tick
labels, ...) of the kit's figure and the floor's and compares the images' pixel sizes; a line lists
what the floor does not redraw.

    .venv/bin/python benchmarks/floor.py 2>/dev/null           # the demo client, 3 repeats
    .venv/bin/python benchmarks/floor.py --repeats 5 --figures 20 --compress-level -1
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# What the floor needs of rcParams (the kit's style stays set in this process): one draw of the whole
# canvas (the kit sets savefig.bbox "tight"), and labels from the data read as text (as the kit).
FLOOR_RC = {"savefig.bbox": "standard", "text.parse_math": False}
# zlib level of the floor's PNGs: the kit's (figure_png), so both do the same encoding work; None for
# matplotlib's default (6), which costs the floor more than the kit
PNG_LEVEL = 3


# ---------------------------------------------------------------------------------------------- capture


@dataclass
class Capture:
    """What one run of a client drew: each figure given to ``figure_png`` (still usable after
    ``plt.close``), the kit's PNG of it and the seconds it took, and the arguments of each table."""

    figures: list = field(default_factory=list)
    pngs: list[bytes] = field(default_factory=list)
    png_s: list[float] = field(default_factory=list)
    tables: list[tuple] = field(default_factory=list)  # (df, formats, other keywords)


def capture(params_file: Path) -> Capture:
    """Run ``params_file``'s client once in this process, recording its figures and tables."""
    import kpi_kit.run.engine as engine

    engine.warm_up()
    from kpi_kit import load_params
    from kpi_kit.charts import style
    from kpi_kit.data import _PRELOADED, preload
    from kpi_kit.metrics import _client, compute
    from kpi_kit.reports import blocks
    from kpi_kit.run import available_notebooks
    from kpi_kit.run.execute import execute_notebook

    cap = Capture()
    figure_png, table = style.figure_png, blocks.table

    def recording_png(fig):
        start = time.perf_counter()
        png = figure_png(fig)
        if png is not None:  # an empty figure shows nothing
            cap.png_s.append(time.perf_counter() - start)
            cap.figures.append(fig)
            cap.pngs.append(png)
        return png

    def recording_table(df, formats=None, **kwargs):
        cap.tables.append((df, formats, kwargs))
        return table(df, formats, **kwargs)

    # the reports call both as module attributes, and the kernel's PNG formatter looks figure_png up in style
    style.figure_png, blocks.table = recording_png, recording_table
    _PRELOADED.clear()
    _client._COMPUTED.clear()
    try:
        params = load_params(params_file)
        data = preload(params)
        compute(data).compute_all()
        with tempfile.TemporaryDirectory() as tmp:
            for name in available_notebooks():
                execute_notebook(name, params, Path(tmp), engine="fast")
    finally:
        style.figure_png, blocks.table = figure_png, table
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for fig in cap.figures:  # closed in the kernel, a figure keeps a bare canvas: give it the inline backend's Agg
        FigureCanvasAgg(fig)
    return cap


# ---------------------------------------------------------------------------------------------- extract


@dataclass
class AxisSpec:
    scale: str
    lim: tuple[float, float]
    ticks: list[float]
    labels: list[str]
    minor: list[float]
    tick_kw: dict  # ax.tick_params keywords: sides, lengths, colours, label size
    label_kw: dict  # tick labels' alignment, set with the labels
    grid: dict  # ax.xaxis.grid keywords
    label: str
    label_pos: str
    label_text_kw: dict
    visible: bool = True


@dataclass
class AxesSpec:
    bounds: tuple[float, float, float, float]  # on the floor's canvas, in its fraction
    props: dict  # fig.add_axes keywords
    x: AxisSpec
    y: AxisSpec
    titles: list[dict]  # ax.set_title keywords
    spines: dict[str, dict]
    ops: list[tuple[str, tuple, dict]]  # the artists, in the kit's order: (kind, arguments, keywords)
    legend: dict | None
    patch_visible: bool = True
    axison: bool = True


@dataclass
class FigureSpec:
    title: str
    size: tuple[float, float]  # the kit's figure, inches
    canvas: tuple[float, float]  # the floor's figure: the kit image's extent, inches
    dpi: float
    facecolor: tuple
    axes: list[AxesSpec]
    texts: list[dict]  # fig.text keywords, positions in the canvas' fraction
    legends: list[dict]
    skipped: Counter  # visible artists the floor does not redraw, by type


def _text_kw(t) -> dict:
    return {"fontsize": t.get_fontsize(), "color": t.get_color(), "fontweight": t.get_fontweight(),
            "fontstyle": t.get_fontstyle(), "ha": t.get_horizontalalignment(), "va": t.get_verticalalignment(),
            "rotation": t.get_rotation(), "rotation_mode": t.get_rotation_mode(), "alpha": t.get_alpha(),
            "zorder": t.get_zorder(), "linespacing": t.get_linespacing(), "family": t.get_fontfamily(),
            "clip_on": t.get_clip_on()}


def _bbox_kw(t) -> dict:
    box = t.get_bbox_patch()
    if box is None:
        return {}
    return {"bbox": {"boxstyle": box.get_boxstyle(), "facecolor": box.get_facecolor(),
                     "edgecolor": box.get_edgecolor(), "linewidth": box.get_linewidth()}}


def _line_kw(line) -> dict:
    kw = {"color": line.get_color(), "linewidth": line.get_linewidth(), "linestyle": line.get_linestyle(),
          "marker": line.get_marker(), "markersize": line.get_markersize(),
          "markerfacecolor": line.get_markerfacecolor(), "markeredgecolor": line.get_markeredgecolor(),
          "markeredgewidth": line.get_markeredgewidth(), "alpha": line.get_alpha(), "zorder": line.get_zorder(),
          "drawstyle": line.get_drawstyle(), "clip_on": line.get_clip_on()}
    if line.get_markevery() is not None:
        kw["markevery"] = line.get_markevery()
    return kw


def _patch_kw(p) -> dict:
    return {"facecolor": p.get_facecolor(), "edgecolor": p.get_edgecolor(), "linewidth": p.get_linewidth(),
            "linestyle": p.get_linestyle(), "hatch": p.get_hatch(), "hatchcolor": p.get_hatchcolor(),
            "fill": p.get_fill(), "zorder": p.get_zorder(), "clip_on": p.get_clip_on()}


def _handle(h) -> tuple[str, dict] | None:
    """A legend handle as the keywords of a proxy artist (a line or a patch)."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(h, Line2D):
        return "line", _line_kw(h)
    if isinstance(h, Patch):
        kw = _patch_kw(h)
        kw.pop("fill")
        return "patch", kw
    if isinstance(h, PathCollection) and len(h.get_facecolor()):
        size = h.get_sizes()[0] if len(h.get_sizes()) else 36.0
        return "line", {"color": h.get_facecolor()[0], "marker": "o", "linestyle": "None", "markersize": size ** 0.5}
    return None


class _Extractor:
    """Describes one kit figure; the figure is left as drawn by ``figure_png`` (every position final)."""

    def __init__(self, fig):
        import matplotlib as mpl

        from kpi_kit.charts import style

        self.fig, self.renderer, self.dpi = fig, style._renderer(fig), fig.dpi
        self.skipped: Counter = Counter()
        width, height = fig.get_size_inches()
        # the kit's image: what was drawn plus savefig.pad_inches, which may reach past the figure
        box = fig.get_tightbbox(self.renderer).padded(mpl.rcParams["savefig.pad_inches"])
        self.x0, self.y0 = box.x0, box.y0
        self.canvas = (box.width, box.height)
        self.size = (float(width), float(height))

    def canvas_xy(self, display_xy) -> tuple[float, float]:
        """A point of the kit's figure (display pixels) in the floor canvas' fraction."""
        x, y = np.asarray(display_xy) / self.dpi
        return (x - self.x0) / self.canvas[0], (y - self.y0) / self.canvas[1]

    def canvas_bounds(self, ax) -> tuple[float, float, float, float]:
        left, bottom, w, h = ax.get_position().bounds
        fw, fh = self.size
        return ((left * fw - self.x0) / self.canvas[0], (bottom * fh - self.y0) / self.canvas[1],
                w * fw / self.canvas[0], h * fh / self.canvas[1])

    def spec(self) -> FigureSpec:
        fig = self.fig
        known = {fig.patch, *fig.axes, *fig.texts, *fig.legends}
        for child in fig.get_children():
            if child not in known and child.get_visible():
                self.skipped[f"figure {type(child).__name__}"] += 1
        texts = []
        for t in fig.texts:
            if t.get_visible() and t.get_text():
                x, y = self.canvas_xy(t._get_xy_display())
                texts.append({"x": x, "y": y, "s": t.get_text(), **_text_kw(t), **_bbox_kw(t)})
        return FigureSpec(
            title=_title(fig), size=self.size, canvas=self.canvas, dpi=self.dpi,
            facecolor=tuple(fig.get_facecolor()), axes=[self.axes(ax) for ax in fig.axes if ax.get_visible()],
            texts=texts, legends=[self.legend(lg) for lg in fig.legends if lg.get_visible()], skipped=self.skipped)

    def to_data(self, artist, ax, points) -> np.ndarray:
        """``points`` in ``artist``'s coordinates as ``ax``'s data coordinates (axhline, axes-fraction spans)."""
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        transform = artist.get_transform()
        if transform == ax.transData:
            return points
        return (transform - ax.transData).transform(points)

    def axis(self, ax, axis, lim) -> AxisSpec:
        name = axis.axis_name
        # the ticks in view: matplotlib draws no other (a locator's ticks reach past the limits)
        lo, hi = sorted(lim)
        slack = (hi - lo) * 1e-9
        every = axis.get_majorticklocs()
        inside = [i for i, v in enumerate(every) if lo - slack <= v <= hi + slack]
        locs = [every[i] for i in inside]
        every_tick = axis.get_major_ticks(len(every))
        ticks = [every_tick[i] for i in inside]
        sides = ("bottom", "top") if name == "x" else ("left", "right")
        tick_kw, label_kw, grid = {}, {}, {"visible": False}
        if ticks:
            t = ticks[0]
            label = t.label1 if t.label1.get_visible() or not t.label2.get_visible() else t.label2
            mark = t.tick1line if t.tick1line.get_visible() or not t.tick2line.get_visible() else t.tick2line
            tick_kw = {sides[0]: t.tick1line.get_visible(), sides[1]: t.tick2line.get_visible(),
                       f"label{sides[0]}": t.label1.get_visible(), f"label{sides[1]}": t.label2.get_visible(),
                       "direction": t.get_tickdir(), "length": mark.get_markersize(),
                       "width": mark.get_markeredgewidth(), "color": mark.get_markeredgecolor(), "pad": t.get_pad(),
                       "labelsize": label.get_fontsize(), "labelcolor": label.get_color(),
                       "labelrotation": label.get_rotation()}
            default_ha = "center" if name == "x" else ("right" if label is t.label1 else "left")
            if label.get_horizontalalignment() != default_ha:
                label_kw["ha"] = label.get_horizontalalignment()
            if t.gridline.get_visible():
                g = t.gridline
                grid = {"visible": True, "color": g.get_color(), "linewidth": g.get_linewidth(),
                        "linestyle": g.get_linestyle(), "alpha": g.get_alpha()}
        minor = [float(v) for v in axis.get_minorticklocs() if lo - slack <= v <= hi + slack]
        if minor and any(t.label1.get_visible() and t.label1.get_text() for t in axis.get_minor_ticks(len(minor))):
            self.skipped["minor tick label"] += len(minor)
        if axis.offsetText.get_visible() and axis.offsetText.get_text():
            self.skipped["axis offset text"] += 1
        lab = axis.label
        return AxisSpec(
            scale=axis.get_scale(), lim=tuple(lim), ticks=[float(v) for v in locs],
            labels=[t.label1.get_text() for t in ticks], minor=minor, tick_kw=tick_kw, label_kw=label_kw, grid=grid,
            label=lab.get_text() if lab.get_visible() else "", label_pos=axis.get_label_position(),
            label_text_kw={"fontsize": lab.get_fontsize(), "color": lab.get_color(), "fontweight": lab.get_fontweight(),
                           "labelpad": axis.labelpad},
            visible=axis.get_visible())

    def axes(self, ax) -> AxesSpec:
        from matplotlib.axis import Axis
        from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
        from matplotlib.image import AxesImage
        from matplotlib.legend import Legend
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch, Rectangle
        from matplotlib.path import Path as MPath
        from matplotlib.spines import Spine
        from matplotlib.text import Annotation, Text

        titles = []
        for loc, t in (("left", ax._left_title), ("center", ax.title), ("right", ax._right_title)):
            if t.get_visible() and t.get_text():
                pad = ax.titleOffsetTrans.get_matrix()[1, 2] * 72 / self.dpi  # points above the axes
                titles.append({"label": t.get_text(), "loc": loc, "y": t.get_position()[1], "pad": pad,
                               "fontsize": t.get_fontsize(), "fontweight": t.get_fontweight(), "color": t.get_color()})
        known = {ax.patch, ax.title, ax._left_title, ax._right_title, ax.xaxis, ax.yaxis}
        ops: list = []
        bars: dict = {}  # style -> index in ops: one ax.bar call per colour (and edge, hatch, ...)
        for child in ax.get_children():
            if child in known or not child.get_visible():
                continue
            if isinstance(child, Line2D):
                xy = self.to_data(child, ax, child.get_xydata())
                ops.append(("plot", (xy[:, 0], xy[:, 1]), _line_kw(child)))
            elif isinstance(child, Spine):  # a Patch, drawn with the axes below
                if child not in {ax.spines[s] for s in ("left", "right", "top", "bottom") if s in ax.spines}:
                    self.skipped[type(child).__name__] += 1  # a visible colour bar outline
            elif isinstance(child, Rectangle) and child.get_angle() == 0:
                (x0, y0), (x1, y1) = self.to_data(child, ax, [(0, 0), (1, 1)])
                kw = _patch_kw(child)
                key = tuple((k, str(v)) for k, v in kw.items())
                if key not in bars:
                    bars[key] = len(ops)
                    ops.append(("bar", ([], []), {"width": [], "bottom": [], "align": "edge", **kw}))
                _, (xs, heights), bkw = ops[bars[key]]
                xs.append(x0)
                heights.append(y1 - y0)
                bkw["width"].append(x1 - x0)
                bkw["bottom"].append(y0)
            elif isinstance(child, Patch):
                path = child.get_path()
                verts = self.to_data(child, ax, path.vertices)
                ops.append(("patch", (verts, path.codes), _patch_kw(child)))
            elif isinstance(child, QuadMesh):  # a colour bar's gradient: its axes are redrawn as any other
                coords = child.get_coordinates()
                xy = self.to_data(child, ax, coords.reshape(-1, 2)).reshape(coords.shape)
                c = np.asarray(child.get_array()).reshape(coords.shape[0] - 1, coords.shape[1] - 1)
                ops.append(("pcolormesh", (xy[..., 0], xy[..., 1], c), {
                    "cmap": child.get_cmap(), **_norm_kw(child.norm), "shading": "flat", "alpha": child.get_alpha(),
                    "zorder": child.get_zorder(), "edgecolors": child.get_edgecolor() if len(child.get_edgecolor()) else "none",
                    "linewidth": child.get_linewidth()[0] if len(child.get_linewidth()) else 0,
                    "antialiased": child.get_antialiased(), "rasterized": child.get_rasterized()}))
            elif isinstance(child, LineCollection):
                segments = [self.to_data(child, ax, s) for s in child.get_segments()]
                if segments:  # an empty one (a colour bar's dividers) draws nothing
                    ops.append(("segments", (segments,), {
                        "colors": child.get_color(), "linewidths": child.get_linewidth(),
                        "linestyles": child.get_linestyle(), "zorder": child.get_zorder(), "alpha": child.get_alpha()}))
            elif isinstance(child, PolyCollection):
                verts, faces, edges, widths = [], [], [], []
                fc, ec, lw = child.get_facecolor(), child.get_edgecolor(), child.get_linewidth()
                for i, path in enumerate(child.get_paths()):
                    for poly in path.to_polygons(closed_only=True):
                        verts.append(self.to_data(child, ax, poly))
                        faces.append(fc[i % len(fc)] if len(fc) else "none")
                        edges.append(ec[i % len(ec)] if len(ec) else "none")
                        widths.append(lw[i % len(lw)] if len(lw) else 0)
                ops.append(("polys", (verts,), {"facecolors": faces, "edgecolors": edges, "linewidths": widths,
                                                "hatch": child.get_hatch(), "zorder": child.get_zorder()}))
            elif isinstance(child, PathCollection):
                offsets = child.get_offsets()
                offsets = (child.get_offset_transform() - ax.transData).transform(offsets)
                path = child.get_paths()[0] if child.get_paths() else None
                circle = path is not None and np.allclose(path.vertices, MPath.unit_circle().vertices)
                ops.append(("scatter", (offsets[:, 0], offsets[:, 1]), {
                    "s": child.get_sizes(), "c": child.get_facecolor(), "edgecolors": child.get_edgecolor(),
                    "linewidths": child.get_linewidth(), "marker": "o" if circle else path,
                    "zorder": child.get_zorder(), "clip_on": child.get_clip_on(), "alpha": child.get_alpha()}))
            elif isinstance(child, AxesImage):
                ops.append(("imshow", (child.get_array(),), {
                    "cmap": child.get_cmap(), **_norm_kw(child.norm), "extent": child.get_extent(),
                    "origin": child.origin, "interpolation": child.get_interpolation(), "alpha": child.get_alpha(),
                    "zorder": child.get_zorder(), "aspect": "auto"}))
            elif isinstance(child, Annotation):
                inverse = ax.transData.inverted()
                xy = inverse.transform(child._get_position_xy(self.renderer))
                text_xy = inverse.transform(child._get_xy_display())
                kw = {**_text_kw(child), **_bbox_kw(child), "annotation_clip": child.get_annotation_clip()}
                arrow = child.arrow_patch
                if arrow is not None and arrow.get_visible():
                    kw["arrowprops"] = {"arrowstyle": arrow.get_arrowstyle(), "color": arrow.get_edgecolor(),
                                        "linewidth": arrow.get_linewidth()}
                ops.append(("annotate", (child.get_text(), xy, text_xy), kw))
            elif isinstance(child, Text):
                x, y = ax.transData.inverted().transform(child._get_xy_display())
                ops.append(("text", (x, y, child.get_text()), {**_text_kw(child), **_bbox_kw(child)}))
            elif isinstance(child, (Legend, Axis)) or child in ax.child_axes:
                pass  # the legend below; inset axes are in fig.axes
            else:
                self.skipped[type(child).__name__] += 1
        spines = {name: {"visible": s.get_visible(), "color": s.get_edgecolor(), "linewidth": s.get_linewidth()}
                  for name, s in ax.spines.items() if name in ("left", "right", "top", "bottom")}
        legend = ax.get_legend()
        return AxesSpec(
            bounds=self.canvas_bounds(ax),
            props={"facecolor": ax.get_facecolor(), "zorder": ax.get_zorder(), "frame_on": ax.get_frame_on(),
                   "axisbelow": ax.get_axisbelow(), "autoscale_on": False, "xscale": ax.get_xscale(),
                   "yscale": ax.get_yscale()},
            x=self.axis(ax, ax.xaxis, ax.get_xlim()), y=self.axis(ax, ax.yaxis, ax.get_ylim()),
            titles=titles, spines=spines, ops=ops,
            legend=self.legend(legend) if legend is not None and legend.get_visible() else None,
            patch_visible=ax.patch.get_visible(), axison=ax.axison)

    def legend(self, lg) -> dict:
        """A legend as ``ax.legend`` / ``fig.legend`` keywords, centred where the kit's was drawn."""
        handles, labels = [], []
        for h, t in zip(lg.legend_handles, lg.texts):
            described = _handle(h)
            if described is None:
                self.skipped[f"legend handle {type(h).__name__}"] += 1
                continue
            handles.append(described)
            labels.append(t.get_text())
        box = lg.get_window_extent(self.renderer)
        cx, cy = self.canvas_xy(((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2))
        frame = lg.get_frame()
        title = lg.get_title()
        return {"handles": handles, "labels": labels, "loc": "center", "bbox_to_anchor": (cx, cy), "borderaxespad": 0,
                "ncols": lg._ncols, "fontsize": lg.texts[0].get_fontsize() if lg.texts else None,
                "labelcolor": [t.get_color() for t in lg.texts] or None, "frameon": lg.get_frame_on(),
                "facecolor": frame.get_facecolor(), "edgecolor": frame.get_edgecolor(),
                "title": title.get_text() or None, "title_fontsize": title.get_fontsize(),
                "handlelength": lg.handlelength, "handletextpad": lg.handletextpad, "columnspacing": lg.columnspacing,
                "labelspacing": lg.labelspacing, "borderpad": lg.borderpad, "markerscale": lg.markerscale}


def _norm_kw(norm) -> dict:
    from matplotlib.colors import Normalize

    return {"vmin": norm.vmin, "vmax": norm.vmax} if type(norm) is Normalize else {"norm": norm}


def _title(fig) -> str:
    title = next((a.get_title(loc) for a in fig.axes for loc in ("left", "center") if a.get_title(loc)),
                 next((t.get_text() for t in fig.texts if t.get_text()), ""))
    if not title and fig.legends:
        title = "legend: " + ", ".join(t.get_text() for t in fig.legends[0].texts[:3])
    return " ".join(title.split()) or "(untitled)"


def extract(fig) -> FigureSpec:
    """``fig`` (drawn by the kit) as plain data: what :func:`draw` needs to draw the same picture."""
    return _Extractor(fig).spec()


# ------------------------------------------------------------------------------------------------- draw


def _legend(target, spec: dict, transform) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], **kw) if kind == "line" else Patch(**kw) for kind, kw in spec["handles"]]
    target.legend(handles, spec["labels"], bbox_transform=transform,
                  **{k: v for k, v in spec.items() if k not in ("handles", "labels")})


def build(spec: FigureSpec):
    """The floor's figure: ``spec`` drawn with plain matplotlib calls (no layout, positions given)."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    fig = plt.figure(figsize=spec.canvas, dpi=spec.dpi, facecolor=spec.facecolor)
    for a in spec.axes:
        ax = fig.add_axes(a.bounds, **a.props)
        for kind, args, kw in a.ops:
            if kind == "polys":
                ax.add_collection(PolyCollection(*args, **kw), autolim=False)
            elif kind == "segments":
                ax.add_collection(LineCollection(*args, **kw), autolim=False)
            elif kind == "patch":
                ax.add_patch(PathPatch(MPath(*args), **kw))
            else:  # plot, bar, scatter, imshow, pcolormesh, text, annotate: an Axes method of the same name
                getattr(ax, kind)(*args, **kw)
        for axis, spec_ in ((ax.xaxis, a.x), (ax.yaxis, a.y)):
            axis.set_ticks(spec_.ticks, spec_.labels, **spec_.label_kw)
            if spec_.minor:
                axis.set_ticks(spec_.minor, minor=True)
            if spec_.tick_kw:
                ax.tick_params(axis=axis.axis_name, which="major", **spec_.tick_kw)
            axis.grid(**spec_.grid)
            axis.set_label_text(spec_.label, **{k: v for k, v in spec_.label_text_kw.items() if k != "labelpad"})
            axis.labelpad = spec_.label_text_kw["labelpad"]
            axis.set_label_position(spec_.label_pos)
            if not spec_.visible:
                axis.set_visible(False)
        ax.set(xlim=a.x.lim, ylim=a.y.lim)  # after the ticks: set_ticks widens the limits to show them all
        for title in a.titles:
            ax.set_title(**title)
        for name, kw in a.spines.items():
            ax.spines[name].set(**kw)
        if not a.patch_visible:
            ax.patch.set_visible(False)
        if not a.axison:
            ax.set_axis_off()
        if a.legend:
            _legend(ax, a.legend, fig.transFigure)
    for t in spec.texts:
        fig.text(**t)
    for lg in spec.legends:
        _legend(fig, lg, fig.transFigure)
    return fig


def save(fig, dpi: float, level: int | None = PNG_LEVEL) -> bytes:
    """``fig`` as PNG: one draw of the whole canvas; the figure is closed."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    with mpl.rc_context(FLOOR_RC):
        fig.savefig(buf, format="png", dpi=dpi, pil_kwargs=None if level is None else {"compress_level": level})
    plt.close(fig)
    return buf.getvalue()


def draw(spec: FigureSpec, level: int | None = PNG_LEVEL) -> bytes:
    """The floor: ``spec`` drawn with plain matplotlib and saved as PNG."""
    import matplotlib as mpl

    with mpl.rc_context(FLOOR_RC):
        fig = build(spec)
    return save(fig, spec.dpi, level)


# --------------------------------------------------------------------------------------------- fidelity


def artist_counts(fig) -> dict[str, int]:
    """What a figure shows, counted by kind (visible artists only)."""
    c = Counter()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        c["lines"] += sum(a.get_visible() for a in ax.lines)
        c["bars"] += sum(a.get_visible() for a in ax.patches)
        c["collections"] += sum(a.get_visible() and len(a.get_paths()) > 0 for a in ax.collections)
        c["images"] += sum(a.get_visible() for a in ax.images)
        titles = (ax._left_title, ax.title, ax._right_title, ax.xaxis.label, ax.yaxis.label)
        c["texts"] += sum(t.get_visible() and bool(t.get_text()) for t in (*ax.texts, *titles))
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_visible():
                locs = axis.get_majorticklocs()
                lo, hi = min(lo, hi), max(lo, hi)
                c["ticks"] += sum(lo <= v <= hi and bool(t.label1.get_text())
                                  for v, t in zip(locs, axis.get_major_ticks(len(locs))))
        if ax.get_legend() is not None:
            c["legend entries"] += len(ax.get_legend().texts)
    c["texts"] += sum(t.get_visible() and bool(t.get_text()) for t in fig.texts)
    c["legend entries"] += sum(len(lg.texts) for lg in fig.legends)
    return {k: int(v) for k, v in c.items()}


def _pixels(png: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(png)).size


# ---------------------------------------------------------------------------------------------- timing


def floor_figures(params_file: Path = ROOT / "data" / "clients" / "demo.yaml", repeats: int = 3,
                  level: int | None = PNG_LEVEL) -> dict:
    """The floor and the kit, side by side, on the figures and tables of ``params_file``'s client
    (medians over ``repeats``)."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from kpi_kit.charts import style
    from kpi_kit.reports import blocks

    cap = capture(params_file)
    plt.switch_backend("Agg")  # the floor's figures: plain Agg (the kit's keep their own canvases)
    specs = [extract(f) for f in cap.figures]

    fidelity = []
    for fig, spec, kit_png in zip(cap.figures, specs, cap.pngs):
        with mpl.rc_context(FLOOR_RC):
            floor_fig = build(spec)
        counts = artist_counts(floor_fig)
        floor_png = save(floor_fig, spec.dpi, level)
        fidelity.append({"title": spec.title, "kit": artist_counts(fig), "floor": counts,
                         "kit_px": _pixels(kit_png), "floor_px": _pixels(floor_png)})

    n = len(specs)
    kit_s, build_s, save_s = ([[] for _ in range(n)] for _ in range(3))
    kit_tab, floor_tab = ([[] for _ in cap.tables] for _ in range(2))
    for r in range(repeats):
        gc.collect()
        for i, (fig, spec) in enumerate(zip(cap.figures, specs)):
            # alternate which goes first, so neither always finds the caches warm
            for which in (("kit", "floor") if r % 2 == 0 else ("floor", "kit")):
                if which == "kit":
                    start = time.perf_counter()
                    style.figure_png(fig)
                    kit_s[i].append(time.perf_counter() - start)
                else:
                    start = time.perf_counter()
                    with mpl.rc_context(FLOOR_RC):
                        floor_fig = build(spec)
                    built = time.perf_counter()
                    save(floor_fig, spec.dpi, level)
                    build_s[i].append(built - start)
                    save_s[i].append(time.perf_counter() - built)
        for i, (df, formats, kwargs) in enumerate(cap.tables):
            for which in (("kit", "floor") if r % 2 == 0 else ("floor", "kit")):
                start = time.perf_counter()
                if which == "kit":
                    blocks.table(df, formats, **kwargs)  # as the report called it (caption, kpis, samples ...)
                    kit_tab[i].append(time.perf_counter() - start)
                else:
                    df.to_html(index=kwargs.get("index", False), na_rep="n/a")
                    floor_tab[i].append(time.perf_counter() - start)

    med = statistics.median
    rows = [{"title": s.title, "kit_s": med(k), "floor_s": med(b) + med(v), "build_s": med(b), "save_s": med(v),
             "kit_run_s": run_s} for s, k, b, v, run_s in zip(specs, kit_s, build_s, save_s, cap.png_s)]
    skipped = sum((s.skipped for s in specs), Counter())
    return {
        "figures": n,
        "floor_figures_s": sum(r["floor_s"] for r in rows),
        "floor_build_s": sum(r["build_s"] for r in rows),
        "floor_save_s": sum(r["save_s"] for r in rows),
        "kit_png_s": sum(r["kit_s"] for r in rows),
        "kit_png_run_s": sum(cap.png_s),
        "tables": len(cap.tables),
        "floor_tables_s": sum(map(med, floor_tab)),
        "kit_tables_s": sum(map(med, kit_tab)),
        "fidelity": fidelity,
        "not_redrawn": dict(skipped),
        "rows": rows,
    }


def print_comparison(phases: dict[str, float], floor: dict, batch_cpu_per_client: float | None = None,
                     goal: float = 1.3) -> float:
    """The kit's time per client beside the floor's, phase by phase, and their ratio; returns the ratio
    of the batch's CPU per client (or of one client in one process) to the floor.

    ``phases`` are :func:`phases.phase_figures`' medians (one client in one process), ``floor`` is
    :func:`floor_figures`' result. The floor is what any report of these numbers costs: the kit's own
    load and metrics (the numbers are the product, computed once), the figures and tables drawn the
    plain way, the takeaways and alt text as the kit writes them (their text is the report), and the
    published files; no notebook, kernel, page template or report code around them."""
    same = ("load", "metrics", "publish")
    text = phases["takeaways"] + phases["alt text"]
    rows = [(p, phases[p], phases[p]) for p in same[:2]]
    # the kit's PNGs as the run pays for them (each figure's first drawing); the same calls timed again
    # beside the floor's, on figures already drawn once, are printed below
    rows += [("figures: artists and PNG", phases["artists"] + phases["figures"], floor["floor_figures_s"]),
             ("tables", phases["tables"], floor["floor_tables_s"]),
             ("takeaways and alt text", text, text),
             ("report logic", phases["report logic"], 0.0),
             ("papermill and kernel", phases["papermill and kernel"], 0.0),
             ("export (HTML pages)", phases["export"], 0.0),
             ("publish", phases["publish"], phases["publish"])]
    kit_total, floor_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"the kit against the drawing floor (one demo client; floor: {floor['figures']} figures and "
          f"{floor['tables']} tables drawn with plain matplotlib and pandas)")
    print(f"  {'phase':<28} {'kit s':>7} {'floor s':>8} {'kit/floor':>10}")
    for name, kit, low in rows:
        ratio = f"{kit / low:9.2f}x" if low > 0 and kit != low else ("     same" if kit == low else "         -")
        print(f"  {name:<28} {kit:7.2f} {low:8.2f} {ratio}")
    print(f"  {'one client, one process':<28} {kit_total:7.2f} {floor_total:8.2f} {kit_total / floor_total:9.2f}x")
    print(f"  of the figures: the kit's PNGs {phases['figures']:.2f} s in the run, {floor['kit_png_s']:.2f} s drawn "
          f"again beside the floor's savefig of {floor['floor_save_s']:.2f} s "
          f"({floor['kit_png_s'] / floor['floor_save_s']:.2f}x); the kit's artists {phases['artists']:.2f} s, "
          f"the floor's {floor['floor_build_s']:.2f} s ({phases['artists'] / floor['floor_build_s']:.2f}x)")
    ratio = kit_total / floor_total
    if batch_cpu_per_client is not None:
        ratio = batch_cpu_per_client / floor_total
        print(f"  {'batch CPU per client':<28} {batch_cpu_per_client:7.2f} {floor_total:8.2f} {ratio:9.2f}x"
              f"   (goal <= {goal}x; the batch adds forks and the command's start)")
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", type=Path, default=ROOT / "data" / "clients" / "demo.yaml")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--figures", type=int, default=10, help="how many of the costliest figures to list")
    ap.add_argument("--compress-level", type=int, default=PNG_LEVEL,
                    help="zlib level of the floor's PNGs (default: the kit's; -1 for matplotlib's default)")
    args = ap.parse_args()
    level = None if args.compress_level < 0 else args.compress_level
    res = floor_figures(args.client, args.repeats, level)

    kit, floor = res["kit_png_s"], res["floor_figures_s"]
    print(f"drawing floor of {args.client.name}: median of {args.repeats}, single core")
    print(f"figures: {res['figures']}")
    save_label = f"floor: savefig alone (zlib {'default' if level is None else level})"
    print(f"  {'kit: figure_png of the built figures':<38} {kit:6.2f} s   (in the run itself: {res['kit_png_run_s']:.2f} s)")
    print(f"  {'floor: build + savefig':<38} {floor:6.2f} s   kit / floor {kit / floor:.2f}x")
    print(f"  {save_label:<38} {res['floor_save_s']:6.2f} s   kit / floor {kit / res['floor_save_s']:.2f}x   "
          f"(build: {res['floor_build_s']:.2f} s)")
    kt, ft = res["kit_tables_s"], res["floor_tables_s"]
    print(f"tables: {res['tables']}")
    print(f"  {'kit: blocks.table':<38} {kt:6.3f} s")
    print(f"  {'floor: DataFrame.to_html':<38} {ft:6.3f} s   kit / floor {kt / ft:.2f}x")

    fid = res["fidelity"]
    same = [f for f in fid if f["kit"] == f["floor"]]
    print(f"fidelity: {len(same)}/{len(fid)} figures with the same artist counts "
          f"(lines, bars, collections, images, texts, tick labels, legend entries)")
    for f in fid:
        if f["kit"] != f["floor"]:
            diff = {k: (f["kit"].get(k, 0), f["floor"].get(k, 0)) for k in {*f["kit"], *f["floor"]}
                    if f["kit"].get(k, 0) != f["floor"].get(k, 0)}
            print(f"  {f['title'][:60]}: kit, floor {diff}")
    kit_px = sum(w * h for w, h in (f["kit_px"] for f in fid))
    floor_px = sum(w * h for w, h in (f["floor_px"] for f in fid))
    off = [f for f in fid if max(abs(a - b) for a, b in zip(f["kit_px"], f["floor_px"])) > 10]
    print(f"  PNG pixels: kit {kit_px / 1e6:.2f} M, floor {floor_px / 1e6:.2f} M; "
          f"{len(off)} figures differ by more than 10 px in width or height")
    for f in off:
        print(f"    {f['title'][:60]}: kit {f['kit_px'][0]}x{f['kit_px'][1]}, floor {f['floor_px'][0]}x{f['floor_px'][1]}")
    missing = res["not_redrawn"]
    print("not redrawn by the floor: " + (", ".join(f"{k} x{v}" for k, v in sorted(missing.items())) or "nothing"))

    print(f"  {'figure (costliest kit PNG first)':<60} {'kit s':>6} {'floor s':>7} {'build':>6} {'save':>6}")
    for r in sorted(res["rows"], key=lambda r: -r["kit_s"])[:args.figures]:
        print(f"  {r['title'][:60]:<60} {r['kit_s']:6.3f} {r['floor_s']:7.3f} {r['build_s']:6.3f} {r['save_s']:6.3f}")


if __name__ == "__main__":
    sys.exit(main())
