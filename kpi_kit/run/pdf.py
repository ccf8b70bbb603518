"""Report pages printed to PDF for mailing, through headless Chromium (Debian's ``chromium``).

A run prints to one PDF, ``report.pdf`` in its folder (:func:`print_run`): a summary page (the
overview's headline cards, what changed, the alerts), every report page, the data quality and the
definitions, put together into one print page (:func:`print_html`) that Chromium prints once. Each
printed page's footer names the client, the period and the report page it belongs to, with its
number (CSS named pages and ``@page`` margin boxes, which Chromium prints from version 131 on).
Single pages still print on their own (:func:`print_pdf`, ``kpi-kit pdf --each-page``).

The pages carry their own print rules (:file:`kpi_kit/templates/kpi_report`): A4, charts and short
tables kept whole on one page, every table column on the paper (no scroll box; small type, headers
that wrap), the navigation bar left out, folded tables printed open. Chromium is a separate program;
when it is missing the command says how to install it instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from ..exceptions import KpiKitError
from .pages import DATA_QUALITY, DEFINITIONS, INDEX, STATIC, stylesheet

PDF_NAME = "report.pdf"  # the run's one PDF, in its folder

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
    with scratch_folder() as scratch:
        staged = Path(scratch) / "page.pdf"
        try:
            done = _run_chromium(_command(browser, page, staged, Path(scratch) / "profile"), PRINT_TIMEOUT_SECONDS,
                                 Path(scratch))
        except subprocess.TimeoutExpired:
            raise KpiKitError(f"{page}: Chromium did not finish printing in {PRINT_TIMEOUT_SECONDS} s. Fix: try "
                              "again; if it repeats, check that chromium starts (chromium --headless --version).") \
                from None
        if done.returncode != 0 or not staged.is_file() or staged.stat().st_size == 0:
            detail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise KpiKitError(f"{page}: Chromium could not print it (exit {done.returncode}: {detail[0]}). "
                              "Fix: check that chromium runs (chromium --headless --version).")
        tmp = pdf.with_name(f".{pdf.name}.tmp-{os.getpid()}")
        try:
            shutil.copyfile(staged, tmp)
            os.replace(tmp, pdf)
        except BaseException:  # a full disk, Ctrl-C, SIGTERM: no half PDF beside the page
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    return pdf


@contextlib.contextmanager
def scratch_folder():
    """A private folder (in ``$TMPDIR``) for one Chromium print: its profile (~3 MB), the PDF as it is
    printed, a run's print page. Removed whatever happens: a print, an error, Ctrl-C or SIGTERM (the
    command turns both into an exception that unwinds through here, after :func:`_run_chromium` has
    stopped Chromium)."""
    path = Path(tempfile.mkdtemp(prefix="kpi-kit-pdf-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _run_chromium(cmd: list[str], timeout: float, scratch: Path) -> subprocess.CompletedProcess:
    """Run Chromium in a process group of its own (Ctrl-C at the terminal reaches the kit, not Chromium
    half-way through a print), with ``scratch`` as its TMPDIR (its own temporary files go with the folder);
    on a timeout, an error or a signal the whole group (its zygote, GPU and renderer processes too) is
    killed and waited for, so nothing writes into the scratch folder after."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=os.environ | {"TMPDIR": str(scratch)})
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        _kill_group(proc)
        raise
    _kill_group(proc)  # helpers Chromium leaves behind once it printed
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen, wait: float = 5.0) -> None:
    import time

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.communicate(timeout=wait)
    deadline = time.monotonic() + wait
    while _group_alive(proc.pid) and time.monotonic() < deadline:  # helpers re-parented when Chromium died
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    """Whether a live process (not a zombie waiting for its parent) of group ``pgid`` remains (Linux's /proc;
    elsewhere False)."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def report_pages(folder: Path) -> list[Path]:
    """A run folder's report pages in report order (``metrics.json``'s notebooks; else every ``*.html``
    but its index, definitions and data-quality pages, by name)."""
    folder = Path(folder)
    found = {p.stem: p for p in folder.glob("*.html") if p.name not in (INDEX, DEFINITIONS, DATA_QUALITY)}
    order = _run_meta(folder).get("notebooks") or []
    return [found[n] for n in order if n in found] + [found[n] for n in sorted(found) if n not in order]


def print_folder(folder: Path, pages: list[str] | None = None) -> list[Path]:
    """Print a run folder's report pages (``pages``: notebook names; default every report page) to a
    PDF each, beside them (``kpi-kit pdf --each-page``)."""
    folder = Path(folder)
    if pages is None:
        pages = [p.stem for p in report_pages(folder)]
    browser = find_browser()
    return [print_pdf(folder / f"{name}.html", browser=browser) for name in pages]


def print_run(folder: Path, pdf: Path | None = None, *, browser: str | None = None) -> Path:
    """Print a run folder to one PDF (default ``<folder>/report.pdf``): a summary page, every report
    page, the data quality and the definitions (:func:`print_html`), each page's footer naming the
    client, the period and the page, with its number.

    Examples
    --------
    >>> print_run(Path("reports/demo/2026-10-31"))  # doctest: +SKIP
    PosixPath('reports/demo/2026-10-31/report.pdf')
    """
    folder = Path(folder)
    pdf = Path(pdf) if pdf is not None else folder / PDF_NAME
    if not report_pages(folder):
        raise KpiKitError(f"{folder}: no report pages to print. Fix: give a run folder "
                          "(<out>/<client>/<as_of>, written by kpi-kit run).")
    text = print_html(folder)
    browser = browser or find_browser()
    with scratch_folder() as scratch:
        page = Path(scratch) / "report.html"  # self-contained: its images are inline
        page.write_text(text, encoding="utf-8")
        return print_pdf(page, pdf, browser=browser)


def print_runs(folders) -> list[Path]:
    """``report.pdf`` for each run folder that has none yet, or one older than a page of the run
    (``kpi-kit run --pdf``: a client that was up to date keeps its PDF)."""
    browser = find_browser()
    printed = []
    for folder in map(Path, folders):
        pdf = folder / PDF_NAME
        pages = list(folder.glob("*.html"))
        if pdf.exists() and all(pdf.stat().st_mtime >= p.stat().st_mtime for p in pages):
            continue
        printed.append(print_run(folder, pdf, browser=browser))
    return printed


# -- the run as one print page ---------------------------------------------------------------------
PRINT_CSS = "print.css"


def _run_meta(folder: Path) -> dict:
    try:
        meta = json.loads((Path(folder) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _period(meta: dict) -> str:
    """"Nov 2025 – Oct 2026 (as of 31 Oct 2026)" from a run's ``metrics.json``; "" when it cannot tell."""
    from .._dates import reporting_window

    params = meta.get("params") or {}
    as_of = params.get("as_of") or meta.get("as_of")
    if not as_of:
        return ""
    try:
        import pandas as pd

        day = pd.Timestamp(as_of)
        window = reporting_window(as_of, int(params.get("window_months") or 12))
    except (ValueError, TypeError):
        return str(as_of)
    return f"{window.label()} (as of {day:%d %b %Y})"


def _main(page: Path) -> str:
    """The content of a page's ``<main>`` (the report without its navigation bar)."""
    text = page.read_text(encoding="utf-8")
    start, end = text.find("<main>"), text.rfind("</main>")
    if start < 0 or end < start:
        m = re.search(r"<body[^>]*>(.*)</body>", text, re.S)
        return m.group(1) if m else text
    return text[start + len("<main>"):end]


def _summary(folder: Path, title: str) -> str:
    """The summary page: the overview's header, headline cards, what changed and alerts, from its
    executed notebook (the outputs its sections mark); "" without an overview."""
    import nbformat

    from ..reports.blocks import CSS as BLOCK_CSS
    from ..reports.section import META

    try:
        nb = nbformat.read(Path(folder) / "overview.ipynb", as_version=4)
    except (OSError, ValueError):
        return ""
    head, cards, sections = "", "", {}
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            body = o.get("data", {}).get("text/html", "")
            body = ("".join(body) if isinstance(body, list) else body).replace(BLOCK_CSS, "")
            meta = o.get("metadata", {}).get(META) or {}
            if not head and 'class="kk-header"' in body:
                head = body.replace("<h1>", "<h1 class='kk-summary-title'>", 1)
            elif not cards and 'class="kk-strip"' in body:
                cards = body
            elif meta.get("shown") and meta.get("section") in ("What changed", "Alerts"):
                sections.setdefault(meta["section"], []).append(body)
    if not (head or cards):
        return ""
    head = re.sub(r"(<h1[^>]*>).*?(</h1>)", lambda m: m.group(1) + html.escape(title) + m.group(2), head,
                  count=1, flags=re.S)
    parts = "".join(f"<h2>{html.escape(name)}</h2>{''.join(bodies)}" for name, bodies in sections.items())
    return head + cards + parts


def print_html(folder: Path) -> str:
    """The run folder as one page to print: the summary, every report page (its ``<main>``), the data
    quality and the definitions, each part on pages of its own whose footer names it.

    Parameters
    ----------
    folder : Path
        A run folder (``<out>/<client>/<as_of>``).

    Returns
    -------
    str
        A self-contained HTML page (the pages' images are inline already).
    """
    from .registry import title as page_title

    folder = Path(folder)
    meta = _run_meta(folder)
    client = str(meta.get("client") or folder.parent.name)
    period = _period(meta)
    title = f"{client}: KPI report" + (f", {period}" if period else "")
    parts = []
    summary = _summary(folder, title)
    if summary:
        parts.append(("Summary", summary))
    parts += [(page_title(p.stem), _main(p)) for p in report_pages(folder)]
    parts += [(name, _main(folder / f)) for name, f in (("Data quality", DATA_QUALITY),
                                                         ("Metric definitions", DEFINITIONS))
              if (folder / f).is_file()]
    rules, sections = [], []
    for i, (name, body) in enumerate(parts):
        footer = " · ".join(x for x in (client, period, name) if x)
        rules.append(f"@page kk{i}{{@bottom-left{{content:{_css_string(footer)}}}}}"
                     f"@page kk{i}w{{size:A4 landscape;@bottom-left{{content:{_css_string(footer)}}}}}")
        body = re.sub(r"<details\b(?![^>]*\bopen\b)", "<details open", body)  # folded tables print open
        sections.append(f'<section class="kk-part" style="page:kk{i}">{body}</section>')
    static = resources.files("kpi_kit").joinpath(STATIC)
    css = stylesheet() + "\n" + static.joinpath(PRINT_CSS).read_text(encoding="utf-8") + "\n" + "\n".join(rules)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{css}</style></head><body class='kk-print'>{''.join(sections)}<script>{FIT_TABLES_JS}</script>"
            "</body></html>\n")


# Run by Chromium before it prints (the page is laid out as printed, print.css): a table wider than its
# part shrinks to fit (CSS zoom) down to MIN_ZOOM; one wider still prints on a landscape page of its own
# (the part's kk<n>w), shrunk to fit that where it must. No column is cut off.
MIN_ZOOM = 0.8
FIT_TABLES_JS = f"""(function () {{
  const landscape = 275 * 96 / 25.4;  // the landscape page's width (print.css margins), in px
  document.querySelectorAll('.kk-part').forEach(function (part) {{
    const room = part.clientWidth;
    part.querySelectorAll('table').forEach(function (t) {{
      const wide = t.getBoundingClientRect().width;
      if (wide <= room + 1) return;
      if (wide * {MIN_ZOOM} <= room) {{ t.style.zoom = room / wide; return; }}
      const box = t.closest('.jp-OutputArea-output') || t.closest('.kk-scroll') || t;
      box.classList.add('kk-landscape');
      box.style.page = part.style.page + 'w';
      if (wide > landscape) t.style.zoom = landscape / wide;
    }});
  }});
}})();"""


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal."""
    return '"' + re.sub(r'(["\\])', r"\\\1", text.replace("\n", " ")) + '"'
