"""Faults around a run: signals, stray processes, collisions, partial reruns, folders that cannot be
written, runaway notebooks (issue "Never a traceback, never a stray process")."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kpi_kit.exceptions import KpiKitError

pytestmark = pytest.mark.long(30)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parents[1] / "fixtures"
SLOW = FIXTURES / "slow_notebooks"
KPI_KIT = [sys.executable, "-m", "kpi_kit.cli"]


def _client(tmp_path: Path, name: str = "tiny", **extra) -> Path:
    """A copy of the tiny client's YAML pointing at the fixture data, with ``extra`` keys."""
    text = (FIXTURES / "tiny.yaml").read_text().replace("data_dir: tiny", f"data_dir: {FIXTURES / 'tiny'}")
    text = text.replace("client: tiny", f"client: {name}")
    text += "".join(f"\n{k}: {v}" for k, v in extra.items()) + "\n"
    path = tmp_path / f"{name}-{len(list(tmp_path.glob('*.yaml')))}.yaml"
    path.write_text(text)
    return path


def _processes_mentioning(text: str) -> list[int]:
    """Live processes (not zombies) whose command line holds ``text``: a run's forked children share it."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and state != "Z" and int(proc.name) != os.getpid():
            pids.append(int(proc.name))
    return pids


def _start_slow_run(tmp_path: Path, out: Path, *, jobs: int = 1) -> subprocess.Popen:
    clients = [_client(tmp_path), _client(tmp_path, "other")]
    proc = subprocess.Popen([*KPI_KIT, "run", *map(str, clients), "--out", str(out), "--notebook-dir", str(SLOW),
                             "--no-progress", "--jobs", str(jobs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(out.glob("*/.*.tmp-*")):  # a notebook is running
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    time.sleep(1.0)
    return proc


def _wait_gone(marker: str, seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _processes_mentioning(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_every_child_removes_the_temp_folder_and_prints_one_line(tmp_path, sig, code):
    out = tmp_path / "out"
    proc = _start_slow_run(tmp_path, out, jobs=2)
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)  # Ctrl-C reaches the group
    _, err = proc.communicate(timeout=60)
    # (papermill names the parameters the fixture notebook does not declare)
    err = "\n".join(line for line in err.splitlines() if not line.startswith("Passed unknown parameter"))
    assert proc.returncode == code, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert "interrupted" in err and err.strip().count("\n") == 0, err
    assert _wait_gone(str(out)) == []
    assert sorted(p.name for p in out.rglob("*")) == ["other", "tiny"]  # no temp folder, no report


def test_sigkill_of_the_command_takes_its_children_down_and_nothing_is_published_later(tmp_path):
    out = tmp_path / "out"
    proc = _start_slow_run(tmp_path, out)
    proc.kill()
    proc.communicate(timeout=30)
    assert _wait_gone(str(out)) == []  # before: they ran on and published ~20 s later
    time.sleep(1)
    assert not list(out.glob("*/????-??-??")), "a report was published after the command ended"


def test_a_later_run_removes_what_a_killed_run_left_and_restores_a_half_swapped_report(tmp_path):
    from kpi_kit.run.publish import clean_stale

    root = tmp_path / "acme"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()  # a pid that no longer runs
    (root / f".2026-03-31.tmp-{dead}").mkdir(parents=True)
    (root / f".2026-02-28.old-{dead}").mkdir()  # killed between the two renames of a swap
    (root / f".2026-02-28.old-{dead}" / "index.html").write_text("earlier report")
    (root / f".2026-01-31.tmp-{os.getppid()}").mkdir()  # a live process' run: not touched
    removed = clean_stale(root)
    assert [p.name for p in removed] == [f".2026-03-31.tmp-{dead}"]
    assert (root / "2026-02-28" / "index.html").read_text() == "earlier report"
    assert sorted(p.name for p in root.iterdir()) == [f".2026-01-31.tmp-{os.getppid()}", "2026-02-28"]


def test_two_client_files_writing_one_folder_stop_the_batch_before_it_starts(tmp_path):
    from kpi_kit.run import run_batch

    a, b = _client(tmp_path), _client(tmp_path)
    with pytest.raises(KpiKitError, match=r"tiny-0\.yaml and .*tiny-1\.yaml both write the report of client 'tiny'"):
        run_batch([a, b], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    # one file named twice (a folder and the file in it) is one client, not a collision
    batch = run_batch([a, tmp_path / a.name], tmp_path / "out2", notebook_folder=FIXTURES / "notebooks",
                      progress=False)
    assert [r.client for r in batch.results] == ["tiny"] and not batch.failed


def test_a_partial_rerun_keeps_the_notebooks_it_did_not_rerun(tmp_path):
    from kpi_kit.run import run_batch

    notebooks = FIXTURES / "notebooks"
    client = _client(tmp_path)
    assert not run_batch([client], tmp_path, notebook_folder=notebooks, progress=False).failed
    folder = tmp_path / "tiny" / "2026-03-31"
    before = (folder / "leak_a.html").read_bytes()
    batch = run_batch([client], tmp_path, notebooks=["leak_b"], notebook_folder=notebooks, progress=False)
    assert not batch.failed, batch.summary()
    assert (folder / "leak_a.html").read_bytes() == before  # kept from the earlier run of this date
    assert sorted(p.name for p in folder.glob("*.html")) == ["data_quality.html", "definitions.html", "index.html",
                                                              "leak_a.html",
                                                              "leak_b.html"]
    import json

    assert json.loads((folder / "metrics.json").read_text())["notebooks"] == ["leak_a", "leak_b"]
    assert "leak_a.html" in (folder / "index.html").read_text()


def test_a_runaway_notebook_is_stopped_at_its_time_limit(tmp_path):
    from kpi_kit.run import run_batch

    started = time.monotonic()
    batch = run_batch([_client(tmp_path, notebook_timeout_seconds=10)], tmp_path / "out", notebooks=["slow"],
                      notebook_folder=SLOW, progress=False)
    assert time.monotonic() - started < 45
    [r] = batch.results
    assert r.error == ("notebook 'slow' ran longer than 10 s and was stopped. Fix: look for data with very many "
                       "categories, or raise notebook_timeout_seconds in the client's YAML.")
    assert not list((tmp_path / "out" / "tiny").glob(".*")), "the temporary folder is removed"


def test_run_isolated_time_limit_kills_the_child():
    from kpi_kit.run.processes import run_isolated

    with pytest.raises(KpiKitError, match="a sleeper ran longer than 1 s"):
        run_isolated(time.sleep, 30, timeout=1, label="a sleeper")


# -- folders that cannot be written or read: one message, no traceback ------------------------------------
def _cli(*args, user: bool = False, **kwargs) -> subprocess.CompletedProcess:
    cmd = [*KPI_KIT, *map(str, args)]
    if user:  # as an unprivileged user: root ignores file permissions
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
    env = os.environ | {"MPLCONFIGDIR": "/tmp", "HOME": "/tmp"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, **kwargs)


def _unprivileged_python_is_ours() -> bool:
    """As root, the checks run as ``nobody``: only meaningful if ``nobody`` gets this very interpreter
    (a venv made from a Python under /root falls back to another Python for other users)."""
    if os.geteuid() != 0:
        return True
    if not shutil.which("setpriv"):
        return False
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c",
                        "import sys; print(sys.version)"], capture_output=True, text=True, cwd="/")
    return r.returncode == 0 and r.stdout.strip() == sys.version


needs_unprivileged = pytest.mark.skipif(not _unprivileged_python_is_ours(),
                                        reason="as root, permissions are only enforced for another user, who "
                                               "cannot run this interpreter here")


def _as_user(path: Path) -> None:
    """Let the unprivileged test user reach ``path`` (pytest's temp folders are private to their owner)."""
    for p in [path, *path.parents]:
        if p == Path("/"):
            break
        os.chmod(p, os.stat(p).st_mode | 0o005)


@needs_unprivileged
def test_a_read_only_output_folder_is_one_message(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    client = _client(tmp_path)
    os.chmod(out, 0o555)
    _as_user(tmp_path)
    r = _cli("run", client, "--out", out / "reports", "--no-progress", user=os.geteuid() == 0)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (f"error: cannot write the output folder (--out): {out / 'reports'}: "
                                                 "permission denied. Fix: give yourself access to it (chmod/chown) or "
                                                 "choose another folder.")
    assert "Traceback" not in r.stderr


@needs_unprivileged
def test_a_read_only_client_folder_fails_that_client_with_one_message(tmp_path):
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    os.chmod(out, 0o777)
    os.chmod(out / "tiny", 0o555)
    client = _client(tmp_path)
    _as_user(tmp_path)
    r = _cli("run", client, "--out", out, "--no-progress", "--notebook-dir", FIXTURES / "notebooks",
             user=os.geteuid() == 0)
    assert r.returncode == 1
    assert "FAILED  tiny: cannot write tiny's reports:" in r.stdout and "permission denied" in r.stdout, r.stdout
    assert "Traceback" not in r.stderr + r.stdout


def test_output_paths_blocked_by_files_are_one_message(tmp_path):
    from kpi_kit.run import run_batch

    (tmp_path / "file").write_text("x")
    with pytest.raises(KpiKitError, match="a part of the path is a file, not a folder"):
        run_batch([_client(tmp_path)], tmp_path / "file" / "reports", progress=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tiny").write_text("x")  # reports/<client> is a file
    [r] = run_batch([_client(tmp_path)], tmp_path / "out", progress=False).results
    assert r.error == (f"cannot write tiny's reports: {tmp_path / 'out' / 'tiny'}: a file is in the way. "
                       "Fix: remove or rename it, or choose another path.")


def test_published_files_are_replaced_atomically_and_keep_their_mode(tmp_path):
    from kpi_kit._files import write_atomic
    from kpi_kit.run.publish import write_output_index

    (tmp_path / "acme" / "2026-03-31").mkdir(parents=True)
    (tmp_path / "acme" / "2026-03-31" / "index.html").write_text("run")
    index = write_output_index(tmp_path)
    os.chmod(index, 0o640)
    inode = index.stat().st_ino
    write_output_index(tmp_path)
    assert index.stat().st_ino != inode, "rewritten in place: a reader could see it empty"
    assert oct(index.stat().st_mode & 0o777) == oct(0o640)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    new = write_atomic(tmp_path / "new.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert new.stat().st_mode & 0o777 == 0o666 & ~mask


def test_permission_errors_are_one_message_also_where_root_cannot_see_them(tmp_path, monkeypatch):
    """The same messages, for any user: the folder's mkdir fails as it does for a read-only folder."""
    import pathlib

    from kpi_kit.run import run_batch

    real_mkdir = pathlib.Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name in ("reports", "tiny"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    with pytest.raises(KpiKitError, match=r"cannot write the output folder \(--out\): .*/reports: permission denied"):
        run_batch([_client(tmp_path)], tmp_path / "reports", progress=False, engine="kernel")
    [r] = run_batch([_client(tmp_path)], tmp_path / "out", progress=False, engine="kernel").results
    assert r.error == (f"cannot write tiny's reports: {tmp_path / 'out' / 'tiny'}: permission denied. "
                       "Fix: give yourself access to it (chmod/chown) or choose another folder.")


# -- a full disk and a linked run folder (issue 31) --------------------------------------------------------
def test_a_full_disk_names_the_folder_it_was_writing(tmp_path, monkeypatch):
    """Before: "publishing tiny's reports: no space left on the disk" named no path (a write() that fails
    half-way carries no file name); the README promises the path."""
    import errno

    from kpi_kit import _files
    from kpi_kit.run import run_batch

    real = _files.stage

    def stage(path, data):
        if Path(path).name == "metrics.json":
            raise OSError(errno.ENOSPC, "No space left on device")  # as write() raises it: no file name
        return real(path, data)

    monkeypatch.setattr(_files, "stage", stage)  # forked runs inherit it
    [r] = run_batch([_client(tmp_path)], tmp_path / "out", notebook_folder=FIXTURES / "notebooks",
                    progress=False).results
    folder = tmp_path / "out" / "tiny" / "2026-03-31"
    assert r.error == (f"publishing tiny's reports: {folder}: no space left on the disk. Fix: free some space or "
                       "choose a folder on another disk; earlier reports were kept.")
    assert not list((tmp_path / "out" / "tiny").glob(".*")) and not folder.exists()


def test_a_run_through_a_linked_run_folder_leaves_no_old_link(tmp_path):
    """Before: publishing over ``<client>/<as_of>`` that is a symbolic link renamed the link to
    ``.<as_of>.old-<pid>`` and never removed it (rmtree refuses links), nor did later runs."""
    from kpi_kit.run import run_batch
    from kpi_kit.run.publish import clean_stale

    client, out = _client(tmp_path), tmp_path / "out"
    assert not run_batch([client], out, notebook_folder=FIXTURES / "notebooks", progress=False).failed
    final, elsewhere = out / "tiny" / "2026-03-31", tmp_path / "elsewhere" / "2026-03-31"
    elsewhere.parent.mkdir()
    final.rename(elsewhere)
    final.symlink_to(elsewhere, target_is_directory=True)  # the run folder kept on another disk
    batch = run_batch([client], out, notebook_folder=FIXTURES / "notebooks", progress=False, force=True)
    assert not batch.failed, batch.summary()
    assert [p.name for p in (out / "tiny").iterdir() if p.name.startswith(".")] == []
    assert final.is_dir() and not final.is_symlink() and (final / "index.html").is_file()
    assert (elsewhere / "index.html").is_file()  # the folder the link pointed at is the user's: left as it was
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (out / "tiny" / f".2026-03-31.old-{dead}").symlink_to(elsewhere)  # left by an earlier kit
    assert [p.name for p in clean_stale(out / "tiny")] == [f".2026-03-31.old-{dead}"]
    assert not (out / "tiny" / f".2026-03-31.old-{dead}").is_symlink() and (elsewhere / "index.html").is_file()
