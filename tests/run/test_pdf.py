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
def test_a_run_folder_prints_its_report_pages_not_the_index(tmp_path):
    for name in ("index", "definitions", "funnel", "cohort"):
        (tmp_path / f"{name}.html").write_text(f"<html><body><h1>{name}</h1></body></html>")
    result = CliRunner().invoke(main, ["pdf", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["cohort.pdf", "funnel.pdf"]
    assert result.output.count("wrote ") == 2


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
def test_print_runs_prints_new_or_changed_pages_only(tmp_path):
    import os

    from kpi_kit.run.pdf import print_runs

    for name in ("index", "funnel", "cohort"):
        (tmp_path / f"{name}.html").write_text(f"<html><body><h1>{name}</h1></body></html>")
    assert sorted(p.name for p in print_runs([tmp_path])) == ["cohort.pdf", "funnel.pdf"]
    assert print_runs([tmp_path]) == []  # nothing changed: nothing printed again
    later = (tmp_path / "funnel.pdf").stat().st_mtime + 10
    os.utime(tmp_path / "funnel.html", (later, later))  # the page was rendered again
    assert [p.name for p in print_runs([tmp_path])] == ["funnel.pdf"]


def test_run_with_pdf_stops_before_rendering_without_chromium(monkeypatch, tmp_path):
    monkeypatch.setenv("KPI_KIT_CHROMIUM", "no-such-browser")
    tiny = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"
    result = CliRunner().invoke(main, ["run", str(tiny), "--out", str(tmp_path), "--pdf"])
    assert result.exit_code == 1 and "no such program" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing rendered
