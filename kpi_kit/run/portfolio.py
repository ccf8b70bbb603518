"""The portfolio: every client's latest headline KPIs side by side, read from each run's ``kpis.csv``.

A batch writes ``<out>/index.html`` (this page) and ``<out>/kpis.csv``, the union of the latest
run's ``kpis.csv`` of every client, for BI tools. Nothing here computes a KPI: each cell is a row of
a run's ``kpis.csv`` (the numbers its pages show), and a sparkline draws rows of the same metric over
the periods the run listed (months of the window for MRR and new customers, quarters for CAC and
win rate).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._cells import csv_text, restore
from .._files import write_atomic
from ..formatting import NA, fmt_value
from ..metrics.kpis import KPI_COLUMNS


@dataclass(frozen=True)
class Column:
    """A portfolio column: a metric at one period kind (``month``: the run's last month;
    ``window``, ``as_of``, or a named span) and, optionally, the period kind its sparkline draws."""

    metric: str
    label: str
    period: str
    spark: str | None = None  # "month" or "quarter"


COLUMNS = (
    Column("mrr", "MRR", "month", spark="month"),
    Column("mrr_growth", "MRR growth (YoY)", "trailing 12 months"),
    Column("new_customers", "New customers", "window", spark="month"),
    Column("cac", "CAC (fully loaded)", "window", spark="quarter"),
    Column("ltv_to_cac", "LTV:CAC", "window", spark="quarter"),
    Column("cac_payback_months", "CAC payback", "window", spark="quarter"),
    Column("win_rate", "Win rate", "window", spark="quarter"),
    Column("open_pipeline", "Open pipeline", "as_of"),
)
_MONTH = r"^\d{4}-\d{2}$"
_QUARTER = r"^\d{4}-Q\d$"


def latest_runs(out_root: Path) -> dict[str, list[Path]]:
    """Each client folder's finished runs (folders with an ``index.html``), newest first."""
    runs = {}
    for client in sorted(p for p in Path(out_root).iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = sorted((r for r in client.iterdir() if r.is_dir() and not r.name.startswith(".")
                        and (r / "index.html").is_file()), key=lambda r: r.name, reverse=True)
        if found:
            runs[client.name] = found
    return runs


def _read_kpis(run: Path) -> pd.DataFrame | None:
    try:
        frame = pd.read_csv(run / "kpis.csv", dtype={"period": str, "dimension": str, "dimension_value": str},
                            keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None  # an older run without kpis.csv, or a damaged one: the page links it, shows no numbers
    return restore(frame) if set(KPI_COLUMNS) <= set(frame.columns) else None  # cells as computed (kpi_kit/_cells)


def _currency(run: Path) -> str:
    try:
        return json.loads((run / "metrics.json").read_text(encoding="utf-8")).get("currency", "USD")
    except (OSError, ValueError):
        return "USD"


def _totals(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    return frame[(frame["metric"] == metric) & frame["dimension"].isna()]


def headline(frame: pd.DataFrame, column: Column) -> tuple[float, str, str]:
    """(value, unit, period) of ``column`` in one run's KPI rows; NaN when the run has none."""
    rows = _totals(frame, column.metric)
    if column.period == "month":
        rows = rows[rows["period"].str.match(_MONTH)].sort_values("period").tail(1)
    else:
        rows = rows[rows["period"] == column.period]
    if rows.empty:
        return float("nan"), "", ""
    r = rows.iloc[0]
    return float(r["value"]), str(r["unit"]), _period_label(r)


def _period_label(row) -> str:
    """"Oct 2026" for a month, "Nov 2025 – Oct 2026" for a window or span, "on 31 Oct 2026" for as_of."""
    period = str(row["period"])
    if pd.isna(row["period_start"]) or pd.isna(row["period_end"]):
        return period
    start, end = pd.Timestamp(row["period_start"]), pd.Timestamp(row["period_end"])
    if period == "as_of":
        return f"on {end:%d %b %Y}"
    if start.to_period("M") == end.to_period("M"):
        return f"{end:%b %Y}"
    return f"{start:%b %Y} – {end:%b %Y}"


def series(frame: pd.DataFrame, metric: str, kind: str) -> pd.Series:
    """The metric's client-total values over the run's months (``kind="month"``) or quarters, in order."""
    rows = _totals(frame, metric)
    rows = rows[rows["period"].str.match(_MONTH if kind == "month" else _QUARTER)]
    return rows.set_index("period")["value"].astype(float).sort_index()


def sparkline(values: pd.Series, width: int = 84, height: int = 22) -> str:
    """A tiny inline SVG line over ``values`` (gaps where a value is missing); empty under 2 points."""
    known = values.dropna()
    if len(known) < 2:
        return ""
    lo, hi = float(known.min()), float(known.max())
    span = (hi - lo) or 1.0
    step = width / max(len(values) - 1, 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if pd.isna(v):
            segments, current = segments + [current] if current else segments, []
            continue
        current.append(f"{i * step:.1f},{height - 2 - (float(v) - lo) / span * (height - 4):.1f}")
    segments += [current] if current else []
    lines = "".join(f"<polyline points='{' '.join(s)}'/>" for s in segments if len(s) > 1)
    dots = "".join(f"<circle cx='{s[0].split(',')[0]}' cy='{s[0].split(',')[1]}' r='1.5'/>" for s in segments
                   if len(s) == 1)
    label = html.escape(f"{values.index[0]} to {values.index[-1]}")
    return (f"<svg class='spark' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
            f"aria-label='{label}'><title>{label}</title><g>{lines}{dots}</g></svg>")


def _cell(frame: pd.DataFrame | None, column: Column, currency: str) -> str:
    if frame is None:
        return f"<td class='na'>{NA}</td>"
    value, unit, period = headline(frame, column)
    if pd.isna(value):
        return f"<td class='na' title='not in this run'>{NA}</td>"
    shown = fmt_value(value, unit, currency)
    spark = sparkline(series(frame, column.metric, column.spark)) if column.spark else ""
    return (f"<td><span class='v'>{html.escape(shown)}</span>{spark}"
            f"<span class='p'>{html.escape(period)}</span></td>")


PORTFOLIO_CSS = (
    "main{max-width:1240px}"  # nine columns side by side: wider than a report page
    "table.portfolio{border-collapse:collapse;font-size:13px;width:100%}"
    ".portfolio th,.portfolio td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:right;vertical-align:top}"
    ".portfolio th:first-child,.portfolio td:first-child{text-align:left}"
    ".portfolio th{font-weight:600;color:#374151;background:#f9fafb}"
    ".portfolio .v{display:block;font-variant-numeric:tabular-nums;font-weight:600}"
    ".portfolio .p{display:block;color:#6b7280;font-size:11px;white-space:nowrap}"
    ".portfolio td.na{color:#9ca3af}.portfolio .runs{font-size:11px;color:#6b7280}"
    "svg.spark{display:block;margin:2px 0 0 auto}svg.spark polyline{fill:none;stroke:#1e3a8a;stroke-width:1.4}"
    "svg.spark circle{fill:#1e3a8a}"
)


def portfolio_body(out_root: Path) -> tuple[str, pd.DataFrame]:
    """The portfolio table's HTML and the union of the clients' latest KPI rows."""
    runs = latest_runs(out_root)
    frames, rows = [], []
    for client, found in runs.items():
        latest = found[0]
        frame = _read_kpis(latest)
        if frame is not None:
            frames.append(frame)
        currency = _currency(latest)
        earlier = " · ".join(f"<a href='{html.escape(client)}/{r.name}/index.html'>{r.name}</a>" for r in found[1:])
        name = (f"<a href='{html.escape(client)}/{latest.name}/index.html'><b>{html.escape(client)}</b></a>"
                f"<span class='p'>as of {latest.name} · {html.escape(currency)}</span>"
                + (f"<span class='runs'>earlier: {earlier}</span>" if earlier else ""))
        rows.append(f"<tr><td>{name}</td>{''.join(_cell(frame, c, currency) for c in COLUMNS)}</tr>")
    head = "<tr><th>client</th>" + "".join(f"<th>{html.escape(c.label)}</th>" for c in COLUMNS) + "</tr>"
    union = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KPI_COLUMNS)
    if not rows:
        return "<p class='muted'>No finished runs yet.</p>", union
    intro = ("<p class='muted'>Each client's latest run: the values its pages show (from its "
             "<code>kpis.csv</code>), the period under each value, and a sparkline of the months or quarters "
             "the run lists. n/a: the client's data does not give it. All clients' rows: "
             "<a href='kpis.csv'>kpis.csv</a>.</p>")
    return (f"{intro}<div class='kk-scroll'><table class='portfolio'><thead>{head}</thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"), union


def write_union(out_root: Path, union: pd.DataFrame) -> Path:
    """``<out>/kpis.csv``: every client's latest KPI rows, one table for BI tools."""
    return write_atomic(Path(out_root) / "kpis.csv", csv_text(union))  # text cells neutralised (kpi_kit/_cells)
