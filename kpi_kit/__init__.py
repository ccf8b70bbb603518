"""kpi_kit: notebook templates and helpers for B2B SaaS marketing and sales KPIs.

The data flows one way: parameters -> data (load, validate) -> :mod:`kpi_kit.metrics` (every
number, once per client run) -> :mod:`kpi_kit.reports` (sentences, tables and
:mod:`kpi_kit.charts`) -> notebooks -> :mod:`kpi_kit.run` (papermill batch, HTML, metrics.json,
kpis.csv). The public API is small: load a client, compute its metrics, open a report, run a batch.
"""

from . import _command

_command.guard()  # first: Ctrl-C while the command imports the kit is one line, not a traceback

from . import formatting  # noqa: E402
from ._version import __version__  # noqa: E402
from .data import ClientData, load_client  # noqa: E402
from .exceptions import DataError, KpiKitError, ParamsError, RunError  # noqa: E402
from .metrics import compute  # noqa: E402
from .notebook import open_client  # noqa: E402
from .params import Params, load_params  # noqa: E402

__all__ = [
    "__version__", "ClientData", "DataError", "KpiKitError", "Params", "ParamsError", "RunError",
    "compute", "load_client", "load_params", "open_client", "formatting",
]
