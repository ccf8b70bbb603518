"""Client data in PostgreSQL, against a real throwaway server (tests/postgres.py, started once per session):
the demo client renders with the file run's metrics; bad input stops with one message, no password shown."""

import json
import os

import pandas as pd
import pytest
from test_sources import DEMO, ROOT, cli, client_yaml, comparable

from kpi_kit import DataError, load_client, load_params
from kpi_kit.metrics import compute
from kpi_kit.sources.load import load_database

pytestmark = pytest.mark.long(9)  # seconds, measured with --durations=0: starts first under make test

STEMS = ["contacts", "deals", "subscriptions", "customers", "spend", "traffic", "touches", "costs", "engagement", "targets"]


@pytest.fixture(scope="module")
def pg(postgres):
    """The server with the demo client in schema crm, a view, and a few tables of the wrong shape."""
    import adbc_driver_postgresql.dbapi as adbc

    saved = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = postgres.password
    try:
        rows = load_database(DEMO, postgres.url, schema="crm")
    finally:
        if saved is None:
            os.environ.pop("PGPASSWORD")
        else:
            os.environ["PGPASSWORD"] = saved
    assert rows["touches"] == 43955
    with adbc.connect(postgres.secret_url, autocommit=True) as con, con.cursor() as cur:
        cur.execute("CREATE VIEW crm.deals_view AS SELECT * FROM crm.deals")
        cur.execute("CREATE SCHEMA odd")
        cur.execute("CREATE TABLE odd.contacts AS SELECT contact_id, created_at IS NOT NULL AS created_at, channel "
                    "FROM crm.contacts")
        cur.execute("CREATE TABLE odd.numbered AS SELECT (row_number() OVER (ORDER BY contact_id))::bigint AS contact_id, "
                    "created_at, channel FROM crm.contacts")
        cur.execute("CREATE TABLE odd.deals AS SELECT deal_id, created_at, status, amount::numeric(12, 2) AS amount, "
                    "closed_at FROM crm.deals")
    return postgres


@pytest.fixture
def password(pg, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", pg.password)
    return pg.password


def every_table(**changes) -> dict:
    return {stem: f"crm.{stem}" for stem in STEMS} | changes


def test_demo_from_postgres_equals_the_file_run(pg, password, tmp_path):
    tables = every_table(deals="crm.deals_view", spend="SELECT * FROM crm.spend ORDER BY 1, 2, 3")
    data = load_client(load_params(client_yaml(tmp_path, {"url": pg.url, "tables": tables})))
    files = load_client(load_params(DEMO))
    for stem, df in files.frames.items():
        if stem != "spend":  # row order of a table follows the load; the SELECT orders spend otherwise
            pd.testing.assert_frame_equal(data[stem], df, obj=stem)
    assert data.quality == files.quality
    assert comparable(compute(data).metrics_json()) == comparable(compute(files).metrics_json())


def test_kpi_kit_run_from_postgres_writes_the_file_runs_metrics(pg, password, demo_file_run, tmp_path):
    params = client_yaml(tmp_path, {"url": pg.url, "tables": every_table()})
    result = cli("run", params, "--out", tmp_path / "reports", "--notebooks", "funnel", "--no-progress")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "demo" / "2026-10-31"
    written = json.loads((folder / "metrics.json").read_text())
    assert comparable(written) == comparable(demo_file_run[0])
    assert (folder / "kpis.csv").read_text() == demo_file_run[1]
    assert written["params"]["source"]["url"] == pg.url
    assert pg.password not in "".join(p.read_text() for p in folder.iterdir() if p.suffix in (".json", ".html", ".ipynb"))


def test_password_from_a_named_variable(pg, monkeypatch, tmp_path):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("KIT_WAREHOUSE_PW", pg.password)
    url = pg.url.replace(f"{pg.user}@", f"{pg.user}:${{KIT_WAREHOUSE_PW}}@")
    data = load_client(load_params(client_yaml(tmp_path, {"url": url, "tables": {"contacts": "crm.contacts"}})))
    assert set(data.frames) == {"contacts"} and data.quality.rows_read["contacts"] == 23200
    assert data.params.source.url == url  # the placeholder, never its value


def test_integer_ids_and_numeric_amounts_keep_their_values(pg, password, tmp_path):
    tables = {"contacts": "odd.numbered", "deals": "odd.deals"}
    data = load_client(load_params(client_yaml(tmp_path, {"url": pg.url, "tables": tables})))
    assert data["contacts"]["contact_id"].iloc[0] == "1"  # an id, not 1.0
    files = load_client(load_params(DEMO))
    assert data["deals"]["amount"].sum() == pytest.approx(files["deals"]["amount"].sum())


def test_cli_db_load_into_postgres(pg, password, tmp_path):
    result = cli("db", "load", ROOT / "tests" / "fixtures" / "tiny.yaml", pg.url, "--schema", "tiny")
    assert result.exit_code == 0, result.output
    assert f'source: {{url: "{pg.url}", tables: {{contacts: tiny.contacts' in result.output
    tiny = load_params(ROOT / "tests" / "fixtures" / "tiny.yaml")
    params = tiny.model_copy(update={"data_dir": None}).model_dump()
    from kpi_kit.params import Params

    from_db = Params.from_mapping({**params, "source": {"url": pg.url, "tables": {"contacts": "tiny.contacts",
                                                                                  "deals": "tiny.deals"}}})
    assert len(load_client(from_db)["contacts"]) == len(load_client(tiny)["contacts"])


# -- bad input -------------------------------------------------------------------------------------------
BAD = [
    ({"contacts": "crm.nope"}, 'table crm.nope as contacts (postgresql://kit@127.0.0.1:', 'relation "crm.nope" does not exist'),
    ({"contacts": "SELECT * FROM crm.contacts WHERE"}, "query for contacts (postgresql://", "syntax error at end of input"),
    ({"contacts": "odd.contacts"}, "table odd.contacts as contacts",
     "column 'created_at': the database type bool cannot hold a date"),
    ({"contacts": "WITH gone AS (DELETE FROM crm.contacts RETURNING *) SELECT * FROM gone"}, "query for contacts",
     "in a read-only transaction"),
]


@pytest.mark.parametrize("tables, where, message", BAD, ids=["missing table", "syntax error", "wrong type", "read only"])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_tables_stop_with_the_databases_message(pg, password, tmp_path, tables, where, message, command):
    params = client_yaml(tmp_path, {"url": pg.url, "tables": tables})
    args = ["--out", tmp_path / "reports", "--no-progress"] if command == "run" else []
    result = cli(command, params, *args)
    assert result.exit_code == 1, result.output
    assert where in result.output and message in result.output, result.output
    assert "Traceback" not in result.output and pg.password not in result.output
    if command == "validate":
        assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["validate", "run"])
def test_wrong_password_unreachable_server_and_password_in_the_yaml(pg, monkeypatch, tmp_path, command):
    args = ["--out", tmp_path / "reports", "--no-progress"] if command == "run" else []
    monkeypatch.setenv("PGPASSWORD", "not-the-password-x9")
    wrong = cli(command, client_yaml(tmp_path, {"url": pg.url}), *args)
    assert wrong.exit_code == 1 and f'password authentication failed for user "{pg.user}"' in wrong.output
    assert "not-the-password-x9" not in wrong.output and "Traceback" not in wrong.output
    monkeypatch.setenv("PGPASSWORD", pg.password)
    from postgres import _free_port

    down = cli(command, client_yaml(tmp_path, {"url": f"postgresql://kit@127.0.0.1:{_free_port()}/kit"}), *args)
    assert down.exit_code == 1 and "cannot connect" in down.output and "Connection refused" in down.output
    literal = cli(command, client_yaml(tmp_path, {"url": pg.secret_url}), *args)
    assert literal.exit_code == 1 and "the URL holds a password" in literal.output
    for result in (wrong, down, literal):
        assert pg.password not in result.output and "Traceback" not in result.output


def test_a_missing_table_is_a_data_error_naming_it(pg, password, tmp_path):
    with pytest.raises(DataError) as err:
        load_client(load_params(client_yaml(tmp_path, {"url": pg.url, "tables": {"contacts": "contacts"}})))
    assert str(err.value).startswith(f"table contacts ({pg.url}): the database refused the query: "
                                     'ERROR: relation "contacts" does not exist (SQLSTATE 42P01). Fix: ')


def test_a_connection_lost_mid_read_says_run_again(pg, password, tmp_path):
    """Before: a server that closed the connection while the kit read a table (stopped, restarted, its
    backend killed) got "Fix: correct the table name (schema.table) or the SELECT under source.tables"."""
    import threading
    import time

    import adbc_driver_postgresql.dbapi as adbc

    slow = "SELECT * FROM crm.contacts WHERE (SELECT pg_sleep(60)) IS NULL"  # the read the server cuts off
    params = load_params(client_yaml(tmp_path, {"url": pg.url, "tables": every_table(contacts=slow)}))

    def cut_off():  # what a server shutting down does to each session: SQLSTATE 57P01
        with adbc.connect(pg.secret_url, autocommit=True) as con, con.cursor() as cur:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
                            "AND pid <> pg_backend_pid()")
                if cur.fetchall():
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=cut_off)
    killer.start()
    try:
        with pytest.raises(DataError) as err:
            load_client(params)
    finally:
        killer.join()
    message = str(err.value)
    assert "the server closed the connection" in message and "Fix: run again" in message, message
    assert "correct the table name" not in message and pg.password not in message
