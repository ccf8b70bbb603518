"""Every demo page in a real browser at 1280 px and 390 px wide (issue #17, item 8): no console
errors, no horizontal overflow of the page, every image decoded, every link resolving to a file or
an anchor of the run (offline-safe: no external URL), no text overlapping in the KPI cards."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kpi_kit.run.registry import NAMES

from .conftest import WIDTHS

pytestmark = pytest.mark.long(20)  # seconds, measured with --durations=0: starts first under make test

PAGES = ["index.html", "definitions.html", "data_quality.html", *(f"{n}.html" for n in NAMES),
         "../index.html", "../../index.html"]  # the last two: the client's runs, the portfolio
MAX_HEIGHT = 7000  # px, a report page at 1280 px wide (issue #34)

OVERLAPS_JS = """
const box = e => e.getBoundingClientRect();
const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
const found = [];
const cards = Array.from(document.querySelectorAll('.kk-kpi'));
cards.forEach((card, i) => {
  const c = box(card), parts = Array.from(card.children);
  parts.forEach((p, j) => {
    const r = box(p);
    if (p.scrollWidth > p.clientWidth + 1) found.push(`card ${i + 1}: ${p.className} is wider than its box`);
    if (r.right > c.right + 1 || r.left < c.left - 1) found.push(`card ${i + 1}: ${p.className} sticks out`);
    parts.slice(j + 1).forEach(q => { if (hit(r, box(q))) found.push(`card ${i + 1}: ${p.className} overlaps ${q.className}`); });
  });
  cards.slice(i + 1).forEach((d, k) => { if (hit(c, box(d))) found.push(`cards ${i + 1} and ${i + k + 2} overlap`); });
});
return found;
"""


CUT_TABLES_JS = """
const width = document.documentElement.clientWidth;
return Array.from(document.querySelectorAll('table')).filter(t => {
  if (t.getBoundingClientRect().right <= width + 1) return false;
  for (let a = t.parentElement; a; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX;
    if (o === 'auto' || o === 'scroll') return false;  // scrolls inside its own box: readable
  }
  return true;
}).map(t => t.innerText.slice(0, 60));
"""


def _open(browser, page: Path, width: int) -> None:
    browser.set_window_size(width, 1000)
    browser.get_log("browser")  # what an earlier page logged
    browser.get(page.resolve().as_uri())
    browser.execute_script("return document.readyState")


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
@pytest.mark.parametrize("name", PAGES)
def test_page_in_a_browser(browser, demo_run, name, width):
    page = (demo_run / name).resolve()
    assert page.is_file(), f"{name} was not written"
    _open(browser, page, width)

    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], f"console errors on {name}"

    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= inner, f"{name} is {scroll} px wide in a {inner} px window: the page scrolls sideways"

    assert browser.execute_script(CUT_TABLES_JS) == [], f"tables cut off at the page edge on {name}"

    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.alt || i.src.slice(0, 80))")
    assert broken == [], f"images not decoded on {name}"

    for href in browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"):
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, f"{name} links outside the reports: {href}"
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        assert target.exists(), f"{name}: the link {href} leads nowhere"
        if parts.fragment and target == page:
            assert browser.execute_script("return !!document.getElementById(arguments[0])", unquote(parts.fragment)), \
                f"{name}: no element with id {parts.fragment}"

    assert browser.execute_script(OVERLAPS_JS) == [], f"KPI card text overlaps on {name}"


def test_every_report_page_has_the_navigation_bar(browser, demo_run):
    """Each page links its client's index, every page of the run and the definitions."""
    wanted = {"index.html", "definitions.html", "data_quality.html", *(f"{n}.html" for n in NAMES), "../index.html",
              "../../index.html"}
    for name in [f"{n}.html" for n in NAMES] + ["index.html"]:
        _open(browser, demo_run / name, 1280)
        nav = set(browser.execute_script(
            "const n = document.querySelector('nav'); return n ? Array.from(n.querySelectorAll('a[href]'))"
            ".map(a => a.getAttribute('href').split('#')[0]) : []"))
        assert wanted - {name} <= nav, f"{name}'s navigation misses {sorted(wanted - {name} - nav)}"


# -- phone tables, page height, the sticky bar (issue #34) -------------------------------------------
TABLES_JS = """
return Array.from(document.querySelectorAll('table.kk-table')).filter(t => t.offsetParent !== null).map(t => {
  const box = t.closest('.kk-scroll'), first = t.querySelector('tbody td');
  return {cols: t.querySelectorAll('thead th').length, head: t.querySelector('th').innerText,
          box: box ? box.clientWidth : null, wide: box ? box.scrollWidth : t.scrollWidth,
          sticky: first ? getComputedStyle(first).position : '', hint: box ? box.classList.contains('kk-wide') : false};
});
"""


@pytest.mark.parametrize("name", [f"{n}.html" for n in NAMES] + ["data_quality.html"])
def test_at_390_px_narrow_tables_fit_and_wide_ones_keep_their_first_column(browser, demo_run, name):
    _open(browser, demo_run / name, 390)
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    tables = browser.execute_script(TABLES_JS)
    assert tables, f"no table shown on {name}"
    for t in tables:
        if t["cols"] <= 4:
            assert t["wide"] <= t["box"] + 1, f"{name}: the {t['cols']}-column table '{t['head']}' scrolls sideways"
        else:
            assert t["hint"] and t["sticky"] == "sticky", f"{name}: the wide table '{t['head']}' loses its first column"
    # scrolled to its right end, a wide table still shows its first column's labels at the box's left edge
    kept = browser.execute_script("""
      return Array.from(document.querySelectorAll('.kk-wide')).filter(b => b.scrollWidth > b.clientWidth + 1)
        .map(b => { b.scrollLeft = b.scrollWidth; const cell = b.querySelector('tbody td');
                    return Math.abs(cell.getBoundingClientRect().left - b.getBoundingClientRect().left) <= 1; });""")
    assert all(kept), f"{name}: a wide table's first column scrolls out of view"


@pytest.mark.parametrize("name", [f"{n}.html" for n in NAMES])
def test_at_1280_px_no_report_page_is_taller_than_7000_px(browser, demo_run, name):
    _open(browser, demo_run / name, 1280)
    height = browser.execute_script("return document.body.scrollHeight")
    assert height <= MAX_HEIGHT, f"{name} is {height} px tall at 1280 px"


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_the_navigation_bar_stays_in_view_while_the_page_scrolls(browser, demo_run, width):
    _open(browser, demo_run / "channel.html", width)
    browser.execute_script("window.scrollTo(0, 3000)")
    top, bottom = browser.execute_script(
        "const r = document.querySelector('nav.kk-nav').getBoundingClientRect(); return [r.top, r.bottom]")
    assert top == 0 and bottom > 20, "the navigation bar scrolled away"
    assert bottom <= 60, f"the bar takes {bottom} px of a {width}-px-wide screen"


def test_a_run_prints_as_laid_out_with_every_table_within_its_page(browser, demo_run):
    """The print page (kpi_kit.run.pdf.print_html) laid out as Chromium prints it: no table wider than
    its part (shrunk, or turned landscape), every folded table open."""
    from kpi_kit.run.pdf import print_html

    page = demo_run.parent.parent / "print-check.html"
    page.write_text(print_html(demo_run), encoding="utf-8")
    try:
        _open(browser, page, 1000)
        cut = browser.execute_script("""
          return Array.from(document.querySelectorAll('.kk-part table')).filter(t => {
            const part = t.closest('.kk-part'), landscape = !!t.closest('.kk-landscape');
            const room = landscape ? 275 * 96 / 25.4 : part.clientWidth;
            const zoom = parseFloat(t.style.zoom || '1');
            return t.getBoundingClientRect().width * (landscape ? zoom : 1) > room + 2;
          }).map(t => t.innerText.slice(0, 60));""")
        assert cut == []
        assert browser.execute_script("return Array.from(document.querySelectorAll('details')).every(d => d.open)")
        assert browser.execute_script("return document.querySelectorAll('.kk-part').length") == len(NAMES) + 3
    finally:
        page.unlink()
