"""Example clients on real public datasets: import each dataset with its recipe, then render every
notebook for it, as ``kpi-kit run`` does.

An example is a parameters file ``<recipes>/<client>.yaml`` plus a folder ``<recipes>/<client>/``
holding ``recipe.py`` (a ``build(dataset, out, report)`` function of a few lines calling
:mod:`kpi_kit.importers`) and any mapping YAML it uses. The dataset folder has the client's name
under ``datasets``; a missing one is skipped, not an error. Imports go to a fresh folder that
replaces the previous one only when the import succeeded.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .importers import ImportReport
from .params import load_params


@dataclass
class Example:
    client: str
    params_file: Path
    recipe: Path
    dataset: Path
    data_dir: Path


def find_examples(recipes_dir, datasets_dir) -> list[Example]:
    """Every example under ``recipes_dir`` (sorted by client), with where its dataset would be."""
    out = []
    for params_file in sorted(Path(recipes_dir).glob("*.yaml")):
        params = load_params(params_file)
        out.append(Example(params.client, params_file, params_file.with_suffix("") / "recipe.py",
                           Path(datasets_dir) / params.client, Path(params.data_dir)))
    return out


def build_example(example: Example) -> ImportReport:
    """Run the example's recipe into a temporary folder, then swap it in for its ``data_dir``."""
    spec = importlib.util.spec_from_file_location(f"kpi_kit_recipe_{example.client.replace('-', '_')}",
                                                  example.recipe)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    report = ImportReport()
    example.data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=example.data_dir.parent, prefix=f".{example.data_dir.name}."))
    try:
        recipe.build(example.dataset, staging, report)
        (staging / "import_report.txt").write_text(str(report) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if example.data_dir.exists():
        shutil.rmtree(example.data_dir)
    staging.rename(example.data_dir)
    return report


def run_examples(datasets="../shared/datasets", recipes="data/examples", out="reports", *, jobs: int = 1,
                 echo=print) -> int:
    """Import every example whose dataset is present, render its notebooks into ``out``; the exit code.

    Examples
    --------
    >>> run_examples("../shared/datasets", "data/examples", "reports")  # doctest: +SKIP
    0
    """
    from .exceptions import KpiKitError
    from .run import run_batch

    ready = []
    for ex in find_examples(recipes, datasets):
        if not ex.dataset.is_dir():
            echo(f"skipped {ex.client}: no dataset at {ex.dataset}")
            continue
        echo(f"== {ex.client}: importing {ex.dataset} into {ex.data_dir}")
        try:
            echo(str(build_example(ex)))
        except KpiKitError as exc:
            echo(f"error: {ex.client}: {exc}")
            return 1
        ready.append(ex.params_file)
    if not ready:
        echo(f"no dataset found under {datasets}: nothing to render")
        return 0
    result = run_batch(ready, out, jobs=jobs)
    echo(result.summary())
    return 1 if result.failed else 0


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m kpi_kit.examples", description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="../shared/datasets", help="folder holding one folder per dataset")
    ap.add_argument("--recipes", default="data/examples", help="folder of example parameters and recipes")
    ap.add_argument("--out", default="reports", help="where the reports go (<out>/<client>/<as_of>/)")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    return run_examples(args.datasets, args.recipes, args.out, jobs=args.jobs)


if __name__ == "__main__":
    raise SystemExit(main())
