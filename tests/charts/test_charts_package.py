"""The charts namespace: every chart exported once, documented, and drawing without the metrics layer."""

import ast
import inspect
from pathlib import Path

from kpi_kit import charts

MODULES = ["funnel", "channel", "economics", "cohort", "overview", "forecast"]


def test_every_chart_function_is_exported_once():
    assert len(charts.__all__) == len(set(charts.__all__)) == 24
    for module in MODULES:
        mod = getattr(charts, module)
        public = [n for n, f in inspect.getmembers(mod, inspect.isfunction) if f.__module__ == mod.__name__
                  and not n.startswith("_")]
        assert public and set(public) <= set(charts.__all__)
    assert all(callable(getattr(charts, name)) for name in charts.__all__)


def test_chart_functions_take_ax_or_fig_and_are_documented():
    for name in charts.__all__:
        f = getattr(charts, name)
        params = inspect.signature(f).parameters
        assert all(section in f.__doc__ for section in ("Parameters", "Returns", "Examples")), name
        if inspect.signature(f).return_annotation in ("Grid", charts.Grid):  # small multiples: figures of their own
            assert "ax" not in params and "fig" not in params, name
            continue
        assert ("ax" in params) != ("fig" in params), name
        assert params["ax" if "ax" in params else "fig"].default is None


def test_charts_import_only_the_style_and_formatting():
    root = Path(charts.__file__).parent
    for module in MODULES:
        tree = ast.parse((root / f"{module}.py").read_text())
        kit = {(n.module or "") + ":" + ",".join(a.name for a in n.names)
               for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
        assert kit <= {":style", "formatting:fmt_money", "grid:Grid", "grid:Grid,legend_figure"}, (module, kit)
