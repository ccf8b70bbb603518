"""What every report shares: the run's metrics, the header, the data-quality section and the
dispatch from a notebook cell's ``report.section(name)`` to its section."""

from __future__ import annotations

from ..metrics import compute
from . import blocks
from .section import Section


class Report:
    """A notebook's presentation: reads the run's metrics (:func:`kpi_kit.metrics.compute`), never
    computes a number; each method decorated with :func:`~kpi_kit.reports.section.section` is one
    section a notebook cell shows.

    Examples
    --------
    >>> report = FunnelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> report.section("deals")  # doctest: +SKIP
    """

    title = "Report"

    def __init__(self, data, previous_metrics: str | None = None):
        self.data = data
        self.m = compute(data, previous_metrics)
        self.ctx = ctx = self.m.ctx
        self.book = self.m.book
        self.params = data.params
        self.currency = self.params.currency
        self.as_of, self.window, self.previous, self.year_ago, self.last = (
            ctx.as_of, ctx.window, ctx.previous, ctx.year_ago, ctx.last)

    @classmethod
    def section_names(cls) -> list[str]:
        """Every section this report can show, in source order."""
        return [name for name, f in vars(cls).items() if hasattr(f, "section_title")]

    def section(self, name: str) -> Section:
        """The section ``name`` (a method marked with ``@section``), ready to display."""
        if name not in self.section_names():
            raise KeyError(f"{type(self).__name__} has no section '{name}'; choose from {self.section_names()}")
        return getattr(self, name)()

    def header(self) -> blocks.Block:
        block = blocks.header(self.title, self.data, self.window)
        note = self.ctx.history_note()  # history rebuilt from a snapshot: one sentence, under the header
        if not note:
            return block
        import html

        body = block._repr_html_()
        cut = body.rindex("</div>")  # the header's closing tag
        return blocks.Block(f'{body[:cut]}<div class="kk-warn">{html.escape(note)}</div>{body[cut:]}',
                            f"{block!r}\n{note}")

    def data_quality(self) -> blocks.Block:
        return blocks.data_quality(self.data)
