"""What every notebook does first: resolve its parameters, apply the style, load the data."""

from __future__ import annotations

import warnings

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
    data = load_client(Params.from_namespace(namespace))
    seen = {c for df in data.frames.values() if "channel" in df for c in df["channel"].dropna().unique()}
    register_channels(seen | set(data.params.channel_map.values()))
    return data
