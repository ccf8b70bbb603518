"""What every notebook does first: resolve its parameters, apply the style, load the data."""

from __future__ import annotations

import warnings
from pathlib import Path

from .charts.style import register_channels, use_style
from .data import ClientData, load_client
from .params import Params


def open_client(namespace: dict) -> ClientData:
    """Resolve the notebook's parameters (papermill-injected or demo defaults) and load the data.

    Examples
    --------
    >>> data = open_client(globals())  # doctest: +SKIP
    """
    # Known harmless library warnings would end up in stderr outputs that nbval compares.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    use_style()
    data = load_client(Params.from_namespace(_with_data_dir_resolved(namespace)))
    seen = {c for df in data.frames.values() if "channel" in df for c in df["channel"].dropna().unique()}
    register_channels(seen | set(data.params.channel_map.values()))
    return data


def _with_data_dir_resolved(namespace: dict) -> dict:
    """A relative ``data_dir`` that is not a folder from the working directory is read from the
    notebooks folder, where the parameters cell's defaults point from: a notebook then runs from
    any working directory (JupyterLab opens it in its own folder, papermill in the caller's)."""
    from .run.registry import notebook_dir

    data_dir = namespace.get("data_dir")
    if not data_dir or Path(data_dir).is_absolute() or Path(data_dir).is_dir():
        return namespace
    beside_notebooks = notebook_dir() / data_dir
    return {**namespace, "data_dir": str(beside_notebooks.resolve())} if beside_notebooks.is_dir() else namespace
