"""Batch runs: every notebook for every client, on this machine or on a Dask cluster.

A client's metrics are computed once from its data (:func:`kpi_kit.metrics.compute`), its
notebooks are executed and exported (:mod:`.execute`), and the finished run is published
(:mod:`.publish`). ``python -m kpi_kit.run.batch TASK.json RESULT.json`` runs one client for an
executor's worker.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..data import load_client, preload
from ..exceptions import KpiKitError, RunError
from ..metrics import compute
from ..params import Params, load_params
from . import publish
from .execute import ENGINES, execute_notebook, export_html
from .registry import available_notebooks, title

EXECUTORS = ("local", "dask")


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


# -- one client ---------------------------------------------------------------------------------------
def _render(name: str, params: Params, tmp: Path, notebook_folder, previous, engine: str) -> Path:
    path = execute_notebook(name, params, tmp, notebooks=notebook_folder, previous_metrics=previous, engine=engine)
    export_html(path, f"{params.client} · {title(name)}")
    return path


def run_client(params_file, out_root="reports", *, notebooks: list[str] | None = None,
               notebook_folder: Path | None = None, on_notebook_done=None, engine: str = "kernel") -> ClientResult:
    """Render the notebooks for one client; never raises for a client's own failure.

    The client's data is loaded and validated, and its metrics computed, once, up front; with
    ``engine="fast"`` every notebook then runs in its own forked child of this process through the
    in-process kernel engine, inheriting both."""
    started = time.perf_counter()
    result = ClientResult(str(params_file))
    tmp = None
    try:
        params = load_params(params_file)
        result.client = params.client
        if engine == "fast":
            data = preload(params)  # validate up front, and keep the data for the forked notebook runs
        else:
            data = load_client(params)  # validate up front: bad data stops here with one clear message
        names = notebooks or available_notebooks(notebook_folder)
        client_root = Path(out_root).resolve() / params.client
        client_root.mkdir(parents=True, exist_ok=True)
        final = client_root / params.as_of.isoformat()
        previous = publish.previous_run_metrics(client_root, params.as_of.isoformat())
        # computed once, before the forks: every notebook run inherits the values, metrics.json and kpis.csv
        # are written from them
        metrics = compute(data, previous_metrics=previous).compute_all()
        tmp = publish.temp_folder(client_root, params.as_of.isoformat())
        for name in names:
            try:
                if engine == "fast":
                    from .engine import run_isolated

                    run_isolated(_render, name, params, tmp, notebook_folder, previous, engine)
                else:
                    _render(name, params, tmp, notebook_folder, previous, engine)
            except Exception as exc:
                failed = publish.keep_failed(tmp, final)
                tmp = None
                result.failed_notebook = failed / f"{name}.ipynb"
                raise RunError(f"notebook '{name}' failed: {_short_error(exc)}") from exc
            if on_notebook_done:
                on_notebook_done(params.client, name)
        publish.write_metrics(tmp, metrics, names)
        publish.write_run_index(tmp, params, names)
        publish.swap_in(tmp, final)
        tmp = None
        result.folder = final
        publish.write_output_index(Path(out_root))
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


# -- executors --------------------------------------------------------------------------------------
def _client_task(args) -> ClientResult:
    params_file, out_root, names, notebook_folder, engine = args
    return run_client(params_file, out_root, notebooks=names, notebook_folder=notebook_folder, engine=engine)


def _client_in_subprocess(task) -> ClientResult:
    """One client in a fresh ``python -m kpi_kit.run.batch`` process (a Dask task): nothing of the
    worker's state, threads or earlier tasks reaches the client's run."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kpi-kit-task-") as tmp:
        spec, out = Path(tmp) / "task.json", Path(tmp) / "result.json"
        params_file, out_root, names, notebook_folder, engine = task
        spec.write_text(json.dumps({"params_file": params_file, "out_root": out_root, "notebooks": names,
                                    "notebook_folder": str(notebook_folder) if notebook_folder else None,
                                    "engine": engine}))
        proc = subprocess.run([sys.executable, "-m", "kpi_kit.run.batch", str(spec), str(out)],
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
        publish.write_output_index(out_root)
    batch.seconds = time.perf_counter() - started
    return batch


def _main(task_file: str, result_file: str) -> None:
    """``python -m kpi_kit.run.batch TASK.json RESULT.json``: one client, for an executor's worker."""
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
        "error": r.error, "seconds": r.seconds,
        "failed_notebook": str(r.failed_notebook) if r.failed_notebook else None}))


if __name__ == "__main__":
    _main(*sys.argv[1:3])
