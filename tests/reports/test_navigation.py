"""A report page's structure: the navigation bar, the definitions page, one "Not shown" list instead of
a heading and a box per missing section, no heading left empty, a table of contents on long pages."""

import html
import re

import nbformat
import pytest

from kpi_kit.metrics.catalogue import METRICS
from kpi_kit.reports import FunnelReport
from kpi_kit.reports.blocks import CSS, plural
from kpi_kit.reports.section import EMPTY, META, Section
from kpi_kit.run import pages as pg

PAGES = [("overview", "KPI overview"), ("funnel", "Funnel"), ("channel", "Channels")]


def _hrefs(page: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', page)


# -- the navigation bar and the definitions page -----------------------------------------------------
def test_the_bar_links_the_index_every_page_in_order_and_the_definitions_and_marks_the_current():
    nav = pg.nav_html("acme", PAGES, "funnel")
    assert _hrefs(nav) == ["index.html", "overview.html", "funnel.html", "channel.html", "definitions.html",
                           "data_quality.html", "../index.html", "../../index.html"]
    assert _hrefs(pg.nav_html("acme", PAGES, "funnel", outside=False))[-2:] == ["definitions.html", "data_quality.html"]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == ["funnel.html"]
    assert "acme" in nav
    assert re.findall(r'<a href="([^"]+)" aria-current', pg.nav_html("acme", PAGES, "index")) == ["index.html"]


def test_the_definitions_page_lists_every_catalogue_metric_with_formula_unit_and_kind():
    page = pg.definitions_html("acme", PAGES)
    rows = dict(re.findall(r'<tr id="([^"]+)">(.*?)</tr>', page))
    assert set(rows) == {m.name for m in METRICS}  # every metric, once
    assert len(re.findall(r'<tr id="', page)) == len(METRICS)
    for m in METRICS:
        cells = re.findall(r"<td>(.*?)</td>", rows[m.name])
        assert html.escape(m.label.split(" (")[0]) in cells[0]
        assert cells[2] == m.unit and cells[3] == m.kind
    mrr = re.search(r'<tr id="mrr">(.*?)</tr>', page).group(1)
    assert "money" in mrr and "lagging" in mrr
    assert 'aria-current="page">Definitions' in page and "index.html" in page
    assert not re.search(r"https?://", page)


# -- sections: one line per missing section, marked in the output metadata ---------------------------
def test_a_section_without_data_is_one_line_saying_what_it_needs(tiny, kit_style):
    tiny.frames.pop("deals")
    s = FunnelReport(tiny).section("deals")
    assert repr(s) == "Deal outcomes and pipeline: needs a deals file (not in this client's data)."
    assert "is not shown" not in repr(s)


def test_a_section_given_nothing_to_show_is_not_shown():
    s = Section("Empty")
    assert not s.shown and s.needs == EMPTY


def test_every_output_of_a_section_is_marked(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, metadata=None: shown.append(metadata))
    Section.not_shown("OKRs and KPI targets", "a targets file")._ipython_display_()
    Section("Attribution", takeaway="Paid Search earns most.",
            also_not_shown=[("Marketing ROI per model", "spend")])._ipython_display_()
    assert [m[META] for m in shown] == [
        {"section": "OKRs and KPI targets", "shown": False, "needs": "a targets file"},
        {"section": "Attribution", "shown": True},
        {"section": "Marketing ROI per model", "shown": False, "needs": "spend", "part_of": "Attribution"}]


@pytest.mark.parametrize(("n", "text"), [(1, "1 full month"), (2, "2 full months"), (0, "0 full months"),
                                         (1200, "1,200 full months")])
def test_a_count_agrees_with_its_noun(n, text):
    assert plural(n, "full month") == text


# -- the page a notebook becomes -----------------------------------------------------------------------
def _output(html: str, text: str, meta: dict | None = None):
    return nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": text},
                                  metadata=meta or {})


def _notebook(sections: list[tuple[str, Section | None]]):
    """A report notebook: intro, parameters, header, then a heading and a cell per section, data quality."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [md("**Funnel report.** Definitions: `docs/metrics.md`."), code('client = "acme"'),
             code("report.header()", outputs=[_output(CSS + '<div class="kk-header"><h1>Funnel report</h1></div>',
                                                      "Funnel report")])]
    for heading, s in sections:
        outputs = []
        if s is not None:
            for block, meta in s._marked():
                outputs.append(_output(block._repr_html_(), repr(block), meta))
        cells += [md(f"{heading}\nWhat it shows."), code(f'report.section("{heading}")', outputs=outputs)]
    cells += [md("## Data quality"), code("report.data_quality()", outputs=[_output("<p>rows read</p>", "rows")])]
    return nbformat.v4.new_notebook(cells=cells)


def _page(nb) -> str:
    from kpi_kit.run.execute import html_exporter

    body, resources = html_exporter().from_notebook_node(nb, resources={"kpi_kit": {"css": "", "nav": ""}})
    return body


def _headings(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", page)]


def test_missing_sections_become_one_list_before_data_quality_and_leave_no_heading():
    nb = _notebook([("## Deals", Section.not_shown("Deal outcomes", "a deals file")),
                    ("## Funnel", Section("Funnel", takeaway="Of 10 contacts, 3 became customers.")),
                    ("### By channel", Section.not_shown("Funnel by channel", "a `channel` column")),
                    ("## Targets", Section.not_shown("OKRs and KPI targets", "a targets file")),
                    ("## Empty", None)])
    assert pg.page_summary(nb) == (1, 5)
    page = _page(nb)
    assert _headings(page) == ["Funnel", "Not shown", "Data quality"]  # no heading without content
    listing = re.search(r'<ul class="kk-notshown-list">(.*?)</ul>', page).group(1)
    assert re.findall(r"<li>(.*?)</li>", listing) == [
        "Deal outcomes: needs a deals file (not in this client's data).",
        "Funnel by channel: needs a <code>channel</code> column (not in this client's data).",
        "OKRs and KPI targets: needs a targets file (not in this client's data).",
        "Empty: needs data for it in the reporting window (not in this client's data)."]
    assert page.count("kk-notshown-list") == 1 and "kk-missing" not in page  # no box per section
    assert page.index("Not shown") < page.index("Data quality")
    assert "<style>" not in page.split("</head>")[1]  # the blocks' inline stylesheet copies are gone
    assert 'href="definitions.html"' in page
    assert page.index("Funnel report</h1>") < page.index("Definitions:")  # the header opens the page


def test_an_h3_whose_h2_went_heads_its_own_section():
    nb = _notebook([("## Trends", Section.not_shown("Trends", "two months")),
                    ("### Share of pipeline", Section("Share", takeaway="Paid Search leads.")),
                    ("## Campaigns", Section("Campaigns", takeaway="Three campaigns."))])
    page = _page(nb)
    assert re.search(r"<h2[^>]*>Share of pipeline", page) and not re.search(r"<h3[^>]*>Share", page)


def test_a_long_page_gets_a_table_of_contents_linking_its_h2_headings():
    nb = _notebook([(f"## Part {i}", Section(f"Part {i}", takeaway=f"Sentence {i}.")) for i in range(10)])
    page = _page(nb)
    toc = re.search(r'<nav[^>]*kk-toc.*?</nav>', page, re.S).group(0)
    links = re.findall(r'href="#([^"]+)"', toc)
    assert len(links) == 11  # ten parts and the data quality
    for anchor in links:
        assert f'id="{anchor}"' in page
    short = _page(_notebook([("## Part", Section("Part", takeaway="One."))]))
    assert "kk-toc" not in short
