"""Where one client's reports spend their time (issue #19): the phases of ``kpi-kit run`` for one
client, each timed in this process (median of ``--repeats`` runs), and the cost of every figure.

Phases, in the order a run goes through them:

- **load**: read and validate the client's files (``load_client``, once per client);
- **metrics**: compute every number of the run (``compute(...).compute_all()``, once per client);
- **figures**: the charts drawn and encoded as PNG while the notebooks run;
- **cells**: the rest of the notebooks' execution, split (:class:`CellSplit`) into
  **artists** (the chart functions of ``kpi_kit.charts`` building each figure's artists),
  **tables** (``kpi_kit.reports.blocks``: tables, KPI strips, headers as HTML), **takeaways** (the
  sentences of ``kpi_kit.reports.takeaways``), **alt text** (each chart's alt text, read from its
  artists), **report logic** (the reports' own code between those calls) and **papermill and kernel**
  (what is left: parameterising the notebook, the in-process kernel executing cells, display and its
  messages, recording outputs);
- **export**: the executed notebooks written as HTML pages (nbconvert);
- **publish**: ``metrics.json``, ``kpis.csv`` and the run's index.

A batch forks a child per notebook; here the notebooks run one after another in this process with the
same in-process kernel engine, so the phases add up to a client's single-core time without the forks.

Each figure is also encoded as SVG (text kept as text) from the same figure, so the printout compares
the formats side by side, time and bytes: SVG cropped like the PNG (``bbox_inches="tight"``, which
draws twice), and SVG drawn once on the PNG's uncropped canvas: the least an SVG could cost.

    .venv/bin/python benchmarks/phases.py                    # the demo client, 3 repeats
    .venv/bin/python benchmarks/phases.py --repeats 5 --figures 30
"""

from __future__ import annotations

import argparse
import functools
import io
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("load", "metrics", "figures", "cells", "export", "publish")
CELL_PARTS = ("artists", "tables", "takeaways", "alt text", "report logic", "papermill and kernel")


class CellSplit:
    """Exclusive time per part of the cells phase: wraps module functions (by attribute, so callers that
    look them up on the module, as the reports do, are timed) and charges each moment to the innermost
    wrapped call running, so a table built inside a takeaway counts as a table, once."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []
        self._patched: list[tuple] = []

    def wrap(self, owner, name: str, part: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            now = time.perf_counter()
            if self._stack:
                self.seconds[self._stack[-1][0]] += now - self._stack[-1][1]
            self._stack.append([part, now])
            try:
                return original(*args, **kwargs)
            finally:
                end = time.perf_counter()
                done, started = self._stack.pop()
                self.seconds[done] += end - started
                if self._stack:
                    self._stack[-1][1] = end

        self._patched.append((owner, name, original))
        setattr(owner, name, timed)

    def wrap_module(self, module, part: str, names=None) -> None:
        for name in names if names is not None else _public_functions(module):
            self.wrap(module, name, part)

    def __enter__(self):
        from kpi_kit import charts
        from kpi_kit.charts import style
        from kpi_kit.reports import _base, blocks, takeaways

        self.wrap_module(charts, "artists", charts.__all__)
        self.wrap_module(blocks, "tables")
        self.wrap_module(takeaways, "takeaways")
        self.wrap(charts, "alt_text", "alt text")
        self.wrap(style, "figure_png", "figures")
        reports = [_base.Report, *_base.Report.__subclasses__()]
        for cls in reports:
            for name in ("section", "kpis", "header", "data_quality", *cls.section_names()):
                if name in vars(cls):
                    self.wrap(cls, name, "report logic")
        return self

    def __exit__(self, *exc):
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)


def _public_functions(module) -> list[str]:
    """The module's own public functions (not the ones it imports)."""
    import inspect

    return [n for n, f in vars(module).items()
            if not n.startswith("_") and inspect.isfunction(f) and f.__module__ == module.__name__]


class FigureClock:
    """Wraps ``kpi_kit.charts.style.figure_png`` (the kernel's PNG formatter) to time each figure's PNG
    and keep the figure, whose SVG is timed after the run (outside every phase)."""

    def __init__(self, style):
        self.style, self.original = style, style.figure_png
        self.figures: list[dict] = []

    def __enter__(self):
        self.style.figure_png = self._timed
        return self

    def __exit__(self, *exc):
        self.style.figure_png = self.original

    def _timed(self, fig):
        start = time.perf_counter()
        png = self.original(fig)
        png_s = time.perf_counter() - start
        if png is not None:
            self.figures.append({"figure": fig, "png_s": png_s, "png_bytes": len(png)})
        return png

    def svg_figures(self) -> list[dict]:
        """Each figure's PNG row with its SVG encodings timed: cropped, and drawn once."""
        import matplotlib as mpl
        from matplotlib.transforms import Bbox

        rows = []
        m = self.style._MARGIN
        for f in self.figures:
            fig = f["figure"]
            buf, once = io.BytesIO(), io.BytesIO()
            width, height = fig.get_size_inches()
            with mpl.rc_context({"svg.fonttype": "none"}):
                start = time.perf_counter()
                fig.savefig(buf, format="svg", bbox_inches="tight")
                svg_s = time.perf_counter() - start
                start = time.perf_counter()
                fig.savefig(once, format="svg", bbox_inches=Bbox.from_extents(-m, -m, width + m, height + m))
                svg_once_s = time.perf_counter() - start
            title = next((a.get_title(loc) for a in fig.axes for loc in ("left", "center") if a.get_title(loc)),
                         fig._suptitle.get_text() if fig._suptitle else "(untitled)")
            rows.append({"title": " ".join(title.split()), "png_s": f["png_s"], "png_bytes": f["png_bytes"], "svg_s": svg_s,
                         "svg_bytes": buf.tell(), "svg_once_s": svg_once_s})
        return rows


def run_once(params_file: Path, out: Path) -> tuple[dict[str, float], list[dict]]:
    """One client's run in this process, phase by phase: (seconds per phase, one row per figure)."""
    from kpi_kit import load_params
    from kpi_kit.charts import style
    from kpi_kit.data import _PRELOADED, preload
    from kpi_kit.metrics import _client, compute
    from kpi_kit.run import available_notebooks, publish
    from kpi_kit.run.execute import execute_notebook, export_html

    _PRELOADED.clear()
    _client._COMPUTED.clear()
    t = {}
    params = load_params(params_file)
    names = available_notebooks()
    start = time.perf_counter()
    data = preload(params)
    t["load"] = time.perf_counter() - start
    start = time.perf_counter()
    metrics = compute(data).compute_all()
    t["metrics"] = time.perf_counter() - start
    executed = []
    with FigureClock(style) as clock, CellSplit() as split:
        start = time.perf_counter()
        for name in names:
            executed.append(execute_notebook(name, params, out, engine="fast"))
        notebooks = time.perf_counter() - start
    t["figures"] = split.seconds["figures"]
    t["cells"] = notebooks - t["figures"]
    for part in CELL_PARTS[:-1]:
        t[part] = split.seconds[part]
    t[CELL_PARTS[-1]] = t["cells"] - sum(t[part] for part in CELL_PARTS[:-1])
    start = time.perf_counter()
    for path in executed:
        export_html(path, f"{params.client} · {path.stem}", names, params.client)
    t["export"] = time.perf_counter() - start
    start = time.perf_counter()
    publish.write_metrics(out, metrics, names)
    publish.write_run_index(out, params, names)
    t["publish"] = time.perf_counter() - start
    return t, clock.svg_figures()


def phase_figures(params_file: Path = ROOT / "data" / "clients" / "demo.yaml", repeats: int = 3,
                  top: int = 12) -> dict[str, float]:
    """Print the per-phase medians and the costliest figures of ``params_file``'s client; return the
    medians (seconds per phase and per part of the cells phase)."""
    import kpi_kit.run.engine as engine

    engine.warm_up()
    runs, figures = [], defaultdict(list)
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t, figs = run_once(params_file, Path(tmp))
        runs.append(t)
        for i, f in enumerate(figs):
            figures[(i, f["title"])].append(f)
    med = {p: statistics.median(r[p] for r in runs) for p in (*PHASES, *CELL_PARTS)}
    total = sum(med[p] for p in PHASES)
    print(f"phases of one client's run, single core (median of {repeats}; {params_file.name})")
    for p in PHASES:
        print(f"  {p:<9} {med[p]:6.2f} s  {med[p] / total:5.1%}")
        if p == "cells":
            for part in CELL_PARTS:
                print(f"    {part:<20} {med[part]:6.2f} s  {med[part] / total:5.1%}")
    print(f"  {'total':<9} {total:6.2f} s")
    rows = [{k: statistics.median(f[k] for f in fs) if k != "title" else t
             for k in ("title", "png_s", "png_bytes", "svg_s", "svg_bytes", "svg_once_s")}
            for (_, t), fs in figures.items()]
    png_s, svg_s = sum(r["png_s"] for r in rows), sum(r["svg_s"] for r in rows)
    once_s = sum(r["svg_once_s"] for r in rows)
    png_b, svg_b = sum(r["png_bytes"] for r in rows), sum(r["svg_bytes"] for r in rows)
    print(f"figures: {len(rows)}, encoded (drawn) in {png_s:.2f} s as PNG, {png_b / 1e6:.2f} MB")
    print(f"  SVG, cropped:        {svg_s:.2f} s ({svg_s / png_s:.2f}x the PNG time), {svg_b / 1e6:.2f} MB "
          f"({svg_b / png_b:.2f}x the PNG bytes)")
    print(f"  SVG, drawn once:     {once_s:.2f} s ({once_s / png_s:.2f}x the PNG time)")
    print(f"  {'figure (costliest PNG first)':<52} {'PNG s':>6} {'PNG kB':>7} {'SVG s':>6} {'once s':>6} {'SVG kB':>7}")
    for r in sorted(rows, key=lambda r: -r["png_s"])[:top]:
        print(f"  {r['title'][:52]:<52} {r['png_s']:6.3f} {r['png_bytes'] / 1e3:7.0f} {r['svg_s']:6.3f} "
              f"{r['svg_once_s']:6.3f} {r['svg_bytes'] / 1e3:7.0f}")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", type=Path, default=ROOT / "data" / "clients" / "demo.yaml")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--figures", type=int, default=12, help="how many of the costliest figures to list")
    args = ap.parse_args()
    phase_figures(args.client, args.repeats, args.figures)


if __name__ == "__main__":
    sys.exit(main())
