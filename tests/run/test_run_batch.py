"""End-to-end batch runs with ``kpi-kit run`` on the tiny fixture client."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner

from kpi_kit import KpiKitError, __version__, load_client, load_params
from kpi_kit.cli import main
from kpi_kit.metrics import compute

pytestmark = pytest.mark.long(18)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def funnel_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["run", str(FIXTURES / "tiny.yaml"), "--out", str(out), "--no-progress"])
    return out, result


def test_run_writes_report_folder(funnel_run):
    out, result = funnel_run
    assert result.exit_code == 0, result.output
    folder = out / "tiny" / "2026-03-31"
    names = ["channel", "cohort", "funnel", "overview", "unit_economics"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{n}.html" for n in names] + [f"{n}.ipynb" for n in names]
        + ["data_quality.html", "definitions.html", "index.html", "kpis.csv", "metrics.json"]
        + [".inputs"])  # the run's fingerprint (incremental runs: tests/run/test_run_incremental.py)
    assert (out / "index.html").read_text().count("tiny/2026-03-31/index.html") == 1
    index = (folder / "index.html").read_text()
    assert "funnel.html" in index and index.index("overview.html") < index.index("funnel.html")  # overview first
    assert not [p for p in (out / "tiny").iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_metrics_files_come_from_the_metrics_layer(funnel_run):
    """metrics.json and kpis.csv are the metrics layer's values for the client, not the notebooks'."""
    out, _ = funnel_run
    folder = out / "tiny" / "2026-03-31"
    expected = compute(load_client(load_params(FIXTURES / "tiny.yaml")))
    m = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert m["notebooks"] == ["overview", "funnel", "channel", "cohort", "unit_economics"]  # report order
    assert m == json.loads(json.dumps(expected.metrics_json() | {"notebooks": m["notebooks"]}))
    assert (m["client"], m["as_of"], m["currency"], m["kit_version"]) == ("tiny", "2026-03-31", "EUR", __version__)
    assert m["params"]["window_months"] == 3 and m["params"]["churn_window_months"] == 6
    assert (folder / "kpis.csv").read_text(encoding="utf-8") == expected.kpis().to_csv(index=False)
    assert "kpis.csv" in (folder / "index.html").read_text()


def test_metrics_json_follows_spec(funnel_run):
    out, _ = funnel_run
    m = json.loads((out / "tiny" / "2026-03-31" / "metrics.json").read_text())
    assert m["tables"]["funnel_conversion"][0] == {"from": "created", "to": "lead", "rate": 0.8}
    assert m["tables"]["funnel_cohorts"][-1]["cohort"] == "2026-03"
    assert m["scalars"]["win_rate"] == 0.5 and m["scalars"]["weighted_pipeline"] == 1750.0
    assert m["tables"]["stage_velocity"][1] == {"from": "lead", "to": "mql", "median_days": 3.5}
    spec_tables = {"funnel_cohorts", "funnel_conversion", "stage_velocity", "channels", "mrr_bridge", "logo_retention",
                   "revenue_retention"}
    assert spec_tables <= set(m["tables"])
    spec_scalars = {"mrr", "arpu", "logo_churn_rate", "ltv", "cac", "ltv_to_cac", "cac_payback_months", "nrr", "grr",
                    "quick_ratio", "win_rate", "avg_deal_size", "avg_sales_cycle_days", "weighted_pipeline"}
    assert spec_scalars <= set(m["scalars"])
    # tiny has no subscriptions: MRR metrics are undefined (null), tables empty; CAC falls back to contacts
    assert m["scalars"]["mrr"] is None and m["scalars"]["ltv"] is None and m["tables"]["mrr_bridge"] == []
    assert m["scalars"]["cac"] == 500.0  # acquisition costs 1000 / 2 contacts with customer_at in the window
    channels = {r["channel"]: r for r in m["tables"]["channels"]}
    assert channels["Paid Search"]["leads"] == 2 and channels["Paid Search"]["opportunities"] is None
    # tiny has no spend file at all: spend, CPL and CAC are unknown (null); a channel with leads but no
    # spend rows in a client that has spend gets CPL 0 (tests/test_channel_metrics.py)
    assert channels["Paid Search"]["spend"] is None and channels["Paid Search"]["cpl"] is None


def test_html_is_self_contained_without_code(funnel_run):
    out, _ = funnel_run
    ue = (out / "tiny" / "2026-03-31" / "unit_economics.html").read_text()
    # a section without its data says so (in the "Not shown" list)
    assert "needs paying customers by the last full month, from a subscriptions or mrr file" in ue
    page = (out / "tiny" / "2026-03-31" / "funnel.html").read_text()
    assert "Funnel report" in page and "n/a" in page
    assert page.count("data:image/png;base64") >= 4  # charts captured inline
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=['\"]http", page)  # nothing from a CDN
    assert "report = FunnelReport" not in page  # code cells hidden


def test_failing_client_does_not_stop_others_and_keeps_earlier_report(funnel_run, tmp_path):
    out, _ = funnel_run
    earlier = (out / "tiny" / "2026-03-31" / "metrics.json").read_text()
    shutil.copytree(FIXTURES / "tiny", tmp_path / "bad")
    (tmp_path / "bad.yaml").write_text((FIXTURES / "tiny.yaml").read_text().replace("data_dir: tiny", "data_dir: bad"))
    contacts = tmp_path / "bad" / "contacts.csv"
    contacts.write_text(contacts.read_text().replace("C3,2026-02-01", "C3,yesterday"))
    result = CliRunner().invoke(main, ["run", str(tmp_path / "bad.yaml"), str(tmp_path / "missing.yaml"),
                                       "--out", str(out), "--notebooks", "funnel", "--no-progress"])
    assert result.exit_code == 1
    assert re.search(r"0 of 2 client runs succeeded in \d+ s \(\d+\.\d s per client\)", result.output)
    assert "contacts.csv, column 'created_at': unparsable date (e.g. 'yesterday') (rows 4)" in result.output
    assert "missing.yaml" in result.output
    assert (out / "tiny" / "2026-03-31" / "metrics.json").read_text() == earlier


def test_validate_command(tmp_path):
    ok = CliRunner().invoke(main, ["validate", str(FIXTURES / "tiny.yaml")])
    assert ok.exit_code == 0 and "valid." in ok.output and "skipped MQL" in ok.output


def test_second_run_at_later_as_of_shows_snapshot_changes(tmp_path):
    text = (FIXTURES / "tiny.yaml").read_text().replace("data_dir: tiny", f"data_dir: {FIXTURES / 'tiny'}")
    first, second = tmp_path / "feb.yaml", tmp_path / "mar.yaml"
    first.write_text(text.replace("as_of: 2026-03-31", "as_of: 2026-02-28"))
    second.write_text(text)
    out = tmp_path / "reports"
    for params in (first, second):
        r = CliRunner().invoke(main, ["run", str(params), "--out", str(out), "--notebooks", "overview", "--no-progress"])
        assert r.exit_code == 0, r.output
    page = (out / "tiny" / "2026-03-31" / "overview.html").read_text()
    assert "Since the run of 2026-02-28" in page
    # Jan cohort: C1 became a customer on Feb 15 (in both runs); C2 reached sql on Feb 1 — the Feb cohort's C3/C4
    # have no later stage, so the Jan cohort did not move; the table still lists it
    assert "2026-01" in page
    index = (out / "index.html").read_text()
    assert "tiny/2026-03-31/index.html" in index and "tiny/2026-02-28/index.html" in index
    # the portfolio's union kpis.csv holds the latest run's rows only: the client's own kpis.csv
    import pandas as pd

    union = pd.read_csv(out / "kpis.csv")
    assert set(union["as_of"]) == {"2026-03-31"}
    assert union.equals(pd.read_csv(out / "tiny" / "2026-03-31" / "kpis.csv"))


def test_validate_bad_input_exits_non_zero_with_one_message(tmp_path):
    shutil.copytree(FIXTURES / "tiny", tmp_path / "tiny")
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    deals = tmp_path / "tiny" / "deals.csv"
    deals.write_text(deals.read_text().replace(",,0.5", ",,1.5"))
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "tiny.yaml")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: deals.csv, column 'probability': probability outside 0..1 (rows 4). "
        "Fix: write probabilities as fractions (60 % -> 0.6)"]


def test_a_relative_out_folder_still_finds_the_previous_run(tmp_path, monkeypatch):
    """`make report` passes `--out reports`: the notebooks run in their own folder, so the kit must
    hand them an absolute path to the previous run's metrics.json, or they would not find it; the
    metrics layer gets the same path."""
    text = (FIXTURES / "tiny.yaml").read_text().replace("data_dir: tiny", f"data_dir: {FIXTURES / 'tiny'}")
    first, second = tmp_path / "feb.yaml", tmp_path / "mar.yaml"
    first.write_text(text.replace("as_of: 2026-03-31", "as_of: 2026-02-28"))
    second.write_text(text)
    monkeypatch.chdir(tmp_path)
    for params in ("feb.yaml", "mar.yaml"):
        r = CliRunner().invoke(main, ["run", params, "--out", "reports", "--no-progress",
                                      "--notebooks", "overview,funnel"])
        assert r.exit_code == 0, r.output
    run = tmp_path / "reports" / "tiny" / "2026-03-31"
    m = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert m["notebooks"] == ["overview", "funnel"]
    previous = str(tmp_path / "reports" / "tiny" / "2026-02-28" / "metrics.json")
    expected = compute(load_client(load_params(second)), previous_metrics=previous).metrics_json()
    assert m == json.loads(json.dumps(expected | {"notebooks": m["notebooks"]}))
    nb = nbformat.read(run / "overview.ipynb", as_version=4)
    injected = next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'previous_metrics = "{previous}"' in injected
    assert "metrics_dir" not in injected  # the notebooks no longer write metrics


def test_progress_bar_counts_done_failed_left_and_summary_times_each_client(tmp_path, capsys):
    from kpi_kit.run import run_batch

    missing = tmp_path / "missing.yaml"
    result = run_batch([FIXTURES / "tiny.yaml", missing], tmp_path / "out", notebooks=["funnel"], progress=True)
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "2/2" in bar and "done=1, failed=1, left=0" in bar
    summary = result.summary()
    assert re.search(r"1 of 2 client runs succeeded in \d+ s \(\d+\.\d s per client\)", summary)
    assert re.search(r"ok +tiny: .* \(\d+\.\d s\)", summary) and "FAILED  " in summary


# -- metrics files and the run folder, on the fixture notebooks (fast) --------------------------------
LEAK_NOTEBOOKS = FIXTURES / "notebooks"


class _Metrics:
    """Stands in for the metrics layer's ClientMetrics: known values, computed once per client."""

    def __init__(self, data, previous_metrics=None):
        self.client, self.previous = data.params.client, previous_metrics

    def compute_all(self):
        return self

    def metrics_json(self) -> dict:
        return {"client": self.client, "previous": self.previous, "scalars": {"win_rate": 0.5, "note": "ü"}}

    def kpis(self) -> pd.DataFrame:
        return pd.DataFrame({"metric": ["win_rate"], "value": [0.5]})


def _run_leak_b(out, **kwargs):
    from kpi_kit.run import run_batch

    return run_batch([FIXTURES / "tiny.yaml"], out, notebooks=["leak_b"], notebook_folder=LEAK_NOTEBOOKS,
                     progress=False, **kwargs)


@pytest.mark.parametrize("engine", ["fast", "kernel"])
def test_metrics_files_hold_the_computed_metrics_and_the_notebooks_rendered(tmp_path, monkeypatch, engine):
    monkeypatch.setattr("kpi_kit.run.batch.compute", _Metrics)
    batch = _run_leak_b(tmp_path, engine=engine)
    assert not batch.failed, batch.summary()
    folder = tmp_path / "tiny" / "2026-03-31"
    assert sorted(p.name for p in folder.iterdir()) == [".inputs", "data_quality.html", "definitions.html", "index.html",
                                                        "kpis.csv", "leak_b.html",
                                                        "leak_b.ipynb", "metrics.json"]  # no notebook fragments
    assert json.loads((folder / "metrics.json").read_text(encoding="utf-8")) == {
        "client": "tiny", "previous": None, "scalars": {"win_rate": 0.5, "note": "ü"}, "notebooks": ["leak_b"]}
    assert (folder / "kpis.csv").read_text(encoding="utf-8") == "metric,value\nwin_rate,0.5\n"


def test_metrics_that_cannot_be_written_keep_the_earlier_run(tmp_path, monkeypatch):
    monkeypatch.setattr("kpi_kit.run.batch.compute", _Metrics)
    assert not _run_leak_b(tmp_path).failed
    earlier = (tmp_path / "tiny" / "2026-03-31" / "metrics.json").read_text(encoding="utf-8")
    monkeypatch.setattr(_Metrics, "metrics_json", lambda self: {"scalars": {"win_rate": object()}})
    batch = _run_leak_b(tmp_path, force=True)  # its inputs are unchanged: only a forced run reruns it
    assert "TypeError: Object of type object is not JSON serializable" in batch.failed[0].error
    assert (tmp_path / "tiny" / "2026-03-31" / "metrics.json").read_text(encoding="utf-8") == earlier
    # no temporary or .failed folder (index.html: the client's runs)
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["2026-03-31", "index.html"]


def test_a_failing_metrics_computation_stops_the_client_before_its_notebooks(tmp_path, monkeypatch):
    def compute(data, previous_metrics=None):
        raise KpiKitError("no contacts in the window. Fix: check as_of")

    monkeypatch.setattr("kpi_kit.run.batch.compute", compute)
    batch = _run_leak_b(tmp_path)
    assert batch.failed[0].error == "no contacts in the window. Fix: check as_of"
    assert not [p for p in (tmp_path / "tiny").iterdir()]  # no notebook ran, nothing left behind


def test_swap_puts_the_earlier_run_back_when_the_new_one_cannot_move_in(tmp_path, monkeypatch):
    from kpi_kit.run import publish

    final = tmp_path / "2026-03-31"
    final.mkdir()
    (final / "metrics.json").write_text("earlier")
    tmp = publish.temp_folder(tmp_path, "2026-03-31")
    (tmp / "metrics.json").write_text("new")
    rename = Path.rename

    def failing_rename(self, target):
        if self == tmp:
            raise OSError("disk full")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(OSError, match="disk full"):
        publish.swap_in(tmp, final)
    assert (final / "metrics.json").read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == [tmp.name, "2026-03-31"]  # nothing set aside is left


def test_the_registry_is_the_one_list_of_notebooks():
    from kpi_kit.run import NOTEBOOKS, available_notebooks, by_name, title

    assert NOTEBOOKS[0].name == "overview"  # read first
    assert available_notebooks() == [nb.name for nb in NOTEBOOKS]  # each registered notebook ships, no other
    for nb in NOTEBOOKS:
        assert nb.report_class().__name__ == nb.report.partition(":")[2]
    assert by_name("cohort").title == "Cohorts" and title("leak_b") == "leak_b"
    with pytest.raises(KpiKitError, match="unknown notebook 'nope'"):
        by_name("nope")
