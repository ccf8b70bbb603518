"""The portfolio page and the union kpis.csv (issue #17, item 5), on hand-written run folders."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kpi_kit.metrics.kpis import KPI_COLUMNS
from kpi_kit.run.portfolio import COLUMNS, headline, latest_runs, portfolio_body, series, sparkline, write_union


def _row(client, as_of, metric, period, start, end, value, unit, dimension=None, dimension_value=None):
    return dict(zip(KPI_COLUMNS, [client, as_of, metric, period, start, end, dimension, dimension_value, value,
                                  unit, None, None, None]))


def _run(root, client, as_of, rows, currency="USD"):
    folder = root / client / as_of
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<html></html>")
    (folder / "metrics.json").write_text(f'{{"currency": "{currency}"}}')
    if rows is not None:
        pd.DataFrame(rows, columns=KPI_COLUMNS).to_csv(folder / "kpis.csv", index=False)
    return folder


@pytest.fixture
def out_root(tmp_path):
    acme = [
        _row("acme", "2026-10-31", "mrr", "2026-08", "2026-08-01", "2026-08-31", 1000.0, "money"),
        _row("acme", "2026-10-31", "mrr", "2026-09", "2026-09-01", "2026-09-30", None, "money"),  # a gap
        _row("acme", "2026-10-31", "mrr", "2026-10", "2026-10-01", "2026-10-31", 1200.0, "money"),
        _row("acme", "2026-10-31", "mrr", "2025-10", "2025-10-01", "2025-10-31", 800.0, "money"),
        _row("acme", "2026-10-31", "mrr_growth", "trailing 12 months", "2025-11-01", "2026-10-31", 0.5, "percent"),
        _row("acme", "2026-10-31", "win_rate", "window", "2025-11-01", "2026-10-31", 0.25, "percent"),
        _row("acme", "2026-10-31", "win_rate", "window", "2025-11-01", "2026-10-31", 0.9, "percent",
             "channel", "Email"),  # a channel row is not the client's total
        _row("acme", "2026-10-31", "cac", "window", "2025-11-01", "2026-10-31", 3000.0, "money"),
        _row("acme", "2026-10-31", "cac", "2026-Q2", "2026-04-01", "2026-06-30", 2500.0, "money"),
        _row("acme", "2026-10-31", "cac", "2026-Q1", "2026-01-01", "2026-03-31", 3500.0, "money"),
        _row("acme", "2026-10-31", "open_pipeline", "as_of", "2026-10-31", "2026-10-31", 5000.0, "money"),
    ]
    _run(tmp_path, "acme", "2026-10-31", acme)
    _run(tmp_path, "acme", "2026-09-30", [_row("acme", "2026-09-30", "cac", "window", None, None, 1.0, "money")])
    _run(tmp_path, "beta", "2018-11-30", [
        _row("beta", "2018-11-30", "new_customers", "window", "2017-12-01", "2018-11-30", 841.0, "count")],
        currency="BRL")
    _run(tmp_path, "gamma", "2020-01-31", None)  # an older run without kpis.csv
    (tmp_path / "acme" / ".2026-11-30.tmp-123").mkdir()  # a run in progress is not a run
    return tmp_path


def test_latest_runs_are_the_finished_ones_newest_first(out_root):
    runs = latest_runs(out_root)
    assert {c: [r.name for r in found] for c, found in runs.items()} == {
        "acme": ["2026-10-31", "2026-09-30"], "beta": ["2018-11-30"], "gamma": ["2020-01-31"]}


def test_headline_values_are_the_runs_client_total_rows(out_root):
    frame = pd.read_csv(out_root / "acme" / "2026-10-31" / "kpis.csv", keep_default_na=False, na_values=[""])
    by = {c.metric: c for c in COLUMNS}
    assert headline(frame, by["mrr"]) == (1200.0, "money", "Oct 2026")  # the latest month, not the year-ago one
    assert headline(frame, by["win_rate"]) == (0.25, "percent", "Nov 2025 – Oct 2026")  # not Email's 0.9
    assert headline(frame, by["open_pipeline"]) == (5000.0, "money", "on 31 Oct 2026")
    value, unit, period = headline(frame, by["ltv_to_cac"])
    assert pd.isna(value) and unit == period == ""
    assert series(frame, "cac", "quarter").to_dict() == {"2026-Q1": 3500.0, "2026-Q2": 2500.0}
    assert list(series(frame, "mrr", "month").index) == ["2025-10", "2026-08", "2026-09", "2026-10"]


def test_sparkline_scales_to_the_box_and_breaks_at_gaps():
    svg = sparkline(pd.Series([1.0, 3.0, None, 2.0, 4.0], index=list("abcde")), width=80, height=22)
    # x every 20 px; y from 20 (min 1) to 2 (max 4): 1 -> 20, 3 -> 8, 2 -> 14, 4 -> 2
    assert re.findall(r"points='([^']*)'", svg) == ["0.0,20.0 20.0,8.0", "60.0,14.0 80.0,2.0"]
    assert sparkline(pd.Series([5.0, None], index=["a", "b"])) == ""  # one point is not a line
    flat = sparkline(pd.Series([2.0, 2.0], index=["a", "b"]), width=10, height=22)
    assert "points='0.0,20.0 10.0,20.0'" in flat  # a flat series does not divide by zero


def test_portfolio_page_and_union(out_root):
    body, union = portfolio_body(out_root)
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    assert len(rows) == 4  # header + acme, beta, gamma
    acme, beta, gamma = rows[1:]
    cells = lambda row: [re.sub(r"<svg.*?</svg>|<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    a = cells(acme)
    assert a[1][:3] == ["$1,200", "Oct", "2026"]  # MRR
    assert a[2][0] == "50.0%"  # MRR growth
    assert a[3] == ["n/a"]  # new customers: not in acme's run
    assert a[4][0] == "$3,000"
    assert a[7][0] == "25.0%" and a[8][0] == "$5,000"
    assert "2026-10-31/index.html" in acme and "earlier:" in acme and "2026-09-30/index.html" in acme
    assert acme.count("<svg") == 2  # MRR (3 known months) and CAC (2 quarters); win rate has no quarters
    assert cells(beta)[3][0] == "841" and "BRL" in beta
    assert cells(gamma)[1:] == [["n/a"]] * len(COLUMNS)  # no kpis.csv: linked, no numbers
    # the union is the latest runs' rows only: acme's 11 and beta's 1, not acme's earlier run
    assert len(union) == 12 and set(union["as_of"]) == {"2026-10-31", "2018-11-30"}
    path = write_union(out_root, union)
    assert pd.read_csv(path).shape == (12, len(KPI_COLUMNS))


def test_no_runs_yet(tmp_path):
    body, union = portfolio_body(tmp_path)
    assert "No finished runs yet" in body and union.empty and list(union.columns) == KPI_COLUMNS
