"""Unknown is not zero (SPEC "Real data"): an amount the source did not give stays empty in the
contract file, every sum over amounts leaves it out and the report counts what was left out; a sum
over unknown amounts only is n/a, not 0. Expected values are computed by hand in the comments."""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit import DataError, load_client, load_params
from kpi_kit.importers import import_files
from kpi_kit.metrics import funnel as fn
from kpi_kit.metrics import overview as ov

EXPORT = """opportunity_id,deal_stage,engage_date,close_date,close_value
W1,Won,2026-01-05,2026-02-01,1000
W2,Won,2026-01-10,2026-02-10,
L1,Lost,2026-01-12,2026-02-20,0
O1,Engaging,2026-02-01,,
O2,Engaging,2026-02-03,,
"""
MAPPING = """target: deals
columns:
  deal_id: opportunity_id
  created_at: engage_date
  closed_at: close_date
  amount: {column: close_value, kind: money}
  status: {column: deal_stage, values: {Won: won, Lost: lost, Engaging: open}}
"""


def _import(tmp_path, mapping=MAPPING):
    (tmp_path / "crm.csv").write_text(EXPORT)
    (tmp_path / "m.yaml").write_text(mapping)
    return import_files("mapping", [tmp_path / "crm.csv"], tmp_path / "data", mapping=tmp_path / "m.yaml")


# -- importers -----------------------------------------------------------------------------------------
def test_importer_leaves_an_unknown_amount_empty_and_says_so(tmp_path):
    report = str(_import(tmp_path))
    rows = (tmp_path / "data" / "deals.csv").read_text().splitlines()
    assert rows[0] == "deal_id,created_at,closed_at,amount,status"
    # W2, O1, O2 have no close_value: the cell stays empty (never "0"); L1's explicit 0 is kept
    assert rows[1:] == ["L1,2026-01-12,2026-02-20,0.0,lost", "O1,2026-02-01,,,open", "O2,2026-02-03,,,open",
                        "W1,2026-01-05,2026-02-01,1000.0,won", "W2,2026-01-10,2026-02-10,,won"]
    assert "crm.csv: close_value: 3 row(s) without a value (open 2, won 1): left empty (unknown, not 0)" in report


def test_a_default_of_zero_for_a_number_is_refused(tmp_path):
    with pytest.raises(DataError, match="default 0 for a number: an empty cell is unknown, not zero"):
        _import(tmp_path, MAPPING.replace("kind: money}", "kind: money, default: 0}"))
    assert not (tmp_path / "data").exists()  # nothing written


def test_the_contract_allows_an_empty_amount_but_not_an_empty_id(tmp_path):
    _import(tmp_path)
    (tmp_path / "c.yaml").write_text(f"client: c\ndata_dir: {tmp_path / 'data'}\nas_of: 2026-03-31\n")
    data = load_client(load_params(tmp_path / "c.yaml"))
    assert data["deals"]["amount"].isna().sum() == 3
    notes = data.quality.table().set_index("issue")
    assert notes.loc["amount empty (unknown): open 2, won 1", "rows"] == 3
    deals = tmp_path / "data" / "deals.csv"
    deals.write_text(deals.read_text().replace("O1,", ",", 1))
    with pytest.raises(DataError, match="deal_id.*required value is empty"):
        load_client(load_params(tmp_path / "c.yaml"))


# -- metrics -------------------------------------------------------------------------------------------
OPEN = pd.DataFrame({"status": ["open", "open", "open", "won", "won", "lost"],
                     "amount": [300.0, np.nan, np.nan, 1000.0, np.nan, 0.0],
                     "probability": [0.5, 0.5, np.nan, 1.0, 1.0, 0.0],
                     "closed_at": pd.to_datetime([None, None, None, "2026-02-01", "2026-02-10", "2026-02-20"])})


def test_open_pipeline_leaves_unknown_amounts_out_and_counts_them():
    p = fn.weighted_pipeline(OPEN)
    # open: 300 (p 0.5), unknown (p 0.5), unknown (no p) -> pipeline 300, weighted 300 x 0.5 = 150
    assert p == {"open_deals": 3, "pipeline": 300.0, "weighted_pipeline": 150.0, "without_probability": 1,
                 "without_amount": 2}


def test_a_pipeline_of_unknown_amounts_only_is_na_not_zero():
    p = fn.weighted_pipeline(OPEN.assign(amount=np.nan))
    assert p["open_deals"] == 3 and p["without_amount"] == 3
    assert math.isnan(p["pipeline"]) and math.isnan(p["weighted_pipeline"])
    nothing_open = fn.weighted_pipeline(OPEN[OPEN["status"] != "open"])
    assert nothing_open["pipeline"] == 0.0 and nothing_open["weighted_pipeline"] == 0.0  # no deal open: a true 0


def test_won_revenue_and_deal_size_leave_unknown_amounts_out():
    o = fn.deal_outcomes(OPEN)
    # won: 1000 and unknown -> won amount 1000, deal size 1000 / 1 known, 1 left out; win rate 2 / 3
    assert o == {"won": 2, "lost": 1, "won_amount": 1000.0, "win_rate": pytest.approx(2 / 3),
                 "avg_deal_size": 1000.0, "won_without_amount": 1}
    unknown = fn.deal_outcomes(OPEN.assign(amount=np.nan))
    assert math.isnan(unknown["won_amount"]) and math.isnan(unknown["avg_deal_size"])
    assert unknown["won_without_amount"] == 2 and unknown["win_rate"] == pytest.approx(2 / 3)


def test_forecast_counts_open_deals_without_an_amount():
    deals = pd.DataFrame({"status": ["open", "open"], "amount": [1000.0, np.nan], "probability": [0.5, 0.5],
                          "created_at": pd.to_datetime(["2026-09-01", "2026-09-01"]),
                          "expected_close_at": pd.to_datetime(["2026-11-15", "2026-12-15"])})
    f = ov.pipeline_forecast(deals, "2026-10-31", cycle_days=60).set_index("month")
    nov, dec = f.loc[pd.Period("2026-11", "M")], f.loc[pd.Period("2026-12", "M")]
    assert (nov["pipeline"], nov["expected"], nov["without_amount"]) == (1000.0, 500.0, 0)
    assert math.isnan(dec["pipeline"]) and dec["expected"] == 0.0 and dec["without_amount"] == 1


# -- the client's numbers and pages ------------------------------------------------------------------------
@pytest.fixture
def unknown_tiny(tiny_copy):
    """The tiny client with D3 and D4 (open on as_of) without an amount."""
    params, folder = tiny_copy
    deals = folder / "deals.csv"
    deals.write_text(deals.read_text().replace("D3,2026-02-10,open,2000,", "D3,2026-02-10,open,,")
                     .replace("D4,2026-03-01,open,4000,", "D4,2026-03-01,open,,"))
    return params


def test_client_pipeline_kpis_and_sentence_count_the_unknown(unknown_tiny):
    from kpi_kit.metrics import compute
    from kpi_kit.reports.funnel import FunnelReport

    data = load_client(load_params(unknown_tiny))
    m = compute(data)
    # open on as_of: D3 (unknown, p 0.5), D4 (unknown), D5 (3000, p 0.25; closes after as_of)
    assert m.funnel.pipeline == {"open_deals": 3, "pipeline": 3000.0, "weighted_pipeline": 750.0,
                                 "without_probability": 1, "without_amount": 2}
    row = m.book.get("open_pipeline", "as_of")
    assert (row.value, row.n) == (3000.0, 1)
    text = FunnelReport(data)._deals_sentence()
    assert ("Open pipeline: 3 deals worth €3,000 (2 open deals have no amount: left out), weighing €750 by "
            "probability (1 open deals without a probability left out).") in text
    # open at the month ends: Feb: D2 500 (closes Mar 10), D3 (unknown), D5 3000 -> 3500;
    # Mar: D3, D4 (unknown), D5 3000 -> 3000
    s = m.overview.series["open_pipeline"]
    assert (s[pd.Period("2026-02", "M")], s[pd.Period("2026-03", "M")]) == (3500.0, 3000.0)
    # pipeline created in Feb: D2 500 + D3 unknown -> 500; in Mar: D4 only, unknown -> n/a; Dec: none -> 0
    created = m.overview.series["pipeline"]
    assert created[pd.Period("2026-02", "M")] == 500.0 and math.isnan(created[pd.Period("2026-03", "M")])
    assert created[pd.Period("2025-12", "M")] == 0.0


def test_client_pipeline_of_unknown_amounts_only_reads_na(unknown_tiny):
    from kpi_kit.metrics import compute
    from kpi_kit.reports.funnel import FunnelReport

    params = load_params(unknown_tiny)
    deals = params.data_dir + "/deals.csv"
    with open(deals) as f:
        text = f.read().replace("D5,2025-10-01,won,3000,", "D5,2025-10-01,won,,")
    with open(deals, "w") as f:
        f.write(text)
    data = load_client(params)
    m = compute(data)
    assert math.isnan(m.book.value("open_pipeline", "as_of"))
    assert m.book.get("open_pipeline", "as_of").n == 0
    assert FunnelReport(data)._deals_sentence().endswith(
        "Open pipeline: 3 deals; 3 open deals have no amount, so neither its value nor its weighted value is known.")
    assert math.isnan(m.overview.series["open_pipeline"][pd.Period("2026-03", "M")])
