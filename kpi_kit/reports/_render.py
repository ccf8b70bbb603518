"""Everything the notebooks show, rendered in this process without papermill: the check that
whatever ``kpi-kit validate`` accepts, every report can draw (used by the tests, and cheap enough
for property-based tests over many generated clients)."""

from __future__ import annotations


def render_all(data, previous_metrics: str | None = None) -> dict[str, list[str]]:
    """Build every report's header, KPI strip, sections and data-quality block for ``data`` and draw
    every chart; return each notebook's HTML fragments (charts as ``[chart: title]``).

    Parameters
    ----------
    data : kpi_kit.data.ClientData
        A loaded client (:func:`kpi_kit.load_client`).
    previous_metrics : str, optional
        ``metrics.json`` of an earlier run, as a batch passes it.

    Returns
    -------
    dict of str to list of str
        Notebook name to the HTML of its blocks, in page order.

    Examples
    --------
    >>> pages = render_all(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> sorted(pages)  # doctest: +SKIP
    ['channel', 'cohort', 'funnel', 'overview', 'unit_economics']
    """
    import matplotlib.pyplot as plt

    from ..charts.style import figure_png, use_style
    from ..run.registry import NOTEBOOKS
    from .section import Section, _chart_title

    use_style()
    pages: dict[str, list[str]] = {}
    for notebook in NOTEBOOKS:
        report = notebook.report_class()(data, previous_metrics)
        parts = [report.header()]
        if hasattr(report, "kpis"):
            parts.append(report.kpis())
        parts += [report.section(name) for name in report.section_names()]
        parts.append(report.data_quality())
        html = []
        for part in parts:
            for block in part.blocks() if isinstance(part, Section) else [part]:
                if hasattr(block, "savefig"):
                    figure_png(block)  # drawing is where NaN limits and math text fail
                    html.append(f"[chart: {_chart_title(block)}]")
                    plt.close(block)
                else:
                    html.append(block._repr_html_())
        pages[notebook.name] = html
    return pages
