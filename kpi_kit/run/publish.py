"""Publish a client's run: its metrics files and indexes, and the swap into ``<out>/<client>/<as_of>/``.

A run writes into a hidden temporary folder (:func:`temp_folder`) that :func:`swap_in` renames to
``<out>/<client>/<as_of>/`` only when every notebook succeeded, so an earlier report is never
destroyed and a half-finished one never appears; :func:`keep_failed` keeps a failed run's notebooks
in ``<as_of>.failed/`` until a later run of that date succeeds.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path

from .._cells import csv_text
from .._files import write_atomic
from .._version import __version__
from ..params import Params
from . import pages as pg
from .registry import title


# -- the run's folder ------------------------------------------------------------------------------
def temp_folder(client_root: Path, as_of: str) -> Path:
    """A new, empty ``<client_root>/.<as_of>.tmp-<pid>``: the run writes there, out of sight."""
    tmp = client_root / f".{as_of}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)  # left by a killed run that had this pid
    tmp.mkdir(parents=True)
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_stale(client_root: Path) -> list[Path]:
    """Remove what runs killed with SIGKILL left behind (their process is gone): temporary folders
    ``.<as_of>.tmp-<pid>``, and ``.<as_of>.old-<pid>`` put back when its run died between the two
    renames of :func:`swap_in` (so the earlier report is restored). Returns what was removed."""
    removed = []
    for p in client_root.glob(".*.*-*"):
        name, _, pid = p.name.rpartition("-")
        kind = name.rpartition(".")[2]
        if kind not in ("tmp", "old") or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        final = client_root / name[1:].rpartition(".")[0]
        if kind == "old" and not final.exists():
            p.rename(final)
            continue
        remove_tree(p)
        removed.append(p)
    return removed


def remove_tree(path: Path) -> None:
    """Remove a run folder, or the symbolic link standing for one (``rmtree`` refuses links: a run through
    a linked run folder left its ``.<as_of>.old-<pid>`` link behind for good). A link's target, a folder
    of the user's own, is left as it is."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def planned_pages(final: Path, rerun: list[str], order: list[str]) -> list[str]:
    """The notebooks a run will publish, in report order: ``rerun`` and, for a partial rerun, the
    earlier run's pages of this date that :func:`keep_earlier_pages` keeps (the navigation links them)."""
    kept = [n for n in order if n not in rerun and final.is_dir() and (final / f"{n}.html").exists()]
    return [n for n in order if n in rerun or n in kept] + [n for n in rerun if n not in order]


def keep_earlier_pages(final: Path, tmp: Path, rerun: list[str], order: list[str]) -> list[str]:
    """A partial rerun (``--notebooks``): copy the pages of the other notebooks from the earlier run
    of this date into ``tmp``; return every notebook the published run will hold, in report order."""
    kept = []
    if final.is_dir():
        for name in order:
            if name not in rerun and (final / f"{name}.html").exists():
                for ext in (".html", ".ipynb"):
                    if (final / f"{name}{ext}").exists():
                        shutil.copy2(final / f"{name}{ext}", tmp / f"{name}{ext}")
                kept.append(name)
    return [n for n in order if n in rerun or n in kept] + [n for n in rerun if n not in order]


def keep_failed(tmp: Path, final: Path) -> Path:
    """Rename a failed run's ``tmp`` to ``<final>.failed`` (replacing an older one); return it."""
    failed = final.with_name(f"{final.name}.failed")
    shutil.rmtree(failed, ignore_errors=True)
    tmp.rename(failed)
    return failed


def swap_in(tmp: Path, final: Path) -> None:
    """Rename the finished ``tmp`` to ``final``, replacing an earlier run of the same date.

    The earlier run is renamed aside first and put back if the rename fails, so it is never lost;
    a ``.failed`` folder kept from an earlier try of this date is history now and goes."""
    if final.exists() or final.is_symlink():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        remove_tree(old)
        final.rename(old)
        try:
            tmp.rename(final)
        except BaseException:
            old.rename(final)
            raise
        remove_tree(old)
    else:
        tmp.rename(final)
    shutil.rmtree(final.with_name(f"{final.name}.failed"), ignore_errors=True)


def previous_run_metrics(client_root: Path, as_of: str) -> str | None:
    """``metrics.json`` of the latest finished run of this client dated before ``as_of``."""
    runs = sorted(p for p in client_root.glob("????-??-??") if p.name < as_of and (p / "metrics.json").exists())
    return str(runs[-1] / "metrics.json") if runs else None


# -- what a finished run holds ---------------------------------------------------------------------
def write_metrics(folder: Path, metrics, notebooks: list[str]) -> None:
    """Write ``metrics.json`` and ``kpis.csv`` of a client's computed metrics into ``folder``.

    Parameters
    ----------
    folder : Path
        The run's temporary folder.
    metrics : kpi_kit.metrics.ClientMetrics
        The client's metrics; ``metrics.json`` is :meth:`~kpi_kit.metrics.ClientMetrics.metrics_json`
        plus the ``notebooks`` rendered.
    notebooks : list of str
        The notebooks rendered in this run, in report order.
    """
    # serialised before anything is written: a value that cannot be written leaves no half file
    body = json.dumps(metrics.metrics_json() | {"notebooks": list(notebooks)}, indent=1, ensure_ascii=False) + "\n"
    kpis = csv_text(metrics.kpis())  # a channel named '=cmd...' is text in Excel, not a formula (kpi_kit/_cells)
    write_atomic(folder / "metrics.json", body)
    write_atomic(folder / "kpis.csv", kpis)


def _page(page_title: str, body: str, nav: str = "") -> str:
    return pg.page_html(page_title, body, nav)


def _run_pages(notebooks: list[str]) -> list[tuple[str, str]]:
    return [(n, title(n)) for n in notebooks]


def _shown_note(folder: Path, name: str) -> str:
    """"3 of 9 sections shown" for a page showing less than :data:`~kpi_kit.run.pages.LITTLE` of its
    sections (marked "nothing to show" with none); "" for a fuller page or one that cannot be read."""
    import nbformat

    try:
        shown, total = pg.page_summary(nbformat.read(folder / f"{name}.ipynb", as_version=4))
    except (OSError, ValueError):
        return ""
    if not total:
        return ""
    text = f"{shown} of {total} sections shown"
    if shown == 0:
        return f" <span class='kk-flag'>nothing to show: {text}</span>"
    if shown / total < pg.LITTLE:
        return f" <span class='kk-flag'>little to show: {text}</span>"
    return f" <span class='muted'>{text}</span>"


def write_definitions(folder: Path, client: str, notebooks: list[str]) -> Path:
    """``<folder>/definitions.html``: the metric catalogue, linked from every page of the run."""
    return write_atomic(folder / pg.DEFINITIONS, pg.definitions_html(client, _run_pages(notebooks)))


def write_data_quality(folder: Path, client: str, notebooks: list[str]) -> str:
    """``<folder>/data_quality.html``: the data-quality section of the run's first page that has one
    (every page of a run shows the same; each keeps a one-line summary linking here). Returns that
    summary line's HTML ("" without one)."""
    import nbformat

    block = ""
    for name in notebooks:
        try:
            block = pg.quality_block(nbformat.read(folder / f"{name}.ipynb", as_version=4))
        except (OSError, ValueError):
            continue
        if block:
            break
    write_atomic(folder / pg.DATA_QUALITY, pg.quality_html(client, _run_pages(notebooks), block))
    return pg.quality_summary(block) or ""


def other_runs(client_root: Path, as_of: str) -> list[str]:
    """The dates of the client's other finished runs (folders with an index), newest first."""
    return sorted((p.name for p in Path(client_root).glob("????-??-??")
                   if p.name != as_of and (p / "index.html").is_file()), reverse=True)


def write_run_index(folder: Path, params: Params, notebooks: list[str]) -> Path:
    """``<folder>/index.html`` linking the run's reports (marking those with little to show), their
    notebooks, the definitions, the data quality, the metrics files, the PDF of the run and the client's
    other runs; ``definitions.html`` and ``data_quality.html`` are written with it."""
    write_definitions(folder, params.client, notebooks)
    quality = write_data_quality(folder, params.client, notebooks)
    items = "".join(f"<li><a href='{n}.html'>{html.escape(title(n))}</a>{_shown_note(folder, n)} "
                    f"<span class='muted'>(<a href='{n}.ipynb'>notebook</a>)</span></li>" for n in notebooks)
    quality = f" <span class='muted'>{quality}</span>" if quality else ""
    runs = other_runs(folder.parent, params.as_of.isoformat())
    earlier = (" · ".join(f"<a href='../{r}/index.html'>{r}</a>" for r in runs) + " · "
               if runs else "") + f"<a href='{pg.RUNS}'>every run</a> · <a href='{pg.PORTFOLIO}'>all clients</a>"
    body = (f"<p class='muted'>as of {params.as_of:%d %b %Y} · {html.escape(params.currency)} · kpi-kit {__version__}</p>"
            f"<ul class='kk-pages'>{items}<li><a href='{pg.DEFINITIONS}'>Metric definitions</a></li>"
            f"<li><a href='{pg.DATA_QUALITY}'>Data quality</a>{quality}</li>"
            f"<li><a href='metrics.json'>metrics.json</a></li><li><a href='kpis.csv'>kpis.csv</a></li></ul>"
            f"<p class='kk-runs'>{'Other runs of ' + html.escape(params.client) + ': ' if runs else ''}{earlier}</p>"
            f"<p class='muted'>The whole run as one PDF (a summary page, every page, the definitions): "
            f"<code>kpi-kit pdf {html.escape(params.client)}/{params.as_of.isoformat()}</code> writes "
            f"<code>{PDF_NAME}</code> here.</p>")
    nav = pg.nav_html(params.client, _run_pages(notebooks), "index")
    return write_atomic(folder / "index.html", _page(f"{params.client}: KPI reports", body, nav))


PDF_NAME = "report.pdf"  # the run's one PDF (kpi_kit.run.pdf)


def write_client_index(client_root: Path) -> Path | None:
    """``<out>/<client>/index.html``: the client's finished runs, newest first (every report page links
    it as "Runs"), rewritten only when it changes; None for a client without one."""
    runs = other_runs(client_root, "")
    if not runs:
        return None
    client = Path(client_root).name
    items = "".join(f"<li><a href='{r}/index.html'>{r}</a>"
                    + (f" · <a href='{r}/{PDF_NAME}'>PDF</a>" if (Path(client_root) / r / PDF_NAME).is_file() else "")
                    + "</li>" for r in runs)
    body = (f"<p class='muted'>Every finished run of {html.escape(client)}, newest first. "
            f"<a href='../index.html'>All clients</a>.</p><ul class='kk-pages'>{items}</ul>")
    page, text = Path(client_root) / "index.html", _page(f"{client}: runs", body)
    try:
        if page.read_text(encoding="utf-8") == text:
            return page  # unchanged: a client that was up to date keeps its folder as it was, times included
    except OSError:
        pass
    return write_atomic(page, text)


def write_output_index(out_root: Path) -> Path:
    """``<out>/index.html``, the portfolio: every client's latest headline KPIs side by side with
    links to its runs (:mod:`.portfolio`), and ``<out>/kpis.csv``, the union of those runs' KPI rows;
    and each client's list of runs, ``<out>/<client>/index.html``."""
    from .portfolio import PORTFOLIO_CSS, portfolio_body, write_union

    out_root = Path(out_root)
    for client_root in out_root.iterdir():
        if client_root.is_dir() and not client_root.name.startswith("."):
            write_client_index(client_root)
    body, union = portfolio_body(out_root)
    # atomic: other batches (and browsers) read these while a batch runs
    write_union(out_root, union)
    return write_atomic(out_root / "index.html", _page("KPI reports", f"<style>{PORTFOLIO_CSS}</style>{body}"))
