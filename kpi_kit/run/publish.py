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
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


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
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        try:
            tmp.rename(final)
        except BaseException:
            old.rename(final)
            raise
        shutil.rmtree(old, ignore_errors=True)
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
    kpis = metrics.kpis().to_csv(index=False)
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


def write_run_index(folder: Path, params: Params, notebooks: list[str]) -> Path:
    """``<folder>/index.html`` linking the run's reports (marking those with little to show), their
    notebooks, the definitions and the metrics files; ``definitions.html`` is written with it."""
    write_definitions(folder, params.client, notebooks)
    items = "".join(f"<li><a href='{n}.html'>{html.escape(title(n))}</a>{_shown_note(folder, n)} "
                    f"<span class='muted'>(<a href='{n}.ipynb'>notebook</a>)</span></li>" for n in notebooks)
    body = (f"<p class='muted'>as of {params.as_of:%d %b %Y} · {html.escape(params.currency)} · kpi-kit {__version__}</p>"
            f"<ul class='kk-pages'>{items}<li><a href='{pg.DEFINITIONS}'>Metric definitions</a></li>"
            f"<li><a href='metrics.json'>metrics.json</a></li><li><a href='kpis.csv'>kpis.csv</a></li></ul>")
    nav = pg.nav_html(params.client, _run_pages(notebooks), "index")
    return write_atomic(folder / "index.html", _page(f"{params.client}: KPI reports", body, nav))


def write_output_index(out_root: Path) -> Path:
    """``<out>/index.html``, the portfolio: every client's latest headline KPIs side by side with
    links to its runs (:mod:`.portfolio`), and ``<out>/kpis.csv``, the union of those runs' KPI rows."""
    from .portfolio import PORTFOLIO_CSS, portfolio_body, write_union

    out_root = Path(out_root)
    body, union = portfolio_body(out_root)
    # atomic: other batches (and browsers) read these while a batch runs
    write_union(out_root, union)
    return write_atomic(out_root / "index.html", _page("KPI reports", f"<style>{PORTFOLIO_CSS}</style>{body}"))
