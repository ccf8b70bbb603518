"""Loading a large client from Parquet, DuckDB and PostgreSQL: load time and peak memory side by side.

    .venv/bin/python benchmarks/source_scale.py                        # 1M contacts, 3 runs each
    .venv/bin/python benchmarks/source_scale.py --contacts 250000 --runs 5
    PGPASSWORD=... .venv/bin/python benchmarks/source_scale.py --postgres postgresql://me@host:5432/db

The client is benchmarks/scale.py's (per 1M contacts: 5M touches, 200k deals, 50k customers, as
Parquet). It is put into a DuckDB file and into PostgreSQL with the kit's own command, `kpi-kit db load`;
without ``--postgres`` a throwaway PostgreSQL server is started for the run (tests/postgres.py, needs
the server binaries; skipped without them). Each load is `kpi_kit.load_client` (read, contract checks,
as_of view, channel mapping) in a fresh Python process: the time is that call's, the memory the process'
peak RSS (VmHWM; Linux) and its rise over the process before the load. Sources alternate run by run, so a slower
spell of the machine hits each of them alike; the figure is the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from scale import make_client  # noqa: E402

# Memory from /proc/self/status: VmHWM is this process' own peak (getrusage's ru_maxrss survives exec and
# would report this script's own size, the parent's, when that is larger).
_LOAD = """
import json, sys, time
from kpi_kit import load_client, load_params
def kb(field):
    return next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith(field + ":"))
params = load_params(sys.argv[1])
before = kb("VmRSS")
start = time.perf_counter()
data = load_client(params)
seconds = time.perf_counter() - start
peak = kb("VmHWM")
print(json.dumps({"seconds": seconds, "peak_kb": peak, "before_kb": before,
                  "rows": sum(data.quality.rows_read.values())}))
"""


def load_once(params: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", _LOAD, str(params)], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.stdout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def db_load(params: Path, target: str, env: dict, *extra: str) -> float:
    start = time.perf_counter()
    out = subprocess.run([str(BIN / "kpi-kit"), "db", "load", str(params), target, *extra], capture_output=True,
                         text=True, env=env)
    if out.returncode:
        raise SystemExit(out.stderr or out.stdout)
    return time.perf_counter() - start


def source_yaml(params: Path, name: str, source: dict) -> Path:
    raw = yaml.safe_load(params.read_text())
    raw.pop("data_dir")
    path = params.parent / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**raw, "source": source}, sort_keys=False))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="loads per source (the median is shown)")
    ap.add_argument("--postgres", default=None, metavar="URL",
                    help="an existing PostgreSQL database (password from PGPASSWORD); default: a throwaway server")
    args = ap.parse_args()
    env = dict(os.environ)
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        parquet = make_client(tmp / "client", args.contacts)
        clients = {"Parquet": parquet}
        seconds = db_load(parquet, str(tmp / "warehouse.duckdb"), env)
        print(f"kpi-kit db load into DuckDB: {seconds:.1f} s ({(tmp / 'warehouse.duckdb').stat().st_size / 1e6:.0f} MB)")
        clients["DuckDB"] = source_yaml(parquet, "duckdb", {"url": "duckdb:///warehouse.duckdb"})
        url = args.postgres
        if url is None:
            from postgres import NoPostgres, PostgresServer

            try:
                server = PostgresServer.start()
                url, env["PGPASSWORD"] = server.url, server.password
            except NoPostgres as exc:
                print(f"PostgreSQL skipped: {exc}")
        try:
            if url is not None:
                seconds = db_load(parquet, url, env, "--schema", "bench")
                print(f"kpi-kit db load into PostgreSQL: {seconds:.1f} s")
                stems = [p.stem for p in (tmp / "client").glob("*.parquet")]
                clients["PostgreSQL"] = source_yaml(parquet, "postgres", {
                    "url": url, "tables": {s: f"bench.{s}" for s in stems}})
            results: dict[str, list[dict]] = {name: [] for name in clients}
            for _ in range(args.runs):
                for name, params in clients.items():
                    results[name].append(load_once(params, env))
        finally:
            if server is not None:
                server.stop()
    rows = results["Parquet"][0]["rows"]
    print(f"\nload_client of {args.contacts:,} contacts ({rows:,} rows in all), median of {args.runs} runs:")
    print(f"{'source':<12}{'load s':>8}{'× Parquet':>11}{'peak RSS GB':>13}{'× Parquet':>11}{'load adds GB':>14}")
    base_s = statistics.median(r["seconds"] for r in results["Parquet"])
    base_m = statistics.median(r["peak_kb"] for r in results["Parquet"])
    for name, runs in results.items():
        assert all(r["rows"] == rows for r in runs), f"{name} read a different number of rows"
        s = statistics.median(r["seconds"] for r in runs)
        m = statistics.median(r["peak_kb"] for r in runs)
        added = statistics.median(r["peak_kb"] - r["before_kb"] for r in runs)
        print(f"{name:<12}{s:>8.1f}{s / base_s:>10.2f}×{m / 1024 ** 2:>13.2f}{m / base_m:>10.2f}×{added / 1024 ** 2:>14.2f}")


if __name__ == "__main__":
    main()
