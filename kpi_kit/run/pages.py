"""What makes an executed notebook a report page, and the run folder's other pages.

- :class:`ReportPagePreprocessor` (used by :func:`kpi_kit.run.execute.export_html`): the sections a
  client's data cannot support leave the page (their heading and their line) and become one "Not shown"
  list just before the data-quality section; a heading left without content goes; a long page gets a
  table of contents; the blocks' inline stylesheet copies go (the page includes it once).
- :func:`nav_html`: the bar at the top of every page of a run folder (the run's index, its pages in
  report order, the definitions).
- :func:`definitions_html`: ``definitions.html``, the metric catalogue as a page.
- :func:`quality_html`: ``data_quality.html``, the run's data-quality section once; each report page
  keeps its one-line summary and a link to it.
- :func:`page_summary`: how many sections of a page are shown, for the run's index.

Sections are recognised by the output metadata :class:`kpi_kit.reports.section.Section` writes
(``{"kpi_kit": {"section": ..., "shown": ..., "needs": ...}}``); a notebook's structure is a heading
(a markdown cell starting with ``#``) followed by the code cells that show its content.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from importlib import resources

from ..reports.blocks import CSS as BLOCK_CSS
from ..reports.blocks import not_shown_text
from ..reports.section import META

STATIC = "templates/kpi_report/static"
INDEX = "index.html"
DEFINITIONS = "definitions.html"
DATA_QUALITY = "data_quality.html"  # the run's data-quality section, written once (report pages link it)
RUNS = "../index.html"  # the client's runs (<out>/<client>/index.html)
PORTFOLIO = "../../index.html"  # every client's latest run (<out>/index.html)
TOC_MIN_SECTIONS = 10  # a page with this many sections shown gets a table of contents
LITTLE = 0.5  # a page showing less than this share of its sections is marked in the index
QUALITY = "Data quality"
NOT_SHOWN = "Not shown"


def stylesheet() -> str:
    """The pages' stylesheet: layout and navigation (``page.css``) and the blocks' (``blocks.css``)."""
    static = resources.files("kpi_kit").joinpath(STATIC)
    return "\n".join(static.joinpath(f).read_text(encoding="utf-8") for f in ("page.css", "blocks.css"))


# -- a notebook's sections --------------------------------------------------------------------------
def _heading(cell) -> tuple[int, str] | None:
    """(level, text) of a markdown cell that starts with a heading."""
    if cell.cell_type != "markdown" or not cell.source.strip():
        return None
    m = re.match(r"(#{1,6})\s+(.*)", cell.source.lstrip().splitlines()[0])
    return (len(m.group(1)), m.group(2).strip()) if m else None


def _meta(output) -> dict | None:
    m = output.get("metadata", {}).get(META)
    return m if isinstance(m, dict) else None


def _not_shown(output) -> bool:
    m = _meta(output)
    return m is not None and m.get("shown") is False


@dataclass
class Missing:
    """One line of the page's "Not shown" list."""

    title: str
    needs: str

    def text(self) -> str:
        return not_shown_text(self.title, self.needs)

    def html(self) -> str:
        # `column` in a need is code, as in the notebooks' Markdown
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(self.text()))


@dataclass
class Group:
    """A heading and the code cells under it (or the cells before the first heading)."""

    heading: int | None  # the markdown cell's index
    cells: list[int] = field(default_factory=list)


def _groups(nb) -> list[Group]:
    groups, current = [], Group(None)
    for i, cell in enumerate(nb.cells):
        if _heading(cell):
            groups.append(current)
            current = Group(i)
        elif cell.cell_type == "code":
            current.cells.append(i)
    groups.append(current)
    return groups


def _is_section(nb, group: Group) -> bool:
    """A heading other than the data-quality one, over cells that display something."""
    if group.heading is None or _heading(nb.cells[group.heading])[1] == QUALITY:
        return False
    return any(nb.cells[i].get("outputs") or "report." in nb.cells[i].source for i in group.cells)


def page_summary(nb) -> tuple[int, int]:
    """(sections shown, sections) of an executed report notebook: a section is a heading (other than
    the data-quality one) over the cells showing it; it is shown when any of its output is."""
    shown = total = 0
    for group in _groups(nb):
        if _is_section(nb, group):
            total += 1
            shown += any(not _not_shown(o) for i in group.cells for o in nb.cells[i].get("outputs", []))
    return shown, total


def _strip_css(output) -> None:
    data = output.get("data", {})
    if "text/html" in data:
        text = data["text/html"]
        text = "".join(text) if isinstance(text, list) else text
        data["text/html"] = text.replace(BLOCK_CSS, "")


def _anchor(level: int, text: str) -> str:
    """The id nbconvert gives a Markdown heading (the table of contents links to it)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    m = re.search(r'id="([^"]+)"', markdown2html_mistune(f"{'#' * level} {text}"))
    return m.group(1) if m else ""


def _markdown_cell(source: str, kind: str):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = [f"kpi-kit-{kind}"]
    cell["id"] = f"kpi-kit-{kind}"  # stable: the same page twice is the same bytes
    return cell


class ReportPagePreprocessor:
    """Turn an executed report notebook into its page (see the module's docstring): an nbconvert
    preprocessor (a callable of the notebook and resources)."""

    enabled = True

    def __call__(self, nb, resources):
        return self.preprocess(nb, resources)

    def preprocess(self, nb, resources):
        shown, total = page_summary(nb)
        resources.setdefault("kpi_kit", {})["sections"] = (shown, total)
        missing: list[Missing] = []
        drop: set[int] = set()
        for group in _groups(nb):
            had = False
            for i in group.cells:
                cell = nb.cells[i]
                outputs = cell.get("outputs", [])
                had = had or bool(outputs)
                for o in outputs:
                    if _not_shown(o):
                        m = _meta(o)
                        missing.append(Missing(m.get("section", "?"), m.get("needs", "")))
                kept = [o for o in outputs if not _not_shown(o)]
                for o in kept:
                    _strip_css(o)
                cell.outputs = kept
                if not kept:
                    drop.add(i)  # the parameter cells, and what showed only "not shown" lines
            if group.heading is None:
                continue
            level, text = _heading(nb.cells[group.heading])
            if text == QUALITY or any(nb.cells[i].outputs for i in group.cells):
                continue
            drop.add(group.heading)  # no heading without content
            if not had and group.cells and not any(m.title == text for m in missing):
                missing.append(Missing(text, "data for it in the reporting window"))

        cells, promote = [], False
        for i, cell in enumerate(nb.cells):
            head = _heading(cell)
            if i in drop:
                promote = promote or (head is not None and head[0] <= 2)
                continue
            if head and head[0] <= 2:
                promote = False
            elif head and head[0] == 3 and promote:  # its h2 went: it heads a section of its own now
                cell.source = cell.source.lstrip()[1:]
            if cell.cell_type == "markdown":  # the definitions are a page of the run folder now
                cell.source = cell.source.replace("`docs/metrics.md`", f"[{DEFINITIONS}]({DEFINITIONS})")
            cells.append(cell)

        if missing:
            items = "".join(f"<li>{m.html()}</li>" for m in _unique(missing))
            listing = _markdown_cell(f"## {NOT_SHOWN}\nThis client's data cannot support these sections yet:\n\n"
                                     f'<ul class="kk-notshown-list">{items}</ul>\n', "not-shown")
            at = next((k for k, c in enumerate(cells) if (_heading(c) or (0, ""))[1] == QUALITY), len(cells))
            cells.insert(at, listing)

        # the page opens with its header (the first output): the notebook's intro sentence goes below it
        first_out = next((k for k, c in enumerate(cells) if c.cell_type == "code" and c.outputs), None)
        if first_out is not None and first_out > 0 and cells[0].cell_type == "markdown" and not _heading(cells[0]):
            cells.insert(first_out, cells.pop(0))
            first_out -= 1
        nb.cells = cells
        if resources["kpi_kit"].get("quality_page", True):
            _quality_line(nb)

        heads = [h for h in map(_heading, cells) if h and h[0] == 2]
        if shown >= TOC_MIN_SECTIONS and first_out is not None:
            items = "".join(f'<li><a href="#{_anchor(2, t)}">{html.escape(t)}</a></li>' for _, t in heads)
            toc = _markdown_cell(f'<nav class="kk-toc" aria-label="Contents"><b>On this page</b><ol>{items}</ol></nav>\n',
                                 "toc")
            nb.cells.insert(first_out + 1, toc)
        return nb, resources


def _quality_outputs(nb):
    """The outputs of a notebook's data-quality section (the cells under its heading)."""
    for group in _groups(nb):
        if group.heading is not None and _heading(nb.cells[group.heading])[1] == QUALITY:
            for i in group.cells:
                yield from nb.cells[i].get("outputs", [])


def _html(output) -> str:
    text = output.get("data", {}).get("text/html", "")
    return "".join(text) if isinstance(text, list) else text


def quality_summary(block_html: str) -> str | None:
    """The one-line summary (HTML) at the top of a data-quality block; None without one."""
    m = re.search(r'<p class="kk-dq-summary">(.*?)</p>', block_html, re.S)
    return m.group(1) if m else None


def _quality_line(nb) -> None:
    """The data-quality section of a report page becomes its one-line summary and a link to the run's
    data-quality page (:data:`DATA_QUALITY`), which shows it once for every page of the run."""
    for output in _quality_outputs(nb):
        line = quality_summary(_html(output))
        if line is None:
            continue
        output["data"] = {
            "text/html": f'<p class="kk-dq-summary">{line} <a href="{DATA_QUALITY}">Rows per file, what was set '
                         f"aside and why</a>.</p>",
            "text/plain": html.unescape(line)}


def quality_block(nb) -> str:
    """The HTML of an executed report notebook's data-quality section (its blocks' stylesheet copies
    left out); "" when it has none."""
    return "".join(_html(o).replace(BLOCK_CSS, "") for o in _quality_outputs(nb))


def quality_html(client: str, pages: list[tuple[str, str]], block: str) -> str:
    """``data_quality.html``: the run's data-quality section, once for all its pages."""
    intro = ("<p class='muted'>What the reports of this run read: rows per file, the rows set aside and why, "
             "channels without a mapping, stages without data. Every report page of the run rests on these "
             "rows.</p>")
    body = block or "<p class='muted'>These notebooks have no data-quality section.</p>"
    return page_html("Data quality", intro + body, nav_html(client, pages, "data_quality"))


def _unique(missing: list[Missing]) -> list[Missing]:
    seen, out = set(), []
    for m in missing:
        if (m.title, m.needs) not in seen:
            seen.add((m.title, m.needs))
            out.append(m)
    return out


# -- navigation -------------------------------------------------------------------------------------
def nav_html(client: str, pages: list[tuple[str, str]], current: str | None, *, outside: bool = True) -> str:
    """The bar at the top of every page of a run folder: the run's index, its pages ``(name, title)``
    in report order, the definitions and the data-quality page; ``current`` (a page name, ``"index"``,
    ``"definitions"`` or ``"data_quality"``) is marked. ``outside``: also the client's runs
    (:data:`RUNS`) and the portfolio of every client (:data:`PORTFOLIO`), which a batch writes beside
    the run folder."""

    def link(href: str, label: str, here: bool) -> str:
        mark = ' aria-current="page"' if here else ""
        return f'<li><a href="{html.escape(href)}"{mark}>{html.escape(label)}</a></li>'

    items = [f'<li><span class="kk-client">{html.escape(client)}</span></li>',
             link(INDEX, "Index", current == "index")]
    items += [link(f"{name}.html", label, current == name) for name, label in pages]
    items.append(link(DEFINITIONS, "Definitions", current == "definitions"))
    items.append(link(DATA_QUALITY, "Data quality", current == "data_quality"))
    if outside:
        items.append(link(RUNS, "Runs", False).replace("<li>", '<li class="kk-out">', 1))
        items.append(link(PORTFOLIO, "All clients", False))
    return f'<nav class="kk-nav" aria-label="Reports"><ul>{"".join(items)}</ul></nav>'


def page_html(title: str, body: str, nav: str = "") -> str:
    """A standalone page of the run folder (index, definitions) with the reports' stylesheet."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{stylesheet()}</style></head><body>{nav}<main><h1>{html.escape(title)}</h1>{body}</main>"
            f"</body></html>\n")


# -- definitions ------------------------------------------------------------------------------------
# parameter keys a catalogue formula names, as the definitions page says them (SPEC "Vocabulary")
FORMULA_WORDS = {"churn_window_months": "the churn window", "gross_margin": "gross margin"}


def definitions_html(client: str, pages: list[tuple[str, str]]) -> str:
    """``definitions.html``: every metric of the catalogue with its formula, unit and kind, grouped by
    the report that shows it; each row is anchored by the metric's name (``#mrr``)."""
    from ..data import field_words
    from ..metrics.catalogue import METRICS

    def code(text: str) -> str:  # `new` as code; a data column or parameter key in words ("created date")
        text = re.sub(r"(`[^`]+`)|\b[a-z]+(?:_[a-z]+)+\b",
                      lambda m: m[1] or FORMULA_WORDS.get(m[0]) or field_words(m[0]), text)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))

    titles = dict(pages)
    order = [n for n, _ in pages] + sorted({m.notebook for m in METRICS} - {n for n, _ in pages})
    sections = []
    for notebook in order:
        rows = [m for m in METRICS if m.notebook == notebook]
        if not rows:
            continue
        body = "".join(
            f'<tr id="{html.escape(m.name)}"><td><b>{html.escape(m.label)}</b><br>'
            f'<span class="muted">in kpis.csv: <code>{html.escape(m.name)}</code></span></td>'
            f"<td>{code(m.formula)}</td><td>{html.escape(m.unit)}</td><td>{html.escape(m.kind)}</td>"
            f"<td>{'higher' if m.higher_is_better else 'lower'}</td></tr>" for m in rows)
        name = titles.get(notebook, notebook.replace("_", " ").capitalize())
        sections.append(f"<h2 id='{html.escape(notebook)}'>{html.escape(name)}</h2><table class='kk-defs'><thead>"
                        "<tr><th>metric</th><th>formula</th><th>unit</th><th>leading / lagging</th>"
                        f"<th>better</th></tr></thead><tbody>{body}</tbody></table>")
    intro = ("<p class='muted'>How every number in these reports is defined, from the kit's metric catalogue. "
             "A <i>leading</i> metric moves before results do; a <i>lagging</i> one is a result.</p>")
    return page_html("Metric definitions", intro + "".join(sections), nav_html(client, pages, "definitions"))
