"""The committed notebooks: parameters cells, stored outputs, and the demo defaults."""

import ast
from pathlib import Path

import nbformat
import pytest
import yaml

from kpi_kit.params import Params
from kpi_kit.run.registry import NAMES, available_notebooks, notebook_dir
from kpi_kit.run.registry import NOTEBOOKS as REGISTRY

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def parameters(nb) -> dict:
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds literal assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_names_every_parameter_with_demo_defaults(path):
    nb = nbformat.read(path, as_version=4)
    values = parameters(nb)
    assert set(values) == set(Params.model_fields) | {"previous_metrics"}
    assert values["previous_metrics"] is None
    demo = yaml.safe_load((ROOT / "data" / "clients" / "demo.yaml").read_text())
    for key, value in demo.items():
        if key == "data_dir":
            assert (path.parent / values[key]).resolve() == (ROOT / "data" / "clients" / value).resolve()
        else:
            assert values[key] == (value.isoformat() if hasattr(value, "isoformat") else value), key
    Params.from_namespace(values)  # the defaults are valid


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_outputs_and_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "run `make notebooks` to store outputs"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not [o for c in code for o in c.outputs if o.get("name") == "stderr"], "stderr in stored outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert sum(1 for c in code for o in c.outputs if "image/png" in o.get("data", {})) >= 2


def test_runner_finds_the_notebooks_in_report_order():
    assert notebook_dir() == ROOT / "notebooks"
    names = available_notebooks()
    assert names == [n for n in NAMES if n in names] and "funnel" in names


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.name)
def test_every_registered_notebook_exists_and_uses_its_report_class(entry):
    nb = nbformat.read(ROOT / "notebooks" / f"{entry.name}.ipynb", as_version=4)
    cls = entry.report_class()
    assert f"from kpi_kit.reports import {cls.__name__}" in "\n".join(c.source for c in nb.cells)
