"""Inputs that passed ``validate`` and crashed a notebook, folders that gave tracebacks, markup in
parameters, importers' edge files (issue "Never a traceback, never a stray process")."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kpi_kit.cli import main
from kpi_kit.data import load_client
from kpi_kit.exceptions import DataError, KpiKitError, ParamsError
from kpi_kit.params import load_params
from kpi_kit.reports._render import render_all

pytestmark = pytest.mark.long(14)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parent / "fixtures"


def _chan(tmp_path: Path, edit=None, **yaml_extra) -> Path:
    """A copy of the channel fixture client, its files changed by ``edit(folder)``."""
    shutil.copytree(FIXTURES / "chan", tmp_path / "chan")
    if edit:
        edit(tmp_path / "chan")
    kept = [ln for ln in (FIXTURES / "chan.yaml").read_text().splitlines() if ln.split(":", 1)[0] not in yaml_extra]
    text = "\n".join(kept) + "".join(f"\n{k}: {v}" for k, v in yaml_extra.items()) + "\n"  # a key given twice is an error
    (tmp_path / "chan.yaml").write_text(text)
    return tmp_path / "chan.yaml"


def _header_only(*stems):
    def edit(folder):
        for p in folder.glob("*.csv"):
            if not stems or p.stem in stems:
                p.write_text(p.read_text().splitlines()[0] + "\n")
    return edit


def _first_row_only(folder):
    for p in folder.glob("*.csv"):
        p.write_text("\n".join(p.read_text().splitlines()[:2]) + "\n")


def _rename_channels(folder):
    for p in folder.glob("*.csv"):
        p.write_text(p.read_text().replace("linkedin", "Promo $$ week").replace("referral", "a$b_c^d$"))


# -- the README's minimal client file -----------------------------------------------------------------
def test_the_readmes_minimal_client_file_validates_and_renders(tmp_path):
    """Only client, data_dir and as_of: before, an empty channel_map crashed the loader (ArrowInvalid)."""
    yaml = tmp_path / "mini.yaml"
    yaml.write_text(f"client: mini\ndata_dir: {FIXTURES / 'chan'}\nas_of: 2026-03-31\n")
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(yaml)])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("valid.")
    data = load_client(load_params(yaml))
    # no channel_map: every raw value is its own channel, listed as unmapped
    assert sorted(data["contacts"]["channel"].unique()) == sorted(data["contacts"]["channel_raw"].unique())
    # 3 contacts + 2 spend rows (the third is dated after as_of) + 1 touch + 2 traffic rows
    assert data.quality.unmapped_channels["google / cpc"] == 8
    assert set(render_all(data)) == {"overview", "funnel", "channel", "cohort", "unit_economics"}


# -- what validate accepts renders; what would crash, validate refuses ---------------------------------------
@pytest.mark.parametrize("edit", [_header_only("contacts"), _header_only(), _first_row_only, _rename_channels],
                         ids=["header-only contacts", "every file header-only", "one row per file", "dollar signs"])
def test_inputs_that_crashed_a_notebook_render(tmp_path, edit):
    data = load_client(load_params(_chan(tmp_path, edit)))
    pages = render_all(data)
    assert all(pages.values())


def test_as_of_before_all_data_renders_no_data_sections(tmp_path):
    data = load_client(load_params(_chan(tmp_path, as_of="2020-01-31")))
    pages = render_all(data)
    assert any("(not in this client&#x27;s data)" in html for html in pages["funnel"])  # a not-shown line


@pytest.mark.parametrize(("value", "shown"), [("inf", "inf"), ("1e308", "1e308"), ("-inf", "-inf")])
def test_non_finite_and_overflowing_amounts_are_refused_with_file_column_and_row(tmp_path, value, shown):
    def edit(folder):
        deals = pd.read_csv(folder / "deals.csv", dtype=str)
        deals.loc[1, "amount"] = value
        deals.to_csv(folder / "deals.csv", index=False)

    with pytest.raises(DataError) as err:
        load_client(load_params(_chan(tmp_path, edit)))
    assert str(err.value) == (f"deals.csv, column 'amount': number not finite or above 1e+15 (e.g. '{shown}') (rows 3). "
                              "Fix: write the real value; 'inf' or an overflowing number would turn every total into "
                              "infinity")


def test_markup_in_a_parameter_is_refused_and_in_data_escaped(tmp_path):
    with pytest.raises(ParamsError, match="'currency': String should match pattern"):
        load_params(_chan(tmp_path, currency='"<script>alert(9)</script>"'))
    shutil.rmtree(tmp_path / "chan")
    data = load_client(load_params(_chan(tmp_path, lambda f: (f / "contacts.csv").write_text(
        (f / "contacts.csv").read_text().replace("linkedin", "<script>alert(9)</script>")))))
    pages = render_all(data)
    assert not any("<script>" in html for page in pages.values() for html in page)
    assert any("&lt;script&gt;" in html for html in pages["channel"])


# -- data folders: one message each ------------------------------------------------------------------------
def _validate(yaml: Path):
    return CliRunner().invoke(main, ["validate", str(yaml)])


def test_data_folder_problems_are_one_message(tmp_path):
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dangling").mkdir()
    shutil.copy(FIXTURES / "chan" / "deals.csv", tmp_path / "dangling")
    (tmp_path / "dangling" / "contacts.csv").symlink_to(tmp_path / "nowhere.csv")
    expected = {
        "loop1": "the data folder is a link that leads nowhere (a loop or a missing target)",
        "afile": "data_dir is a file, not a folder",
        "dangling": "is a link to",
    }
    for name, message in expected.items():
        yaml = tmp_path / f"{name}.yaml"
        yaml.write_text(f"client: x\ndata_dir: {tmp_path / name}\nas_of: 2026-03-31\n")
        result = _validate(yaml)
        assert result.exit_code == 1, (name, result.output)
        assert message in result.output and "Traceback" not in result.output, result.output
        assert result.output.count("\n") == 1


def test_a_bug_prints_its_traceback_and_asks_for_a_report(monkeypatch):
    def boom(_params):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("kpi_kit.data.load_client", boom)
    result = CliRunner().invoke(main, ["validate", str(FIXTURES / "tiny.yaml")])
    assert result.exit_code == 2
    assert "ZeroDivisionError: oops" in result.output and "Please report it" in result.output


# -- many categories --------------------------------------------------------------------------------------
def test_charts_draw_the_top_channels_and_fold_the_rest_into_other(kit_style):
    from kpi_kit.charts import attribution_chart, conversion_heatmap, pipeline_share_chart, trend_chart

    channels = [f"ch{i:02d}" for i in range(15)]
    monthly = pd.DataFrame([{"month": pd.Period(m, "M"), "channel": c, "leads": 15 - i, "spend": 10.0}
                            for m in ("2026-01", "2026-02") for i, c in enumerate(channels)])
    grid = trend_chart(monthly, [("leads", "Leads per month", "Leads", "count")], max_channels=3)
    assert [t.get_text() for t in grid.legend.legends[0].get_texts()] == ["ch00", "ch01", "ch02", "Other"]
    other = next(line for line in grid.axes[0].get_lines() if line.get_label() == "Other")
    assert list(other.get_ydata()) == [sum(range(1, 13))] * 2  # ch03..ch14: 12 + 11 + ... + 1 = 78 a month
    ax = pipeline_share_chart(monthly, column="leads", max_channels=3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Other", "ch00", "ch01", "ch02"]
    credit = pd.DataFrame({"linear": range(15, 0, -1)}, index=channels, dtype=float)
    ax = attribution_chart(credit, max_channels=2)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Other", "ch00", "ch01"]  # 13+...+1 = 91 first
    cohort = pd.DataFrame({"created": range(15, 0, -1), "lead": 1, "created_to_lead": 0.5}, index=channels)
    ax = conversion_heatmap(cohort, ["lead"], max_channels=4)
    assert ax.get_title(loc="left") == ("Cohort view: stage conversion by channel (contacts created in the window) "
                                        "(top 4 of 15 channels)")
    assert [t.get_text() for t in ax.get_yticklabels()] == channels[:4]


def test_ten_thousand_channels_do_not_hang_the_data_driven_models():
    from kpi_kit.metrics.datadriven import markov_attribution

    n = 10_000
    steps = pd.DataFrame({"path": range(n), "channel": [f"c{i}" for i in range(n)]})
    paths = pd.DataFrame({"converted": [i % 7 == 0 for i in range(n)]})
    started = time.monotonic()
    out = markov_attribution(steps, paths)
    assert time.monotonic() - started < 60
    assert len(out) == 50 and "Other" in out.index  # 49 channels on most paths, the rest as Other
    assert out["conversions"].sum() == pytest.approx(paths["converted"].sum())


# -- importers ---------------------------------------------------------------------------------------------
def _import(tmp_path, *files, out="out"):
    return CliRunner().invoke(main, ["import", "hubspot-contacts", *map(str, files), "--out", str(tmp_path / out)])


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty.csv: the file is empty. Fix: export it again: a CSV needs a header line and rows"),
    (b"PK\x03\x04\x14\x00binary", "empty.csv: this is a binary file, not a CSV export. Fix: export the data as CSV "
                                  "(or .xlsx for Excel workbooks)"),
    ((",".join(f"c{i}" for i in range(3000)) + "\n").encode(), "empty.csv: the header has 3,000 columns (at most "
                                                                "2,000 are read). Fix: export only the columns the "
                                                                "import needs"),
])
def test_importers_refuse_empty_binary_and_absurdly_wide_files_fast(tmp_path, content, message):
    (tmp_path / "empty.csv").write_bytes(content)
    result = _import(tmp_path, tmp_path / "empty.csv")
    assert result.exit_code == 1
    assert result.output == f"error: {message}\n"
    assert not (tmp_path / "out").exists(), "a failed import leaves no empty folder behind"


def test_a_200000_column_header_is_refused_in_well_under_a_second(tmp_path):
    (tmp_path / "wide.csv").write_text(",".join(f"c{i}" for i in range(200_000)) + "\n" + "1," * 199_999 + "1\n")
    started = time.monotonic()
    result = _import(tmp_path, tmp_path / "wide.csv")
    assert time.monotonic() - started < 2 and result.exit_code == 1
    assert "the header has more than" in result.output and len(result.output) < 200


def test_overlapping_ids_in_one_import_keep_the_later_files_row_and_say_so(tmp_path):
    src = FIXTURES / "importers" / "hubspot_contacts.csv"
    rows = src.read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(rows) + "\n")
    later = pd.read_csv(src, dtype=str, keep_default_na=False)
    later = later.iloc[:1].copy()
    id_col = later.columns[0]
    source_col = next(c for c in later.columns if "source" in c.lower())
    later.loc[:, source_col] = "REFERRALS"
    later.to_csv(tmp_path / "b.csv", index=False)
    result = _import(tmp_path, tmp_path / "a.csv", tmp_path / "b.csv")
    assert result.exit_code == 0, result.output
    assert "1 row(s) share their contact_id with a row of a later file in this import: the later file's row is kept" \
        in result.output
    out = pd.read_csv(tmp_path / "out" / "contacts.csv", dtype=str)
    assert out["contact_id"].is_unique
    assert len(out) == len(rows) - 1
    assert out.set_index("contact_id").loc[str(later[id_col].iloc[0]), "channel"] == "REFERRALS"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_an_import_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    src = FIXTURES / "importers" / "hubspot_contacts.csv"
    assert _import(tmp_path, src).exit_code == 0
    target = tmp_path / "out" / "contacts.csv"
    os.chmod(target, 0o644)
    rows = src.read_text().splitlines()
    (tmp_path / "more.csv").write_text("\n".join(rows[:2]) + "\n")
    assert _import(tmp_path, tmp_path / "more.csv").exit_code == 0
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)  # mkstemp made it 0600 before


def test_errors_are_kpi_kit_errors():
    assert issubclass(DataError, KpiKitError) and issubclass(ParamsError, KpiKitError)


def test_validate_warns_about_data_that_loads_but_shows_nothing(tmp_path):
    (tmp_path / "d").mkdir()
    shutil.copy(FIXTURES / "chan" / "deals.csv", tmp_path / "d")
    yaml = tmp_path / "c.yaml"
    yaml.write_text(f"client: x\ndata_dir: {tmp_path / 'd'}\nas_of: 2020-01-31\n")
    result = _validate(yaml)
    assert result.exit_code == 0
    assert result.output.splitlines()[-5:] == [
        "warning: no contacts file: every section built on contacts is listed as not shown (SPEC: contacts is "
        "required; the reports show what the other files support)", "",
        "warning: as_of 2020-01-31 is before every row of the data: the reports will show no data", "", "valid."]


@pytest.mark.parametrize("keep", [1, 0], ids=["one row in every demo file", "every demo file header-only"])
def test_the_demo_files_cut_to_one_row_or_none_render(tmp_path, keep):
    """Subscriptions, MRR, costs and targets too: one row of each once raised KeyError 'month'."""
    root = Path(__file__).parents[1]
    shutil.copytree(root / "data" / "demo", tmp_path / "data")
    for p in (tmp_path / "data").glob("*.csv"):
        p.write_text("\n".join(p.read_text().splitlines()[:1 + keep]) + "\n")
    text = (root / "data" / "clients" / "demo.yaml").read_text()
    yaml = tmp_path / "demo.yaml"
    yaml.write_text("\n".join(f"data_dir: {tmp_path / 'data'}" if line.startswith("data_dir:") else line
                              for line in text.splitlines()) + "\n")
    pages = render_all(load_client(load_params(yaml)))
    assert all(pages.values())
