"""Re-execute the committed notebooks in place on the demo defaults (``make notebooks``).

Volatile metadata (papermill timings, execution timestamps) is stripped so the
committed files change only when an output changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from .run.execute import KERNEL_NAME
from .run.registry import notebook_dir


def strip_volatile(nb) -> None:
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("papermill", None)


def refresh(path: Path) -> None:
    import papermill as pm

    pm.execute_notebook(str(path), str(path), kernel_name=KERNEL_NAME, cwd=str(path.parent),
                        progress_bar=False)
    nb = nbformat.read(path, as_version=4)
    strip_volatile(nb)
    nbformat.write(nb, path)


def main(argv: list[str]) -> None:
    targets = [Path(a) for a in argv] or [notebook_dir()]
    for t in targets:
        for path in sorted(t.glob("*.ipynb")) if t.is_dir() else [t]:
            print(f"refreshing {path}")
            refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
