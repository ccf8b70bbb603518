"""What ``validate`` accepts, every report renders (issue "Never a traceback").

Hypothesis generates clients of random shape: empty months, one row, no deals, only deals, extreme but
finite amounts, unicode and markup in every text field and in the channel map. Each client is loaded
with the contract checks; when they accept it, every notebook's header, KPI strip, sections and
data-quality block are built and every chart drawn (:func:`kpi_kit.reports._render.render_all`,
the notebooks' own calls without papermill), and no text from the data reaches the HTML unescaped.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kpi_kit.data import load_client  # noqa: E402
from kpi_kit.exceptions import KpiKitError  # noqa: E402
from kpi_kit.params import load_params  # noqa: E402
from kpi_kit.reports._render import render_all  # noqa: E402

pytestmark = pytest.mark.long(14)  # seconds, measured with --durations=0: starts first under make test

AS_OF = dt.date(2026, 3, 31)
MARKUP = "<script>alert(1)</script>"
# text a client's export may hold: markup, math-text dollars, accents, CJK, the kit's own labels
TEXT = st.sampled_from(["google / cpc", "Promo $$ week", MARKUP, "Ünïcode Ads", "展示广告", "Other", "unknown",
                        "a & b", "  spaced  ", "x" * 60])
STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]


def _day(draw, start: int = -900, end: int = 40) -> dt.date:
    """A day around as_of: mostly before, sometimes after it (rows after as_of are the loader's to drop)."""
    return AS_OF + dt.timedelta(days=draw(st.integers(start, end)))


@st.composite
def clients(draw):
    files: dict[str, pd.DataFrame] = {}
    stages = sorted(draw(st.sets(st.sampled_from(STAGES), min_size=1)), key=STAGES.index)
    n = draw(st.integers(0, 25))
    rows = []
    for i in range(n):
        created = _day(draw)
        row = {"contact_id": f"C{i}", "created_at": created, "channel": draw(TEXT), "segment": draw(TEXT)}
        day = created
        for stage in stages:  # stage dates in order from creation; a contact stops at a random stage
            if not draw(st.booleans()):
                break
            day = day + dt.timedelta(days=draw(st.integers(0, 90)))
            row[f"{stage}_at"] = day
        rows.append(row)
    files["contacts"] = pd.DataFrame(rows, columns=["contact_id", "created_at", "channel", "segment",
                                                   *(f"{s}_at" for s in stages)])
    money = st.one_of(st.just(0.0), st.floats(0.01, 5e4), st.just(9.99e14))  # extreme but finite
    if draw(st.booleans()):
        deals = []
        for i in range(draw(st.integers(0, 10))):
            created = _day(draw)
            status = draw(st.sampled_from(["open", "won", "lost"]))
            closed = created + dt.timedelta(days=draw(st.integers(0, 200))) if status != "open" else None
            contact = f"C{draw(st.integers(0, max(n - 1, 0)))}" if n and draw(st.booleans()) else None
            deals.append({"deal_id": f"D{i}", "created_at": created, "status": status, "amount": draw(money),
                          "closed_at": closed, "contact_id": contact, "channel": draw(st.one_of(st.none(), TEXT))})
        files["deals"] = pd.DataFrame(deals, columns=["deal_id", "created_at", "status", "amount", "closed_at",
                                                      "contact_id", "channel"])
    if draw(st.booleans()):
        subs = []
        for i in range(draw(st.integers(0, 10))):
            start = _day(draw)
            period = draw(st.sampled_from([1, 3, 12]))
            amount = draw(money)
            end = start + dt.timedelta(days=draw(st.integers(1, 800))) if draw(st.booleans()) else None
            subs.append({"subscription_id": f"S{i}", "customer_id": f"K{draw(st.integers(0, 4))}",
                         "start_date": start, "amount": amount, "billing_period_months": period, "end_date": end,
                         "discount": draw(st.sampled_from([0.0, amount / 2, amount]))})
        files["subscriptions"] = pd.DataFrame(subs, columns=["subscription_id", "customer_id", "start_date", "amount",
                                                             "billing_period_months", "end_date", "discount"])
    if draw(st.booleans()):
        files["spend"] = pd.DataFrame(
            [{"date": _day(draw), "channel": draw(TEXT), "spend": draw(money), "campaign": draw(TEXT)}
             for _ in range(draw(st.integers(0, 8)))], columns=["date", "channel", "spend", "campaign"])
    if draw(st.booleans()):
        files["touches"] = pd.DataFrame(
            [{"contact_id": f"C{draw(st.integers(0, max(n - 1, 0)))}", "touched_at": _day(draw), "channel": draw(TEXT)}
             for _ in range(draw(st.integers(0, 8) if n else st.just(0)))], columns=["contact_id", "touched_at", "channel"])
    if draw(st.booleans()):
        files["costs"] = pd.DataFrame(
            [{"month": _day(draw).replace(day=1), "category": draw(st.sampled_from(["people", "hosting"])),
              "amount": draw(money)} for _ in range(draw(st.integers(0, 6)))], columns=["month", "category", "amount"])
    if draw(st.booleans()):
        first = _day(draw).replace(day=1)
        files["targets"] = pd.DataFrame([{"metric": draw(st.sampled_from(["leads", "mqls", "new_customers", "mrr"])),
                                          "period_start": first, "period_end": first + dt.timedelta(days=27),
                                          "target": draw(money)}])
    params = {
        "client": "prop", "data_dir": "data", "as_of": AS_OF.isoformat(), "stages": stages,
        "currency": draw(st.sampled_from(["USD", "EUR", "JPY", "xyz"])),
        "window_months": draw(st.sampled_from([1, 3, 12, 24])),
        "channel_map": {"google / cpc": draw(TEXT), MARKUP: "Paid <b>Search</b>"},
        "channel_groups": {},
        "cost_groups": {"people": "acquisition", "hosting": "service"},
        "chart_channels": draw(st.integers(1, 4)),
        "attribution_model": draw(st.sampled_from(["linear", "markov", "shapley"])),
    }
    return params, files


@settings(max_examples=12, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(client=clients())
def test_what_validate_accepts_every_report_renders(tmp_path_factory, client):
    params, files = client
    root = tmp_path_factory.mktemp("client")
    (root / "data").mkdir()
    for stem, frame in files.items():
        frame.to_csv(root / "data" / f"{stem}.csv", index=False)
    (root / "client.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    try:
        data = load_client(load_params(root / "client.yaml"))
    except KpiKitError:
        return  # validate refuses it with one message: nothing to render
    pages = render_all(data)
    assert set(pages) == {"overview", "funnel", "channel", "cohort", "unit_economics"}
    for name, html in pages.items():
        text = "\n".join(html)
        assert "<script" not in text, f"{name}: markup from the data reached the page unescaped"
        assert "<b>Search" not in text, name
