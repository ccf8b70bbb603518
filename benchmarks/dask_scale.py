"""Scale-out on Dask (issue #32): one batch of demo clients on a real Dask cluster, with one worker
process and then with two, and what one client costs, for sizing workers.

    .venv/bin/python benchmarks/dask_scale.py --clients 20
    .venv/bin/python benchmarks/dask_scale.py --clients 4      # a quick look

A `dask scheduler` process is started on this machine (a free port, learnt from its --scheduler-file),
then `dask worker --nworkers 1 --nthreads 1`; once the scheduler counts the worker, `kpi-kit run
<clients> --executor dask --scheduler <address> --force` renders every client and its wall time is taken.
The worker is stopped and two are started (`--nworkers 2`), and the same batch runs into a fresh output
folder. Every client is the demo client under another slug (batch_speed.py's `make_clients`). The
scheduler and the workers are stopped on any exit (error, Ctrl-C, SIGTERM): each runs in its own
process group, which is killed.

Per client, for sizing: one client run alone with the local executor (``--single-runs`` times, before
the cluster starts): the CPU seconds of its process tree, start-up included (a Dask task starts a fresh
``python -m kpi_kit.run.batch`` the same way), and its peak memory (PSS of the tree, polled every
0.1 s). Besides: each client's own seconds as the summary reports them, the CPU the workers' and the
scheduler's processes spent during each batch, the CPU the rest of the machine took meanwhile (the
speed-up needs two idle cores), and an idle worker's memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GOAL = 1.7  # speed-up of 2 workers over 1 on this project's 2-core machine (issue #32)


def _start(cmd: list, log: Path) -> subprocess.Popen:
    # its own session: Ctrl-C does not reach it (this script stops it), and its whole group can be killed
    with open(log, "wb") as f:
        return subprocess.Popen([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen | None, grace: float = 30.0) -> None:
    """SIGTERM the process group (a nanny closes its worker, a worker its tasks), then SIGKILL what is left."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the leader may be gone while a task's process lingers
    proc.wait()


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""


def start_scheduler(tmp: Path) -> tuple[subprocess.Popen, str]:
    file, log = tmp / "scheduler.json", tmp / "scheduler.log"
    # --idle-timeout: a scheduler left by a SIGKILLed benchmark ends by itself (its workers after --death-timeout)
    proc = _start([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", file, "--idle-timeout", "600s"], log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            return proc, json.loads(file.read_text())["address"]
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    _stop(proc)
    raise RuntimeError(f"the scheduler did not start:\n{_tail(log)}")


def start_workers(address: str, n: int, tmp: Path) -> subprocess.Popen:
    return _start([BIN / "dask", "worker", address, "--nworkers", n, "--nthreads", 1, "--host", "127.0.0.1",
                   "--no-dashboard", "--local-directory", tmp / f"workers-{n}", "--death-timeout", "60s"],
                  tmp / f"workers-{n}.log")


def wait_for_workers(address: str, n: int, timeout: float = 120.0) -> None:
    """Until the scheduler counts exactly ``n`` workers: a stopped worker must be gone too, not only the
    new ones there (``Client.wait_for_workers`` waits for at least ``n``)."""
    from distributed import Client

    with Client(address, timeout=30) as client:  # closed before the batch: no extra client while timing
        deadline = time.monotonic() + timeout
        while (count := len(client.nthreads())) != n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the scheduler counts {count} workers, not {n}, after {timeout:.0f} s")
            time.sleep(0.2)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every live process below it, with the children each has reaped (a
    worker's finished tasks)."""
    import psutil  # a dependency of distributed

    total = 0.0
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
    return total


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux /proc/stat)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_batch(clients: Path, out: Path, address: str) -> tuple[float, list[float]]:
    """``kpi-kit run`` on the cluster: wall seconds, and each client's seconds from the summary."""
    start = time.perf_counter()
    proc = subprocess.run([BIN / "kpi-kit", "run", clients, "--out", out, "--executor", "dask", "--scheduler", address,
                           "--no-progress", "--force"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary = proc.stdout.splitlines()
    if proc.returncode or not summary or not re.match(r"(\d+) of \1 client runs succeeded", summary[0]):
        raise RuntimeError(f"the batch failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, [float(m.group(1)) for line in summary if (m := re.match(r"\s+ok\s.*\(([\d.]+) s\)$", line))]


def single_client(params: Path, out: Path) -> tuple[float, float]:
    """One client with the local executor: CPU seconds of its process tree and its peak memory (MB)."""
    from kpi_kit.run.processes import tree_memory_mb

    before = children_cpu_seconds()  # every process of the run is reaped within it
    proc = subprocess.Popen([BIN / "kpi-kit", "run", params, "--out", out, "--force", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_memory_mb(proc.pid))
        time.sleep(0.1)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode:
        raise RuntimeError(f"the single-client run failed ({proc.returncode}):\n{err[-3000:]}")
    return children_cpu_seconds() - before, peak


def start_up_cpu_seconds() -> float:
    """CPU seconds of what every Dask task pays before its client starts: a fresh Python importing
    kpi_kit.run.batch and warming up (``_client_in_subprocess`` -> ``python -m kpi_kit.run.batch -``)."""
    before = children_cpu_seconds()
    subprocess.run([sys.executable, "-c", "import kpi_kit.run.batch; from kpi_kit.run.engine import warm_up; warm_up()"],
                   check=True)
    return children_cpu_seconds() - before


def dask_figures(clients: int = 20, single_runs: int = 3) -> None:
    """Print the batch's wall time on 1 and 2 Dask workers, the speed-up and the per-client figures."""
    from batch_speed import make_clients  # benchmarks/batch_speed.py

    from kpi_kit.run import available_notebooks
    from kpi_kit.run.processes import tree_memory_mb

    with tempfile.TemporaryDirectory(prefix="kpi-kit-dask-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "clients").mkdir()
        params = make_clients(tmp / "clients", clients)
        # before the cluster starts: nothing else of this benchmark runs beside it
        singles = [single_client(params[-1], tmp / "single") for _ in range(single_runs)]
        start_up = statistics.median(start_up_cpu_seconds() for _ in range(single_runs))
        scheduler = workers = None
        walls, per_client, cpu, scheduler_cpu, others = {}, {}, {}, {}, {}
        try:
            scheduler, address = start_scheduler(tmp)
            for n in (1, 2):
                workers = start_workers(address, n, tmp)
                wait_for_workers(address, n)
                if n == 1:
                    idle_worker_mb = tree_memory_mb(workers.pid)
                before = [tree_cpu_seconds(workers.pid), tree_cpu_seconds(scheduler.pid), children_cpu_seconds(),
                          busy_cpu_seconds()]
                walls[n], per_client[n] = run_batch(tmp / "clients", tmp / f"out-{n}", address)
                cpu[n] = tree_cpu_seconds(workers.pid) - before[0]
                scheduler_cpu[n] = tree_cpu_seconds(scheduler.pid) - before[1]
                cli_cpu = children_cpu_seconds() - before[2]  # the kpi-kit command, reaped by now
                # what the rest of the machine took meanwhile (other people's runs): cores, on average
                others[n] = max(0.0, busy_cpu_seconds() - before[3] - cpu[n] - scheduler_cpu[n] - cli_cpu) / walls[n]
                _stop(workers)
                workers = None
                wait_for_workers(address, 0)  # the next batch starts with only its own workers
        except Exception:  # the logs say why; not for Ctrl-C
            for proc, name in ((scheduler, "scheduler.log"), (workers, f"workers-{len(walls) + 1}.log")):
                if proc is not None:
                    print(f"--- {name}\n{_tail(tmp / name)}", file=sys.stderr)
            raise
        finally:
            _stop(workers)
            _stop(scheduler)
    speed_up = walls[1] / walls[2]
    cpu_s = statistics.median(c for c, _ in singles)
    peak = max(p for _, p in singles)
    print(f"clients                      {clients} (the demo client, {len(available_notebooks())} notebooks each)")
    print(f"1 worker  (1 process)        {walls[1]:.1f} s ({walls[1] / clients:.2f} s per client)")
    print(f"2 workers (2 processes)      {walls[2]:.1f} s ({walls[2] / clients:.2f} s per client)")
    print(f"speed-up                     {speed_up:.2f}x (goal ≥ {GOAL}x)")
    print(f"per client, CPU              {cpu_s:.1f} s (median of {single_runs} local runs of one client, "
          "start-up included)")
    print(f"start-up, per task           {start_up:.1f} s (a fresh Python importing the kit and warming up, "
          "counted in the figure above)")
    print(f"per client, peak memory      {peak:.0f} MB (PSS of its process tree, the highest of {single_runs} runs)")
    print(f"per client on the cluster    {statistics.median(per_client[1]):.1f} s / {statistics.median(per_client[2]):.1f} s "
          "(median of the summary's seconds, 1 / 2 workers)")
    print(f"workers' CPU per client      {cpu[1] / clients:.1f} s / {cpu[2] / clients:.1f} s (1 / 2 workers)")
    print(f"scheduler CPU, whole batch   {scheduler_cpu[1]:.1f} s / {scheduler_cpu[2]:.1f} s (1 / 2 workers)")
    print(f"other processes' CPU         {others[1]:.2f} / {others[2]:.2f} cores on average (1 / 2 workers; "
          f"{os.cpu_count()} cores)")
    print(f"idle worker, memory          {idle_worker_mb:.0f} MB (the `dask worker` process, its nanny and worker)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--single-runs", type=int, default=3, help="local runs of one client for the per-client figures")
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C: the finally clauses stop the cluster's process groups
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    dask_figures(args.clients, args.single_runs)


if __name__ == "__main__":
    main()
