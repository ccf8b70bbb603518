"""Import set-asides reach the report (SPEC "Real data"): an import writes what it set aside or filled,
and why, to ``import_log.json`` beside the data; the loader reads it; the data-quality section lists it
with the load-time set-asides, with counts that add up per file:
rows in the export = rows imported + set aside at import, rows read = rows used + set aside at load."""

import json

import pandas as pd

from kpi_kit import load_client, load_params
from kpi_kit.importers import IMPORT_LOG, import_files, import_frame
from kpi_kit.reports.blocks import data_quality

# as_of 2026-03-31. A4 has no engage date (left out at import); A2 has no source (filled 'unknown');
# A3 has no value (left empty: unknown); A5 closes after as_of (open at load, not set aside);
# A6 is created after as_of (set aside at load).
EXPORT = """opportunity_id,deal_stage,engage_date,close_date,close_value,source
A1,Won,2026-01-05,2026-02-01,1000,web
A2,Lost,2026-01-10,2026-02-15,0,
A3,Engaging,2026-02-01,,,web
A4,Prospecting,,,,web
A5,Won,2026-03-01,2026-04-20,500,web
A6,Engaging,2026-05-01,,,web
"""
MAPPING = """target: deals
columns:
  deal_id: opportunity_id
  created_at: {column: engage_date, drop_if_empty: "never engaged"}
  closed_at: close_date
  amount: {column: close_value, kind: money}
  channel: {column: source, default: unknown}
  status: {column: deal_stage, values: {Won: won, Lost: lost, Engaging: open, Prospecting: open}}
"""


def _client(tmp_path):
    (tmp_path / "crm.csv").write_text(EXPORT)
    (tmp_path / "m.yaml").write_text(MAPPING)
    import_files("mapping", [tmp_path / "crm.csv"], tmp_path / "data", mapping=tmp_path / "m.yaml")
    (tmp_path / "c.yaml").write_text(f"client: c\ndata_dir: {tmp_path / 'data'}\nas_of: 2026-03-31\n")
    return tmp_path / "c.yaml"


def test_the_import_writes_its_log_beside_the_data(tmp_path):
    _client(tmp_path)
    log = json.loads((tmp_path / "data" / IMPORT_LOG).read_text())
    assert log["format"] == 1 and set(log["files"]) == {"deals"}
    assert log["files"]["deals"]["rows"] == 5 and log["files"]["deals"]["name"] == "deals.csv"
    [entry] = log["imports"]
    assert entry == {
        "file": "deals", "export": "crm.csv", "source": "mapping", "rows_in_export": 6, "rows_set_aside": 1,
        "rows_imported": 5, "issues": [
            {"kind": "set aside", "issue": "engage_date empty", "rows": 1, "action": "row left out: never engaged"},
            {"kind": "filled", "issue": "source empty", "rows": 1, "action": "filled with 'unknown'"}]}


def test_importing_again_changes_no_byte_and_other_exports_are_kept(tmp_path):
    _client(tmp_path)
    first = (tmp_path / "data" / IMPORT_LOG).read_bytes()
    import_files("mapping", [tmp_path / "crm.csv"], tmp_path / "data", mapping=tmp_path / "m.yaml")
    assert (tmp_path / "data" / IMPORT_LOG).read_bytes() == first  # no timestamps: a rerun stays up to date
    spend = pd.DataFrame({"date": ["2026-01-05", "2026-01-06"], "channel": ["web", "web"], "spend": [10.0, 20.0]})
    import_frame(spend, "spend", tmp_path / "data", label="ads.csv")
    log = json.loads((tmp_path / "data" / IMPORT_LOG).read_text())
    assert [(e["file"], e["export"], e["rows_in_export"], e["rows_imported"]) for e in log["imports"]] == [
        ("deals", "crm.csv", 6, 5), ("spend", "ads.csv", 2, 2)]
    assert set(log["files"]) == {"deals", "spend"}


def test_the_loader_reads_the_log_and_the_counts_add_up(tmp_path):
    q = load_client(load_params(_client(tmp_path))).quality
    rows = q.rows_table().set_index("file").loc["deals"].to_dict()
    assert rows == {"rows in exports": 6, "set aside at import": 1, "rows imported": 5, "rows read": 5,
                    "set aside at load": 1, "rows used": 4}
    assert rows["rows in exports"] == rows["rows imported"] + rows["set aside at import"]
    assert rows["rows read"] == rows["rows used"] + rows["set aside at load"]
    assert q.import_table().to_dict("records") == [
        {"file": "deals", "export": "crm.csv", "issue": "engage_date empty", "rows": 1,
         "action": "row left out: never engaged"},
        {"file": "deals", "export": "crm.csv", "issue": "source empty", "rows": 1, "action": "filled with 'unknown'"}]


def test_the_data_quality_section_lists_import_and_load_set_asides(tmp_path):
    text = repr(data_quality(load_client(load_params(_client(tmp_path)))))
    lines = text.splitlines()
    assert "Rows per file: in the exports = imported + set aside at import; read = used + set aside at load" in lines
    assert lines[lines.index("Rows per file: in the exports = imported + set aside at import; read = used + set "
                             "aside at load") + 2].split() == ["deals", "6", "1", "5", "5", "1", "4"]
    assert "Set aside, filled or left unknown at import" in lines
    assert any(line.split() == ["deals", "crm.csv", "engage_date", "empty", "1", "row", "left", "out:", "never",
                                "engaged"] for line in lines)
    assert "Set aside and noted at load" in lines
    load = "\n".join(lines[lines.index("Set aside and noted at load"):])
    assert "created date after" in load and "amount empty (unknown): open 1" in load
    assert "No rows were set aside" not in text


def test_a_file_changed_since_its_import_does_not_claim_its_log(tmp_path):
    params = _client(tmp_path)
    deals = tmp_path / "data" / "deals.csv"
    deals.write_text(deals.read_text().replace("A1,2026-01-05", "A1,2026-01-06"))
    q = load_client(load_params(params)).quality
    assert q.imports == [] and "rows in exports" not in q.rows_table()
    notes = q.table().set_index("issue")
    assert notes.loc["deals.csv changed since its import", "rows"] == 5


def test_without_an_import_log_the_section_shows_load_counts_only(tiny):
    text = repr(data_quality(tiny))
    assert "Rows per file: read = used + set aside at load" in text and "rows in exports" not in text
    rows = tiny.quality.rows_table().set_index("file")
    # contacts: 7 read, C5 created after as_of -> 6 used; deals: 7 read, D7 created after as_of -> 6 used
    assert rows.loc["contacts"].tolist() == [7, 1, 6] and rows.loc["deals"].tolist() == [7, 1, 6]


def test_an_export_spread_over_days_says_how_its_rows_became_the_files(tmp_path):
    from pathlib import Path

    export = Path(__file__).parent / "fixtures" / "importers" / "linkedin_nodate.csv"  # 2 campaign rows, no dates
    import_files("linkedin-ads", [export], tmp_path / "data", period="2026-02-01..2026-02-03")
    (tmp_path / "c.yaml").write_text(f"client: c\ndata_dir: {tmp_path / 'data'}\nas_of: 2026-03-31\n")
    data = load_client(load_params(tmp_path / "c.yaml"))
    # 2 rows in the export, none set aside, both imported; spread over 3 days: 2 x 3 = 6 rows in spend.csv
    rows = data.quality.rows_table().set_index("file").loc["spend"].tolist()
    assert rows == [2, 0, 2, 6, 0, 6]
    text = repr(data_quality(data))
    assert "spend: the 2 rows imported were summed or spread into the file's 6 rows (see below)." in text
    assert "summed into 2 campaign total(s), spread evenly over the 3 days of 2026-02-01..2026-02-03: 6 rows" in text


def test_exports_imported_at_different_times_that_share_rows_are_explained(tmp_path):
    data_dir = tmp_path / "data"
    first = pd.DataFrame({"date": ["2026-01-05", "2026-01-06"], "channel": ["web", "web"], "spend": [10.0, 20.0]})
    later = pd.DataFrame({"date": ["2026-01-06", "2026-01-07"], "channel": ["web", "web"], "spend": [25.0, 30.0]})
    import_frame(first, "spend", data_dir, label="jan_a.csv")
    import_frame(later, "spend", data_dir, label="jan_b.csv")  # replaces Jan 6
    (tmp_path / "c.yaml").write_text(f"client: c\ndata_dir: {data_dir}\nas_of: 2026-03-31\n")
    data = load_client(load_params(tmp_path / "c.yaml"))
    # 2 + 2 rows imported, 3 in the file: Jan 5, Jan 6 (the later export's), Jan 7
    assert data.quality.rows_table().set_index("file").loc["spend"].tolist() == [4, 0, 4, 3, 0, 3]
    assert "spend: 3 rows read against 4 imported: exports imported at different times share rows" in repr(
        data_quality(data))
