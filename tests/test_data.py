"""Loading and validating a client folder: bad input stops with one clear message."""

import pandas as pd
import pytest

from kpi_kit import DataError, ParamsError, load_client, load_params
from kpi_kit.contract import CONTRACT


def _edit(path, old, new):
    path.write_text(path.read_text().replace(old, new, 1))


def test_tiny_loads_and_maps_channels(tiny):
    c = tiny["contacts"].set_index("contact_id")
    assert c.loc["C1", ["channel", "group", "channel_raw"]].tolist() == ["Paid Search", "inbound", "google / cpc"]
    assert c.loc["C7", ["channel", "group"]].tolist() == ["Direct", "other"]  # not in channel_groups
    assert tiny.quality.unmapped_channels == {"tiktok": 1}
    assert tiny.quality.rows_read["contacts"] == 7


def test_quality_counts_recoverable_oddities(tiny):
    notes = tiny.quality.table().set_index(["file", "issue"])["rows"]
    after = "after 31 Mar 2026 (the report date)"  # the notes name dates in words, never a key
    assert notes["contacts", "skipped MQL"] == 1  # C2
    assert notes["contacts", "SQL date before MQL date"] == 1  # C6
    assert notes["contacts", f"created date {after}"] == 1  # C5
    assert notes["contacts", f"MQL date {after}"] == 1  # C4
    assert notes["deals", f"created date {after}"] == 1  # D7
    assert notes["deals", f"close date {after}"] == 1  # D5
    assert notes["all", "channel 'tiktok' has no reporting channel mapped"] == 1
    assert tiny.quality.latest_date["contacts"] == pd.Timestamp("2026-04-05")


@pytest.mark.parametrize(
    "file, old, new, column, problem, rows",
    [
        ("contacts.csv", "contact_id,created_at", "id,created_at", "contact_id", "required column is missing", None),
        ("contacts.csv", "C2,2026-01-10", "C1,2026-01-10", "contact_id", "duplicate id", "rows 2, 3"),
        ("contacts.csv", "C3,2026-02-01", "C3,01/02/2026", "created_at", "unparsable date", "rows 4"),
        ("contacts.csv", "2026-01-10,,2026-02-01", "2026-01-10,,2026-01-09", "sql_at", "stage date before created_at",
         "rows 3"),
        ("deals.csv", "D2,2026-02-01,lost,500", "D2,2026-02-01,lost,-500", "amount", "negative value", "rows 3"),
        ("deals.csv", "D2,2026-02-01,lost,500", "D2,2026-02-01,lost,$500", "amount", "unparsable number", "rows 3"),
        ("deals.csv", ",,0.5", ",,50", "probability", "probability outside 0..1", "rows 4"),
        ("deals.csv", "lost,500,2026-03-10", "lost,500,", "closed_at", "won or lost deal without a close date",
         "rows 3"),
        ("deals.csv", "D3,2026-02-10,open", "D3,2026-02-10,pending", "status", "unknown status", "rows 4"),
        ("costs.csv", "hosting", "office_rent", "category", "categories not in cost_groups: office_rent", "rows 3"),
    ],
)
def test_bad_input_names_file_column_rows_and_fix(tiny_copy, file, old, new, column, problem, rows):
    yaml_path, folder = tiny_copy
    _edit(folder / file, old, new)
    with pytest.raises(DataError) as err:
        load_client(load_params(yaml_path))
    msg = str(err.value)
    assert msg.startswith(file) and f"column '{column}'" in msg and problem in msg and "Fix:" in msg
    if rows:
        assert f"({rows})" in msg


def test_missing_required_file_in_an_empty_folder(tiny_copy):
    yaml_path, folder = tiny_copy
    for f in folder.iterdir():
        f.unlink()
    with pytest.raises(DataError, match="contacts.csv: required file is missing"):
        load_client(load_params(yaml_path))


def test_a_folder_without_contacts_loads_what_it_has(tiny_copy):
    """A deals-only CRM export: contacts is an empty, typed frame and flagged as missing."""
    yaml_path, folder = tiny_copy
    (folder / "contacts.csv").unlink()
    data = load_client(load_params(yaml_path))
    assert not data.has("contacts") and data.has("deals")
    assert data.quality.missing_files == ["contacts"]
    c = data["contacts"]
    assert len(c) == 0 and str(c["created_at"].dtype).startswith("datetime64")
    assert all(f"{s}_at" in c for s in data.params.stages)


def test_missing_optional_file_is_fine(tiny_copy):
    yaml_path, folder = tiny_copy
    (folder / "deals.csv").unlink()
    assert load_client(load_params(yaml_path)).get("deals") is None


def test_parquet_reads_like_csv(tiny_copy, tiny):
    yaml_path, folder = tiny_copy
    pd.read_csv(folder / "deals.csv").to_parquet(folder / "deals.parquet")
    (folder / "deals.csv").unlink()
    got = load_client(load_params(yaml_path))["deals"]
    pd.testing.assert_frame_equal(got[["deal_id", "amount", "status"]], tiny["deals"][["deal_id", "amount", "status"]],
                                  check_dtype=False)


def test_csv_and_parquet_both_present_is_an_error(tiny_copy):
    yaml_path, folder = tiny_copy
    pd.read_csv(folder / "deals.csv").to_parquet(folder / "deals.parquet")
    with pytest.raises(DataError, match="both a CSV and a Parquet"):
        load_client(load_params(yaml_path))


def test_params_unknown_key_is_an_error(tiny_copy):
    yaml_path, _ = tiny_copy
    yaml_path.write_text(yaml_path.read_text() + "windw_months: 6\n")
    with pytest.raises(ParamsError, match="windw_months"):
        load_params(yaml_path)


@pytest.mark.parametrize("line, key", [("client: 'a b'", "client"), ("stages: [mql, lead]", "stages"),
                                       ("window_months: 0", "window_months"),
                                       ("channel_groups: {X: sideways}", "channel_groups")])
def test_params_bad_values(tiny_copy, line, key):
    yaml_path, _ = tiny_copy
    text = "\n".join(ln for ln in yaml_path.read_text().splitlines() if not ln.startswith(key.split(":")[0] + ":"))
    yaml_path.write_text(text + "\n" + line + "\n")
    with pytest.raises(ParamsError, match=key):
        load_params(yaml_path)


def test_params_defaults_and_relative_data_dir(tiny_params):
    assert tiny_params.churn_window_months == 6 and tiny_params.gross_margin == 1.0
    assert tiny_params.data_dir.endswith("fixtures/tiny")


def test_contract_matches_spec_required_columns():
    assert CONTRACT["contacts"].required_columns == ["contact_id", "created_at", "channel"]
    assert CONTRACT["deals"].required_columns == ["deal_id", "created_at", "status", "amount"]
    assert CONTRACT["subscriptions"].required_columns == [
        "subscription_id", "customer_id", "start_date", "amount", "billing_period_months"]
    assert set(CONTRACT) == {"contacts", "deals", "subscriptions", "mrr", "customers", "spend", "traffic",
                             "touches", "costs", "engagement", "targets",
                             "revenue"}  # kit addition: revenue recorded without a sales process
    assert CONTRACT["revenue"].required_columns == ["date", "amount"]
