"""A section's chart output carries its alt text in the output metadata (``kpi_kit.alt``), read from
the chart's data; tables and the "not shown" line carry none."""

import matplotlib.pyplot as plt
import pandas as pd

from kpi_kit.charts import alt_text
from kpi_kit.reports.blocks import note
from kpi_kit.reports.section import META, Section


def _shown(section, monkeypatch) -> list[tuple]:
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, metadata=None: shown.append((obj, metadata)))
    section._ipython_display_()
    return shown


def test_a_charts_output_carries_its_alt_text(kit_style, monkeypatch):
    fig, ax = plt.subplots()
    ax.plot(pd.period_range("2025-11", periods=3, freq="M").to_timestamp(), [1.0, 2.0, 3.0])
    ax.set_title("Leads per month")
    expected = alt_text(fig)
    shown = _shown(Section("Leads", note("Leads rose."), ax), monkeypatch)
    [(_, text_meta), (chart, chart_meta)] = shown[-2:]
    assert chart is fig and chart_meta[META]["alt"] == expected
    assert expected.startswith("Line chart: Leads per month. ") and expected.endswith("From 1 in Nov 2025 to 3 in Jan 2026.")
    assert "alt" not in text_meta[META]
    assert chart_meta[META]["section"] == "Leads" and chart_meta[META]["shown"] is True


def test_a_section_not_shown_carries_no_alt_text(kit_style, monkeypatch):
    [(_, meta)] = _shown(Section.not_shown("Deals", "a deals file"), monkeypatch)
    assert "alt" not in meta[META]


def test_every_chart_of_a_report_gets_a_description_with_numbers(tiny, kit_style, monkeypatch):
    from kpi_kit.reports import FunnelReport

    report = FunnelReport(tiny)
    alts = [meta[META]["alt"] for name in report.section_names()
            for obj, meta in _shown(report.section(name), monkeypatch) if hasattr(obj, "savefig")]
    assert alts and all(any(ch.isdigit() for ch in a) and len(a) <= 300 for a in alts), alts
