"""Client data in a DuckDB file (kpi_kit/sources): the same frames, checks, messages and metrics as files;
`kpi-kit db load`, `kpi-kit import --into`; bad source input stops with one message, never a traceback."""

import json
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from kpi_kit import DataError, load_client, load_params
from kpi_kit.cli import main
from kpi_kit.exceptions import KpiKitError, ParamsError
from kpi_kit.importers import import_files
from kpi_kit.metrics import compute
from kpi_kit.params import Params
from kpi_kit.sources import open_tables
from kpi_kit.sources._url import expand, has_literal_password, redact, resolve
from kpi_kit.sources.load import load_database

pytestmark = pytest.mark.long(15)  # seconds, measured with --durations=0: starts first under make test

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "data" / "clients" / "demo.yaml"
SAMPLES = Path(__file__).parent / "fixtures" / "importers"


def client_yaml(folder: Path, source: dict, name: str = "client.yaml", **extra) -> Path:
    """The demo client's parameters with ``source`` in place of data_dir."""
    raw = yaml.safe_load(DEMO.read_text())
    raw.pop("data_dir")
    path = folder / name
    path.write_text(yaml.safe_dump({**raw, "source": source, **extra}, sort_keys=False))
    return path


def comparable(metrics: dict) -> dict:
    """metrics.json without the one parameter that differs: where the data is."""
    out = json.loads(json.dumps(metrics))
    out["params"].pop("data_dir")
    out["params"].pop("source")
    return out


@pytest.fixture(scope="module")
def demo_duckdb(tmp_path_factory):
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    rows = load_database(DEMO, path)
    assert rows["contacts"] == 23200 and len(rows) == 10
    return path


@pytest.fixture(scope="module")
def demo_files():
    return load_client(load_params(DEMO))


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    return result


# -- the demo client from DuckDB equals the file run ------------------------------------------------------
def test_demo_from_duckdb_has_the_same_frames_quality_and_metrics(demo_duckdb, demo_files, tmp_path):
    params = load_params(client_yaml(tmp_path, {"url": f"duckdb:///{demo_duckdb}"}))
    data = load_client(params)
    assert list(data.frames) == list(demo_files.frames)
    for stem, df in demo_files.frames.items():
        pd.testing.assert_frame_equal(data[stem], df, obj=stem)
    assert data.quality == demo_files.quality
    files_json = compute(demo_files).metrics_json()
    db_json = compute(data).metrics_json()
    assert comparable(db_json) == comparable(files_json)
    assert db_json["params"]["source"]["url"] == f"duckdb:///{demo_duckdb}"


def test_kpi_kit_run_from_duckdb_writes_the_file_runs_metrics(demo_duckdb, demo_file_run, tmp_path):
    params = client_yaml(tmp_path, {"url": f"duckdb:///{demo_duckdb}"})
    result = cli("run", params, "--out", tmp_path / "reports", "--notebooks", "funnel", "--no-progress")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "demo" / "2026-10-31"
    metrics, kpis = demo_file_run
    assert comparable(json.loads((folder / "metrics.json").read_text())) == comparable(metrics)
    assert (folder / "kpis.csv").read_text() == kpis
    assert (folder / "funnel.html").stat().st_size > 10_000


def test_relative_url_is_relative_to_the_yaml_and_tables_may_be_named(demo_duckdb, demo_files, tmp_path):
    shutil.copy(demo_duckdb, tmp_path / "w.duckdb")
    (tmp_path / "clients").mkdir()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA crm")
    con.execute("CREATE TABLE crm.people AS SELECT * FROM contacts")
    con.execute("CREATE VIEW won AS SELECT * FROM deals")
    con.close()
    tables = {"contacts": "crm.people", "deals": "won",
              "spend": "SELECT date, channel, spend, campaign FROM spend WHERE spend >= 0"}
    params = load_params(client_yaml(tmp_path / "clients", {"url": "duckdb:///../w.duckdb", "tables": tables}))
    assert params.source.url == f"duckdb:///{tmp_path / 'w.duckdb'}"
    data = load_client(params)
    # tables not named are absent, like missing optional files
    assert set(data.frames) == {"contacts", "deals", "spend"}
    for stem in ("contacts", "deals"):
        pd.testing.assert_frame_equal(data[stem], demo_files[stem])
    pd.testing.assert_frame_equal(data["spend"], demo_files["spend"][data["spend"].columns])


def test_two_runs_read_one_file_at_once_and_leave_it_as_it_was(demo_duckdb, tmp_path):
    params = load_params(client_yaml(tmp_path, {"url": f"duckdb:///{demo_duckdb}"}))
    before = demo_duckdb.read_bytes()
    first, second = open_tables(params), open_tables(params)  # both open read-only at the same time
    assert len(first["contacts"].read_frame()) == len(second["contacts"].read_frame()) == 23200
    for tables in (first, second):
        for t in tables.values():
            if t is not None and t.stem != "contacts":
                t.read_frame()
    assert demo_duckdb.read_bytes() == before


# -- kpi-kit db load and kpi-kit import --into ------------------------------------------------------------
def test_cli_db_load_prints_the_source_block_and_tables(tmp_path):
    target = tmp_path / "w.duckdb"
    result = cli("db", "load", ROOT / "data" / "demo", target)
    assert result.exit_code == 0, result.output
    assert "contacts" in result.output and "23,200 rows" in result.output
    assert f'source: {{url: "duckdb:///{target}"}}' in result.output
    listing = cli("db", "tables", target)
    assert listing.exit_code == 0 and "touches" in listing.output and "43,955 rows" in listing.output
    con = duckdb.connect(str(target), read_only=True)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'deals'").fetchall())
    con.close()
    assert types["created_at"] == "DATE" and types["amount"] == "DOUBLE" and types["deal_id"] == "VARCHAR"


def test_db_load_of_a_bad_folder_stops_with_the_files_message(tmp_path):
    shutil.copytree(ROOT / "tests" / "fixtures" / "tiny", tmp_path / "tiny")
    contacts = tmp_path / "tiny" / "contacts.csv"
    contacts.write_text(contacts.read_text().replace("C3,2026-02-01", "C3,yesterday"))
    result = cli("db", "load", tmp_path / "tiny", tmp_path / "w.duckdb")
    assert result.exit_code == 1
    assert result.output.startswith("error: contacts.csv, column 'created_at': unparsable date (e.g. 'yesterday')")
    assert not (tmp_path / "w.duckdb").exists()


def duck_table(path, stem):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {stem}").df()
    finally:
        con.close()


def test_import_into_duckdb_merges_like_a_folder_import(tmp_path):
    db, folder = tmp_path / "w.duckdb", tmp_path / "folder"
    report = import_files("google-ads", [SAMPLES / "google_ads.csv"], db)
    assert "3 row(s) written to a new table in w.duckdb" in str(report)
    first = duck_table(db, "spend")
    report = import_files("google-ads", [SAMPLES / "google_ads.csv"], db)
    assert "0 new, 3 already present" in str(report)
    pd.testing.assert_frame_equal(duck_table(db, "spend"), first)  # importing twice changes nothing
    result = cli("import", "google-ads", SAMPLES / "google_ads_later.csv", "--into", db)
    assert result.exit_code == 0, result.output
    for f in ("google_ads.csv", "google_ads_later.csv"):
        import_files("google-ads", [SAMPLES / f], folder)
    merged = duck_table(db, "spend")
    from_folder = pd.read_csv(folder / "spend.csv")
    # the same rows as the folder import (later export wins on the same key), typed
    assert len(merged) == len(from_folder) == 4
    assert merged.set_index(["date", "campaign"]).loc[(pd.Timestamp("2026-01-06"), "Brand"), "spend"] == 100.0
    assert sorted(merged["spend"].tolist()) == sorted(from_folder["spend"].tolist())


def test_malformed_import_leaves_the_database_as_it_was(tmp_path):
    db = tmp_path / "w.duckdb"
    import_files("google-ads", [SAMPLES / "google_ads.csv"], db)
    before = duck_table(db, "spend")
    result = cli("import", "google-ads", SAMPLES / "google_ads_bad.csv", "--into", db)
    assert result.exit_code == 1 and result.output.startswith("error: google_ads_bad.csv, column 'Day'")
    pd.testing.assert_frame_equal(duck_table(db, "spend"), before)


def test_import_needs_out_or_into(tmp_path):
    result = cli("import", "google-ads", SAMPLES / "google_ads.csv")
    assert result.exit_code == 1 and "--out FOLDER or --into FILE.duckdb" in result.output


def test_imports_accumulate_in_the_file_the_client_reads(demo_files, tmp_path):
    db = tmp_path / "w.duckdb"
    load_database(DEMO, db)
    report = import_files("google-ads", [SAMPLES / "google_ads.csv"], db)
    # the demo has google / cpc Brand and Generic on 2026-01-05: the export replaces them
    assert "3 row(s) imported into w.duckdb: 1 new, 2 already present (replaced by the import), 2199 kept" in str(report)
    data = load_client(load_params(client_yaml(tmp_path, {"url": "duckdb:///w.duckdb"})))
    assert data.quality.rows_read["spend"] == demo_files.quality.rows_read["spend"] + 1
    day = data["spend"].set_index(["date", "channel_raw", "campaign"])["spend"]
    assert day[(pd.Timestamp("2026-01-05"), "google / cpc", "Brand")] == 1234.5


# -- bad source input: one message, non-zero exit, no traceback ---------------------------------------------
BAD = [
    ({"url": "duckdb:///missing.duckdb"}, "database file not found"),
    ({"url": "DEMO", "tables": {"contacts": "nope"}}, "table nope as contacts (duckdb:///"),
    ({"url": "DEMO", "tables": {"contacts": "SELECT * FROM contacts WHERE"}},
     "query for contacts (duckdb:///"),
    ({"url": "DEMO", "tables": {"contacts": "SELECT contact_id, 5 AS created_at, channel FROM contacts"}},
     "column 'created_at': the database type int32 cannot hold a date"),
    ({"url": "DEMO", "tables": {"contacts": "SELECT contact_id, created_at, channel, true AS lead_at FROM contacts"}},
     "column 'lead_at': the database type bool cannot hold a date"),
    ({"url": "DEMO", "tables": {"contacts": "contacts", "deals": "SELECT deal_id, created_at, status, "
                                "'1,000' AS amount FROM deals"}},
     "column 'amount': unparsable number (e.g. '1,000') (rows 1, 2, 3, 4, 5 and 1951 more)"),
    ({"url": "DEMO", "tables": {"contacts": "SELECT * EXCLUDE (channel) FROM contacts"}},
     "column 'channel': required column is missing"),
    ({"url": "DEMO", "tables": {"contacts": "SELECT contact_id, CASE WHEN contact_id IN ('C000004', 'C000008') "
                                "THEN 'soon' ELSE created_at::VARCHAR END AS created_at, channel FROM contacts "
                                "ORDER BY contact_id"}},
     "column 'created_at': unparsable date (e.g. 'soon') (rows 4, 8)"),
    ({"url": "DEMO", "tables": {"deals": "deals"}}, "contacts is required"),
    ({"url": "DEMO", "tables": {"contact": "contacts"}}, "unknown contract table(s) 'contact'"),
    ({"url": "mysql://kit@host/db"}, "unsupported database 'mysql'"),
    ({"url": "postgresql://kit:hunter2-secret@127.0.0.1:1/kit"}, "the URL holds a password"),
    ({"url": "postgresql://kit:${KPI_KIT_UNSET_VARIABLE}@127.0.0.1:1/kit"},
     "environment variable KPI_KIT_UNSET_VARIABLE is not set"),
]


@pytest.mark.parametrize("source, message", BAD, ids=lambda v: str(v)[:40] if isinstance(v, dict) else None)
def test_bad_source_gives_one_message_and_non_zero_exit(demo_duckdb, tmp_path, source, message):
    url = source["url"].replace("DEMO", f"duckdb:///{demo_duckdb}")
    params = client_yaml(tmp_path, {**source, "url": url})
    result = cli("validate", params)
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert result.output.startswith("error: ") and result.output.count("error: ") == 1
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_bad_source_stops_kpi_kit_run_with_the_same_message(demo_duckdb, tmp_path):
    params = client_yaml(tmp_path, {"url": f"duckdb:///{demo_duckdb}", "tables": {"contacts": "nope"}})
    result = cli("run", params, "--out", tmp_path / "reports", "--no-progress")
    assert result.exit_code == 1
    assert "FAILED  demo: table nope as contacts (duckdb:///" in result.output and "Traceback" not in result.output
    secret = client_yaml(tmp_path, {"url": "postgresql://kit:hunter2-secret@127.0.0.1:1/kit"}, name="secret.yaml")
    result = cli("run", secret, "--out", tmp_path / "reports", "--no-progress")
    assert result.exit_code == 1 and "the URL holds a password" in result.output and "hunter2" not in result.output


def test_params_take_data_dir_or_source_exactly_one(tmp_path):
    raw = {"client": "x", "as_of": "2026-10-31"}
    with pytest.raises(ParamsError, match="exactly one of the two"):
        Params.from_mapping(raw)
    with pytest.raises(ParamsError, match="exactly one of the two"):
        Params.from_mapping({**raw, "data_dir": "x", "source": {"url": "duckdb:///w.duckdb"}})
    (tmp_path / "neither.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match=r"'data_dir' is missing\. Fix: add 'data_dir: \.\.\.' \(or a database 'source:'\)"):
        load_params(tmp_path / "neither.yaml")
    assert Params.from_mapping({**raw, "data_dir": "x"}).source is None


def test_without_tables_a_database_without_contacts_stops(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE deals AS SELECT 1 AS deal_id")
    con.close()
    with pytest.raises(DataError, match="no contacts table"):
        load_client(load_params(client_yaml(tmp_path, {"url": "duckdb:///w.duckdb"})))


def test_a_file_that_is_not_duckdb_is_named(tmp_path):
    (tmp_path / "w.duckdb").write_text("contact_id,created_at\n")
    with pytest.raises(DataError, match="not a DuckDB database file"):
        load_client(load_params(client_yaml(tmp_path, {"url": "duckdb:///w.duckdb"})))


# -- URLs ------------------------------------------------------------------------------------------------
def test_urls_passwords_and_environment(monkeypatch, tmp_path):
    assert has_literal_password("postgresql://kit:secret@host/db")
    assert has_literal_password("postgresql://kit@host/db?sslmode=require&password=secret")
    assert not has_literal_password("postgresql://kit:${PW}@host/db")
    assert not has_literal_password("postgresql://kit@host:5432/db")
    assert redact("postgresql://kit:${PW}@host:5432/db?password=${PW}&sslmode=require") == \
        "postgresql://kit@host:5432/db?sslmode=require"
    assert resolve("duckdb:///w.duckdb", tmp_path) == f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert resolve("duckdb:////abs/w.duckdb", tmp_path) == "duckdb:////abs/w.duckdb"
    assert resolve("postgresql://kit@host/db", tmp_path) == "postgresql://kit@host/db"
    monkeypatch.setenv("KIT_PW", "p@ss/word")
    monkeypatch.setenv("KIT_HOST", "db.example.com")
    url, secrets = expand("postgresql://kit:${KIT_PW}@${KIT_HOST}:5432/db", "source")
    assert url == "postgresql://kit:p%40ss%2Fword@db.example.com:5432/db" and secrets == ["p@ss/word"]
    monkeypatch.delenv("KIT_PW")
    with pytest.raises(KpiKitError, match="environment variable KIT_PW is not set"):
        expand("postgresql://kit:${KIT_PW}@host/db", "source")
    assert "KIT_PW" not in os.environ


def test_the_shipped_duckdb_example_is_the_demo_client_and_not_in_the_batch_folder():
    from kpi_kit.run.batch import expand_params_paths

    example = ROOT / "data" / "clients" / "examples" / "demo-duckdb.yaml"
    params, demo = load_params(example), load_params(DEMO)
    assert params.source.url == f"duckdb:///{ROOT / 'build' / 'demo.duckdb'}" and params.source.tables is None
    skip = {"client", "data_dir", "source"}
    assert {k: v for k, v in params if k not in skip} == {k: v for k, v in demo if k not in skip}
    assert example not in expand_params_paths([ROOT / "data" / "clients"])


# -- a damaged file is not a wrong table name (issue 31) ----------------------------------------------------
def _damage(src: Path, dst: Path, how: str) -> Path:
    shutil.copy(src, dst)
    size = dst.stat().st_size
    with open(dst, "r+b") as f:
        if how == "truncated":  # a copy cut short, a disk that filled while it was written
            f.truncate(size // 2)
        else:  # bytes overwritten in the middle: every table's blocks fail their checksum
            f.seek(300_000)
            f.write(b"\x5a" * (size - 600_000))
    return dst


@pytest.mark.parametrize("how", ["truncated", "corrupt"])
def test_a_damaged_duckdb_file_says_so_and_how_to_load_it_again(demo_duckdb, tmp_path, how):
    """Before: "the database refused the query ... Fix: correct the table name or the SELECT under source.tables"."""
    damaged = _damage(demo_duckdb, tmp_path / "w.duckdb", how)
    result = cli("validate", client_yaml(tmp_path, {"url": "duckdb:///w.duckdb"}))
    assert result.exit_code == 1, result.output
    assert f"this file is damaged: {damaged}" in result.output, result.output
    assert "Fix: restore it or load it again with `kpi-kit db load" in result.output
    assert "correct the table name" not in result.output and "Traceback" not in result.output
    # the command named in the fix is the kit's own
    assert cli("db", "load", "--help").exit_code == 0
    # a wrong table name keeps its message
    wrong = cli("validate", client_yaml(tmp_path, {"url": f"duckdb:///{demo_duckdb}", "tables": {"contacts": "nope"}},
                                        name="wrong.yaml"))
    assert "correct the table name or the SELECT under source.tables" in wrong.output, wrong.output
