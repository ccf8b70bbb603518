"""kpi_kit: notebook templates and helpers for B2B SaaS marketing and sales KPIs.

The data flows one way: parameters -> data (load, validate) -> :mod:`kpi_kit.metrics` (every
number, once per client run) -> :mod:`kpi_kit.reports` (sentences, tables and
:mod:`kpi_kit.charts`) -> notebooks -> :mod:`kpi_kit.run` (papermill batch, HTML, metrics.json,
kpis.csv). The public API is small: load a client, compute its metrics, open a report, run a batch.
"""

from . import formatting
from ._version import __version__
from .data import ClientData, load_client
from .exceptions import DataError, KpiKitError, ParamsError, RunError
from .metrics import compute
from .notebook import open_client
from .params import Params, load_params

__all__ = [
    "__version__", "ClientData", "DataError", "KpiKitError", "Params", "ParamsError", "RunError",
    "compute", "load_client", "load_params", "open_client", "formatting",
]
