"""``kpi-kit``: a thin command line over the library (no logic of its own)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._version import __version__
from .exceptions import KpiKitError


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


_INTERRUPTED = {  # what an interrupted command left, by command
    "run": "runs not finished were stopped and published nothing; earlier reports are unchanged.",
    "pdf": "the PDF being printed was not written and Chromium's scratch folder was removed; PDFs written before "
           "are whole.",
    None: "stopped; files it was writing were not left half-written.",
}
_INTERRUPTED_KEY = "kpi_kit.interrupted"  # a command's later stage says its own (click's ctx.meta)


def _exit_code(exc: BaseException) -> int:
    code = getattr(exc, "exit_code", getattr(exc, "code", 1))
    return code if isinstance(code, int) else 1


class _Commands(click.Group):
    """Every command's errors end the same way: the kit's own errors and filesystem errors as one
    line and exit 1, an interruption as one line and 128 + the signal, a bug as its traceback and a
    request to report it."""

    def invoke(self, ctx):
        from . import _command
        from ._files import os_error
        from .run import processes
        from .run.processes import Interrupted

        try:
            try:
                try:
                    with processes.interruptible(quiet=True):  # SIGINT/SIGTERM unwind the command
                        return super().invoke(ctx)
                finally:
                    _command.guard("ending")  # a signal after the work is done: still one line
            except BaseException as exc:
                if processes.interrupted() and not isinstance(exc, Interrupted) and \
                        not (isinstance(exc, click.exceptions.Exit | SystemExit) and not _exit_code(exc)):
                    # whatever a library made of the signal on its way out (a Dask error, a failed client)
                    exc = Interrupted(processes._interrupted)
                if not isinstance(exc, Interrupted):
                    raise
                processes.restore_stderr()
                said = ctx.meta.get(_INTERRUPTED_KEY) or _INTERRUPTED.get(ctx.invoked_subcommand, _INTERRUPTED[None])
                click.echo(f"\ninterrupted ({exc}): {said}", err=True)
                sys.exit(exc.exit_code)
        except KpiKitError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("\ninterrupted.", err=True)
            sys.exit(130)
        except OSError as exc:
            _fail(os_error(exc, f"kpi-kit {ctx.invoked_subcommand}"))
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception:
            import traceback

            traceback.print_exc()
            click.echo(f"\nerror: this is a bug in kpi_kit {__version__}, not in your data. Please report it "
                       "with the traceback above.", err=True)
            sys.exit(2)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kpi-kit")
def main():
    """Render B2B SaaS KPI reports from client data with the kit's notebooks."""


@main.command()
@click.argument("params", nargs=-1, required=True, type=click.Path())
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Output folder: <out>/<client>/<as_of>/")
@click.option("--notebooks", default=None, help="Comma-separated notebooks (default: all), e.g. funnel,channel")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1),
              help="Clients rendered side by side (a good value: the number of cores).")
@click.option("--engine", default="fast", show_default=True, type=click.Choice(["fast", "kernel"]),
              help="fast: in-process kernel in a forked, warm child per notebook; kernel: a Jupyter kernel per notebook.")
@click.option("--executor", default="local", show_default=True, type=click.Choice(["local", "dask"]),
              help="local: forked processes on this machine; dask: each client a task on a Dask cluster.")
@click.option("--notebook-dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="A folder of your own parameterised notebooks to render instead of the kit's.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786); without it a local Dask cluster of --jobs workers.")
@click.option("--force", is_flag=True,
              help="Rerun every client, also those whose inputs are unchanged since their last successful run.")
@click.option("--pdf", is_flag=True, help="Also print each run to one PDF (A4, report.pdf) with headless Chromium.")
@click.option("--max-memory", default=None, metavar="SIZE",
              help="Memory one client may hold (4G, 500M; 0 for no limit); over it the client stops with a message "
                   "and the batch goes on. Default: 80 % of this machine's memory shared by --jobs clients.")
def run(params, out, notebooks, no_progress, jobs, engine, executor, scheduler, notebook_dir, force, pdf, max_memory):
    """Render every notebook for each client YAML in PARAMS (a folder = every YAML in it)."""
    from .run import run_batch
    from .run.pdf import find_browser, print_runs

    if pdf:
        find_browser()  # before the batch: a missing Chromium is said before minutes of rendering

    names = [n.strip() for n in notebooks.split(",") if n.strip()] if notebooks else None
    try:
        from .run.processes import parse_memory

        result = run_batch(params, out, notebooks=names, progress=not no_progress, jobs=jobs, engine=engine,
                           executor=executor, scheduler=scheduler, force=force,
                           max_memory_mb=None if max_memory is None else parse_memory(max_memory),
                           notebook_folder=Path(notebook_dir).resolve() if notebook_dir else None)
    except KpiKitError as exc:
        _fail(exc)
    click.echo(result.summary())
    if pdf:
        click.get_current_context().meta[_INTERRUPTED_KEY] = (
            "the reports were published; the PDF being printed was not written and Chromium's scratch folder "
            "was removed (kpi-kit pdf prints the rest).")
        printed = print_runs(r.folder for r in result.results if r.ok and r.folder is not None)
        click.echo(f"printed {len(printed)} run(s) to PDF: {', '.join(str(p) for p in printed) or 'all up to date'}.")
    if result.failed:
        sys.exit(1)


@main.command()
@click.argument("params", type=click.Path(exists=True, dir_okay=False))
def validate(params):
    """Check a client's parameters and data against the contract; print the data-quality notes."""
    from .data import load_client
    from .params import load_params

    try:
        data = load_client(load_params(params))
    except KpiKitError as exc:
        _fail(exc)
    for stem, n in data.quality.rows_read.items():
        click.echo(f"{stem:14s} {n:>10,d} rows")
    notes = data.quality.table()
    if len(notes):
        click.echo("\n" + notes.to_string(index=False))
    for line in data.warnings():
        click.echo(f"\nwarning: {line}")
    click.echo("\nvalid.")


def _source_help() -> str:
    from .importers import SOURCES

    lines = [f"  {name}: {s.description}" for name, s in SOURCES.items()]
    lines.append("  mapping: any CSV or Excel sheet, described by a column-mapping YAML (--mapping)")
    return "\n".join(lines)


@main.command("import", epilog="\b\nSources:\n" + _source_help())
@click.argument("source")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False), help="The client's data folder.")
@click.option("--into", default=None, type=click.Path(dir_okay=False),
              help="A DuckDB file instead of a folder (created if missing): each contract file becomes a table.")
@click.option("--period", default=None, help="START..END covered by an export without dates (spread evenly).")
@click.option("--mapping", default=None, type=click.Path(exists=True, dir_okay=False), help="Mapping YAML (mapping source).")
@click.option("--bad-rows", type=click.Choice(["stop", "drop"]), default="stop", show_default=True,
              help="A row that breaks a rule across columns (a stage dated before creation): stop, or leave it out and list it.")
@click.option("--wait", default=600.0, show_default=True, type=click.FloatRange(0), metavar="SECONDS",
              help="How long to wait for another import into the same folder (or DuckDB file) to finish.")
def import_command(source, files, out_dir, period, mapping, bad_rows, into, wait):
    """Import FILES exported from SOURCE into the data folder --out, or the DuckDB file --into (merged;
    re-importing changes nothing).

    SOURCE is one of the sources listed below."""
    from .importers import import_files

    try:
        if (out_dir is None) == (into is None):
            raise KpiKitError("give --out FOLDER or --into FILE.duckdb (one of the two). Fix: add one of them.")
        report = import_files(source, files, out_dir or into, period=period, mapping=mapping, bad_rows=bad_rows,
                              wait=wait)
    except KpiKitError as exc:
        _fail(exc)
    click.echo(str(report))


@main.command()
@click.option("--datasets", default="../shared/datasets", show_default=True, type=click.Path(file_okay=False),
              help="Folder holding one folder per public dataset.")
@click.option("--recipes", default="data/examples", show_default=True, type=click.Path(file_okay=False),
              help="Folder of example client YAML files and their recipes.")
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False))
@click.option("--jobs", default=1, show_default=True, type=int, help="Clients rendered side by side.")
def examples(datasets, recipes, out, jobs):
    """Import each real public dataset that is present with its recipe, then render its reports."""
    from .examples import run_examples

    sys.exit(run_examples(datasets, recipes, out, jobs=jobs, echo=click.echo))


@main.command()
@click.argument("out_dir", default="data/demo", type=click.Path(file_okay=False))
@click.option("--seed", default=None, type=int, help="Random seed (default: the committed demo's).")
def demo(out_dir, seed):
    """(Re)generate the demo client's data into OUT_DIR (the same bytes every time)."""
    from .demo import write_demo

    kwargs = {} if seed is None else {"seed": seed}
    write_demo(Path(out_dir), **kwargs)
    click.echo(f"demo data written to {out_dir}")


@main.command()
@click.argument("pages", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--each-page", is_flag=True, help="Also print each report page of a run folder to a PDF of its own.")
def pdf(pages, each_page):
    """Print to PDF (A4) with headless Chromium: a run folder (<out>/<client>/<as_of>) to one report.pdf
    in it (a summary page, every report page, the data quality, the definitions; page footers name the
    client, period and page); an .html file to a PDF beside it."""
    from .run.pdf import find_browser, print_folder, print_pdf, print_run

    find_browser()  # one message before anything is printed when Chromium is missing
    for page in map(Path, pages):
        done = ([print_run(page)] + (print_folder(page) if each_page else [])) if page.is_dir() else [print_pdf(page)]
        for path in done:
            click.echo(f"wrote {path}")


@main.command()
@click.argument("params", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of printing.")
def params(params, output):
    """Print a client's resolved parameters as YAML for papermill -f (paths made absolute)."""
    from ._files import write_atomic
    from .params import papermill_parameters

    text = papermill_parameters(params)
    if output:
        write_atomic(Path(output), text)
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--out", default="docs/metrics.md", show_default=True, type=click.Path(dir_okay=False))
@click.option("--readme", default="README.md", show_default=True, type=click.Path(dir_okay=False))
def docs(out, readme):
    """Regenerate the metric catalogue page and the README's data-contract table from the code."""
    from .contract import update_readme
    from .metrics.catalogue import catalogue_markdown

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(catalogue_markdown(), encoding="utf-8")
    if Path(readme).exists():
        update_readme(Path(readme))
    click.echo(f"wrote {out} and the contract table of {readme}")


def _add_db_commands() -> None:
    from .sources.cli import db  # `kpi-kit db load`, `kpi-kit db tables` (data in a database)

    main.add_command(db)


_add_db_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
