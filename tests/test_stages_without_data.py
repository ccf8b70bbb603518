"""A configured stage that no contact has a date for is not drawn and is listed (issue #15, item 5).

tests/fixtures/tiny with its ``sql_at`` column removed; stages [lead, mql, sql, customer], window
Jan–Mar 2026 (as_of 2026-03-31). Contacts created in the window and the stages they reached
(a skipped stage counts as passed when a later one is reached; dates after as_of are not reached):

    C1  Jan 5   lead, mql (Jan 10), customer (Feb 15)
    C2  Jan 10  lead; mql empty and, without sql_at, no later stage: mql not reached
    C3  Feb 1   lead, mql (Feb 3)
    C4  Feb 20  lead; mql Apr 5 is after as_of: not reached
    C7  Mar 10  created only
    (C5 is created after as_of; C6 in December, before the window)

    created 5, lead 4, mql 2, customer 1: created→lead 4/5, lead→mql 2/4, mql→customer 1/2.
With sql_at, C2's sql date (Feb 1) would count mql as passed: lead→mql 3/4.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from kpi_kit import load_client
from kpi_kit.cli import main
from kpi_kit.data import stages_without_data
from kpi_kit.metrics import compute
from kpi_kit.params import load_params


@pytest.fixture
def without_sql(tiny_copy):
    yaml_path, folder = tiny_copy
    contacts = pd.read_csv(folder / "contacts.csv")
    contacts.drop(columns="sql_at").to_csv(folder / "contacts.csv", index=False)
    return yaml_path


def test_the_stage_is_left_out_of_the_funnel_and_listed(without_sql):
    data = load_client(load_params(without_sql))
    assert data.quality.stages_without_data == ["sql"]
    m = compute(data)
    assert m.ctx.stages == ["lead", "mql", "customer"] and m.ctx.chain == ["created", "lead", "mql", "customer"]
    conv = m.funnel.conversion
    steps = {(r["from"], r["to"]): (r["reached_from"], r["reached_to"], r["rate"]) for r in conv.to_dict("records")}
    assert steps == {("created", "lead"): (5, 4, 0.8), ("lead", "mql"): (4, 2, 0.5), ("mql", "customer"): (2, 1, 0.5)}
    notes = data.quality.table()
    row = notes[notes["issue"].str.contains("no SQL date in any row")].iloc[0]  # in words, not the key sql_at
    assert row["file"] == "contacts" and row["rows"] == 6  # the contacts up to as_of: C5 is created later
    assert "not drawn" in row["action"]


def test_validate_warns_about_it(without_sql):
    result = CliRunner().invoke(main, ["validate", str(without_sql)])
    assert result.exit_code == 0, result.output
    assert "warning: no contact has a date for the stage(s) sql" in result.output


def test_a_stage_dated_only_after_as_of_stays_in_the_funnel(tiny_copy):
    """The client records the stage (some contact has a date, after as_of): it is drawn, not reached yet."""
    yaml_path, folder = tiny_copy
    contacts = pd.read_csv(folder / "contacts.csv")
    contacts["sql_at"] = contacts["sql_at"].where(contacts["sql_at"].isna(), "2026-05-01")  # after as_of
    contacts.to_csv(folder / "contacts.csv", index=False)
    data = load_client(load_params(yaml_path))
    assert data.quality.stages_without_data == []
    assert compute(data).ctx.stages == ["lead", "mql", "sql", "customer"]


def test_stages_without_data_rules():
    dates = pd.to_datetime(pd.Series(["2026-01-05", None]))
    contacts = pd.DataFrame({"mql_at": dates, "sal_at": pd.Series([pd.NaT, pd.NaT])})
    assert stages_without_data(contacts, ["lead", "mql", "sal", "customer"]) == ["lead", "sal", "customer"]
    # no stage has a date at all (no contacts file, or none with a stage date): nothing is left out
    assert stages_without_data(contacts.iloc[0:0], ["mql", "sal"]) == []
    assert stages_without_data(pd.DataFrame({"created_at": dates}), ["lead", "customer"]) == []
    assert stages_without_data(contacts, ["mql"]) == []


def test_the_tiny_client_with_every_stage_keeps_them_all(tiny):
    assert tiny.quality.stages_without_data == []
    assert compute(tiny).ctx.stages == ["lead", "mql", "sql", "customer"]


def test_the_customer_stage_has_data_when_subscriptions_define_customers(tiny_copy):
    """Without customer_at but with subscriptions, new customers come from MRR: the stage stays."""
    yaml_path, folder = tiny_copy
    contacts = pd.read_csv(folder / "contacts.csv")
    contacts.drop(columns="customer_at").to_csv(folder / "contacts.csv", index=False)
    (folder / "subscriptions.csv").write_text(
        "subscription_id,customer_id,contact_id,start_date,end_date,amount,billing_period_months\n"
        "S1,K1,C1,2026-02-01,,100,1\n")
    data = load_client(load_params(yaml_path))
    assert data.quality.stages_without_data == []
    m = compute(data)
    assert m.ctx.stages == ["lead", "mql", "sql", "customer"]
    assert m.volumes.count("new_customers", m.ctx.window) == 1  # K1's first MRR month, Feb 2026
    (folder / "subscriptions.csv").unlink()  # without subscriptions the stage has no data
    assert load_client(load_params(yaml_path)).quality.stages_without_data == ["customer"]
