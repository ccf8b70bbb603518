"""Small multiples as separate images: a :class:`Grid` holds one small figure per panel, which the
report page lays out side by side (three or two to a row on a laptop, one on a phone), each image
shown at its own size rather than one wide figure shrunk to a phone's width."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import style as kp


class Grid:
    """Panels drawn as figures of their own, shown in order by a report's Section.

    Parameters
    ----------
    figures : list of Figure
        One per panel, in reading order.
    caption : str, optional
        One line over the panels: what they show together (where one figure had its suptitle).
    legend : Figure, optional
        A figure holding only the legend the panels share, shown before them.

    Examples
    --------
    >>> grid = indicator_chart(series, spec)  # doctest: +SKIP
    >>> [ax.get_title(loc="left") for ax in grid.axes]  # doctest: +SKIP
    ['Leads · leading', 'MRR · lagging']
    """

    def __init__(self, figures, *, caption: str | None = None, legend=None):
        self.figures = list(figures)
        self.caption = caption
        self.legend = legend

    @property
    def axes(self) -> np.ndarray:
        """Each panel's (first) Axes, in order."""
        out = np.empty(len(self.figures), dtype=object)
        out[:] = [fig.axes[0] for fig in self.figures]
        return out

    def images(self) -> list:
        """The figures shown, in order: the shared legend first, then the panels."""
        return ([self.legend] if self.legend is not None else []) + self.figures

    def close(self) -> None:
        for fig in self.images():
            plt.close(fig)

    def __len__(self) -> int:
        return len(self.figures)

    def __repr__(self) -> str:
        return f"<Grid of {len(self.figures)} panels{': ' + self.caption if self.caption else ''}>"


def legend_figure(handles, labels, *, width: float | None = None, title: str | None = None):
    """A figure holding only a legend (the one a Grid's panels share), as many columns as fit
    ``width`` inches (by default a wide panel's), rows balanced."""
    from ._alt import set_alt_text

    width = kp.WIDE_PANEL[0] if width is None else width
    handles, labels = list(handles), list(labels)
    fig = plt.figure(figsize=(width, 0.3))
    renderer = kp._renderer(fig)
    n = len(labels)
    while True:
        legend = fig.legend(handles, labels, loc="center", ncols=n, title=title, frameon=False)
        if n == 1 or legend.get_window_extent(renderer).width <= fig.bbox.width:
            break
        legend.remove()
        n -= 1
    balanced = -(-len(labels) // -(-len(labels) // n))  # as few columns as keep the same rows
    if balanced != n:
        legend.remove()
        legend = fig.legend(handles, labels, loc="center", ncols=balanced, title=title, frameon=False)
    fig.set_figheight(legend.get_window_extent(renderer).height / fig.dpi + 0.1)
    set_alt_text(fig, f"Legend{' (' + title + ')' if title else ''}: {', '.join(labels)}.")
    return fig


__all__ = ["Grid", "legend_figure"]
