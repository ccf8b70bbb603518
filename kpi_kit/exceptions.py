"""Errors the kit raises on purpose: each carries one message a user can act on."""

from __future__ import annotations


class KpiKitError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""


class ParamsError(KpiKitError):
    """A client parameters file (or a notebook's parameters) is invalid."""


class DataError(KpiKitError):
    """A client's data breaks the data contract.

    The message names the file, the column, the first offending rows (1-based
    line numbers of the CSV, header = line 1) and the fix.
    """

    def __init__(self, file: str, column: str | None, problem: str, fix: str, rows=()):
        self.file, self.column, self.problem, self.fix = file, column, problem, fix
        self.rows = list(rows)
        where = f"{file}" + (f", column '{column}'" if column else "")
        msg = f"{where}: {problem}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            msg += f" (rows {shown}{more})"
        msg += f". Fix: {fix}"
        super().__init__(msg)


class RunError(KpiKitError):
    """One or more notebook runs of a batch failed."""
