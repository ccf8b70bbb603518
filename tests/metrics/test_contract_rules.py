"""The data contract as the SPEC's table (issue #21): every file's columns with their kind, which
are required and which are unique ids; a duplicate in every unique id column stops the load."""

import pandas as pd
import pytest

from kpi_kit import DataError
from kpi_kit.contract import CONTRACT, STAGE_COLUMNS, UNKNOWN, Column, FileSpec, contract_markdown, update_readme
from kpi_kit.data import parse_frame

# file -> [(column, kind, required, unique)], in the order of the SPEC's table (plus the kit's additions)
SPEC_TABLE = {
    "contacts": [("contact_id", "id", True, True), ("created_at", "date", True, False), ("channel", "text", True, False),
                 ("lead_at", "date", False, False), ("mql_at", "date", False, False), ("sal_at", "date", False, False),
                 ("sql_at", "date", False, False), ("opportunity_at", "date", False, False),
                 ("customer_at", "date", False, False), ("segment", "text", False, False),
                 ("account_id", "text", False, False), ("self_reported_source", "text", False, False)],
    "deals": [("deal_id", "id", True, True), ("created_at", "date", True, False), ("status", "text", True, False),
              ("amount", "money", True, False), ("closed_at", "date", False, False), ("contact_id", "text", False, False),
              ("channel", "text", False, False), ("probability", "probability", False, False),
              ("stage", "text", False, False), ("expected_close_at", "date", False, False)],
    # kit addition: revenue recorded without a sales process (no deal, so no win rate or deal size)
    # kit addition on every file of dated amounts: date_end, the last day a row covers (SPEC "Multi-day rows")
    "revenue": [("date", "date", True, False), ("amount", "money", True, False), ("channel", "text", False, False),
                ("date_end", "date", False, False)],
    "subscriptions": [("subscription_id", "id", True, True), ("customer_id", "id", True, False),
                      ("start_date", "date", True, False), ("amount", "money", True, False),
                      ("billing_period_months", "months", True, False), ("end_date", "date", False, False),
                      ("discount", "money", False, False)],
    "mrr": [("customer_id", "id", True, False), ("month", "date", True, False), ("mrr", "money", True, False)],
    "customers": [("customer_id", "id", True, True), ("contact_id", "text", False, False),
                  ("channel", "text", False, False), ("segment", "text", False, False)],
    "spend": [("date", "date", True, False), ("channel", "text", True, False), ("spend", "money", True, False),
              ("campaign", "text", False, False), ("impressions", "count", False, False),
              ("clicks", "count", False, False), ("conversions", "count", False, False), ("date_end", "date", False, False)],
    "traffic": [("date", "date", True, False), ("channel", "text", True, False), ("sessions", "count", True, False),
                ("users", "count", False, False), ("avg_session_seconds", "count", False, False),
                ("engaged_sessions", "count", False, False), ("date_end", "date", False, False)],
    "touches": [("contact_id", "id", True, False), ("touched_at", "date", True, False), ("channel", "text", True, False),
                ("campaign", "text", False, False)],
    "costs": [("month", "date", True, False), ("category", "text", True, False), ("amount", "money", True, False)],
    "engagement": [("date", "date", True, False), ("metric", "text", True, False), ("value", "count", True, False),
                   ("date_end", "date", False, False)],
    "targets": [("metric", "text", True, False), ("period_start", "date", True, False),
                ("period_end", "date", True, False), ("target", "number", True, False)],
}
CHANNEL_FILES = {"contacts", "deals", "revenue", "customers", "spend", "traffic", "touches"}


@pytest.mark.parametrize("stem", list(SPEC_TABLE))
def test_every_file_has_the_spec_columns(stem):
    spec = CONTRACT[stem]
    assert spec.stem == stem
    assert [(c.name, c.kind, c.required, c.unique) for c in spec.columns] == SPEC_TABLE[stem]
    assert spec.required_columns == [c for c, _, req, _ in SPEC_TABLE[stem] if req]
    assert spec.required is (stem == "contacts")  # the only required file
    assert spec.channel_columns == (("channel",) if stem in CHANNEL_FILES else ())


def test_contract_lookups_and_constants():
    assert list(CONTRACT) == list(SPEC_TABLE)
    assert STAGE_COLUMNS == ("lead_at", "mql_at", "sal_at", "sql_at", "opportunity_at", "customer_at")
    assert UNKNOWN == "unknown"
    assert CONTRACT["deals"].column("probability") == Column("probability", "probability", False, False,
                                                            "0..1, for open deals")
    assert CONTRACT["deals"].column("no_such_column") is None
    spec = FileSpec("x", (Column("a", "id", True, True), Column("b", "text")))
    assert spec.required_columns == ["a"] and spec.required is False and spec.channel_columns == ()
    assert spec.entry is None
    assert {stem: s.entry for stem, s in CONTRACT.items() if s.entry} == {
        "contacts": "created_at", "deals": "created_at", "revenue": "date", "subscriptions": "start_date",
        "mrr": "month", "spend": "date", "traffic": "date", "touches": "touched_at", "costs": "month",
        "engagement": "date"}
    assert Column("a", "text") == Column("a", "text", False, False, "")  # defaults: optional, not unique


def test_contract_markdown_rows():
    lines = contract_markdown().splitlines()
    assert lines[:2] == ["| file | required columns | optional columns |", "|---|---|---|"]
    assert lines[2] == ("| `contacts` (required) | `contact_id`, `created_at`, `channel` | `lead_at`, `mql_at`, `sal_at`, "
                        "`sql_at`, `opportunity_at`, `customer_at`, `segment`, `account_id`, `self_reported_source` |")
    assert lines[4] == "| `revenue` | `date`, `amount` | `channel`, `date_end` |"
    assert lines[6] == "| `mrr` | `customer_id`, `month`, `mrr` |  |"
    assert len(lines) == 2 + len(SPEC_TABLE)


def test_update_readme_replaces_only_the_marked_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- contract:start -->\nold table\n<!-- contract:end -->\noutro\n", encoding="utf-8")
    update_readme(readme)
    assert readme.read_text(encoding="utf-8") == (
        "intro\n<!-- contract:start -->\n" + contract_markdown() + "\n<!-- contract:end -->\noutro\n")


UNIQUE_IDS = [(stem, c.name) for stem, spec in CONTRACT.items() for c in spec.columns if c.unique]


def _valid_frame(stem: str) -> pd.DataFrame:
    """Two valid rows of ``stem`` (required columns only), ids distinct."""
    values = {"id": ["X1", "X2"], "text": ["a", "b"], "date": ["2026-01-01", "2026-01-02"], "money": ["1", "2"],
              "months": ["1", "12"], "count": ["1", "2"], "number": ["1", "2"], "probability": ["0.5", "0.1"]}
    spec = CONTRACT[stem]
    df = pd.DataFrame({c.name: values[c.kind] for c in spec.columns if c.required})
    if stem == "deals":
        df["status"] = ["open", "open"]
    return df


def test_every_unique_id_column_of_the_spec_is_checked():
    assert UNIQUE_IDS == [("contacts", "contact_id"), ("deals", "deal_id"), ("subscriptions", "subscription_id"),
                          ("customers", "customer_id")]


@pytest.mark.parametrize("stem, column", UNIQUE_IDS)
def test_duplicate_id_stops_the_load(stem, column):
    df = _valid_frame(stem)
    parse_frame(df, CONTRACT[stem], f"{stem}.csv")  # two distinct ids: fine
    dup = df.assign(**{column: ["X1", " X1 "]})  # the same id once spaces are stripped
    with pytest.raises(DataError) as err:
        parse_frame(dup, CONTRACT[stem], f"{stem}.csv")
    msg = str(err.value)
    assert msg.startswith(f"{stem}.csv") and f"column '{column}'" in msg and "duplicate id" in msg
    assert "(rows 2, 3)" in msg


@pytest.mark.parametrize("stem, column", [("subscriptions", "customer_id"), ("mrr", "customer_id"),
                                          ("touches", "contact_id")])
def test_repeated_non_unique_ids_are_fine(stem, column):
    df = _valid_frame(stem).assign(**{column: ["X1", "X1"]})
    out = parse_frame(df, CONTRACT[stem], f"{stem}.csv")
    assert out[column].tolist() == ["X1", "X1"]
