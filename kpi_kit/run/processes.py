"""Forked children that never outlive the command: isolation, signals and time limits.

A batch forks a child per client and, inside it, a child per notebook (:func:`start_child`). Every
child

* dies with its parent: Linux sends it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), even
  when the parent was killed with SIGKILL, so no orphan goes on to publish a report after the
  command ended;
* turns SIGINT (Ctrl-C reaches the whole process group) and SIGTERM into :class:`Interrupted`, which
  unwinds through the run's ``finally`` blocks (the temporary folder is removed) and then ends the
  child quietly: no traceback, no write into the parent's closed pipe;
* can be given a time limit (:meth:`Child.result`), after which it is killed and the run fails with
  one message.

The parent of a batch installs the same handlers (:func:`interruptible`), so an interrupted command
stops its children, waits for them, and exits with one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import select
import signal
import sys
import time
import traceback

from ..exceptions import KpiKitError

INTERRUPTED_EXIT = 130  # a child ended by SIGINT/SIGTERM exits with this and sends nothing
_PR_SET_PDEATHSIG = 1


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwind (running ``finally`` blocks), then stop.

    A BaseException, so the ``except Exception`` of a client's run does not take it for the client's
    own failure."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class IsolatedRunError(RuntimeError):
    """The function run in a child raised: its type, message and traceback, as text."""

    def __init__(self, name: str, message: str, tb: str):
        super().__init__(f"{name}: {message}")
        self.ename, self.evalue, self.traceback_text = name, message, tb


_interrupted: int | None = None  # the first signal received in this process
_deadline: float | None = None  # a forked or task process ends this long after its first signal, whatever it runs
STOP_DEADLINE_SECONDS = 20.0  # more than a cleanup takes: a child it waits for gets at most 10 s of it (Child.stop)
_quiet = False  # after a signal, this process' stderr goes to /dev/null (the command keeps a copy for its line)
_saved_stderr: int | None = None


def interrupted() -> bool:
    """True once this process received SIGINT or SIGTERM."""
    return _interrupted is not None


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` again when a signal arrived earlier and its exception was swallowed
    on the way: asyncio's callbacks (an in-process kernel's), a destructor, a library's bare ``except``
    all catch it, and the process would run on (and publish) with every later signal ignored. Every
    wait of this module calls it."""
    if _interrupted is not None:
        raise Interrupted(_interrupted)


def _end_at_the_deadline(seconds: float) -> None:
    """Started by the first signal of a process with a deadline: should the process still run
    ``seconds`` later (its :class:`Interrupted` swallowed by code that runs on), its processes are
    killed and it exits, so a stopped run never outlives the command."""
    import threading

    def hard_stop():
        for pid in _descendants(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os._exit(INTERRUPTED_EXIT)

    timer = threading.Timer(seconds, hard_stop)
    timer.daemon = True
    timer.start()


def _silence() -> None:
    """Send this process' stdout and stderr (file descriptors 1 and 2, so also C code and the warnings of
    libraries winding down) to /dev/null, keeping a copy of stderr for :func:`restore_stderr`."""
    global _saved_stderr
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    with contextlib.suppress(OSError):
        if _saved_stderr is None:
            _saved_stderr = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)


def restore_stderr() -> None:
    """Give stderr back after :func:`_silence` (the command prints its one line there)."""
    global _saved_stderr
    if _saved_stderr is not None:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            os.dup2(_saved_stderr, 2)
            os.close(_saved_stderr)
        _saved_stderr = None


def _on_signal(signum, _frame):
    global _interrupted
    if _interrupted is not None:
        return  # one unwinding at a time: a second signal must not cut short the cleanup of the first
    _interrupted = signum
    if _deadline is not None:
        _end_at_the_deadline(_deadline)
    if _quiet:  # what stopping prints (papermill, nbformat, Dask, a kernel) is not for the terminal
        _silence()
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible(quiet: bool = False, deadline: float | None = None):
    """Inside the block SIGINT and SIGTERM raise :class:`Interrupted` (in the main thread only:
    elsewhere signal handlers cannot be set, and the block does nothing).

    ``quiet`` (the command's own process): from the signal on, stdout and stderr are silenced, so the
    command's one line (printed after :func:`restore_stderr`) is all that reaches the terminal.
    ``deadline`` (seconds; a process run for another, such as a Dask task's): the process ends that
    long after its first signal even if the exception was swallowed (:func:`_end_at_the_deadline`)."""
    global _interrupted, _quiet, _deadline
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    old_quiet, _quiet = _quiet, _quiet or quiet
    old_deadline, _deadline = _deadline, deadline
    _interrupted = None
    try:
        yield
    finally:
        _quiet, _deadline = old_quiet, old_deadline
        for s, handler in old.items():
            signal.signal(s, handler)


def _die_with_parent(parent: int) -> None:
    """Ask Linux for SIGTERM when the parent dies; if it died before we asked, stop now."""
    with contextlib.suppress(Exception):  # not Linux: children are still stopped by the parent's handlers
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(INTERRUPTED_EXIT)


@contextlib.contextmanager
def frozen_gc():
    """Fork inside this block: the objects of this (warm) process are moved out of the garbage
    collector's reach first, so a forked run's collections do not walk the ~300k objects it
    inherited (about a tenth of a notebook's time) nor copy their pages by touching them. The
    parent gets its objects back afterwards; in the child they stay frozen (Python's gc docs
    recommend this for processes that fork without exec)."""
    parent = os.getpid()
    gc.freeze()
    try:
        yield
    finally:
        if os.getpid() == parent:  # a child forked inside the block leaves it too: it keeps them frozen
            gc.unfreeze()


_children: dict[int, Child] = {}  # live children of this process, stopped by stop_children()


class Child:
    """A forked child running one function; :meth:`result` collects what it returned."""

    def __init__(self, pid: int, fd: int, label: str, stop_grace: float = 10.0):
        self.pid, self.fd, self.label, self.stop_grace = pid, fd, label, stop_grace
        self._done = False

    def fileno(self) -> int:
        return self.fd

    def result(self, timeout: float | None = None):
        """The function's return value; re-raises its error as :class:`IsolatedRunError`.

        With ``timeout`` (seconds) a child still running then is killed and :class:`KpiKitError`
        raised; so is a child whose processes together hold more memory than the limit
        (:func:`memory_limit_mb`), before it takes the machine down."""
        limit = memory_limit_mb()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = POLL_SECONDS
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            try:
                raise_if_interrupted()
                ready = select.select([self.fd], [], [], wait)[0]
            except Interrupted:  # its work is in this process' temporary folder: stop it before that goes
                self.stop(self.stop_grace)
                raise
            if ready:
                break
            if deadline is not None and time.monotonic() >= deadline:
                self.kill_tree()
                self._reap()
                raise KpiKitError(f"{self.label} ran longer than {timeout:.0f} s and was stopped. Fix: look for "
                                  "data with very many categories, or raise notebook_timeout_seconds in the "
                                  "client's YAML.")
            used = tree_memory_mb(self.pid) if limit else 0.0
            if limit and used > limit:
                self.kill_tree()
                self._reap()
                raise KpiKitError(memory_message(self.label, used, limit))
        chunks = []
        while chunk := os.read(self.fd, 1 << 20):
            chunks.append(chunk)
        code = self._reap()
        data = b"".join(chunks)
        if not data:
            if code == INTERRUPTED_EXIT or interrupted():
                raise Interrupted(_interrupted or signal.SIGTERM)
            raise RuntimeError(f"{self.label} died without a result (exit status {code})")
        status_word, value = pickle.loads(data)
        if status_word == "error":
            raise IsolatedRunError(*value)
        return value

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the child, give it ``grace`` seconds to clean up and exit, then kill what is left of
        its processes."""
        self.kill(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self._reap(block=False) is None:
            if time.monotonic() > deadline:
                self.kill_tree()
                self._reap()
                return
            time.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def kill_tree(self) -> None:
        """SIGKILL the child and every process it started (a Jupyter kernel, a Chromium)."""
        for pid in [*_descendants(self.pid), self.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _reap(self, block: bool = True) -> int | None:
        """Wait for the child (or only look, ``block=False``); its exit code once it ended."""
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped already
            pid, status = self.pid, 0
        if not pid:
            return None
        _children.pop(self.pid, None)
        if not self._done:
            self._done = True
            os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def start_child(func, *args, label: str = "a run", stop_grace: float = 10.0, **kwargs) -> Child:
    """Run ``func(*args, **kwargs)`` in a forked child of this (warm) process; collect it with
    :meth:`Child.result`.

    The child starts as a copy of this process and exits when done, so module state (matplotlib
    figures and rcParams, caches, globals) never outlives one run. ``stop_grace``: when this process
    is stopped while it waits for the child, the seconds the child is given to clean up before it is
    killed (:meth:`Child.stop`)."""
    raise_if_interrupted()  # a stopped process starts nothing
    read, write = os.pipe()
    parent = os.getpid()
    with frozen_gc():
        pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        _children.clear()  # the parent's children are not ours to stop
        _die_with_parent(parent)
        _child_main(write, func, args, kwargs)
    os.close(write)
    child = _children[pid] = Child(pid, read, label, stop_grace)
    return child


def _child_main(write: int, func, args, kwargs) -> None:
    global _interrupted, _quiet, _saved_stderr, _deadline
    _interrupted, _quiet = None, True  # an interrupted child ends without a word: its parent says it
    _deadline = STOP_DEADLINE_SECONDS
    if _saved_stderr is not None:
        os.close(_saved_stderr)
        _saved_stderr = None
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, _on_signal)
    try:
        try:
            payload = ("ok", func(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
            if interrupted():  # also when a notebook cell caught the signal and failed with it
                raise Interrupted(_interrupted) from None
            payload = ("error", (type(exc).__name__, str(exc), traceback.format_exc()))
        if interrupted():
            raise Interrupted(_interrupted)
        try:
            data = pickle.dumps(payload)
        except Exception as exc:  # an unpicklable result
            data = pickle.dumps(("error", (type(exc).__name__, str(exc), "")))
        with os.fdopen(write, "wb") as w:
            w.write(data)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # interrupted, or the parent is gone (broken pipe): end quietly
        os._exit(INTERRUPTED_EXIT)
    os._exit(0)


MEMORY_ENV = "KPI_KIT_MAX_MEMORY_MB"  # the per-client memory limit, set by the batch for its children
POLL_SECONDS = 0.5  # how often a wait looks at the memory limit and for a swallowed interrupt


def memory_limit_mb() -> float:
    """The per-client memory limit in MB (0: none), from ``$KPI_KIT_MAX_MEMORY_MB``."""
    try:
        return max(0.0, float(os.environ.get(MEMORY_ENV, "0")))
    except ValueError:
        return 0.0


def memory_size(mb: float) -> str:
    """``1500`` -> ``'1.5 GB'``, ``20`` -> ``'20 MB'``."""
    return f"{mb / 1000:.1f} GB" if mb >= 1000 else f"{mb:.0f} MB"


def memory_message(what: str, used: float, limit: float) -> str:
    return (f"{what} used {memory_size(used)} of memory, over the per-client limit of {memory_size(limit)}, and was "
            "stopped; the other clients go on. Fix: look for a file or a cell far larger than usual, or raise the "
            "limit with --max-memory (the default is 80 % of this machine's memory shared by --jobs clients).")


def default_memory_limit_mb(jobs: int) -> float:
    """80 % of this machine's memory shared by ``jobs`` clients running side by side."""
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return 0.8 * pages * size / 1e6 / max(1, jobs)


def parse_memory(text: str) -> float:
    """``"4G"``, ``"500M"``, ``"1.5GB"`` or a number of MB -> MB.

    Examples
    --------
    >>> parse_memory("4G"), parse_memory("500M"), parse_memory("750"), parse_memory("1.5GB")
    (4000.0, 500.0, 750.0, 1500.0)
    """
    t = str(text).strip().upper().removesuffix("B")
    scale = {"G": 1000.0, "M": 1.0, "T": 1e6}.get(t[-1:], None)
    try:
        return float(t[:-1]) * scale if scale else float(t)
    except ValueError:
        raise KpiKitError(f"--max-memory {text!r} is not a size. Fix: give it as 4G, 500M or a number of MB.") from None


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def tree_memory_mb(pid: int) -> float:
    """Memory of ``pid`` and every process below it, in MB: their proportional set size (PSS: a page
    shared by a forked client with the batch counts in part, not in full as resident memory would),
    or their resident memory where the kernel gives no PSS. Linux /proc; 0 elsewhere."""
    total_kb = 0.0
    for p in [pid, *_descendants(pid)]:
        try:
            with open(f"/proc/{p}/smaps_rollup", "rb") as f:
                total_kb += next(int(line.split()[1]) for line in f if line.startswith(b"Pss:"))
            continue
        except (OSError, ValueError, IndexError, StopIteration):
            pass
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total_kb += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024
        except (OSError, ValueError, IndexError):
            continue
    return total_kb * 1024 / 1e6


def run_isolated(func, *args, timeout: float | None = None, label: str = "a run", stop_grace: float = 10.0,
                 **kwargs):
    """Run ``func(*args, **kwargs)`` in a forked child and return its result (or re-raise its error)."""
    return start_child(func, *args, label=label, stop_grace=stop_grace, **kwargs).result(timeout)


def stop_children(grace: float = 10.0) -> None:
    """SIGTERM every live child of this process, wait up to ``grace`` seconds for them to clean up
    and exit, then SIGKILL what is left."""
    children = list(_children.values())
    for child in children:
        child.kill(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        child.stop(max(0.0, deadline - time.monotonic()))
