"""Importers: sample exports with the real formats' quirks, merge without loss or duplicates,
malformed input leaves the data folder as it was."""

import filecmp
import math
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kpi_kit import DataError
from kpi_kit.cli import main
from kpi_kit.contract import CONTRACT
from kpi_kit.data import parse_frame, read_raw
from kpi_kit.importers import import_files

SAMPLES = Path(__file__).parent / "fixtures" / "importers"
DATASETS = Path(os.environ.get("KPI_KIT_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


def read(folder, stem):
    return pd.read_csv(folder / f"{stem}.csv")


def test_google_ads_quirks_bom_crlf_currency_thousands_and_dashes(tmp_path):
    report = import_files("google-ads", [SAMPLES / "google_ads.csv"], tmp_path)
    s = read(tmp_path, "spend")
    assert s["spend"].tolist() == [1234.5, 80.0, 99.5] and s["impressions"].tolist() == [10000, 4000, 3000]
    assert math.isnan(s.loc[1, "clicks"])  # '--' is empty, not 0
    assert set(s["channel"]) == {"google / cpc"}
    text = str(report)
    assert "byte-order mark" in text and "placeholder" in text and "3 row(s) written" in text
    parse_frame(pd.read_csv(tmp_path / "spend.csv", dtype=str), CONTRACT["spend"], "spend.csv")  # a valid file


def test_importing_twice_changes_nothing_and_overlap_merges(tmp_path):
    import_files("google-ads", [SAMPLES / "google_ads.csv"], tmp_path)
    first = (tmp_path / "spend.csv").read_bytes()
    report = import_files("google-ads", [SAMPLES / "google_ads.csv"], tmp_path)
    assert (tmp_path / "spend.csv").read_bytes() == first and "0 new, 3 already present" in str(report)
    import_files("google-ads", [SAMPLES / "google_ads_later.csv"], tmp_path)
    s = read(tmp_path, "spend")
    # Jan 6 Brand is replaced by the later export; Jan 7 added; nothing duplicated
    assert len(s) == 4 and s.set_index(["date", "campaign"]).loc[("2026-01-06", "Brand"), "spend"] == 100.0


def test_malformed_export_names_file_column_rows_and_leaves_folder_unchanged(tmp_path):
    import_files("google-ads", [SAMPLES / "google_ads.csv"], tmp_path)
    before = tmp_path.parent / "before"
    shutil.copytree(tmp_path, before)
    with pytest.raises(DataError) as err:
        import_files("google-ads", [SAMPLES / "google_ads_later.csv", SAMPLES / "google_ads_bad.csv"], tmp_path)
    msg = str(err.value)
    assert msg.startswith("google_ads_bad.csv, column 'Day': unparsable date (e.g. '2026-13-45') (rows 4)")
    assert "Fix:" in msg
    assert not filecmp.dircmp(before, tmp_path).diff_files and sorted(os.listdir(tmp_path)) == ["import_log.json", "spend.csv"]


def test_cli_import_and_error_exit(tmp_path):
    ok = CliRunner().invoke(main, ["import", "google-ads", str(SAMPLES / "google_ads.csv"), "--out", str(tmp_path)])
    assert ok.exit_code == 0 and "spend: 3 row(s)" in ok.output
    bad = CliRunner().invoke(main, ["import", "google-ads", str(SAMPLES / "google_ads_bad.csv"), "--out", str(tmp_path)])
    assert bad.exit_code == 1 and bad.output.startswith("error: google_ads_bad.csv, column 'Day'")
    listing = CliRunner().invoke(main, ["import", "--help"])
    assert all(name in listing.output for name in ("google-ads", "linkedin-ads", "facebook-ads", "ga4-traffic", "mapping"))


def test_ga4_comment_lines_and_compact_dates(tmp_path):
    report = import_files("ga4-traffic", [SAMPLES / "ga4.csv"], tmp_path)
    t = read(tmp_path, "traffic")
    assert t["date"].tolist() == ["2026-01-05", "2026-01-05", "2026-01-06"]
    assert t["sessions"].tolist() == [1200, 300, 1100] and t["avg_session_seconds"].tolist() == [61.5, 40.25, 58.0]
    assert "skipped 4 comment line(s)" in str(report)


def test_export_without_dates_is_spread_over_the_period(tmp_path):
    with pytest.raises(DataError, match="pass --period"):
        import_files("linkedin-ads", [SAMPLES / "linkedin_nodate.csv"], tmp_path)
    import_files("linkedin-ads", [SAMPLES / "linkedin_nodate.csv"], tmp_path, period="2026-02-01..2026-02-03")
    s = read(tmp_path, "spend")
    abm = s[s["campaign"] == "ABM Enterprise"]
    assert abm["spend"].tolist() == [333.33, 333.33, 333.34] and abm["spend"].sum() == pytest.approx(1000.0)
    assert abm["impressions"].tolist() == [1033, 1033, 1034] and set(s["channel"]) == {"linkedin / paid"}


def test_mapping_yaml_with_value_map_constant_and_us_dates(tmp_path):
    import_files("mapping", [SAMPLES / "pipeline.csv"], tmp_path, mapping=SAMPLES / "pipeline_mapping.yaml")
    d = read(tmp_path, "deals").set_index("deal_id")
    assert d.loc["O1", ["status", "created_at", "closed_at", "amount"]].tolist() == ["won", "2016-10-20", "2017-03-01", 1054]
    assert d.loc["O3", "status"] == "open" and pd.isna(d.loc["O3", "closed_at"])
    assert pd.isna(d.loc["O3", "amount"])  # no close_value: unknown, left empty, not 0
    assert set(d["channel"]) == {"outbound sdr"}


@pytest.mark.skipif(not (DATASETS / "facebook-ads").exists(), reason="shared datasets not present")
def test_real_facebook_export(tmp_path):
    report = import_files("facebook-ads", [DATASETS / "facebook-ads" / "KAG_conversion_data.csv"], tmp_path,
                          period="2017-08-17..2017-08-30")
    s = read(tmp_path, "spend")
    raw = pd.read_csv(DATASETS / "facebook-ads" / "KAG_conversion_data.csv", encoding="utf-8-sig")
    assert s["spend"].sum() == pytest.approx(raw["Spent"].sum(), abs=0.05)  # spread in whole cents
    assert s["impressions"].sum() == raw["Impressions"].sum() and s["clicks"].sum() == raw["Clicks"].sum()
    assert sorted(s["campaign"].astype(str).unique()) == ["1178", "916", "936"]
    assert "byte-order mark" in str(report) and "spread 3 campaign total(s)" in str(report)


def contract(folder, stem):
    """The imported file parsed by the kit's own contract checks (proves it is a valid data file)."""
    return parse_frame(read_raw(folder / f"{stem}.csv"), CONTRACT[stem], stem)


def test_hubspot_contacts_old_and_new_stage_columns(tmp_path):
    report = str(import_files("hubspot-contacts", [SAMPLES / "hubspot_contacts.csv"], tmp_path))
    c = contract(tmp_path, "contacts").set_index("contact_id")
    assert c.loc["101", ["lead_at", "mql_at", "opportunity_at", "customer_at"]].tolist() == [
        pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-20"), pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-15")]
    assert pd.isna(c.loc["101", "sql_at"])  # skipped stage stays empty: the funnel counts the skip
    assert c.loc["102", "lead_at"] == pd.Timestamp("2024-01-07")  # only the newer 'Date entered' column
    assert c.loc["104", "customer_at"] == pd.Timestamp("2024-04-01")
    assert c.loc["103", "channel"] == "unknown" and c.loc["101", "channel"] == "Organic Search"
    assert "1 contact(s) without a source" in report and "1 contact(s) are Subscriber" in report
    assert "removed the UTF-8 byte-order mark" in report


def test_hubspot_deals_status_expected_close_amounts_and_probability(tmp_path):
    report = str(import_files("hubspot-deals", [SAMPLES / "hubspot_deals.csv"], tmp_path))
    d = contract(tmp_path, "deals").set_index("deal_id")
    assert d["status"].to_dict() == {"9001": "won", "9002": "open", "9003": "lost", "9004": "open"}
    # no Amount: unknown, left empty, never 0 (SPEC "Real data")
    assert d.loc["9001", "amount"] == 12000.0 and pd.isna(d.loc["9003", "amount"]) and pd.isna(d.loc["9004", "amount"])
    assert d.loc["9001", "closed_at"] == pd.Timestamp("2024-03-15") and pd.isna(d.loc["9002", "closed_at"])
    assert d.loc["9002", "expected_close_at"] == pd.Timestamp("2024-06-30")
    assert d["probability"].tolist() == [1.0, 0.9, 0.0, 0.2]
    assert d.loc["9002", "contact_id"] == "102"
    assert "Amount: 2 row(s) without a value (lost 1, open 1): left empty (unknown, not 0)" in report \
        or "Amount: 2 row(s) without a value (open 1, lost 1): left empty (unknown, not 0)" in report
    assert "several associated contacts" in report


def test_salesforce_opportunities_flags_currency_percent_and_footer(tmp_path):
    report = str(import_files("salesforce-opportunities", [SAMPLES / "salesforce_opportunities.csv"], tmp_path))
    d = contract(tmp_path, "deals").set_index("deal_id")
    assert len(d) == 3  # the copyright / "Generated By" footer is not a deal
    assert d["status"].tolist() == ["won", "lost", "open"]
    assert d["amount"].tolist() == [24000.0, 8000.0, 15500.0]
    assert d["probability"].tolist() == [1.0, 0.0, 0.9]
    assert d.loc["0065g00000A1", "closed_at"] == pd.Timestamp("2024-03-31")  # US dates
    assert d.loc["0065g00000A3", "expected_close_at"] == pd.Timestamp("2024-07-31")
    assert pd.isna(d.loc["0065g00000A3", "channel"])
    assert "dropped 4 footer line(s)" in report and "1 won, 1 lost, 1 open" in report


def test_salesforce_leads_converted_date_and_excel_serial(tmp_path):
    import_files("salesforce-leads", [SAMPLES / "salesforce_leads.csv"], tmp_path)
    c = contract(tmp_path, "contacts").set_index("contact_id")
    assert c.loc["00Q5g01", "sql_at"] == pd.Timestamp("2024-02-02")
    assert c.loc["00Q5g03", "created_at"] == pd.Timestamp("2024-01-19")  # Excel serial 45310
    assert (c["lead_at"] == c["created_at"]).all()
    assert c.loc["00Q5g03", "channel"] == "unknown"


def test_stripe_subscriptions_normalise_to_the_kits_mrr(tmp_path):
    from kpi_kit.metrics.economics import customer_mrr

    report = str(import_files("stripe-subscriptions", [SAMPLES / "stripe_subscriptions.csv"], tmp_path))
    s = contract(tmp_path, "subscriptions").set_index("subscription_id")
    assert "sub_4" not in s.index  # a trial never paid
    assert s.loc["sub_2", ["amount", "billing_period_months"]].tolist() == [1200.0, 12.0]
    assert s.loc["sub_3", ["amount", "discount"]].tolist() == [150.0, 30.0]  # 3 seats x $50, 20 % off
    assert s.loc["sub_3", "end_date"] == pd.Timestamp("2024-04-10")
    assert pd.isna(s.loc["sub_5", "end_date"])  # cancelled at period end: still paying
    assert pd.isna(s.loc["sub_6", "discount"])  # a coupon without a value: unknown, left empty, reported
    assert s.loc["sub_1", "discount"] == 0.0  # no coupon: no discount (known, not unknown)
    assert "NOT deducted" in report and "that never paid (trialing)" in report
    m = customer_mrr(s.reset_index(), as_of=pd.Timestamp("2024-03-31"))
    march = m.loc[m["month"] == pd.Period("2024-03", "M")].set_index("customer_id")["mrr"]
    assert march.to_dict() == {"cus_A": 100.0, "cus_B": 100.0, "cus_C": 120.0, "cus_E": 80.0, "cus_F": 50.0}


def test_every_source_is_listed_in_the_cli_help():
    from kpi_kit.importers import SOURCE_NAMES

    out = CliRunner().invoke(main, ["import", "--help"]).output
    assert all(name in out for name in SOURCE_NAMES)


MALFORMED = [  # (source, sample, export column, row to break (0-based data row), bad value, expected problem)
    ("hubspot-contacts", "hubspot_contacts.csv", "Create Date", 1, "next Tuesday", "unparsable date"),
    ("hubspot-deals", "hubspot_deals.csv", "Amount", 2, "twelve", "unparsable money"),
    ("salesforce-opportunities", "salesforce_opportunities.csv", "Close Date", 0, "31/31/2024", "unparsable date"),
    ("salesforce-leads", "salesforce_leads.csv", "Lead ID", 1, "00Q5g01", "duplicate"),
    ("stripe-subscriptions", "stripe_subscriptions.csv", "Interval", 0, "week", "billing interval 'week'"),
    ("ga4-traffic", "ga4.csv", "Sessions", 0, "-5", "negative"),
]


@pytest.mark.parametrize(("source", "sample", "column", "row", "value", "problem"), MALFORMED)
def test_each_source_stops_on_a_malformed_export_and_leaves_the_folder(tmp_path, source, sample, column, row,
                                                                        value, problem):
    raw = pd.read_csv(SAMPLES / sample, dtype=str, keep_default_na=False, comment="#", encoding="utf-8-sig")
    raw = raw[raw.iloc[:, 1:].ne("").any(axis=1)]  # without the Salesforce footer
    raw.loc[raw.index[row], column] = value
    broken = tmp_path / f"broken_{sample}"
    raw.to_csv(broken, index=False)
    data = tmp_path / "data"
    CliRunner().invoke(main, ["import", source, str(SAMPLES / sample), "--out", str(data)])
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    result = CliRunner().invoke(main, ["import", source, str(broken), "--out", str(data)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {broken.name}, column '")
    assert problem in result.output and "Fix:" in result.output
    assert re.search(rf"\(rows [\d, ]*\b{row + 2}\b", result.output)  # the broken row, numbered as in the file
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


def test_the_readme_documents_every_source():
    from kpi_kit.importers import SOURCE_NAMES

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in SOURCE_NAMES)


def test_mapping_reads_an_excel_sheet_with_real_dates_and_serials(tmp_path):
    sheet = tmp_path / "pipeline.xlsx"
    pd.DataFrame({"opportunity_id": ["O1", "O2"], "deal_stage": ["Won", "Engaging"],
                  "engage_date": [pd.Timestamp("2016-10-20"), pd.Timestamp("2016-11-02")],
                  "close_date": ["42795", ""], "close_value": ["$1,054.00", ""]}).to_excel(sheet, sheet_name="deals",
                                                                                         index=False)
    mapping = tmp_path / "m.yaml"
    mapping.write_text((SAMPLES / "pipeline_mapping.yaml").read_text() + "sheet: deals\n")
    report = str(import_files("mapping", [sheet], tmp_path / "data", mapping=mapping))
    d = contract(tmp_path / "data", "deals").set_index("deal_id")
    assert d.loc["O1", "closed_at"] == pd.Timestamp("2017-03-01")  # Excel serial 42795
    assert d.loc["O1", "created_at"] == pd.Timestamp("2016-10-20") and d.loc["O1", "amount"] == 1054.0
    assert d.loc["O2", "status"] == "open" and pd.isna(d.loc["O2", "amount"])
    assert "close_value: 1 row(s) without a value (open 1): left empty (unknown, not 0)" in report
