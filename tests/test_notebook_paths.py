"""A notebook runs from any working directory, and `kpi-kit params` gives papermill a client's
parameters with paths that do not depend on where papermill is started (issue #17, item 6)."""

from __future__ import annotations

from pathlib import Path

import papermill as pm
import pytest
import yaml
from click.testing import CliRunner

import kpi_kit.run.engine  # noqa: F401 - registers the in-process papermill engine used below
from kpi_kit.cli import main
from kpi_kit.notebook import _with_data_dir_resolved
from kpi_kit.params import Params, load_params
from kpi_kit.run.registry import notebook_dir

ROOT = Path(__file__).resolve().parents[1]
DEMO_YAML = ROOT / "data" / "clients" / "demo.yaml"


def test_params_prints_the_resolved_parameters_with_an_absolute_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the YAML's data_dir is relative to the YAML, not to here
    result = CliRunner().invoke(main, ["params", str(DEMO_YAML)])
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert printed["data_dir"] == str((ROOT / "data" / "demo").resolve())
    assert Params.from_mapping(printed) == load_params(DEMO_YAML)  # every value, nothing lost


def test_params_writes_a_file_with_output(tmp_path):
    out = tmp_path / "demo.params.yaml"
    result = CliRunner().invoke(main, ["params", str(DEMO_YAML), "-o", str(out)])
    assert result.exit_code == 0 and result.output == ""
    assert yaml.safe_load(out.read_text())["client"] == "demo"


def test_a_relative_data_dir_is_read_from_the_notebooks_folder_when_not_found_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolved = _with_data_dir_resolved({"data_dir": "../data/demo", "client": "demo"})
    assert resolved == {"data_dir": str((notebook_dir() / "../data/demo").resolve()), "client": "demo"}
    (tmp_path / "mine").mkdir()  # a folder that exists from the working directory wins
    assert _with_data_dir_resolved({"data_dir": "mine"}) == {"data_dir": "mine"}
    assert _with_data_dir_resolved({"data_dir": "nowhere"}) == {"data_dir": "nowhere"}  # the loader names it


@pytest.mark.parametrize("with_params_file", [False, True], ids=["defaults", "papermill -f"])
def test_a_notebook_runs_from_another_working_directory(tmp_path, monkeypatch, with_params_file):
    monkeypatch.chdir(tmp_path)
    parameters = None
    if with_params_file:
        params_file = tmp_path / "demo.params.yaml"
        assert CliRunner().invoke(main, ["params", str(DEMO_YAML), "-o", str(params_file)]).exit_code == 0
        parameters = yaml.safe_load(params_file.read_text())  # what `papermill -f` reads
    nb = pm.execute_notebook(str(notebook_dir() / "funnel.ipynb"), str(tmp_path / "funnel.ipynb"),
                             parameters=parameters, engine_name="kpi_kit", progress_bar=False)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    header = next(c for c in nb.cells if "report.header()" in c.source)
    assert "demo" in "".join(o.get("data", {}).get("text/plain", "") for o in header["outputs"])
