"""Scale: a large generated client rendered with every notebook, its total time and peak memory, and
what twice the rows costs.

    .venv/bin/python benchmarks/scale.py                       # 1M contacts, then 2M
    .venv/bin/python benchmarks/scale.py --contacts 250000     # a quicker look

The client is the demo client tiled: every copy of its contacts brings its deals, customers,
subscriptions and touches with new ids (spend and traffic grow with it). Extra touches (earlier
visits), extra lost deals and extra customers without a contact are added until the shape is the
issue's: per 1M contacts, 5M touches, 200k deals and 50k customers over 36 months. Files are written
as Parquet. Each render is a separate `kpi-kit run` process; peak memory is its process tree's.
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
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PER_CONTACT = {"touches": 5.0, "deals": 0.2, "customers": 0.05}


def _tile(df: pd.DataFrame, copies: int, id_cols: dict[str, str]) -> pd.DataFrame:
    """``copies`` copies of ``df``; each id column gets the copy number appended (``C000001-7``)."""
    out = pd.concat([df] * copies, ignore_index=True)
    k = np.repeat(np.arange(copies), len(df)).astype(str)
    for col in id_cols:
        if col in out:
            out[col] = out[col].astype("string") + "-" + k
    return out


def _top_up(df: pd.DataFrame, target: int, rng, id_col: str, tag: str) -> pd.DataFrame:
    """Add sampled rows (new ids) until ``df`` has ``target`` rows."""
    extra = target - len(df)
    if extra <= 0:
        return df
    add = df.iloc[rng.integers(0, len(df), extra)].copy()
    if id_col:
        add[id_col] = [f"{tag}{i}" for i in range(extra)]
    return pd.concat([df, add], ignore_index=True)


def make_client(folder: Path, contacts: int, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    demo = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in (ROOT / "data" / "demo").glob("*.csv")}
    copies = int(np.ceil(contacts / len(demo["contacts"])))
    ids = {"contact_id": "", "deal_id": "", "customer_id": "", "subscription_id": "", "account_id": ""}
    data = {}
    data["contacts"] = _tile(demo["contacts"], copies, ids).iloc[:contacts]
    kept = set(data["contacts"]["contact_id"])
    for stem in ("touches", "deals", "customers"):
        t = _tile(demo[stem], copies, ids)
        data[stem] = t[t["contact_id"].isin(kept) | (t["contact_id"] == "")]
    data["subscriptions"] = _tile(demo["subscriptions"], copies, ids)
    subs = data["subscriptions"]
    data["subscriptions"] = subs[subs["customer_id"].isin(set(data["customers"]["customer_id"]))]
    # the shape: earlier touches, more lost deals, customers who came without a tracked contact
    t = data["touches"]
    extra = _top_up(t, int(PER_CONTACT["touches"] * contacts), rng, "", "")
    shift = pd.to_timedelta(rng.integers(1, 60, len(extra) - len(t)), unit="D")
    earlier = pd.to_datetime(extra.loc[len(t):, "touched_at"]) - shift.to_numpy()
    extra.loc[len(t):, "touched_at"] = earlier.dt.strftime("%Y-%m-%d")
    data["touches"] = extra
    d = data["deals"]
    lost = d[d["status"] == "lost"]
    more = _top_up(lost, len(lost) + int(PER_CONTACT["deals"] * contacts) - len(d), rng, "deal_id", "DX")
    data["deals"] = pd.concat([d, more.iloc[len(lost):]], ignore_index=True)
    c = data["customers"]
    need = int(PER_CONTACT["customers"] * contacts) - len(c)
    if need > 0:  # copies of sampled customers, each with a new id and its own copy of their subscriptions
        pick = c.iloc[rng.integers(0, len(c), need)].reset_index(drop=True)
        pick["new_id"] = [f"KX{i}" for i in range(need)]
        subs = data["subscriptions"]
        add_subs = subs.merge(pick[["customer_id", "new_id"]], on="customer_id")
        add_subs["customer_id"] = add_subs.pop("new_id")
        add_subs["subscription_id"] = [f"SX{i}" for i in range(len(add_subs))]
        pick = pick.assign(customer_id=pick.pop("new_id"), contact_id="")
        data["customers"] = pd.concat([c, pick], ignore_index=True)
        data["subscriptions"] = pd.concat([subs, add_subs], ignore_index=True)
    for stem in ("spend", "traffic", "costs", "engagement", "targets"):
        data[stem] = demo[stem]
    folder.mkdir(parents=True, exist_ok=True)
    for stem, df in data.items():
        df.replace("", None).to_parquet(folder / f"{stem}.parquet", index=False)
    params = yaml.safe_load((ROOT / "data" / "clients" / "demo.yaml").read_text())
    params |= {"client": f"scale-{contacts}", "data_dir": str(folder)}
    p = folder.parent / f"scale-{contacts}.yaml"
    p.write_text(yaml.safe_dump(params, sort_keys=False))
    print(f"generated {contacts:,} contacts: " + ", ".join(f"{k} {len(v):,}" for k, v in data.items()
                                                          if k in ("touches", "deals", "customers", "subscriptions")))
    return p


def render(params: Path, out: Path) -> tuple[float, float, float]:
    """Seconds and peak memory (GB) of one `kpi-kit run` of every notebook, in a fresh process.

    Memory is sampled every 0.1 s over the whole process tree (the run and its forked notebook runs)
    two ways: the sum of RSS counts the pages the forks share with the client's process in each of
    them (an upper bound); the sum of PSS splits every shared page between the processes that map it
    (what the tree really holds)."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "kpi-kit"), "run", str(params), "--out", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root, rss, pss = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        try:
            tree = [p for p in (root, *root.children(recursive=True)) if p.is_running()]
            rss = max(rss, sum(p.memory_info().rss for p in tree))
            pss = max(pss, sum(p.memory_full_info().pss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stdout.read())
    return seconds, rss / 1024 ** 3, pss / 1024 ** 3


_ATTRIBUTION = """
import sys, time
from kpi_kit import load_client, load_params
from kpi_kit.metrics import compute
data = load_client(load_params(sys.argv[1]))
start = time.perf_counter()
a = compute(data).channel.attribution
print(time.perf_counter() - start, len(data["touches"]), a.columns.get_level_values("model").nunique())
"""


def attribution(params: Path) -> tuple[float, int, int]:
    """Seconds to attribute the window's customers under every model (rule and data-driven), the
    touches read and the models, in a fresh process (the load itself not counted)."""
    out = subprocess.run([sys.executable, "-c", _ATTRIBUTION, str(params)], capture_output=True, text=True, check=True)
    seconds, touches, models = out.stdout.split()
    return float(seconds), int(touches), int(models)


def scale_figures(contacts: int) -> None:
    """Render a client of ``contacts`` contacts, then one twice its size; print time, memory, ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one, two = make_client(tmp / "one", contacts), make_client(tmp / "two", 2 * contacts)
        s1, m1, p1 = render(one, tmp / "out")
        s2, m2, p2 = render(two, tmp / "out")
        a1, touches, models = attribution(one)
    print(f"{f'{contacts:,} contacts':<27}{s1:.1f} s every notebook, peak memory {p1:.2f} GB (PSS; RSS sum {m1:.2f} GB)")
    print(f"{f'{2 * contacts:,} contacts':<27}{s2:.1f} s every notebook, peak memory {p2:.2f} GB (PSS; RSS sum {m2:.2f} GB)")
    print(f"{'twice the rows':<27}{s2 / s1:.2f}x the time")
    print(f"{'attribution, ' + str(models) + ' models':<27}{a1:.1f} s over {touches:,} touches "
          f"({contacts:,} contacts; part of every notebook's time above)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    scale_figures(ap.parse_args().contacts)


if __name__ == "__main__":
    main()
