"""The ``kpi-kit`` command's process from its first line to its last: Ctrl-C or SIGTERM at any moment is
one line on stderr and exit 128 + the signal, never a traceback.

Importing the kit (pandas, the metrics layer) takes most of a second before the command line exists:
:func:`guard` is called first thing in ``kpi_kit/__init__.py`` and, only when this process is the
command (``kpi-kit`` or ``python -m kpi_kit.cli``; a notebook or a library user importing the kit keeps
Python's own handlers), makes SIGINT and SIGTERM end it with one line. While a command runs, the
command group (:mod:`kpi_kit.cli`) replaces these handlers with ones that unwind its work
(:func:`kpi_kit.run.processes.interruptible`) and puts them back when it returns, so the command's last
moments are covered too. Standard library only: nothing else is imported yet when this runs.
"""

from __future__ import annotations

import os
import signal
import sys

_COMMAND_MODULES = ("kpi_kit.cli", "kpi_kit")
_phase = "starting"


def is_command() -> bool:
    """True in the ``kpi-kit`` command's own process, from the command line Python was started with (a
    process spawned by :mod:`multiprocessing`, a Dask worker, inherits ``sys.argv`` but not that)."""
    argv = iter(getattr(sys, "orig_argv", [])[1:])
    for arg in argv:
        if arg == "-m":
            return next(argv, "") in _COMMAND_MODULES
        if arg in ("-c", "-"):
            return False
        if arg in ("-X", "-W", "-Q"):  # an option and its value
            next(argv, None)
        elif not arg.startswith("-"):
            return os.path.basename(arg) in ("kpi-kit", "kpi-kit.exe")
    return False


def _exit_now(signum, _frame) -> None:
    name = signal.Signals(signum).name
    what = ("while kpi-kit was starting: nothing was done" if _phase == "starting"
            else "while kpi-kit was ending: its work was done")
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001, S110 - a closed or broken stdout must not hide the line
        pass
    try:
        os.write(2, f"\ninterrupted ({name}) {what}.\n".encode())
    except OSError:
        pass
    os._exit(128 + signum)


def guard(phase: str = "starting") -> None:
    """In the command's process: SIGINT and SIGTERM print one line and exit (``phase``: ``"starting"``
    or ``"ending"``, for the line). A signal ignored when the command started (``nohup``, ``&`` in a
    script) stays ignored. Elsewhere (the kit imported as a library, a worker) nothing changes."""
    global _phase
    if not is_command():
        return
    _phase = phase
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    for sig, default in defaults.items():
        current = signal.getsignal(sig)
        if current is default or current is _exit_now or (phase == "ending" and current is not signal.SIG_IGN):
            signal.signal(sig, _exit_now)
