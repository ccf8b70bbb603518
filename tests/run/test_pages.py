"""The pages of a run folder as a reader gets them: navigation that resolves, a definitions page, one
"Not shown" list per page, no empty heading, no request to the network, and lean pages."""

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from kpi_kit.cli import main
from kpi_kit.metrics.catalogue import METRICS
from kpi_kit.reports.section import META
from kpi_kit.run import pages as pg

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NAMES = ["overview", "funnel", "channel", "cohort", "unit_economics"]
MAX_PAGE = 150_000  # bytes of a page without its inline images


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    result = CliRunner().invoke(main, ["run", str(FIXTURES / "tiny.yaml"), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    return out / "tiny" / "2026-03-31"


class _Outline(HTMLParser):
    """Links, ids and the headings of a page with the text that follows each one."""

    def __init__(self):
        super().__init__()
        self.links, self.ids, self.headings = [], set(), []
        self._tag, self._skip = None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("h2", "h3"):
            self._tag = tag
            self.headings.append([tag, "", 0])  # level, text, what follows (text, images, tables)
        elif tag in ("img", "table") and self.headings:
            self.headings[-1][2] += 1
        if tag in ("style", "nav"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == self._tag:
            self._tag = None
        if tag in ("style", "nav"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip or not data.strip() or not self.headings:
            return
        if self._tag:
            self.headings[-1][1] += data.replace("¶", "").strip()
        else:
            self.headings[-1][2] += 1


def _outline(page: str) -> _Outline:
    p = _Outline()
    p.feed(page)
    return p


def _without_images(page: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)


def test_a_run_folder_holds_the_definitions_page_listing_every_metric(tiny_run):
    page = (tiny_run / "definitions.html").read_text(encoding="utf-8")
    ids = _outline(page).ids
    assert {m.name for m in METRICS} <= ids


@pytest.mark.parametrize("name", [*NAMES, "index", "definitions", "data_quality"])
def test_every_page_has_the_bar_and_its_links_resolve_in_the_run_folder(tiny_run, name):
    page = (tiny_run / f"{name}.html").read_text(encoding="utf-8")
    nav = re.search(r'<nav[^>]*class="kk-nav".*?</nav>', page, re.S).group(0)
    tags = re.findall(r"<a ([^>]*)>", nav)
    hrefs = [re.search(r'href="([^"]+)"', t).group(1) for t in tags]
    # report order, then the run's data quality, the client's runs and every client's portfolio
    assert hrefs == ["index.html", *(f"{n}.html" for n in NAMES), "definitions.html", "data_quality.html",
                     "../index.html", "../../index.html"]
    assert [h for h, t in zip(hrefs, tags) if 'aria-current="page"' in t] == [f"{name}.html"]
    outline = _outline(page)
    for href in outline.links:
        target, _, anchor = href.partition("#")
        if target:
            assert (tiny_run / target).is_file(), f"{name}.html links {href}, which is not in the run folder"
        if anchor and not target:
            assert anchor in outline.ids, f"{name}.html links #{anchor}, which it does not have"


@pytest.mark.parametrize("name", [*NAMES, "index", "definitions"])
def test_pages_send_no_request_anywhere(tiny_run, name):
    page = (tiny_run / f"{name}.html").read_text(encoding="utf-8")
    assert not re.search(r"https?://|//cdn|<script|<link\b|@import|url\(", page, re.I)


@pytest.mark.parametrize("name", NAMES)
def test_one_not_shown_list_with_a_line_per_missing_section_and_no_empty_heading(tiny_run, name):
    page = (tiny_run / f"{name}.html").read_text(encoding="utf-8")
    nb = nbformat.read(tiny_run / f"{name}.ipynb", as_version=4)
    missing = {(o.metadata[META]["section"], o.metadata[META].get("needs")) for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if o.get("metadata", {}).get(META, {}).get("shown") is False}
    lists = re.findall(r'<ul class="kk-notshown-list">(.*?)</ul>', page, re.S)
    if not missing:
        assert not lists
    else:
        assert len(lists) == 1
        lines = re.findall(r"<li>(.*?)</li>", lists[0], re.S)
        assert sorted(re.sub(r"<[^>]+>", "", line).split(":")[0] for line in lines) == sorted(t for t, _ in missing)
        assert page.index("kk-notshown-list") < page.index(">Data quality")
    assert "is not shown" not in page and 'class="kk-missing"' not in _body_before_quality(page)
    for _level, text, content in _outline(page).headings:
        assert content or text == "Not shown" and lists, f"{name}.html: heading '{text}' has nothing under it"


def _body_before_quality(page: str) -> str:
    return page[:page.find(">Data quality")]


def test_the_index_says_how_much_each_page_shows(tiny_run):
    index = (tiny_run / "index.html").read_text(encoding="utf-8")
    for name in NAMES:
        shown, total = pg.page_summary(nbformat.read(tiny_run / f"{name}.ipynb", as_version=4))
        line = re.search(rf"<li><a href='{name}.html'>.*?</li>", index).group(0)
        assert f"{shown} of {total} sections shown" in line
        assert ("little to show" in line or "nothing to show" in line) == (shown / total < pg.LITTLE)
    assert "href='definitions.html'" in index


@pytest.mark.parametrize("name", NAMES)
def test_pages_are_lean(tiny_run, name):
    page = (tiny_run / f"{name}.html").read_text(encoding="utf-8")
    assert len(_without_images(page).encode()) <= MAX_PAGE
    assert "jp-RenderedHTMLCommon{" not in page.replace(" ", "")  # not JupyterLab's stylesheet
    assert page.count(".kk-kpi{") == 1  # the blocks' stylesheet once, not once per block


def test_the_demo_channel_page_the_largest_is_lean_and_its_images_fit_the_page(tmp_path):
    """A demo page without its images stays within 150 KB; a chart is no wider than the page's column
    (1000 px) by much, so the browser shows it near its own size."""
    import base64
    import struct

    result = CliRunner().invoke(main, ["run", str(ROOT / "data" / "clients" / "demo.yaml"), "--out", str(tmp_path),
                                       "--notebooks", "channel", "--no-progress"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "demo" / "2026-10-31" / "channel.html").read_text(encoding="utf-8")
    assert len(_without_images(page).encode()) <= MAX_PAGE
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert images
    for b64 in images:
        width = struct.unpack(">I", base64.b64decode(b64[:40])[16:20])[0]
        assert 300 <= width <= 1100  # a small-multiple panel (about 430 px) up to a full-width chart
