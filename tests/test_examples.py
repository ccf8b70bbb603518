"""The five example clients on the real public datasets: each recipe imports its dataset and says
what it changed, the kit's numbers match the same numbers computed straight from the raw export,
and every notebook renders. Skipped when ../shared/datasets (or $KPI_KIT_DATASETS) is absent."""

import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from consistency import check_run

from kpi_kit import load_client, load_params
from kpi_kit.examples import build_example, find_examples
from kpi_kit.metrics import compute
from kpi_kit.run import run_batch

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("KPI_KIT_DATASETS", ROOT.parent / "shared" / "datasets"))
pytestmark = [pytest.mark.long(8), pytest.mark.skipif(not DATASETS.is_dir(), reason="shared datasets not present")]

EXAMPLES = {e.client: e for e in find_examples(ROOT / "data" / "examples", DATASETS)} if DATASETS.is_dir() else {}
QUIRKS = {  # what each recipe must find and report, not clean silently
    "olist": ["filled 60 empty value(s) with 'unknown'", "stage date before created_at: left out 1 row(s)"],
    "maven-crm": ["engage_date: left out 500 row(s) without a value",
                  "close_value: 2473 value(s) of 0 (lost 2473) read as unknown and left empty",
                  "close_value: 4062 row(s) without a value (lost 2473, open 1589): left empty (unknown, not 0)"],
    "facebook-ads": ["removed the UTF-8 byte-order mark", "spread 3 campaign total(s) evenly over 14 days"],
    "robyn": ["2 week(s) name an event"],
    "telco-churn": ["1869 churned customer(s) end in 2018-01; 11 with tenure 0"],
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Every example imported once into a temporary folder: client -> (params, import report)."""
    root = tmp_path_factory.mktemp("examples")
    out = {}
    for client, ex in EXAMPLES.items():
        ex = type(ex)(ex.client, ex.params_file, ex.recipe, ex.dataset, root / "data" / client)
        report = build_example(ex)
        raw = yaml.safe_load(ex.params_file.read_text())
        params_file = root / f"{client}.yaml"
        params_file.write_text(yaml.safe_dump({**raw, "data_dir": str(ex.data_dir)}))
        out[client] = (params_file, str(report))
    return out


def data_of(imported, client):
    return load_client(load_params(imported[client][0]))


def raw(dataset, name, **kw):
    return pd.read_csv(DATASETS / dataset / name, encoding="utf-8-sig", **kw)


def test_the_five_examples_are_there():
    assert sorted(EXAMPLES) == ["facebook-ads", "maven-crm", "olist", "robyn", "telco-churn"]


@pytest.mark.parametrize("client", sorted(QUIRKS))
def test_each_recipe_reports_its_datasets_quirks(imported, client):
    report = imported[client][1]
    assert all(q in report for q in QUIRKS[client]), report
    assert (Path(load_params(imported[client][0]).data_dir) / "import_report.txt").read_text().strip() == report.strip()


def test_olist_funnel_by_creation_month_matches_the_raw_export(imported):
    leads = raw("olist", "olist_marketing_qualified_leads_dataset.csv", parse_dates=["first_contact_date"])
    won = raw("olist", "olist_closed_deals_dataset.csv", parse_dates=["won_date"])
    j = leads.merge(won[["mql_id", "won_date"]], on="mql_id", how="left")
    j = j[~(j["won_date"].dt.normalize() < j["first_contact_date"])]  # the one lead "won" before first contact
    month = j["first_contact_date"].dt.to_period("M")
    expected = pd.DataFrame({"created": j.groupby(month).size(), "customer": j["won_date"].notna().groupby(month).sum()})
    cohorts = compute(data_of(imported, "olist")).funnel.cohorts.set_index("cohort")
    got = cohorts.loc[expected.index, ["created", "customer"]]
    assert got.astype(int).to_dict() == expected.astype(int).to_dict()
    assert cohorts["created"].sum() == 7999 and cohorts["customer"].sum() == 841


def test_maven_win_rate_deal_size_and_sales_cycle_in_the_window(imported):
    p = raw("maven-crm", "sales_pipeline.csv")
    for col in ("engage_date", "close_date"):
        p[col] = pd.to_datetime(p[col], format="%m/%d/%Y")
    closed = p[p["close_date"].between("2017-01-01", "2017-12-31") & p["deal_stage"].isin(["Won", "Lost"])]
    won = closed[closed["deal_stage"] == "Won"]
    s = compute(data_of(imported, "maven-crm")).funnel.scalars()
    assert s["win_rate"] == pytest.approx(len(won) / len(closed))
    assert s["avg_deal_size"] == pytest.approx(won["close_value"].mean())
    assert s["avg_sales_cycle_days"] == pytest.approx((won["close_date"] - won["engage_date"]).dt.days.mean())
    assert pd.isna(s["weighted_pipeline"])  # Maven's open deals carry no probability: unknown, not 0
    # lost deals' close_value of 0 is the CRM's "not kept": unknown, left out of every amount sum
    deals = data_of(imported, "maven-crm")["deals"]
    assert deals.loc[deals["status"] == "lost", "amount"].isna().all()
    assert pd.isna(compute(data_of(imported, "maven-crm")).overview.revenue_goal()["target"])  # one complete year


def test_telco_mrr_and_churn_from_tenure_and_flag(imported):
    t = raw("telco-churn", "WA_Fn-UseC_-Telco-Customer-Churn.csv")
    stays = (t["Churn"] == "No") & (t["Tenure"] >= 1)
    b = compute(data_of(imported, "telco-churn")).economics.bridge.set_index("month")
    jan = b.loc[pd.Period("2018-01", "M")]
    assert jan["ending_mrr"] == pytest.approx(t.loc[stays, "MonthlyCharges"].sum())
    assert jan["churned_customers"] == (t["Churn"] == "Yes").sum()
    assert jan["logo_churn_rate"] == pytest.approx((t["Churn"] == "Yes").sum() / b.loc[pd.Period("2017-12", "M"),
                                                                                          "customers"])
    # the months before the snapshot were counted back from its customers: no churn data, not 0 %
    before = b.loc[: pd.Period("2017-12", "M")]
    assert before["logo_churn_rate"].isna().all() and before["churn"].isna().all() and before["new"].isna().all()


def _by_day(weekly: pd.DataFrame, columns: list[str], as_of: str = "2019-10-31") -> pd.DataFrame:
    """Robyn's weekly rows (dated by their Monday) spread evenly over their seven days, by hand: each
    day 1/7 of its week, up to as_of (later days have not happened)."""
    days = weekly.loc[weekly.index.repeat(7)].copy()
    days["day"] = days["DATE"] + pd.to_timedelta(list(range(7)) * len(weekly), unit="D")
    days[columns] = days[columns] / 7
    return days[days["day"] <= as_of]


def test_robyn_spend_and_revenue_in_the_window(imported):
    w = raw("robyn", "dt_simulated_weekly.csv", parse_dates=["DATE"])
    media = ["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"]
    days = _by_day(w, [*media, "revenue"])
    inside = days[days["day"].between("2018-11-01", "2019-10-31")]  # the window, day by day
    data = data_of(imported, "robyn")
    spend = data["spend"]
    assert spend.loc[spend["date"].between("2018-11-01", "2019-10-31"), "spend"].sum() == pytest.approx(
        inside[media].to_numpy().sum())
    m = compute(data)
    assert m.channel.total["revenue"] == pytest.approx(inside["revenue"].sum())
    # weekly revenue is recorded without a sales process: bookings, but no deals, win rate or cycle
    assert "deals" not in data.frames
    assert m.book.value(m.volumes.amount_metric) == pytest.approx(inside["revenue"].sum())
    k = m.book.frame()  # the deal scalars keep their kpis.csv rows, n/a: nothing is made up
    assert k.loc[k["metric"].isin(["win_rate", "avg_deal_size", "avg_sales_cycle_days"]), "value"].isna().all()
    # revenue is not tied to channels: no ROI, but MER = revenue / media spend
    assert math.isnan(m.channel.total["roi"]) and m.channel.total["mer"] == pytest.approx(
        inside["revenue"].sum() / inside[media].to_numpy().sum())


def test_robyn_monthly_totals_are_its_weekly_rows_spread_over_their_days(imported):
    """October 2019 has four Mondays and September five: by week start October reads -18.6 %, spread
    over days it is a rise (+4.2 %)."""
    w = raw("robyn", "dt_simulated_weekly.csv", parse_dates=["DATE"])
    days = _by_day(w, ["revenue"])
    by_month = days.groupby(days["day"].dt.to_period("M"))["revenue"].sum()
    m = compute(data_of(imported, "robyn"))
    months = pd.period_range("2018-11", "2019-10", freq="M")
    assert m.volumes.booked_monthly(months).to_numpy() == pytest.approx(by_month.reindex(months).to_numpy())
    sep, oct_ = by_month[pd.Period("2019-09", "M")], by_month[pd.Period("2019-10", "M")]
    assert oct_ / sep - 1 == pytest.approx(0.0425, abs=5e-4)


def test_facebook_spend_is_kept_to_the_cent(imported):
    ads = raw("facebook-ads", "KAG_conversion_data.csv")
    spend = data_of(imported, "facebook-ads")["spend"]
    assert spend["spend"].sum() == pytest.approx(ads["Spent"].sum(), abs=0.05)
    assert spend["conversions"].sum() == ads["Total_Conversion"].sum()


def test_every_example_renders_every_notebook(imported, tmp_path):
    result = run_batch([imported[c][0] for c in sorted(imported)], tmp_path, progress=False, jobs=2)
    assert not result.failed, result.summary()
    for r in result.results:
        assert {p.name for p in r.folder.iterdir()} >= {"overview.html", "funnel.html", "channel.html", "cohort.html",
                                                        "unit_economics.html", "metrics.json", "index.html"}
        m = json.loads((r.folder / "metrics.json").read_text())
        assert sorted(m["notebooks"]) == ["channel", "cohort", "funnel", "overview", "unit_economics"]
        check_run(r.folder, compute(data_of(imported, r.client)).scalar_keys())  # one number per KPI
    maven = json.loads((tmp_path / "maven-crm" / "2017-12-31" / "metrics.json").read_text())
    assert maven["scalars"]["win_rate"] == pytest.approx(0.6315, abs=1e-4)
    assert [c["channel"] for c in maven["tables"]["channels"]] == ["unknown"]  # revenue tied to no channel
