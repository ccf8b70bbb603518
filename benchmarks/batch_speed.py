"""Batch throughput and scale, in one run (the figures of issue #7):

1. the naive CLI loop (papermill CLI, then jupyter nbconvert CLI, per notebook) against
   `kpi-kit run --jobs N`, side by side: seconds per report and the ratio. Every client is the demo
   client under another slug; the naive loop is timed on a sample of clients and scaled, the kit
   renders all of them. Then the incremental reruns (issue #19): the same command again with nothing
   changed (every client up to date), and after one client's data file changed (that client alone reruns).
2. where one client's time goes (benchmarks/phases.py): load, metrics, figures, the rest of the cells,
   HTML export and publishing, each the median of ``--phase-repeats`` runs, and the costliest figures,
   encoded as PNG (what the reports embed) and as SVG, side by side.
3. a generated client of ``--scale-contacts`` contacts (5 touches, 0.2 deals and 0.05 customers
   each; see scale.py) rendered with every notebook: total time and peak memory, then twice the
   rows: the time ratio.

    .venv/bin/python benchmarks/batch_speed.py --clients 100 --naive-sample 2 --jobs 2
    .venv/bin/python benchmarks/batch_speed.py --clients 10 --scale-contacts 0    # a quick look
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def make_clients(folder: Path, n: int) -> list[Path]:
    """``n`` demo clients; the first reads its own copy of the demo data (``folder/data-000``), which
    the incremental rerun changes."""
    from kpi_kit import load_params

    base = load_params(ROOT / "data" / "clients" / "demo.yaml").to_notebook_parameters()
    shutil.copytree(base["data_dir"], folder / "data-000")
    paths = []
    for i in range(n):
        p = folder / f"client-{i:03d}.yaml"
        own = {"data_dir": str(folder / "data-000")} if i == 0 else {}
        p.write_text(yaml.safe_dump(base | {"client": f"client-{i:03d}"} | own, sort_keys=False))
        paths.append(p)
    return paths


def kit_run(clients: Path, out: Path, jobs: int) -> tuple[float, str, float]:
    """``kpi-kit run`` of every client in ``clients``: seconds, the summary's first line, and the CPU
    seconds (user and system) of the command and every process it started."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([BIN / "kpi-kit", "run", clients, "--out", out, "--jobs", str(jobs), "--no-progress"],
                          check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.stdout.splitlines()[0], cpu


def up_to_date(summary: str) -> int:
    return int(m.group(1)) if (m := re.search(r"\((\d+) up to date", summary)) else 0


def naive(params: Path, notebooks: list[str], out: Path) -> float:
    """papermill CLI then nbconvert CLI for each notebook; returns seconds."""
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        executed = out / f"{name}.ipynb"
        subprocess.run([BIN / "papermill", ROOT / "notebooks" / f"{name}.ipynb", executed, "-f", params,
                        "--cwd", ROOT / "notebooks", "--no-progress-bar", "-k", "python3"],
                       check=True, capture_output=True)
        subprocess.run([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed],
                       check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--naive-sample", type=int, default=2, help="clients timed with the naive loop (then scaled)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--phase-repeats", type=int, default=3, help="runs of one client timed phase by phase (0: skip)")
    ap.add_argument("--dask-clients", type=int, default=20,
                    help="clients of the Dask scale-out run, on one worker and on two (0: skip)")
    ap.add_argument("--scale-contacts", type=int, default=1_000_000, help="the large client (0: skip)")
    args = ap.parse_args()
    from kpi_kit.run import available_notebooks

    notebooks = available_notebooks()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "clients").mkdir()
        clients = make_clients(tmp / "clients", args.clients)
        naive_times = [naive(c, notebooks, tmp / "naive" / c.stem) / len(notebooks)
                       for c in clients[: args.naive_sample]]
        kit_total, _, kit_cpu = kit_run(tmp / "clients", tmp / "kit", args.jobs)
        unchanged, unchanged_summary, _ = kit_run(tmp / "clients", tmp / "kit", args.jobs)  # nothing changed
        with open(tmp / "clients" / "data-000" / "contacts.csv", "a") as f:
            f.write("\n")  # one byte more in one client's data file (a blank line: the same data)
        one_changed, one_changed_summary, _ = kit_run(tmp / "clients", tmp / "kit", args.jobs)
    reports = args.clients * len(notebooks)
    naive_per = statistics.median(naive_times)
    kit_per = kit_total / reports
    print(f"notebooks per client       {len(notebooks)} ({', '.join(notebooks)})")
    print(f"clients                    {args.clients} (naive loop timed on {args.naive_sample}, median per report)")
    print(f"naive loop s/report        {naive_per:.2f}")
    print(f"naive loop, whole batch    {naive_per * reports:.0f} s (scaled)")
    print(f"kpi-kit run s/report       {kit_per:.2f} (--jobs {args.jobs})")
    print(f"kpi-kit run, whole batch   {kit_total:.0f} s")
    print(f"kpi-kit run, CPU per client {kit_cpu / args.clients:.2f} s (user and system, every process)")
    print(f"speed-up                   {naive_per / kit_per:.1f}x")
    print(f"rerun, nothing changed     {unchanged:.1f} s ({up_to_date(unchanged_summary)} of {args.clients} clients "
          "up to date)")
    print(f"rerun, one file changed    {one_changed:.1f} s ({up_to_date(one_changed_summary)} of {args.clients} "
          "clients up to date)")
    if args.phase_repeats:
        from floor import floor_figures, print_comparison  # benchmarks/floor.py
        from phases import phase_figures  # benchmarks/phases.py

        phases = phase_figures(repeats=args.phase_repeats)
        print_comparison(phases, floor_figures(repeats=args.phase_repeats), kit_cpu / args.clients)
    if args.dask_clients:
        from dask_scale import dask_figures  # benchmarks/dask_scale.py

        dask_figures(args.dask_clients)
    if args.scale_contacts:
        from scale import scale_figures  # benchmarks/scale.py

        scale_figures(args.scale_contacts)

if __name__ == "__main__":
    main()
