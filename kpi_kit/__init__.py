"""kpi_kit: notebook templates and helpers for B2B SaaS marketing and sales KPIs.

The public API is small: load a client's parameters and data, compute a notebook's
analysis, run a batch. Everything else lives in the modules named below.
"""

__version__ = "0.1.0"

from . import formatting, plotting, report  # noqa: E402
from .data import ClientData, load_client  # noqa: E402
from .exceptions import DataError, KpiKitError, ParamsError, RunError  # noqa: E402
from .notebook import open_client  # noqa: E402
from .params import Params, load_params  # noqa: E402

__all__ = [
    "__version__", "ClientData", "DataError", "KpiKitError", "Params", "ParamsError", "RunError",
    "load_client", "load_params", "open_client", "formatting", "plotting", "report",
]
