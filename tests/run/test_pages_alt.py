"""Every chart image of a page carries its alt text, generated from the chart's data (SPEC "Vocabulary",
Language): the report template writes the output's ``kpi_kit.alt`` into ``<img alt>``, escaped; no
image is left with nbconvert's "No description has been provided for this image"."""

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from kpi_kit.cli import main
from kpi_kit.reports.section import META
from kpi_kit.run.execute import html_exporter

ROOT = Path(__file__).parents[2]
NAMES = ["overview", "funnel", "channel", "cohort", "unit_economics"]
DEFAULT = "No description has been provided"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
KINDS = ("Line chart", "Bar chart", "Horizontal bar chart", "Stacked bar", "Grouped bar", "Bar and line", "Heatmap",
         "Scatter chart", "Stacked area", "Line and bar", "Line charts", "Horizontal bar charts", "Charts",
         "Small multiples")


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _images(page: str) -> list[dict]:
    """The attributes of every image of ``page`` (values unescaped)."""
    parser = _Images()
    parser.feed(page)
    return parser.images


def _alt(img: dict) -> str | None:
    return img.get("alt")


def _page(outputs: list) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Page"), nbformat.v4.new_markdown_cell("## A chart"),
                nbformat.v4.new_code_cell("report.section('x')", outputs=outputs)]
    body, _ = html_exporter().from_notebook_node(nb, resources={})
    return body


def test_the_template_writes_the_outputs_alt_text_escaped():
    alt = 'Bar chart: "Q4" <to date> & more: highest $1.2M (2026Q3).'
    page = _page([nbformat.v4.new_output("display_data", data={"image/png": PNG},
                                         metadata={META: {"section": "A chart", "shown": True, "alt": alt}})])
    [img] = _images(page)
    assert _alt(img) == alt
    assert "<to date>" not in page and "&lt;to date&gt; &amp; more" in page  # escaped in the HTML
    assert img["src"] == f"data:image/png;base64,{PNG}" and DEFAULT not in page


def test_an_image_without_alt_text_keeps_the_lab_templates_image():
    page = _page([nbformat.v4.new_output("display_data", data={"image/png": PNG}, metadata={})])
    [img] = _images(page)
    assert img["src"] == f"data:image/png;base64,{PNG}" and _alt(img).startswith(DEFAULT)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("alt")
    result = CliRunner().invoke(main, ["run", str(ROOT / "tests" / "fixtures" / "tiny.yaml"), "--out", str(out),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    return out / "tiny" / "2026-03-31"


def test_every_chart_of_a_run_says_what_it_shows_and_its_numbers(tiny_run):
    seen = 0
    for name in [*NAMES, "index", "definitions"]:
        page = (tiny_run / f"{name}.html").read_text(encoding="utf-8")
        assert DEFAULT not in page, f"{name}.html has an image without alt text"
        nb = nbformat.read(tiny_run / f"{name}.ipynb", as_version=4) if name in NAMES else None
        charts = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})] if nb else []
        images = _images(page)
        assert len(images) == len(charts)
        for img, out in zip(images, charts):
            alt = _alt(img)
            assert alt == out.metadata[META]["alt"]  # the page shows what the notebook's output carries
            if alt.startswith("Legend"):  # a small-multiples grid's shared legend: it names the series, no numbers
                assert re.match(r"Legend \(\w+\): \S", alt) and len(alt) <= 320, alt
                continue
            assert alt.startswith(KINDS) and re.search(r"\d", alt) and len(alt) <= 320, alt
            seen += 1
    assert seen >= 5
