"""One way to say a section is not shown, and the KPI cards' changes (rates in pp, counts in %)."""

import math

import pytest

from kpi_kit.reports import FunnelReport
from kpi_kit.reports.blocks import KPI
from kpi_kit.reports.section import Section


def test_a_rate_changes_in_points_a_count_in_percent():
    assert KPI("Win rate", 0.272, "percent").change(0.327) == pytest.approx(-5.5)
    assert KPI("Leads", 223, "count").change(179) == pytest.approx(223 / 179 - 1)
    assert math.isnan(KPI("Leads", 5, "count").change(0))  # no base: undefined, not infinity


def test_every_section_of_a_report_is_a_section(tiny, kit_style):
    report = FunnelReport(tiny)
    assert report.section_names() == ["funnel", "conversion", "cohorts", "volumes", "quarterly", "deals",
                                      "lead_to_close"]
    for name in report.section_names():
        assert isinstance(report.section(name), Section)
    with pytest.raises(KeyError, match="no section 'nope'"):
        report.section("nope")


def test_a_section_without_its_data_is_one_line(tiny, kit_style):
    tiny.frames.pop("deals")
    s = FunnelReport(tiny).section("deals")
    assert not s.shown and s.parts == []
    assert repr(s) == "Deal outcomes and pipeline: needs a deals file (not in this client's data)."


def test_a_shown_section_leads_with_its_takeaway_and_closes_its_figures(tiny, kit_style, monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, metadata=None: shown.append(obj))
    s = FunnelReport(tiny).section("deals")
    s._ipython_display_()
    assert repr(shown[0]).startswith("Over the window 1 deal was won and 1 lost")
    assert hasattr(shown[1], "savefig") and "won deals" in repr(shown[2])
    assert not plt.get_fignums()  # shown once: the inline backend has nothing left to show again
