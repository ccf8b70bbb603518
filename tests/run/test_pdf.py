"""Report pages printed to PDF through headless Chromium (issue #17, item 7)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpi_kit.cli import main
from kpi_kit.exceptions import KpiKitError
from kpi_kit.run.pdf import BROWSERS, find_browser, print_folder, print_pdf

needs_chromium = pytest.mark.skipif(not any(shutil.which(b) for b in BROWSERS), reason="Chromium is not installed")


def _pages(pdf_bytes: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf_bytes))


@needs_chromium
def test_a_page_prints_to_an_a4_pdf_beside_it(tmp_path):
    page = tmp_path / "funnel.html"
    page.write_text("<!DOCTYPE html><html><head><style>@page{size:A4}</style></head><body>"
                    + "<p>row</p>" * 150 + "</body></html>")
    pdf = print_pdf(page)
    data = pdf.read_bytes()
    assert pdf == tmp_path / "funnel.pdf" and data.startswith(b"%PDF")
    assert _pages(data) >= 2  # 150 paragraphs do not fit one page
    assert re.findall(rb"/MediaBox\s*\[0 0 (\d+)\.?\d* (\d+)", data)[0] == (b"594", b"841")  # A4: 595 × 842 pt
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging file left


@needs_chromium
def test_a_run_folder_prints_to_one_pdf_and_its_pages_each_on_request(tmp_path):
    for name in ("index", "definitions", "data_quality", "funnel", "cohort"):
        (tmp_path / f"{name}.html").write_text(f"<html><body><main><h1>{name} page</h1></main></body></html>")
    result = CliRunner().invoke(main, ["pdf", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["report.pdf"]
    assert _pages((tmp_path / "report.pdf").read_bytes()) == 4  # cohort, funnel, data quality, definitions
    result = CliRunner().invoke(main, ["pdf", "--each-page", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["cohort.pdf", "funnel.pdf", "report.pdf"]
    assert result.output.count("wrote ") == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging file left


def test_without_chromium_one_message_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.delenv("KPI_KIT_CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(KpiKitError, match="apt-get install chromium"):
        find_browser()


def test_a_browser_that_fails_leaves_no_pdf_and_says_so(monkeypatch, tmp_path):
    page = tmp_path / "funnel.html"
    page.write_text("<html></html>")
    monkeypatch.setenv("KPI_KIT_CHROMIUM", "false")  # a program that exits 1 without printing
    result = CliRunner().invoke(main, ["pdf", str(page)])
    assert result.exit_code == 1
    assert "Chromium could not print it (exit 1" in result.output
    assert list(tmp_path.glob("*.pdf")) == []
    with pytest.raises(KpiKitError, match="no such program"):
        monkeypatch.setenv("KPI_KIT_CHROMIUM", "no-such-browser")
        print_folder(tmp_path)


@needs_chromium
def test_print_runs_prints_new_or_changed_runs_only(tmp_path):
    import os

    from kpi_kit.run.pdf import print_runs

    for name in ("index", "funnel", "cohort"):
        (tmp_path / f"{name}.html").write_text(f"<html><body><h1>{name}</h1></body></html>")
    assert [p.name for p in print_runs([tmp_path])] == ["report.pdf"]
    assert print_runs([tmp_path]) == []  # nothing changed: nothing printed again
    later = (tmp_path / "report.pdf").stat().st_mtime + 10
    os.utime(tmp_path / "funnel.html", (later, later))  # the page was rendered again
    assert [p.name for p in print_runs([tmp_path])] == ["report.pdf"]


def test_run_with_pdf_stops_before_rendering_without_chromium(monkeypatch, tmp_path):
    monkeypatch.setenv("KPI_KIT_CHROMIUM", "no-such-browser")
    tiny = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"
    result = CliRunner().invoke(main, ["run", str(tiny), "--out", str(tmp_path), "--pdf"])
    assert result.exit_code == 1 and "no such program" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing rendered


# -- the demo run as one PDF (issue #34) -------------------------------------------------------------
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="pdftotext is not installed (Debian poppler-utils; .ci/run installs it)")


@pytest.fixture(scope="module")
def demo_pdf(demo_run) -> tuple[Path, str]:
    """The demo run printed to its one PDF (the session's run, ``kpi-kit run --pdf``), and the PDF's text."""
    import subprocess

    pdf = demo_run / "report.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return demo_run, text


def _words(text: str) -> set[str]:
    # a header wraps at its spaces and hyphens ("W-" / "shaped"): its words are compared one by one
    return set(re.findall(r"[\w:%'’()+/.]+", text.replace("&amp;", "&").replace("&#x27;", "'")))


@needs_chromium
@needs_pdftotext
def test_the_run_prints_to_one_pdf_that_starts_with_the_summary_and_ends_with_the_definitions(demo_pdf):
    folder, text = demo_pdf
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["report.pdf"]
    pages = text.split("\f")[:-1]
    n = len(pages)
    assert 10 <= n <= 60
    assert " ".join(pages[0].split()).startswith("demo: KPI report, Nov 2025 – Oct 2026 (as of 31 Oct 2026)")
    assert "What changed" in pages[0] and "Alerts" in pages[0]
    # every page's footer: client, period, the report page it belongs to, its number
    for i, page in enumerate(pages, 1):
        footer = page.rstrip().splitlines()[-1]
        assert re.search(rf"demo · Nov 2025 – Oct 2026 \(as of 31 Oct 2026\) · .+ page {i} of {n}$", footer.strip()), \
            footer
    titles = [re.search(r"· ([^·]+?)\s+page \d+ of", p.rstrip().splitlines()[-1]).group(1) for p in pages]
    order = list(dict.fromkeys(titles))
    assert order == ["Summary", "KPI overview", "Funnel", "Channels", "Cohorts", "Unit economics", "Data quality",
                     "Metric definitions"]


@needs_chromium
@needs_pdftotext
def test_the_pdf_keeps_every_table_column_and_the_definitions(demo_pdf):
    from kpi_kit.metrics.catalogue import METRICS
    from kpi_kit.run.registry import NAMES

    folder, text = demo_pdf
    words = _words(text)
    flat = re.sub(r"\s+", " ", text)
    for name in [*NAMES, "data_quality"]:
        page = (folder / f"{name}.html").read_text(encoding="utf-8")
        for header in re.findall(r"<th>(.*?)</th>", page):
            missing = _words(re.sub(r"<[^>]+>", "", header)) - words
            assert not missing, f"{name}: the column '{header}' is not in the PDF ({missing})"
    # the columns A4 used to cut off (issue #34)
    for header in ("projected", "status", "Spend", "Bookings", "Marketing", "magic", "LTV:CAC", "payback", "Markov",
                   "Shapley"):
        assert header in words, header
    # the definitions: every metric of the catalogue by its kpis.csv name
    assert "How every number in these reports is defined" in flat
    for m in METRICS:
        assert m.name in words, m.name
