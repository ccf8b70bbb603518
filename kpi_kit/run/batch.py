"""Batch runs: every notebook for every client, on this machine or on a Dask cluster.

A client's metrics are computed once from its data (:func:`kpi_kit.metrics.compute`), its
notebooks are executed and exported (:mod:`.execute`), and the finished run is published
(:mod:`.publish`). ``python -m kpi_kit.run.batch TASK.json RESULT.json`` runs one client for an
executor's worker.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .._files import os_error
from ..data import load_client, preload
from ..exceptions import KpiKitError, RunError
from ..metrics import compute
from ..params import Params, load_params
from . import inputs, publish
from .execute import ENGINES, execute_notebook, export_html
from .processes import (
    MEMORY_ENV,
    POLL_SECONDS,
    STOP_DEADLINE_SECONDS,
    Interrupted,
    IsolatedRunError,
    default_memory_limit_mb,
    interruptible,
    memory_limit_mb,
    memory_message,
    raise_if_interrupted,
    run_isolated,
    start_child,
    stop_children,
    tree_memory_mb,
)
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
    skipped: bool = False  # up to date: its inputs are unchanged since its last successful run (not rerun)

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
        n, skipped = len(self.results), sum(r.skipped for r in self.results)
        lines = [f"{n - len(self.failed)} of {n} client runs succeeded"
                 + (f" ({skipped} up to date, not rerun: --force reruns them)" if skipped else "")
                 + (f" in {self.seconds:.0f} s ({self.seconds / n:.1f} s per client)." if n and self.seconds else ".")]
        for r in self.results:
            name = r.client or r.params_file
            if r.skipped:
                lines.append(f"  up to date  {name}: {r.folder}")
            elif r.ok:
                lines.append(f"  ok      {name}: {r.folder} ({r.seconds:.1f} s)")
            else:
                lines.append(f"  FAILED  {name}: {r.error}")
                if r.failed_notebook:
                    lines.append(f"          executed notebook kept at {r.failed_notebook}")
        return "\n".join(lines)


# -- one client ---------------------------------------------------------------------------------------
def _render(name: str, params: Params, tmp: Path, notebook_folder, previous, engine: str,
            pages: list[str] | None = None) -> Path:
    try:
        path = execute_notebook(name, params, tmp, notebooks=notebook_folder, previous_metrics=previous,
                                engine=engine)
        export_html(path, f"{params.client} · {title(name)}", pages, params.client)
    except OSError as exc:  # writing the notebook or its page (a cell's own errors arrive as papermill's)
        raise os_error(_naming(exc, tmp.parent / params.as_of.isoformat()),
                       f"writing {params.client}'s '{name}' report") from None
    return path


def _naming(exc: OSError, path) -> OSError:
    """A write that fails half-way (a full disk, a quota) carries no file name: name the folder being
    written, so the message says which disk to free (README, "Folders and disks")."""
    if not exc.filename:
        exc.filename = str(path)
    return exc


def run_client(params_file, out_root="reports", *, notebooks: list[str] | None = None,
               notebook_folder: Path | None = None, on_notebook_done=None, engine: str = "kernel",
               shared_inputs: dict | None = None, update_index: bool = True) -> ClientResult:
    """Render the notebooks for one client; never raises for a client's own failure.

    The client's data is loaded and validated, and its metrics computed, once, up front; with
    ``engine="fast"`` every notebook then runs in its own forked child of this process through the
    in-process kernel engine, inheriting both. A partial rerun (``notebooks`` naming some) keeps the
    other notebooks' pages of the earlier run of the same date. The run's inputs are fingerprinted before
    its data is read and kept in the published folder (:mod:`.inputs`; ``shared_inputs`` is the batch's
    :func:`.inputs.batch_digest`, computed here when None). ``update_index``: rewrite ``<out>/index.html``
    (the portfolio) and ``<out>/kpis.csv`` after publishing; a batch does it once, at its end."""
    started = time.perf_counter()
    result = ClientResult(str(params_file))
    tmp = None
    try:
        params = load_params(params_file)
        result.client = params.client
        names = notebooks or available_notebooks(notebook_folder)
        # before the data is read: a file changed while the run reads it makes the next run rerun
        fingerprint = inputs.client_inputs(params, names, out_root, shared_inputs or inputs.batch_digest(notebook_folder))
        if engine == "fast":
            data = preload(params)  # validate up front, and keep the data for the forked notebook runs
        else:
            data = load_client(params)  # validate up front: bad data stops here with one clear message
        client_root = Path(out_root).resolve() / params.client
        try:
            client_root.mkdir(parents=True, exist_ok=True)
            publish.clean_stale(client_root)
        except OSError as exc:
            raise os_error(exc, f"cannot write {params.client}'s reports") from None
        final = client_root / params.as_of.isoformat()
        previous = publish.previous_run_metrics(client_root, params.as_of.isoformat())
        # computed once, before the forks: every notebook run inherits the values, metrics.json and kpis.csv
        # are written from them
        metrics = compute(data, previous_metrics=previous).compute_all()
        try:
            tmp = publish.temp_folder(client_root, params.as_of.isoformat())
        except OSError as exc:
            raise os_error(_naming(exc, client_root), f"cannot write {params.client}'s reports") from None
        planned = names if notebooks is None else publish.planned_pages(
            final, names, available_notebooks(notebook_folder))  # every page's navigation links them
        for name in names:
            try:
                if engine == "fast":
                    # its files are in this run's temporary folder, removed when it stops: 2 s to end
                    run_isolated(_render, name, params, tmp, notebook_folder, previous, engine, planned,
                                 timeout=params.notebook_timeout_seconds, label=f"notebook '{name}'",
                                 stop_grace=2.0)
                else:
                    _render(name, params, tmp, notebook_folder, previous, engine, planned)
            except (Interrupted, KpiKitError):  # stopped, or stopped at its time limit: not the notebook's error
                raise
            except OSError as exc:  # the disk, not the notebook
                raise os_error(_naming(exc, final), f"writing {params.client}'s '{name}' report") from None
            except Exception as exc:
                if isinstance(exc, IsolatedRunError) and exc.ename == "KpiKitError":  # the disk, in the child
                    raise KpiKitError(exc.evalue) from None
                failed = publish.keep_failed(tmp, final)
                tmp = None
                result.failed_notebook = failed / f"{name}.ipynb"
                raise RunError(f"notebook '{name}' failed: {_short_error(exc)}") from exc
            if on_notebook_done:
                on_notebook_done(params.client, name)
        try:
            pages = names if notebooks is None else publish.keep_earlier_pages(
                final, tmp, names, available_notebooks(notebook_folder))
            publish.write_metrics(tmp, metrics, pages)
            publish.write_run_index(tmp, params, pages)
            if fingerprint is not None:
                inputs.write(tmp, fingerprint)  # in the run's folder before the swap: only a successful run has one
            publish.swap_in(tmp, final)
            tmp = None
            result.folder = final
            if update_index:  # a batch writes the portfolio once, at its end: each write reads every client's kpis.csv
                publish.write_output_index(Path(out_root))
        except OSError as exc:
            raise os_error(_naming(exc, final), f"publishing {params.client}'s reports") from None
    except KpiKitError as exc:
        result.error = str(exc)
    except OSError as exc:  # reading the client's files (a folder without permission, a link loop)
        result.error = str(os_error(exc, "reading the client's data"))
    except Exception as exc:  # a bug must not stop the other clients
        result.error = f"{type(exc).__name__}: {exc} (a bug in kpi_kit: please report it with the traceback above)"
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
    params_file, out_root, names, notebook_folder, engine, shared = args
    return run_client(params_file, out_root, notebooks=names, notebook_folder=notebook_folder, engine=engine,
                      shared_inputs=shared, update_index=False)


STOP_GRACE_SECONDS = 30  # a client told to stop has this long to remove its temporary folder


def _client_in_subprocess(task, stop_event: str | None = None, max_memory_mb: float | None = None) -> ClientResult:
    """One client in a fresh ``python -m kpi_kit.run.batch -`` process (a Dask task): nothing of the
    worker's state, threads or earlier tasks reaches the client's run.

    The task goes in on the process' stdin and its result comes back on its stdout (no temporary files).
    The process dies with the worker (a worker killed mid-batch does not leave its client running on:
    it removes its run's temporary folder and ends), and stops the same way when the batch sets the Dask
    event ``stop_event`` (the command was interrupted): a client not started yet does not start.
    ``max_memory_mb``: the client's memory limit, when the command was given one."""
    import subprocess

    params_file, out_root, names, notebook_folder, engine, shared = task
    stopped = ClientResult(params_file, error="stopped: the batch was interrupted")
    stop = _dask_event(stop_event)
    if _is_set(stop):
        return stopped
    spec = json.dumps({"params_file": params_file, "out_root": out_root, "notebooks": names,
                       "notebook_folder": str(notebook_folder) if notebook_folder else None,
                       "engine": engine, "shared_inputs": shared})
    proc = subprocess.Popen([sys.executable, "-m", "kpi_kit.run.batch", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {PARENT_ENV: str(os.getpid())}
                            | ({} if max_memory_mb is None else {MEMORY_ENV: f"{max_memory_mb:.0f}"}))
    send = spec
    while True:
        try:
            out, err = proc.communicate(send, timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            send = None  # sent with the first try
            if _is_set(stop):
                proc.terminate()  # it unwinds: its children stop, its temporary folder goes
                try:
                    proc.communicate(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                return stopped
        except BaseException:  # the worker stops this task: the client's process must not run on
            proc.kill()
            proc.wait()
            raise
    try:
        r = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return ClientResult(params_file, error=f"worker process failed ({proc.returncode}): "
                                               f"{(err or out).strip()[-500:]}")
    return ClientResult(r["params_file"], client=r["client"], folder=Path(r["folder"]) if r["folder"] else None,
                        error=r["error"], seconds=r["seconds"],
                        failed_notebook=Path(r["failed_notebook"]) if r["failed_notebook"] else None)


def _sweep(tasks) -> None:
    """Remove the temporary folders of clients whose processes have ended (:func:`publish.clean_stale`)
    under every output folder of ``tasks``."""
    for root in {Path(t[1]) for t in tasks}:
        for client_root in (p for p in root.iterdir() if p.is_dir()) if root.is_dir() else ():
            with contextlib.suppress(OSError):
                publish.clean_stale(client_root)


def _dask_event(name: str | None):
    if name is None:
        return None
    from dask.distributed import Event

    return Event(name)


def _is_set(event) -> bool:
    if event is None:
        return False
    try:
        return event.is_set()
    except Exception:  # noqa: BLE001 - the scheduler unreachable for a moment: the task goes on
        return False


def _quiet_worker() -> None:
    """Run on each worker of an interrupted batch's local cluster: its stdout and stderr (the command's
    terminal) go to /dev/null, so the command's one line is all the terminal shows."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def _run_on_dask(tasks, scheduler: str | None, workers: int, record, max_memory_mb: float | None = None) -> None:
    """Each client one task on a Dask cluster: ``scheduler`` is its address, or None for a local
    cluster of ``workers`` processes. The output folder must be one that every worker can write.

    ``max_memory_mb``, when given (``--max-memory``), goes with each task to the client's process on
    the worker: a worker of another machine does not share this process' environment. Without it a
    client is held to its worker's own ``$KPI_KIT_MAX_MEMORY_MB`` (a local cluster's workers inherit
    this command's default).

    Interrupted (SIGINT, SIGTERM), the batch sets its stop event and waits for every task to end: a
    running client removes its temporary folder and publishes nothing, one not started does not start;
    only then does the command say so. A local cluster's scratch space is removed with it."""
    try:
        from dask.distributed import Client, Event, LocalCluster, as_completed, wait
    except ImportError:
        raise KpiKitError("the dask executor needs dask.distributed. Fix: pip install 'kpi_kit[dask]'.") from None
    import tempfile
    import uuid

    import dask

    scratch = None if scheduler else tempfile.mkdtemp(prefix="kpi-kit-dask-")
    cluster = client = None
    try:
        # Ctrl-C reaches the whole process group: the local cluster's processes, started with SIGINT
        # ignored (inherited), leave it to this one, which stops their clients, instead of dying with
        # tracebacks. (A Ctrl-C in the seconds the cluster takes to start is lost: press it again.)
        ignored = signal.signal(signal.SIGINT, signal.SIG_IGN) if scratch else None
        try:
            with dask.config.set({"temporary-directory": scratch} if scratch else {}):
                if scratch:
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None, local_directory=scratch,
                                           scheduler_kwargs={"dashboard_address": ":0"})  # 8787 may be taken
                client = Client(scheduler or cluster)
        finally:
            if ignored is not None:
                signal.signal(signal.SIGINT, ignored)
        run_id = uuid.uuid4().hex[:8]
        stop = Event(f"kpi-kit-{run_id}-stop", client=client)
        futures = [client.submit(_client_in_subprocess, t, stop.name, max_memory_mb, key=f"kpi-kit-{run_id}-{i}",
                                 pure=False) for i, t in enumerate(tasks)]
        try:
            for future in as_completed(futures):
                record(future.result())
        except Interrupted:
            if cluster is not None:  # this command's own workers: what they print while stopping is noise
                with contextlib.suppress(Exception):
                    client.run(_quiet_worker)
            stop.set()  # running clients stop and clean up, those not started do not start
            wait(futures, timeout=STOP_GRACE_SECONDS + 30)
            _sweep(tasks)  # what a stopped client's last writes left after it removed its folder
            raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run_forked(tasks, jobs: int, record) -> None:
    """Each client in a fresh child forked from this warm process (its preloaded data dies with it),
    ``jobs`` at a time; results are recorded as clients finish."""
    import select

    pending, running = list(tasks), {}
    while pending or running:
        while pending and len(running) < jobs:
            task = pending.pop(0)
            child = start_child(_client_task, task, label=f"the run of {task[0]}")
            running[child.fd] = (child, task)
        limit = memory_limit_mb()
        raise_if_interrupted()
        ready, _, _ = select.select(list(running), [], [], POLL_SECONDS)
        for fd in ready:
            child, task = running.pop(fd)
            try:
                record(child.result())
            except (IsolatedRunError, RuntimeError) as exc:  # the child itself died (out of memory, killed)
                record(ClientResult(task[0], error=f"the client's process ended unexpectedly: {exc}"))
            except KpiKitError as exc:  # its notebook went over the memory limit
                record(ClientResult(task[0], error=str(exc)))
        for fd, (child, task) in list(running.items()) if limit else ():
            used = tree_memory_mb(child.pid)
            if used > limit:  # one client must not take the machine (and the other clients) down
                running.pop(fd)
                child.kill_tree()
                child._reap()
                record(ClientResult(task[0], error=memory_message("the client", used, limit)))


def _refuse_collisions(files: list[Path]) -> dict[Path, Params]:
    """Two client files that would write one output folder (same ``client`` and ``as_of``) stop the
    batch before it starts: otherwise one report silently replaces the other. Returns the parameters
    of every file that has valid ones."""
    seen: dict[tuple[str, str], Path] = {}
    loaded: dict[Path, Params] = {}
    for f in files:
        try:
            p = loaded[f] = load_params(f)
        except KpiKitError:
            continue  # reported as that client's own failure
        key = (p.client, p.as_of.isoformat())
        if key in seen:
            raise KpiKitError(f"{seen[key]} and {f} both write the report of client '{p.client}' as of {key[1]}. "
                              "Fix: give each client file its own 'client:' name.")
        seen[key] = f
    return loaded


def _up_to_date(files: list[Path], loaded: dict[Path, Params], out_root: Path, names: list[str],
                shared: dict) -> dict[Path, ClientResult]:
    """The clients whose published run of their date is up to date (:mod:`.inputs`), decided here
    without reading their data. A client rerunning an earlier date makes its later dates rerun too:
    they compare with that run's metrics."""
    fresh: dict[Path, ClientResult] = {}
    for f in files:
        if (p := loaded.get(f)) is None:
            continue
        started = time.perf_counter()
        final = out_root / p.client / p.as_of.isoformat()
        if inputs.up_to_date(final, names, inputs.client_inputs(p, names, out_root, shared)):
            fresh[f] = ClientResult(str(f), client=p.client, folder=final, skipped=True,
                                    seconds=time.perf_counter() - started)
    rerun_from: dict[str, str] = {}  # client -> its earliest date rerun in this batch
    for f, p in loaded.items():
        if f not in fresh:
            rerun_from[p.client] = min(rerun_from.get(p.client, "9999"), p.as_of.isoformat())
    return {f: r for f, r in fresh.items() if loaded[f].as_of.isoformat() < rerun_from.get(r.client, "9999")}


def run_batch(params_files, out_root="reports", *, notebooks: list[str] | None = None,
              notebook_folder: Path | None = None, progress: bool = True, jobs: int = 1,
              engine: str = "fast", executor: str = "local", scheduler: str | None = None,
              force: bool = False, max_memory_mb: float | None = None) -> BatchResult:
    """Render every notebook for every client; a failing client does not stop the others.

    A client whose processes together hold more than ``max_memory_mb`` (default: 80 % of the
    machine's memory over ``jobs``; 0 for no limit) is stopped with a message and the batch goes on.

    ``jobs`` clients run side by side (each in a fresh process forked from this warm one, so
    nothing of one client reaches another); ``engine`` is ``"fast"`` (in-process kernel in a
    forked child per notebook) or ``"kernel"`` (papermill's Jupyter kernel per notebook).
    ``executor="dask"`` runs each client as a task on the Dask cluster at ``scheduler`` (a local
    cluster of ``jobs`` workers when None); the output folder must be shared with the workers.

    A client whose inputs are unchanged since its last successful run of the same ``as_of``
    (:mod:`.inputs`) is not rerun: it is reported as up to date (and counts as succeeded). ``force``
    reruns every client; a client whose last run failed always reruns.

    Examples
    --------
    >>> result = run_batch(["data/clients/demo.yaml"], "reports", jobs=2)  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise KpiKitError(f"unknown engine '{engine}'. Fix: use one of {', '.join(ENGINES)}.")
    limit = default_memory_limit_mb(jobs) if max_memory_mb is None else max_memory_mb
    before = os.environ.get(MEMORY_ENV)
    os.environ[MEMORY_ENV] = f"{limit:.0f}"  # the clients' processes, forked or started, inherit it
    try:
        return _run_batch(params_files, out_root, notebooks=notebooks, notebook_folder=notebook_folder,
                          progress=progress, jobs=jobs, engine=engine, executor=executor, scheduler=scheduler,
                          force=force, max_memory_mb=max_memory_mb)
    finally:  # a library caller's later runs are not held to this batch's limit
        if before is None:
            os.environ.pop(MEMORY_ENV, None)
        else:
            os.environ[MEMORY_ENV] = before


def _run_batch(params_files, out_root, *, notebooks, notebook_folder, progress, jobs, engine, executor, scheduler,
               force, max_memory_mb=None) -> BatchResult:
    if executor not in EXECUTORS:
        raise KpiKitError(f"unknown executor '{executor}'. Fix: use one of {', '.join(EXECUTORS)}.")
    out_root = Path(out_root).resolve()
    files = list(dict.fromkeys(p.resolve() for p in expand_params_paths(params_files)))  # a file named twice runs once
    names = notebooks or available_notebooks(notebook_folder)
    loaded = _refuse_collisions(files)
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        if not os.access(out_root, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "Permission denied", str(out_root))
        for client_root in out_root.iterdir():  # what runs killed with SIGKILL left behind
            if client_root.is_dir() and not client_root.name.startswith("."):
                publish.clean_stale(client_root)
    except OSError as exc:
        raise os_error(exc, "cannot write the output folder (--out)") from None
    started = time.perf_counter()
    batch = BatchResult()
    shared = inputs.batch_digest(notebook_folder)
    fresh = {} if force else _up_to_date(files, loaded, out_root, names, shared)
    batch.results += fresh.values()
    finals = {str(f): out_root / p.client / p.as_of.isoformat() for f, p in loaded.items()}
    tasks = [(str(f), str(out_root), names, notebook_folder, engine, shared) for f in files if f not in fresh]
    bar = None

    def postfix() -> dict:
        ran = [r for r in batch.results if not r.skipped]
        counts = {"done": sum(r.ok for r in ran), "failed": len(batch.failed), "left": len(tasks) - len(ran)}
        return counts | ({"up to date": len(fresh)} if fresh else {})

    if progress and tasks:  # the clients that run; those up to date are counted beside them
        from tqdm import tqdm  # the console bar on stderr, also when called from a notebook

        bar = tqdm(total=len(tasks), unit="client", file=sys.stderr, dynamic_ncols=True, postfix=postfix())

    def record(res: ClientResult) -> None:
        batch.results.append(res)
        if not res.ok and res.params_file in finals:
            inputs.forget(finals[res.params_file])  # a failed client reruns next time, whatever its inputs
        if bar:  # counts first, then the step that redraws the bar with them
            bar.set_postfix(postfix(), refresh=False)
            bar.update(1)

    try:
        with interruptible():
            if tasks and engine == "fast" and executor == "local":  # every client up to date: nothing to warm
                from .engine import warm_up

                warm_up()  # import once here; every forked run starts warm
            if not tasks:
                pass
            elif executor == "dask":
                _run_on_dask(tasks, scheduler, jobs, record, max_memory_mb)
            elif engine == "fast" or jobs > 1:
                _run_forked(tasks, jobs, record)
            else:
                for task in tasks:
                    record(_client_task(task))
    except Interrupted:
        stop_children()  # they remove their temporary folders; nothing is published after this
        raise
    finally:
        if bar:
            bar.close()
    order = {str(f): i for i, f in enumerate(files)}
    batch.results.sort(key=lambda r: order.get(str(Path(r.params_file).resolve()), len(order)))
    if out_root.is_dir():
        try:
            publish.write_output_index(out_root)
        except OSError as exc:
            raise os_error(_naming(exc, out_root), "writing the index of every client's reports") from None
    batch.seconds = time.perf_counter() - started
    return batch


PARENT_ENV = "KPI_KIT_PARENT_PID"  # the Dask worker that started ``python -m kpi_kit.run.batch -``


def _main(task_file: str, result_file: str | None = None) -> None:
    """``python -m kpi_kit.run.batch TASK.json RESULT.json``: one client, for an executor's worker;
    ``python -m kpi_kit.run.batch -`` reads the task on stdin and writes the result to stdout.

    It dies with the worker that started it (``$KPI_KIT_PARENT_PID``), and SIGINT or SIGTERM stop its
    children and remove the run's temporary folder before it ends (exit 130, no result)."""
    from .processes import INTERRUPTED_EXIT, _die_with_parent

    result_out = None
    if task_file == "-":
        result_out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)  # what the run prints goes to stderr: stdout carries the result alone
    if os.environ.get(PARENT_ENV, "").isdigit():
        _die_with_parent(int(os.environ[PARENT_ENV]))
    try:
        with interruptible(deadline=STOP_DEADLINE_SECONDS):
            t = json.loads(sys.stdin.read() if task_file == "-" else Path(task_file).read_text())
            task = (t["params_file"], t["out_root"], t["notebooks"],
                    Path(t["notebook_folder"]) if t["notebook_folder"] else None, t["engine"], t.get("shared_inputs"))
            if t["engine"] == "fast":
                from .engine import warm_up

                warm_up()
                try:
                    r = run_isolated(_client_task, task)
                except (IsolatedRunError, RuntimeError) as exc:  # the client's process died (out of memory)
                    r = ClientResult(task[0], error=f"the client's process ended unexpectedly: {exc}")
                except KpiKitError as exc:  # it went over the memory limit: one line, as the local executor
                    r = ClientResult(task[0], error=str(exc))
            else:
                r = _client_task(task)
    except Interrupted:
        stop_children()  # they remove their temporary folders
        os._exit(INTERRUPTED_EXIT)
    text = json.dumps({
        "params_file": r.params_file, "client": r.client, "folder": str(r.folder) if r.folder else None,
        "error": r.error, "seconds": r.seconds,
        "failed_notebook": str(r.failed_notebook) if r.failed_notebook else None})
    if result_out is not None:
        result_out.write(text + "\n")
        result_out.flush()
    else:
        Path(result_file).write_text(text)


if __name__ == "__main__":
    _main(*sys.argv[1:3])
