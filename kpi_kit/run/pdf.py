"""Report pages printed to PDF for mailing, through headless Chromium (Debian's ``chromium``).

The pages carry their own print rules (:file:`kpi_kit/templates/kpi_report`): A4, charts and
tables kept whole on one page, the navigation bar left out. Chromium is a separate program; when it
is missing the command says how to install it instead of failing half-way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..exceptions import KpiKitError
from .pages import DEFINITIONS, INDEX

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
PRINT_TIMEOUT_SECONDS = 180


def find_browser() -> str:
    """The Chromium executable: ``$KPI_KIT_CHROMIUM``, else the first of :data:`BROWSERS` on PATH."""
    configured = os.environ.get("KPI_KIT_CHROMIUM")
    if configured:
        if shutil.which(configured) is None:
            raise KpiKitError(f"KPI_KIT_CHROMIUM={configured}: no such program. Fix: point it at chromium, "
                              "or unset it.")
        return configured
    for name in BROWSERS:
        if shutil.which(name):
            return name
    raise KpiKitError("printing to PDF needs Chromium, which is not installed. Fix: apt-get install chromium "
                      "(Debian/Ubuntu), or set KPI_KIT_CHROMIUM to a Chrome/Chromium executable.")


def _command(browser: str, page: Path, pdf: Path, profile: Path) -> list[str]:
    cmd = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
           "--disable-extensions", f"--user-data-dir={profile}", "--no-pdf-header-footer",
           "--run-all-compositor-stages-before-draw", f"--print-to-pdf={pdf}", page.resolve().as_uri()]
    if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox
        cmd.insert(1, "--no-sandbox")
    return cmd


def print_pdf(page: Path, pdf: Path | None = None, *, browser: str | None = None) -> Path:
    """Print one HTML page to ``pdf`` (default: beside it, ``.pdf``); the file appears whole or not at all.

    Examples
    --------
    >>> print_pdf(Path("reports/demo/2026-10-31/funnel.html"))  # doctest: +SKIP
    PosixPath('reports/demo/2026-10-31/funnel.pdf')
    """
    page = Path(page)
    pdf = Path(pdf) if pdf is not None else page.with_suffix(".pdf")
    browser = browser or find_browser()
    with tempfile.TemporaryDirectory(prefix="kpi-kit-pdf-") as scratch:
        staged = Path(scratch) / "page.pdf"
        try:
            done = subprocess.run(_command(browser, page, staged, Path(scratch) / "profile"), capture_output=True,
                                  text=True, timeout=PRINT_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise KpiKitError(f"{page}: Chromium did not finish printing in {PRINT_TIMEOUT_SECONDS} s. Fix: try "
                              "again; if it repeats, check that chromium starts (chromium --headless --version).") \
                from None
        if done.returncode != 0 or not staged.is_file() or staged.stat().st_size == 0:
            detail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise KpiKitError(f"{page}: Chromium could not print it (exit {done.returncode}: {detail[0]}). "
                              "Fix: check that chromium runs (chromium --headless --version).")
        tmp = pdf.with_name(f".{pdf.name}.tmp-{os.getpid()}")
        shutil.copyfile(staged, tmp)
        os.replace(tmp, pdf)
    return pdf


def report_pages(folder: Path) -> list[Path]:
    """A run folder's report pages: every ``*.html`` but its index and definitions pages."""
    return sorted(p for p in Path(folder).glob("*.html") if p.name not in (INDEX, DEFINITIONS))


def print_folder(folder: Path, pages: list[str] | None = None) -> list[Path]:
    """Print a run folder's report pages (``pages``: notebook names; default every ``*.html`` but the
    index and definitions pages) to PDF beside them."""
    folder = Path(folder)
    if pages is None:
        pages = [p.stem for p in report_pages(folder)]
    browser = find_browser()
    return [print_pdf(folder / f"{name}.html", browser=browser) for name in pages]


def print_runs(folders) -> list[Path]:
    """PDFs for the report pages of each run folder that have none yet, or one older than the page
    (``kpi-kit run --pdf``: a client that was up to date keeps its PDFs)."""
    browser = find_browser()
    printed = []
    for folder in map(Path, folders):
        for page in report_pages(folder):
            pdf = page.with_suffix(".pdf")
            if pdf.exists() and pdf.stat().st_mtime >= page.stat().st_mtime:
                continue
            printed.append(print_pdf(page, pdf, browser=browser))
    return printed
