"""Incremental runs (issue #19): a client whose inputs are unchanged since its last successful run is
skipped and reported as up to date; ``--force`` reruns every client; a failed client always reruns.

The batches render the fixture notebooks (tests/fixtures/notebooks) for copies of the tiny client,
so each run takes a second or two."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from kpi_kit import KpiKitError, load_params
from kpi_kit.cli import main
from kpi_kit.run import inputs, run_batch

pytestmark = pytest.mark.long(16)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parents[1] / "fixtures"
AS_OF = "2026-03-31"


@pytest.fixture
def clients(tmp_path):
    """Two clients, ``a`` and ``b``, each with its own copy of the tiny client's data, and a copy of
    the fixture notebooks: {"a": yaml, "b": yaml, "notebooks": folder, "out": output folder}."""
    made = {"notebooks": tmp_path / "notebooks", "out": tmp_path / "reports"}
    shutil.copytree(FIXTURES / "notebooks", made["notebooks"])
    for name in ("a", "b"):
        shutil.copytree(FIXTURES / "tiny", tmp_path / f"data-{name}")
        made[name] = tmp_path / f"{name}.yaml"
        made[name].write_text((FIXTURES / "tiny.yaml").read_text()
                              .replace("client: tiny", f"client: {name}").replace("data_dir: tiny", f"data_dir: data-{name}"))
    return made


def _run(c, *files, **kwargs):
    kwargs = {"notebooks": ["leak_b"], "progress": False} | kwargs
    batch = run_batch(files or [c["a"], c["b"]], c["out"], notebook_folder=c["notebooks"], **kwargs)
    assert not batch.failed, batch.summary()
    return batch


def _skipped(batch) -> dict[str, bool]:
    return {r.client: r.skipped for r in batch.results}


def _files(out: Path, client: str) -> dict[str, tuple[bytes, int]]:
    """Every file of the client's output folder (hidden ones too): bytes and modification time."""
    root = out / client
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def _reports(folder: Path) -> dict[str, object]:
    """What a reader gets from a run's folder. Papermill gives the injected-parameters cell a random
    id (in the .ipynb and the HTML) and times each cell: those are left out, nothing else."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.suffix == ".ipynb":
            nb = nbformat.read(p, as_version=4)
            out[p.name] = [(c.cell_type, c.source, c.get("outputs")) for c in nb.cells]
        elif p.suffix == ".html":
            out[p.name] = re.sub(r'id="cell-id=[0-9a-f]+"', 'id="cell-id"', p.read_text(encoding="utf-8"))
        else:
            out[p.name] = p.read_bytes()
    return out


def test_an_unchanged_rerun_skips_every_client_without_loading_or_forking(clients, monkeypatch):
    first = _run(clients)
    assert _skipped(first) == {"a": False, "b": False}
    before = {n: _files(clients["out"], n) for n in ("a", "b")}
    assert ".inputs" in str(before["a"].keys())  # the fingerprint lives in the published folder

    def must_not_run(*args, **kwargs):
        raise AssertionError("an up-to-date client was loaded or run")

    for name in ("kpi_kit.run.batch.preload", "kpi_kit.run.batch.load_client", "kpi_kit.run.batch.start_child",
                 "kpi_kit.run.engine.warm_up"):
        monkeypatch.setattr(name, must_not_run)
    again = _run(clients)
    assert _skipped(again) == {"a": True, "b": True}
    assert {n: _files(clients["out"], n) for n in ("a", "b")} == before  # same bytes, same modification times
    summary = again.summary()
    assert summary.startswith("2 of 2 client runs succeeded (2 up to date, not rerun: --force reruns them)")
    assert f"  up to date  a: {clients['out'] / 'a' / AS_OF}" in summary
    assert "a/2026-03-31/index.html" in (clients["out"] / "index.html").read_text()  # the index is still written


def test_changing_one_byte_of_one_data_file_reruns_that_client_alone(clients):
    _run(clients)
    a_before, b_before = (_files(clients["out"], n) for n in ("a", "b"))
    deals = clients["a"].parent / "data-a" / "deals.csv"
    deals.write_text(deals.read_text().replace(",,,0.5", ",,,0.6"))  # D3's probability
    batch = _run(clients)
    assert _skipped(batch) == {"a": False, "b": True}
    assert _files(clients["out"], "b") == b_before
    assert _files(clients["out"], "a")["2026-03-31/index.html"][1] != a_before["2026-03-31/index.html"][1]
    assert _skipped(_run(clients)) == {"a": True, "b": True}  # and then it is up to date again


def test_a_file_touched_without_changing_its_bytes_is_still_up_to_date(clients):
    _run(clients)
    deals = clients["a"].parent / "data-a" / "deals.csv"
    deals.write_bytes(deals.read_bytes())  # a new modification time, the same content
    assert _skipped(_run(clients)) == {"a": True, "b": True}


def test_a_new_or_removed_data_file_reruns_the_client(clients):
    _run(clients)
    spend = clients["b"].parent / "data-b" / "spend.csv"
    spend.write_text("date,channel,spend\n2026-03-01,linkedin,100\n")
    assert _skipped(_run(clients)) == {"a": True, "b": False}
    spend.unlink()
    assert _skipped(_run(clients)) == {"a": True, "b": False}


def test_a_changed_parameter_reruns_the_client_and_a_comment_does_not(clients):
    _run(clients)
    clients["a"].write_text(clients["a"].read_text() + "# a comment changes no parameter\n")
    assert _skipped(_run(clients)) == {"a": True, "b": True}
    clients["b"].write_text(clients["b"].read_text().replace("window_months: 3", "window_months: 2"))
    assert _skipped(_run(clients)) == {"a": True, "b": False}


def test_force_reruns_every_client_and_its_reports_equal_the_incremental_runs(clients):
    cli = ["run", str(clients["a"]), str(clients["b"]), "--out", str(clients["out"]), "--no-progress",
           "--notebook-dir", str(clients["notebooks"])]
    first = CliRunner().invoke(main, cli)
    assert first.exit_code == 0, first.output
    deals = clients["a"].parent / "data-a" / "deals.csv"
    deals.write_text(deals.read_text().replace(",,,0.5", ",,,0.6"))
    incremental = CliRunner().invoke(main, cli)  # a reruns, b is up to date
    assert incremental.exit_code == 0, incremental.output
    assert "  up to date  b:" in incremental.output and re.search(r"  ok +a: ", incremental.output)
    reports = {n: _reports(clients["out"] / n / AS_OF) for n in ("a", "b")}
    fingerprints = {n: (clients["out"] / n / AS_OF / ".inputs").read_text() for n in ("a", "b")}
    forced = CliRunner().invoke(main, [*cli, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "up to date" not in forced.output and re.search(r"  ok +a: .*\n  ok +b: ", forced.output)
    assert {n: _reports(clients["out"] / n / AS_OF) for n in ("a", "b")} == reports
    assert {n: (clients["out"] / n / AS_OF / ".inputs").read_text() for n in ("a", "b")} == fingerprints


def test_a_failed_client_reruns_next_time_even_with_unchanged_inputs(clients, monkeypatch):
    from kpi_kit.metrics import compute

    _run(clients)

    def failing_for_a(data, previous_metrics=None):
        if data.params.client == "a":
            raise KpiKitError("no contacts in the window. Fix: check as_of")
        return compute(data, previous_metrics=previous_metrics)

    monkeypatch.setattr("kpi_kit.run.batch.compute", failing_for_a)
    batch = run_batch([clients["a"], clients["b"]], clients["out"], notebooks=["leak_b"],
                      notebook_folder=clients["notebooks"], progress=False, force=True)
    assert [r.client for r in batch.failed] == ["a"]
    assert (clients["out"] / "a" / AS_OF / "leak_b.html").exists()  # the earlier report stays
    assert not (clients["out"] / "a" / AS_OF / ".inputs").exists()  # but is no longer up to date
    monkeypatch.undo()
    assert _skipped(_run(clients)) == {"a": False, "b": True}


def test_a_failed_notebook_keeps_its_client_out_of_date(clients, monkeypatch):
    _run(clients)
    final = clients["out"] / "a" / AS_OF
    fingerprint = (final / ".inputs").read_text()
    final.with_name(f"{AS_OF}.failed").mkdir()  # what a run whose notebook failed keeps
    assert _skipped(_run(clients)) == {"a": False, "b": True}
    assert not final.with_name(f"{AS_OF}.failed").exists() and (final / ".inputs").read_text() == fingerprint


def test_a_changed_notebook_or_other_notebooks_rerun_every_client(clients):
    _run(clients)
    path = clients["notebooks"] / "leak_b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\n# edited"
    nbformat.write(nb, path)
    assert _skipped(_run(clients)) == {"a": False, "b": False}
    assert _skipped(_run(clients, notebooks=["leak_a", "leak_b"])) == {"a": False, "b": False}
    assert _skipped(_run(clients, notebooks=["leak_a", "leak_b"])) == {"a": True, "b": True}
    (clients["out"] / "a" / AS_OF / "leak_a.html").unlink()  # a page gone: rerun
    assert _skipped(_run(clients, notebooks=["leak_a", "leak_b"])) == {"a": False, "b": True}


def test_a_rerun_of_an_earlier_date_reruns_the_later_dates_that_compare_with_it(clients):
    text = clients["a"].read_text()
    feb, mar = clients["a"].with_name("a-feb.yaml"), clients["a"].with_name("a-mar.yaml")
    feb.write_text(text.replace(f"as_of: {AS_OF}", "as_of: 2026-02-28"))
    mar.write_text(text)
    _run(clients, feb, mar)
    assert json.loads((clients["out"] / "a" / AS_OF / ".inputs").read_text())["previous_metrics"][0].endswith(
        "a/2026-02-28/metrics.json")
    feb.write_text(feb.read_text().replace("window_months: 3", "window_months: 2"))
    assert [r.skipped for r in _run(clients, feb, mar).results] == [False, False]  # run in this order (jobs=1)
    assert [r.skipped for r in _run(clients, feb, mar).results] == [True, True]


# -- the fingerprint itself, without a run ----------------------------------------------------------------
def test_a_duckdb_source_is_fingerprinted_by_its_file_and_postgresql_never(tmp_path):
    (tmp_path / "w.duckdb").write_bytes(b"not really a database")
    (tmp_path / "duck.yaml").write_text("client: d\nsource: {url: 'duckdb:///w.duckdb'}\nas_of: 2026-03-31\n")
    (tmp_path / "pg.yaml").write_text("client: p\nsource: {url: 'postgresql://me@localhost/db'}\nas_of: 2026-03-31\n")
    shared = {"kit": "k", "notebook_folder": "n"}
    duck = load_params(tmp_path / "duck.yaml")
    first = inputs.client_inputs(duck, ["funnel"], tmp_path / "out", shared)
    assert first["data"]["duckdb"][0] == str(tmp_path / "w.duckdb")
    (tmp_path / "w.duckdb").write_bytes(b"not really a database, changed")
    assert inputs.client_inputs(duck, ["funnel"], tmp_path / "out", shared) != first
    assert inputs.client_inputs(load_params(tmp_path / "pg.yaml"), ["funnel"], tmp_path / "out", shared) is None


def test_the_kit_digest_covers_the_package_files_but_not_bytecode(tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "templates" / "page.j2").write_text("<p>")
    monkeypatch.setattr(inputs, "PACKAGE", tmp_path)
    first = inputs.kit_digest()
    (tmp_path / "__pycache__" / "code.cpython-311.pyc").write_bytes(b"\0")
    assert inputs.kit_digest() == first
    (tmp_path / "templates" / "page.j2").write_text("<p >")
    assert inputs.kit_digest() != first
