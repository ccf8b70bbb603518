"""Small multiples on the page (issue #34): a Section given a Grid shows one image per panel, each
marked as a panel of the grid and carrying its width, so the page lays them out side by side."""

import base64

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from kpi_kit import charts
from kpi_kit.reports.section import META, Section


@pytest.fixture
def shown(monkeypatch, kit_style):
    """What a Section displays: (data, metadata) per output."""
    out = []

    def display(obj, metadata=None, raw=False):
        out.append((obj, metadata or {}, raw))

    monkeypatch.setattr("IPython.display.display", display)
    return out


def _series():
    months = pd.period_range("2025-01", periods=24, freq="M")
    return pd.DataFrame({k: np.arange(24) * (i + 1.0) for i, k in enumerate("abcde")}, index=months)


SPEC = [(k, f"Indicator {k}", "count", "leading" if k < "c" else "lagging") for k in "abcde"]


def test_a_grid_shows_one_image_per_panel_with_its_width(shown):
    grid = charts.indicator_chart(_series(), SPEC)
    Section("Indicators", grid)._ipython_display_()
    caption, *images = shown
    assert "From the top of the funnel" in caption[0]._repr_html_()  # the caption first, as a note
    assert len(images) == 5  # N panels, N images
    for i, (data, meta, raw) in enumerate(images, 1):
        assert raw and meta[META]["grid"] == {"panel": i, "of": 5} and meta[META]["section"] == "Indicators"
        png = base64.b64decode(data["image/png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert meta["image/png"]["width"] == int.from_bytes(png[16:20], "big")
        assert meta["image/png"]["width"] <= 320  # three to a row at 1280 px, whole on a 390-px phone
        assert meta[META]["alt"].startswith(f"Line chart: Indicator {'abcde'[i - 1]}")
    assert not plt.get_fignums()  # every panel's figure closed


def test_a_grid_with_a_shared_legend_shows_the_legend_first(shown):
    monthly = pd.DataFrame([{"month": pd.Period(m, "M"), "channel": c, "leads": 10.0}
                            for m in ("2026-01", "2026-02", "2026-03") for c in ("Email", "Events")])
    grid = charts.trend_chart(monthly, [("leads", "Leads per month", "Leads", "count")])
    section = Section("Channel trends", grid)
    assert [m[META]["grid"]["panel"] for _, m in section._marked()] == ["legend", 1]
    section._ipython_display_()
    (legend, meta, _), (panel, _, _) = shown
    assert meta[META]["alt"] == "Legend (Channel): Email, Events."
    assert meta["image/png"]["width"] <= 450


def test_a_single_chart_is_displayed_as_before(shown):
    _, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    ax.set_title("One chart")
    Section("One", ax)._ipython_display_()
    ((obj, meta, raw),) = shown
    assert obj is ax.figure and not raw and "grid" not in meta[META] and "image/png" not in meta
