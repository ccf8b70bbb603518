"""Batch runs: execute the notebooks for each client with papermill, export HTML, merge
``metrics.json`` and write the indexes.

A run writes into a hidden temporary folder and renames it to
``<out>/<client>/<as_of>/`` only when every notebook succeeded, so an earlier
report is never destroyed and a half-finished one never appears.
"""

from __future__ import annotations

import functools
import html
import json
import os
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import __version__
from .data import load_client
from .exceptions import KpiKitError, RunError
from .params import Params, load_params

# Report order: the overview is read first.
NOTEBOOK_ORDER = ("overview", "funnel", "channel", "cohort", "unit_economics")
NOTEBOOK_TITLES = {"overview": "KPI overview", "funnel": "Funnel", "channel": "Channels",
                   "cohort": "Cohorts", "unit_economics": "Unit economics"}
KERNEL_NAME = "python3"
TEMPLATES = Path(__file__).parent / "templates"


def notebook_dir() -> Path:
    """The notebooks: the checkout's ``notebooks/`` (editable install) or the packaged copies."""
    checkout = Path(__file__).resolve().parent.parent / "notebooks"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("kpi_kit") / "notebooks"))


def available_notebooks(directory: Path | None = None) -> list[str]:
    directory = directory or notebook_dir()
    names = {p.stem for p in directory.glob("*.ipynb")}
    return [n for n in NOTEBOOK_ORDER if n in names] + sorted(names - set(NOTEBOOK_ORDER))


def expand_params_paths(paths) -> list[Path]:
    """Client YAML files; a folder stands for every ``*.yaml`` / ``*.yml`` file in it."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        else:
            out.append(p)
    return out


@dataclass
class ClientResult:
    params_file: str
    client: str | None = None
    folder: Path | None = None
    error: str | None = None
    failed_notebook: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchResult:
    results: list[ClientResult] = field(default_factory=list)
    seconds: float = 0.0  # the whole batch, wall clock

    @property
    def failed(self) -> list[ClientResult]:
        return [r for r in self.results if not r.ok]

    def summary(self) -> str:
        n = len(self.results)
        lines = [f"{n - len(self.failed)} of {n} client runs succeeded"
                 + (f" in {self.seconds:.0f} s ({self.seconds / n:.1f} s per client)." if n and self.seconds else ".")]
        for r in self.results:
            name = r.client or r.params_file
            if r.ok:
                lines.append(f"  ok      {name}: {r.folder} ({r.seconds:.1f} s)")
            else:
                lines.append(f"  FAILED  {name}: {r.error}")
                if r.failed_notebook:
                    lines.append(f"          executed notebook kept at {r.failed_notebook}")
        return "\n".join(lines)


# -- one notebook ------------------------------------------------------------------------------
ENGINES = ("fast", "kernel")


def execute_notebook(name: str, params: Params, out_dir: Path, *, notebooks: Path | None = None,
                     previous_metrics: str | None = None, engine: str = "kernel") -> Path:
    """Run one notebook with papermill into ``out_dir/<name>.ipynb``; return its path.

    ``engine="kernel"`` starts a Jupyter kernel (papermill's default engine); ``"fast"`` uses the
    kit's in-process kernel engine (see :mod:`kpi_kit.engine`)."""
    import papermill as pm

    src = (notebooks or notebook_dir()) / f"{name}.ipynb"
    if not src.exists():
        raise KpiKitError(f"notebook '{name}' not found in {src.parent}. Fix: choose from "
                          f"{', '.join(available_notebooks(src.parent))}.")
    out = out_dir / f"{name}.ipynb"
    # absolute: the notebook runs in its own folder, where a relative path would point elsewhere
    parameters = params.to_notebook_parameters() | {
        "metrics_dir": str(Path(out_dir).resolve() / "_metrics"),
        "previous_metrics": str(Path(previous_metrics).resolve()) if previous_metrics else None}
    env_backend = os.environ.pop("MPLBACKEND", None)  # Agg would capture no figures
    try:
        if engine == "fast":
            from . import engine as _engine  # noqa: F401 - registers the "kpi_kit" papermill engine

            pm.execute_notebook(str(src), str(out), parameters=parameters, kernel_name=KERNEL_NAME,
                                engine_name="kpi_kit", cwd=str(src.parent), progress_bar=False)
        else:
            pm.execute_notebook(str(src), str(out), parameters=parameters, kernel_name=KERNEL_NAME,
                                cwd=str(src.parent), progress_bar=False, log_output=False,
                                extra_arguments=["--IPKernelApp.log_level=ERROR"])
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    return out


@functools.lru_cache(maxsize=1)
def html_exporter():
    """The report's HTML exporter, built (and its template compiled) once per process: forked runs
    inherit it warm from the batch's parent."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="kpi_report", extra_template_basedirs=[str(TEMPLATES)],
                        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                        embed_images=True)


def export_html(notebook_path: Path, title: str) -> Path:
    """Export an executed notebook to a self-contained HTML report without code cells."""
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    nb.metadata["title"] = title
    body, _ = html_exporter().from_notebook_node(nb)
    out = notebook_path.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out


def merge_metrics(fragments_dir: Path, params: Params) -> dict:
    """One ``metrics.json`` from the notebooks' fragments (tables and scalars merged)."""
    merged = {"client": params.client, "as_of": params.as_of.isoformat(), "currency": params.currency,
              "kit_version": __version__, "params": params.to_notebook_parameters(),
              "tables": {}, "scalars": {}}
    for name in NOTEBOOK_ORDER + tuple(sorted(p.stem for p in fragments_dir.glob("*.json"))):
        f = fragments_dir / f"{name}.json"
        if f.exists() and name not in merged.setdefault("_seen", []):
            merged["_seen"].append(name)
            frag = json.loads(f.read_text())
            merged["tables"].update(frag.get("tables", {}))
            merged["scalars"].update(frag.get("scalars", {}))
    merged["notebooks"] = merged.pop("_seen", [])
    return merged


# -- indexes ---------------------------------------------------------------------------------------
_INDEX_CSS = ("body{font-family:system-ui,sans-serif;max-width:760px;margin:40px auto;color:#111827}"
              "h1{border-bottom:3px solid #1e3a8a;padding-bottom:6px}li{margin:6px 0}a{color:#1d4ed8}"
              ".muted{color:#6b7280}")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_INDEX_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def write_run_index(folder: Path, params: Params, notebooks: list[str]) -> Path:
    items = "".join(f"<li><a href='{n}.html'>{NOTEBOOK_TITLES.get(n, n)}</a> "
                    f"<span class='muted'>(<a href='{n}.ipynb'>notebook</a>)</span></li>" for n in notebooks)
    body = (f"<p class='muted'>as of {params.as_of:%d %b %Y} · {params.currency} · "
            f"kpi_kit {__version__}</p><ul>{items}<li><a href='metrics.json'>metrics.json</a></li></ul>")
    out = folder / "index.html"
    out.write_text(_page(f"{params.client}: KPI reports", body), encoding="utf-8")
    return out


def write_output_index(out_root: Path) -> Path:
    """``<out>/index.html`` linking every client's runs, newest first."""
    rows = []
    for client in sorted(p for p in out_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        runs = sorted((r for r in client.iterdir() if r.is_dir() and (r / "index.html").exists()), reverse=True)
        if runs:
            links = " · ".join(f"<a href='{client.name}/{r.name}/index.html'>{r.name}</a>" for r in runs)
            rows.append(f"<li><b>{html.escape(client.name)}</b>: {links}</li>")
    out = out_root / "index.html"
    out.write_text(_page("KPI reports", f"<ul>{''.join(rows)}</ul>"), encoding="utf-8")
    return out


def previous_run_metrics(client_root: Path, as_of: str) -> str | None:
    """``metrics.json`` of the latest finished run of this client dated before ``as_of``."""
    runs = sorted(p for p in client_root.glob("????-??-??") if p.name < as_of and (p / "metrics.json").exists())
    return str(runs[-1] / "metrics.json") if runs else None


# -- one client ---------------------------------------------------------------------------------------
def _render(name: str, params: Params, tmp: Path, notebook_folder, previous, engine: str) -> Path:
    path = execute_notebook(name, params, tmp, notebooks=notebook_folder, previous_metrics=previous, engine=engine)
    export_html(path, f"{params.client} · {NOTEBOOK_TITLES.get(name, name)}")
    return path


def run_client(params_file, out_root="reports", *, notebooks: list[str] | None = None,
               notebook_folder: Path | None = None, on_notebook_done=None, engine: str = "kernel") -> ClientResult:
    """Render the notebooks for one client; never raises for a client's own failure.

    With ``engine="fast"`` the client's data is loaded once and every notebook runs in its own
    forked child of this process through the in-process kernel engine."""
    started = time.perf_counter()
    result = ClientResult(str(params_file))
    tmp = None
    try:
        params = load_params(params_file)
        result.client = params.client
        if engine == "fast":
            from .data import preload

            preload(params)  # validate up front, and keep the data for the forked notebook runs
        else:
            load_client(params)  # validate up front: bad data stops here with one clear message
        names = notebooks or available_notebooks(notebook_folder)
        client_root = Path(out_root).resolve() / params.client
        client_root.mkdir(parents=True, exist_ok=True)
        final = client_root / params.as_of.isoformat()
        previous = previous_run_metrics(client_root, params.as_of.isoformat())
        tmp = client_root / f".{params.as_of.isoformat()}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name in names:
            try:
                if engine == "fast":
                    from .engine import run_isolated

                    run_isolated(_render, name, params, tmp, notebook_folder, previous, engine)
                else:
                    _render(name, params, tmp, notebook_folder, previous, engine)
            except Exception as exc:
                failed = client_root / f"{params.as_of.isoformat()}.failed"
                shutil.rmtree(failed, ignore_errors=True)
                tmp.rename(failed)
                tmp = None
                result.failed_notebook = failed / f"{name}.ipynb"
                raise RunError(f"notebook '{name}' failed: {_short_error(exc)}") from exc
            if on_notebook_done:
                on_notebook_done(params.client, name)
        metrics = merge_metrics(tmp / "_metrics", params)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n")
        shutil.rmtree(tmp / "_metrics", ignore_errors=True)
        write_run_index(tmp, params, names)
        if final.exists():  # replace an earlier run of the same as_of without a moment of absence
            old = client_root / f".{final.name}.old-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
        tmp = None
        result.folder = final
        # a failure kept from an earlier try of this as_of is history now
        shutil.rmtree(client_root / f"{final.name}.failed", ignore_errors=True)
        write_output_index(Path(out_root))
    except KpiKitError as exc:
        result.error = str(exc)
    except Exception as exc:  # a bug must not stop the other clients
        result.error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        result.seconds = time.perf_counter() - started
    return result


def _short_error(exc: Exception) -> str:
    ename = getattr(exc, "ename", None)
    if ename == "PapermillExecutionError":  # re-raised from a forked run: the message holds the cell's error
        return exc.evalue.strip().splitlines()[-1] if exc.evalue.strip() else ename
    if ename:  # PapermillExecutionError
        return f"{ename}: {getattr(exc, 'evalue', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _client_task(args) -> ClientResult:
    params_file, out_root, names, notebook_folder, engine = args
    return run_client(params_file, out_root, notebooks=names, notebook_folder=notebook_folder, engine=engine)


def _client_in_subprocess(task) -> ClientResult:
    """One client in a fresh ``python -m kpi_kit.runner`` process (a Dask task): nothing of the
    worker's state, threads or earlier tasks reaches the client's run."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kpi-kit-task-") as tmp:
        spec, out = Path(tmp) / "task.json", Path(tmp) / "result.json"
        params_file, out_root, names, notebook_folder, engine = task
        spec.write_text(json.dumps({"params_file": params_file, "out_root": out_root, "notebooks": names,
                                    "notebook_folder": str(notebook_folder) if notebook_folder else None,
                                    "engine": engine}))
        proc = subprocess.run([sys.executable, "-m", "kpi_kit.runner", str(spec), str(out)],
                              capture_output=True, text=True)
        if not out.exists():
            return ClientResult(params_file, error=f"worker process failed ({proc.returncode}): "
                                                   f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        r = json.loads(out.read_text())
        return ClientResult(r["params_file"], client=r["client"], folder=Path(r["folder"]) if r["folder"] else None,
                            error=r["error"], seconds=r["seconds"],
                            failed_notebook=Path(r["failed_notebook"]) if r["failed_notebook"] else None)


def _run_on_dask(tasks, scheduler: str | None, workers: int, record) -> None:
    """Each client one task on a Dask cluster: ``scheduler`` is its address, or None for a local
    cluster of ``workers`` processes. The output folder must be one that every worker can write."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise KpiKitError("the dask executor needs dask.distributed. Fix: pip install 'kpi_kit[dask]'.") from None
    import uuid

    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        run_id = uuid.uuid4().hex[:8]
        futures = [client.submit(_client_in_subprocess, t, key=f"kpi-kit-{run_id}-{i}", pure=False)
                   for i, t in enumerate(tasks)]
        for future in as_completed(futures):
            record(future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


EXECUTORS = ("local", "dask")


def run_batch(params_files, out_root="reports", *, notebooks: list[str] | None = None,
              notebook_folder: Path | None = None, progress: bool = True, jobs: int = 1,
              engine: str = "fast", executor: str = "local", scheduler: str | None = None) -> BatchResult:
    """Render every notebook for every client; a failing client does not stop the others.

    ``jobs`` clients run side by side (each in a fresh process forked from this warm one, so
    nothing of one client reaches another); ``engine`` is ``"fast"`` (in-process kernel in a
    forked child per notebook) or ``"kernel"`` (papermill's Jupyter kernel per notebook).
    ``executor="dask"`` runs each client as a task on the Dask cluster at ``scheduler`` (a local
    cluster of ``jobs`` workers when None); the output folder must be shared with the workers.

    Examples
    --------
    >>> result = run_batch(["data/clients/demo.yaml"], "reports", jobs=2)  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise KpiKitError(f"unknown engine '{engine}'. Fix: use one of {', '.join(ENGINES)}.")
    if executor not in EXECUTORS:
        raise KpiKitError(f"unknown executor '{executor}'. Fix: use one of {', '.join(EXECUTORS)}.")
    out_root = Path(out_root).resolve()
    files = [p.resolve() for p in expand_params_paths(params_files)]
    names = notebooks or available_notebooks(notebook_folder)
    started = time.perf_counter()
    batch = BatchResult()
    bar = None
    if progress:
        from tqdm import tqdm  # the console bar on stderr, also when called from a notebook

        bar = tqdm(total=len(files), unit="client", file=sys.stderr, dynamic_ncols=True)

    def record(res: ClientResult) -> None:
        batch.results.append(res)
        if bar:  # counts first, then the step that redraws the bar with them
            bar.set_postfix(done=sum(r.ok for r in batch.results), failed=len(batch.failed),
                            left=len(files) - len(batch.results), refresh=False)
            bar.update(1)

    tasks = [(str(f), str(out_root), names, notebook_folder, engine) for f in files]
    if engine == "fast" and executor == "local":
        from .engine import warm_up

        warm_up()  # import once here; every forked run starts warm
    if executor == "dask":
        _run_on_dask(tasks, scheduler, jobs, record)
    elif jobs > 1 and len(files) > 1:
        import multiprocessing as mp

        from .engine import frozen_gc

        # a fresh forked worker per client (maxtasksperchild=1): warm, and clean for each client
        with frozen_gc(), mp.get_context("fork").Pool(processes=jobs, maxtasksperchild=1) as pool:
            for res in pool.imap_unordered(_client_task, tasks):  # progress as clients finish
                record(res)
    elif engine == "fast":
        from .engine import run_isolated

        for task in tasks:  # each client in its own forked child: its preloaded data dies with it
            record(run_isolated(_client_task, task))
    else:
        for task in tasks:
            record(_client_task(task))
    if bar:
        bar.close()
    order = {str(f): i for i, f in enumerate(files)}
    batch.results.sort(key=lambda r: order.get(str(Path(r.params_file).resolve()), len(order)))
    if out_root.is_dir():
        write_output_index(out_root)
    batch.seconds = time.perf_counter() - started
    return batch


def _main(task_file: str, result_file: str) -> None:
    """``python -m kpi_kit.runner TASK.json RESULT.json``: one client, for an executor's worker."""
    t = json.loads(Path(task_file).read_text())
    if t["engine"] == "fast":
        from .engine import run_isolated, warm_up

        warm_up()
        r = run_isolated(_client_task, (t["params_file"], t["out_root"], t["notebooks"],
                                        Path(t["notebook_folder"]) if t["notebook_folder"] else None, t["engine"]))
    else:
        r = _client_task((t["params_file"], t["out_root"], t["notebooks"], t["notebook_folder"], t["engine"]))
    Path(result_file).write_text(json.dumps({
        "params_file": r.params_file, "client": r.client, "folder": str(r.folder) if r.folder else None,
        "error": r.error, "seconds": r.seconds, "failed_notebook": str(r.failed_notebook) if r.failed_notebook else None}))


if __name__ == "__main__":
    _main(*sys.argv[1:3])
