"""Docs generated from code stay equal to it (one place for each fact)."""

import re
from pathlib import Path

from kpi_kit.contract import contract_markdown
from kpi_kit.metrics.catalogue import METRICS, catalogue_markdown

ROOT = Path(__file__).parent.parent


def test_metric_catalogue_page_is_generated_from_code():
    assert (ROOT / "docs" / "metrics.md").read_text() == catalogue_markdown(), "run `make docs`"


def test_readme_contract_table_is_generated_from_code():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- contract:start -->\n(.*?)\n<!-- contract:end -->", readme, re.S).group(1)
    assert block == contract_markdown()


def test_catalogue_entries_are_complete():
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    for m in METRICS:
        assert m.kind in ("leading", "lagging") and m.unit in (
            "money", "percent", "count", "days", "months", "ratio", "number") and m.formula


def test_overview_indicators_come_from_the_catalogue():
    from kpi_kit.metrics.catalogue import BY_NAME
    from kpi_kit.reports.overview import SERIES

    for key, (label, unit, kind, better) in SERIES.items():
        m = BY_NAME["new_customers" if key == "customers" else key]
        assert (unit, kind, better) == (m.unit, m.kind, m.higher_is_better)
        assert label.startswith(m.label)  # a monthly LTV:CAC label adds the CAC it is over


def test_every_catalogue_entry_names_the_function_computing_it():
    from kpi_kit.metrics.catalogue import FUNCTIONS, function_of

    assert set(FUNCTIONS) == {m.name for m in METRICS}
    for m in METRICS:
        assert callable(function_of(m.name)) or isinstance(function_of(m.name), (property,)) or function_of(m.name)
