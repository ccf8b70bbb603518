"""The MRR bridge of the unit-economics page as two tables narrow enough for a 1000-px page."""

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kpi_kit.reports import UnitEconomicsReport


@pytest.fixture
def bridge(kit_style):
    """The bridge section of a report over 15 made-up months (the report's metrics are not computed)."""
    months = pd.period_range("2025-08", periods=15, freq="M")
    rng = np.random.default_rng(7)
    start = 400_000 + 20_000 * np.arange(15.0)
    b = pd.DataFrame({"month": months, "starting_mrr": start, "new": rng.uniform(1e4, 4e4, 15),
                      "expansion": rng.uniform(0, 4e3, 15), "reactivation": 0.0, "contraction": rng.uniform(0, 2e3, 15),
                      "churn": rng.uniform(1e3, 2e4, 15), "customers": 200 + 10 * np.arange(15),
                      "churned_customers": rng.integers(1, 12, 15), "logo_churn_rate": rng.uniform(0.005, 0.04, 15),
                      "arpu": rng.uniform(1700, 1900, 15), "grr": rng.uniform(0.95, 1.0, 15),
                      "nrr": rng.uniform(0.96, 1.02, 15), "quick_ratio": rng.uniform(1.5, 60, 15)})
    b["ending_mrr"] = b.eval("starting_mrr + new + expansion + reactivation - contraction - churn")
    b.loc[3, "quick_ratio"] = np.nan  # nothing lost that month
    report = UnitEconomicsReport.__new__(UnitEconomicsReport)
    report.bridge, report.last, report.currency, report.has_mrr = b, months[-2], "USD", True  # months[-1]: after as_of
    report.params = SimpleNamespace(churn_window_months=6)
    return report.mrr_bridge()


def _headers(block) -> list[str]:
    return re.findall(r"<th>(.*?)</th>", block._repr_html_())


def _rows(block) -> list[list[str]]:
    body = block._repr_html_().split("<tbody>")[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>") if "<td" in row]


def test_the_bridge_is_split_into_movements_and_rates(bridge):
    tables = [p for p in bridge.parts if hasattr(p, "_repr_html_") and "<table" in p._repr_html_()]
    assert len(tables) == 2
    movements, rates = tables
    assert _headers(movements) == ["month", "start MRR", "new", "expansion", "reactivation", "contraction", "churn",
                                   "end MRR"]
    assert _headers(rates) == ["month", "customers", "churned", "logo churn", "ARPU", "GRR", "NRR", "quick ratio"]
    assert 'class="kk-caption">MRR movements<' in movements._repr_html_()
    assert 'class="kk-caption">Customers, churn and retention<' in rates._repr_html_()
    # the same months in both, at most 13 of them
    assert [r[0] for r in _rows(movements)] == [r[0] for r in _rows(rates)]
    assert [r[0] for r in _rows(movements)] == [f"{m:%Y-%m}" for m in pd.period_range("2025-09", "2026-09", freq="M")]


def test_the_bridge_tables_are_narrow_and_formatted(bridge):
    movements, rates = [p for p in bridge.parts if hasattr(p, "_repr_html_") and "<table" in p._repr_html_()]
    for table in (movements, rates):
        # eight columns of short labels: about 90 px each at 13 px, well inside a 1000-px page
        assert len(_headers(table)) <= 8
        assert max(len(h) for h in _headers(table)) <= 12
        assert 'class="kk-scroll kk-wide"' in table._repr_html_()  # scrollable on a phone, its first column kept
        for row in _rows(table):
            assert re.fullmatch(r"\d{4}-\d{2}", row[0])
    for row in _rows(movements):
        assert all(re.fullmatch(r"−?\$[\d,]+|n/a", v) for v in row[1:])
    for row in _rows(rates):
        customers, churned, logo, arpu, grr, nrr, quick = row[1:]
        assert re.fullmatch(r"[\d,]+", customers) and re.fullmatch(r"[\d,]+", churned)
        assert all(re.fullmatch(r"[\d.]+%|n/a", v) for v in (logo, grr, nrr))
        assert re.fullmatch(r"\$[\d,]+|n/a", arpu)
        assert re.fullmatch(r"[\d,.]+×|n/a", quick)
