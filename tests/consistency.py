"""One number per KPI, checked on a rendered run folder: every value a page marks as a KPI
(``data-kpi="metric|period|dimension|value"``) reads the same on every page, equals its row of
``kpis.csv`` within display rounding, and ``metrics.json``'s scalars are those rows' values."""

from __future__ import annotations

import html
import json
import math
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

MARKED = re.compile(r'<(?:td|div)[^>]*\bdata-kpi="([^"]+)"[^>]*>(.*?)</(?:td|div)>', re.S)
CARD_LABEL = re.compile(r'<div class="kk-label">(.*?)</div>', re.S)
NUMBER = re.compile(r"[−+-]?[\d,]*\.?\d+")
# how a card label names its period: (window), (Oct 2026), (trailing 6 months ...), (31 Oct 2026), ...
PERIOD = re.compile(r"\((window|[A-Z][a-z]{2} \d{4}|[^)]*\d{1,2} [A-Z][a-z]{2} \d{4}|\d{4}Q\d[^)]*|[^)]*trailing [^)]*|all [^)]*|"
                    r"[^)]*window[^)]*|[^)]*; all [^)]*)\)|\bever\b")  # "(month 12; all cohorts of 10+ customers)"


def shown_value(text: str) -> tuple[float, float]:
    """(value, half a unit of the last shown decimal) of a formatted cell; NaN for n/a or unpaid."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    m = NUMBER.search(text)
    if not m or text.startswith(("n/a", "unpaid")):
        return math.nan, 0.0
    raw = m.group().replace(",", "")
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    value = float(raw.replace("−", "-"))
    if text.lstrip("+").startswith("−"):  # a sign before the currency symbol
        value = -abs(value)
    scale = 0.01 if "%" in text else 1.0
    return value * scale, 0.5 * 10 ** -decimals * scale


def marked_values(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """key -> [(page, shown text)] over every HTML page of a run."""
    out = defaultdict(list)
    for page in sorted(folder.glob("*.html")):
        for key, text in MARKED.findall(page.read_text(encoding="utf-8")):
            out[html.unescape(key)].append((page.stem, text))
    return out


def card_labels(folder: Path) -> dict[str, list[str]]:
    return {p.stem: [html.unescape(t) for t in CARD_LABEL.findall(p.read_text(encoding="utf-8"))]
            for p in sorted(folder.glob("*.html"))}


def check_run(folder: Path, scalar_rows: dict[str, tuple[str, str]]) -> dict:
    """Assert the run in ``folder`` shows one number per KPI; return a summary for further checks."""
    kpis = pd.read_csv(folder / "kpis.csv", keep_default_na=False, na_values=[""])
    kpis["dimension"] = kpis["dimension"].fillna("")
    kpis["dimension_value"] = kpis["dimension_value"].fillna("").astype(str)
    keys = kpis["metric"] + "|" + kpis["period"] + "|" + kpis["dimension"] + "|" + kpis["dimension_value"]
    assert keys.is_unique, keys[keys.duplicated()].tolist()
    value = dict(zip(keys, kpis["value"]))
    shown = marked_values(folder)
    problems = []
    for key, places in shown.items():
        if key not in value:
            problems.append(f"{key}: shown on {places[0][0]} but not in kpis.csv")
            continue
        expected = value[key]
        for page, text in places:
            got, half = shown_value(text)
            if math.isnan(expected) or math.isnan(got):
                if math.isnan(expected) != math.isnan(got):
                    problems.append(f"{key}: {page} shows {text!r}, kpis.csv has {expected}")
            elif abs(got - expected) > half + 1e-9 * max(1.0, abs(expected)):
                problems.append(f"{key}: {page} shows {text!r}, kpis.csv has {expected}")
    assert not problems, "\n".join(problems[:20])
    metrics = json.loads((folder / "metrics.json").read_text())
    # every metrics.json scalar is a kpis.csv row under its own name, with the same value (n/a alike)
    assert set(metrics["scalars"]) == set(scalar_rows), set(metrics["scalars"]) ^ set(scalar_rows)
    for name, (metric, period) in scalar_rows.items():
        key = f"{metric}|{period}||"
        assert metric == name and key in value, (name, key)
        got, want = metrics["scalars"][name], value[key]
        assert (got is None) == math.isnan(want), (name, got, want)
        assert got is None or math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (name, got, want)
    # one metric name, one definition: rows of one metric over the same dates and dimension agree
    same = kpis.dropna(subset=["period_start", "period_end"]).groupby(
        ["metric", "period_start", "period_end", "dimension", "dimension_value"], dropna=False)["value"]
    spread = same.agg(lambda v: 0.0 if v.isna().all() else (v.max() - v.min()) if v.notna().all() else math.inf)
    assert (spread <= 1e-9).all(), spread[spread > 1e-9].head(10).to_dict()
    unnamed = [(page, label) for page, labels in card_labels(folder).items() for label in labels
               if not PERIOD.search(label)]
    assert not unnamed, f"card labels without a period: {unnamed}"
    return {"shown": shown, "kpis": kpis, "value": value}
