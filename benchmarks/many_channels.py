"""A client with very many channel names (an export of campaign names as channels): how long every
notebook takes to render, and that it renders at all.

    python benchmarks/many_channels.py --channels 10000

Builds 3 contacts per channel (lead, half MQL, a tenth customers), spend and one touch per contact over
six months, in a temporary folder, then times ``kpi-kit run`` on it (every notebook).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def build(folder: Path, channels: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    k = 3 * channels
    created = pd.Timestamp("2025-10-01") + pd.to_timedelta(rng.integers(0, 180, k), "D")
    day = created.strftime("%Y-%m-%d")
    channel = np.array([f"ch{i:05d}" for i in range(channels)])[rng.integers(0, channels, k)]
    data = folder / "data"
    data.mkdir(parents=True)
    pd.DataFrame({"contact_id": [f"C{i}" for i in range(k)], "created_at": day, "channel": channel, "lead_at": day,
                  "mql_at": np.where(rng.random(k) < .5, (created + pd.Timedelta(days=3)).strftime("%Y-%m-%d"), ""),
                  "customer_at": np.where(rng.random(k) < .1, (created + pd.Timedelta(days=20)).strftime("%Y-%m-%d"), ""),
                  }).to_csv(data / "contacts.csv", index=False)
    pd.DataFrame({"date": day[:k // 2], "channel": channel[:k // 2], "spend": rng.integers(1, 500, k // 2)}).to_csv(
        data / "spend.csv", index=False)
    pd.DataFrame({"contact_id": [f"C{i}" for i in range(k)], "touched_at": day, "channel": channel}).to_csv(
        data / "touches.csv", index=False)
    yaml = folder / "many.yaml"
    yaml.write_text("client: many\ndata_dir: data\nas_of: 2026-03-31\nstages: [lead, mql, customer]\n")
    return yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kpi-kit-many-") as tmp:
        yaml = build(Path(tmp), args.channels)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "kpi_kit.cli", "run", str(yaml), "--out", str(Path(tmp) / "out"),
                               "--no-progress"], capture_output=True, text=True)
        seconds = time.perf_counter() - started
    print(proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else proc.stderr[-500:])
    print(f"{args.channels:,} channels: every notebook in {seconds:.1f} s (exit {proc.returncode})")


if __name__ == "__main__":
    main()
