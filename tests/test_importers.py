"""Importers: sample exports with the real formats' quirks, merge without loss or duplicates,
malformed input leaves the data folder as it was."""

import filecmp
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kpi_kit import DataError
from kpi_kit.cli import main
from kpi_kit.contract import CONTRACT
from kpi_kit.data import parse_frame
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
    assert not filecmp.dircmp(before, tmp_path).diff_files and sorted(os.listdir(tmp_path)) == ["spend.csv"]


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
