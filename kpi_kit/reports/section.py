"""One shape for everything a report shows under a heading: a :class:`Section` holds a takeaway
sentence and its charts and tables, or, when the client's data cannot support it, the one line
saying what it needs. Notebooks call ``report.section(name)``; nothing else says "not shown".

Every output a section displays carries ``{"kpi_kit": {"section": title, "shown": bool, "needs": ...}}``
in its metadata (:data:`META`): the HTML export (:mod:`kpi_kit.run.pages`) moves the not-shown lines
into one "Not shown" list per page, drops the headings left empty, and counts the sections shown. A
chart's output also carries ``"alt"``: what it shows and its key numbers, read from its data
(:func:`kpi_kit.charts.alt_text`), which the report template writes into the image's ``alt``.

Small multiples (a :class:`kpi_kit.charts.Grid`) are shown as one image per panel, each output marked
``"grid": {"panel": i, "of": n}`` (the shared legend ``"panel": "legend"``) and carrying its width
in pixels (``{"image/png": {"width": ...}}``): the page lays those images out side by side, wrapping
on a narrow screen (``blocks.css``), each at its own size, never shrunk to a phone's width."""

from __future__ import annotations

import base64
from functools import wraps

import numpy as np

from ..charts.grid import Grid
from .blocks import Block, missing, note

META = "kpi_kit"  # the output-metadata key marking a section's outputs
EMPTY = "data for it in the reporting window"  # what a section with nothing to show needs


def _figure_of(part):
    """A matplotlib Figure for an Axes, an array of Axes or a Figure; None for anything else."""
    if isinstance(part, np.ndarray) and part.size:
        part = part.flat[0]
    fig = getattr(part, "figure", None)
    if fig is not None and hasattr(fig, "savefig"):
        return fig
    return part if hasattr(part, "savefig") else None


class Section:
    """What one notebook cell shows.

    Parameters
    ----------
    title : str
        The section's name, used in the "not shown" line.
    takeaway : str or Block, optional
        One sentence generated from the numbers, shown first.
    *parts : Block, Figure, Axes or Grid
        Tables and charts, in order. A chart is shown and its figure closed; a Grid's panels are
        shown one image each (its caption first, as a note), for the page to lay out side by side.
    needs : str, optional
        Set when the section is not shown: the data it needs ("a deals file"). A section given
        nothing to show is not shown either (it needs :data:`EMPTY`): no heading without content.
    also_not_shown : list of (str, str), optional
        Parts of a shown section that the data cannot support: (title, what it needs), each one
        line of the page's "Not shown" list.

    Examples
    --------
    >>> Section("Deals", needs="a deals file")  # doctest: +SKIP
    Deals: needs a deals file (not in this client's data).
    """

    def __init__(self, title: str, *parts, takeaway=None, needs: str | None = None,
                 also_not_shown: list[tuple[str, str]] | None = None):
        self.title, self.takeaway = title, takeaway
        self.parts = [p for p in parts if p is not None]
        self.also_not_shown = list(also_not_shown or [])
        if needs is None and not self.parts and takeaway is None:
            needs = EMPTY
        self.needs = needs

    @classmethod
    def not_shown(cls, title: str, needs: str) -> Section:
        return cls(title, needs=needs)

    @property
    def shown(self) -> bool:
        return self.needs is None

    def blocks(self) -> list:
        """The displayable parts in order: Blocks and matplotlib Figures."""
        return [block for block, _ in self._marked()]

    def _marked(self) -> list[tuple]:
        """Each displayable part with the output metadata marking it (see :data:`META`)."""
        if not self.shown:
            return [(missing(self.title, self.needs), self.meta(self.title, False, self.needs))]
        marked = [(note(self.takeaway), self.meta(self.title, True))] if self.takeaway is not None else []
        for part in self.parts:
            if isinstance(part, Grid):
                marked += self._grid(part)
                continue
            fig = _figure_of(part)
            marked.append((fig if fig is not None else part, self.meta(self.title, True)))
        return marked + [(missing(title, needs), self.meta(title, False, needs, part_of=self.title))
                         for title, needs in self.also_not_shown]

    def _grid(self, grid: Grid) -> list[tuple]:
        """A Grid's caption (a note) and images, each image marked as a panel of the grid."""
        out = [(note(grid.caption), self.meta(self.title, True))] if grid.caption else []
        panels = ([("legend", grid.legend)] if grid.legend is not None else []) + list(enumerate(grid.figures, 1))
        for panel, fig in panels:
            meta = self.meta(self.title, True)
            meta[META]["grid"] = {"panel": panel, "of": len(grid.figures)}
            out.append((fig, meta))
        return out

    @staticmethod
    def meta(title: str, shown: bool, needs: str | None = None, part_of: str | None = None) -> dict:
        """The output metadata marking a section's output."""
        m = {"section": title, "shown": shown}
        if needs is not None:
            m["needs"] = needs
        if part_of is not None:
            m["part_of"] = part_of
        return {META: m}

    def _ipython_display_(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        from ..charts import alt_text

        for part, meta in self._marked():
            if hasattr(part, "savefig"):
                meta[META]["alt"] = alt_text(part) or f"Chart: {self.title}"
            if "grid" in meta[META]:
                _display_panel(part, meta)
            else:
                display(part, metadata=meta)
            if hasattr(part, "savefig"):
                plt.close(part)  # shown once, here: the inline backend must not show it again

    def __repr__(self) -> str:
        return "\n\n".join(repr(b) if isinstance(b, Block) else f"[chart: {_chart_title(b)}]" for b in self.blocks())


def _display_panel(fig, meta: dict) -> None:
    """Show a Grid's panel as a PNG carrying its width in pixels (the image's ``width``), by which the
    page lays the grid's images out side by side at their own size."""
    from IPython.display import display

    from ..charts import style

    png = style.figure_png(fig)
    if png is None:
        return
    width = int.from_bytes(png[16:20], "big")  # the PNG header's IHDR width
    display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(fig)}, raw=True,
            metadata={**meta, "image/png": {"width": width}})


def _chart_title(fig) -> str:
    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    titles += [ax.get_title() or ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    return next((t for t in titles if t), "untitled")


def section(title: str, needs: tuple[str, str] | None = None):
    """Mark a report method as a section titled ``title``. ``needs=(flag, what)``: when the
    report's ``flag`` is false the method does not run and the section says it needs ``what``."""

    def decorate(method):
        @wraps(method)
        def wrapper(self) -> Section:
            if needs and not getattr(self, needs[0]):
                return Section.not_shown(title, needs[1])
            out = method(self)
            return out if isinstance(out, Section) else Section(title, out)

        wrapper.section_title = title
        return wrapper

    return decorate
