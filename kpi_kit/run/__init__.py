"""Rendering runs: the notebook registry, one notebook's execution, the fast engine, publishing a
finished run, and batches of clients.

==============  =====================================================================
``registry``    the report notebooks, in report order (:data:`NOTEBOOKS`)
``execute``     one notebook: papermill execution and the HTML export
``engine``      the in-process papermill engine, warm-up and forked isolation
``publish``     metrics.json, kpis.csv, the indexes and the swap into the output folder
``inputs``      incremental runs: a client's inputs fingerprinted, kept beside its reports
``batch``       :func:`run_client`, :func:`run_batch` and the executors
==============  =====================================================================

The names below load their module on first use: importing the registry does not import the batch
(pandas, the metrics layer), and ``python -m kpi_kit.run.batch`` runs a module not imported yet.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = [
    "NAMES", "NOTEBOOKS", "Notebook", "available_notebooks", "by_name", "notebook_dir", "title",  # registry
    "ENGINES", "KERNEL_NAME", "execute_notebook", "export_html",  # execute
    "previous_run_metrics", "write_metrics", "write_output_index",  # publish
    "EXECUTORS", "BatchResult", "ClientResult", "expand_params_paths", "run_batch", "run_client",  # batch
]

if TYPE_CHECKING:
    from .batch import EXECUTORS, BatchResult, ClientResult, expand_params_paths, run_batch, run_client
    from .execute import ENGINES, KERNEL_NAME, execute_notebook, export_html
    from .publish import previous_run_metrics, write_metrics, write_output_index
    from .registry import NAMES, NOTEBOOKS, Notebook, available_notebooks, by_name, notebook_dir, title


def __getattr__(name: str):
    if name in __all__:
        for module in ("registry", "execute", "publish", "batch"):  # the order of __all__
            source = importlib.import_module(f".{module}", __name__)
            if hasattr(source, name):
                globals()[name] = value = getattr(source, name)  # looked up once
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
