"""Client language (SPEC "Vocabulary": "Language"): every page a client reads, the demo's and each test
fixture's, names things with display names: no snake_case key, parameter name or spec reference,
no "trailing 1 months", no lower-case key as a column header. The client's own words (channel
names as exported, file names) are allowed."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kpi_kit import load_client, load_params
from kpi_kit.params import Params
from kpi_kit.reports._render import render_all
from kpi_kit.reports.blocks import HEADERS, display_name
from kpi_kit.run import pages as pg
from kpi_kit.run.registry import NOTEBOOKS

pytestmark = pytest.mark.long(13)  # seconds, measured with --durations=0: starts first under make test

ROOT = Path(__file__).parents[2]
CLIENTS = {"demo": ROOT / "data" / "clients" / "demo.yaml", "tiny": ROOT / "tests" / "fixtures" / "tiny.yaml",
           "chan": ROOT / "tests" / "fixtures" / "chan.yaml"}
SNAKE = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
PARAMS = sorted(Params.model_fields)


class _Text(HTMLParser):
    """A page's text as a reader sees it (no style, script or, with ``skip_code``, code), and its
    table headers."""

    def __init__(self, skip_code: bool = False):
        super().__init__()
        self.parts, self.headers, self._skip, self._th = [], [], 0, False
        self._hidden = {"style", "script"} | ({"code"} if skip_code else set())

    def handle_starttag(self, tag, attrs):
        if tag in self._hidden:
            self._skip += 1
        self._th = self._th or tag == "th"
        if tag in ("p", "div", "td", "th", "tr", "li", "br", "h1", "h2", "h3"):
            self.parts.append("\n")
        if tag == "th":
            self.headers.append("")

    def handle_endtag(self, tag):
        if tag in self._hidden:
            self._skip -= 1
        if tag == "th":
            self._th = False

    def handle_data(self, data):
        if self._skip:
            return
        self.parts.append(data)
        if self._th:
            self.headers[-1] += data

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _read(html: str, skip_code: bool = False) -> _Text:
    p = _Text(skip_code)
    p.feed(html)
    return p


def _client_words(data) -> set[str]:
    """Words the client's data brings: channel names as exported and as mapped, file names."""
    words = set()
    for df in data.frames.values():
        for col in ("channel", "channel_raw", "campaign", "segment"):
            if col in df:
                words |= {str(v) for v in df[col].dropna().unique()}
    return words


def problems(text: str, allowed: set[str]) -> list[str]:
    """Every piece of ``text`` a client should not read: a snake_case key (other than the client's
    own words), a parameter name, a spec reference, "1 months", a "(parameter)" label."""
    found = []
    for line in text.splitlines():
        clean = line
        for word in allowed:  # the client's own words may hold underscores ("olist_leads.csv", "tiktok_ads")
            clean = clean.replace(word, "")
        clean = re.sub(r"\S+\.(csv|xlsx|json)\b", "", clean)  # file names are the client's
        found += [f"{m!r} in {line.strip()[:160]!r}" for m in SNAKE.findall(clean)]
        found += [f"parameter {p!r} in {line.strip()[:160]!r}" for p in PARAMS if "_" in p and p in clean]
        for bad in ("SPEC", "(parameter)", " 1 months", "channel_map"):
            if bad in clean:
                found.append(f"{bad!r} in {line.strip()[:160]!r}")
    return found


@pytest.fixture(scope="module", params=sorted(CLIENTS))
def rendered(request):
    data = load_client(load_params(CLIENTS[request.param]))
    return request.param, data, render_all(data)


def test_every_page_reads_in_client_language(rendered):
    name, data, pages = rendered
    allowed = _client_words(data)
    found = {}
    for page, blocks in pages.items():
        for block in blocks:
            bad = problems(_read(block).text, allowed)
            if bad:
                found.setdefault(page, []).extend(bad)
    assert not found, f"{name}: {json.dumps(found, indent=1, ensure_ascii=False)}"


def test_every_column_header_is_a_display_name(rendered):
    """No table header is a key or a lower-case abbreviation ("cpl", "ltv to cac", "churn rate")."""
    name, _, pages = rendered
    lowered = set(HEADERS) | {"churn rate", "payback months", "payback", "arpu"}
    found = {(page, h.strip()) for page, blocks in pages.items() for block in blocks
             for h in _read(block).headers if h.strip() in lowered or SNAKE.fullmatch(h.strip())}
    assert not found, f"{name}: {sorted(found)}"


def test_the_definitions_page_names_metrics_in_words():
    """Formulas say data columns and parameters in words; a metric's kpis.csv name shows only as code,
    labelled as such."""
    page = pg.definitions_html("demo", [(n.name, n.title) for n in NOTEBOOKS])
    assert not problems(_read(page, skip_code=True).text, set())
    assert "in kpis.csv: <code>won_deals</code>" in page


def test_the_notebooks_markdown_reads_in_client_language():
    """The markdown cells a page shows above its sections (the notebooks are the pages' source)."""
    found = []
    for nb in NOTEBOOKS:
        cells = json.loads((ROOT / "notebooks" / f"{nb.name}.ipynb").read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "markdown":
                found += problems(re.sub(r"`[^`]*\.md`", "", "".join(cell["source"])), set())
    assert not found, found


@pytest.mark.parametrize("column, shown", [("cpl", "CPL"), ("ltv to cac", "LTV:CAC"), ("lag_months", "lag (months)"),
                                           ("new_mrr", "new MRR"), ("cost_per_mql", "cost per MQL"),
                                           ("won deals", "won deals"), ("paid cac", "paid-media CAC")])
def test_display_name(column, shown):
    assert display_name(column) == shown


def test_the_checks_catch_what_they_look_for():
    """A contradicting fixture: each kind of word the test forbids is caught, the client's own kept."""
    text = ("created_at after as_of\nneeds a contacts file (SPEC: required)\nGross margin (parameter)\n"
            "LTV (trailing 1 months)\nchannel 'tiktok / paid' not in channel_map\nexport olist_leads.csv: won_date")
    found = problems(text, {"won_date"})
    assert any(f.startswith("'created_at'") for f in found) and any(f.startswith("parameter 'as_of'") for f in found)
    assert any("SPEC" in f for f in found) and any("(parameter)" in f for f in found)
    assert any("1 months" in f for f in found) and any("channel_map" in f for f in found)
    assert not any("won_date" in f or "olist_leads" in f for f in found)
