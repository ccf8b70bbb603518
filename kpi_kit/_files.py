"""Files the kit writes: atomically (a reader sees the old file or the new one, never a half one),
with the permissions a user expects (those of the file replaced, else what the umask gives a new
file), and filesystem errors turned into one message naming the path and the fix."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from .exceptions import KpiKitError


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def stage(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a hidden temporary file beside ``path`` with ``path``'s final mode; return it.
    (``mkstemp`` alone would leave a replaced 0644 file 0600.)"""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = _umask_mode()
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Replace ``path`` with ``data`` in one rename."""
    os.replace(stage(path, data), path)
    return Path(path)


def write_all_atomic(files: dict[Path, str | bytes]) -> None:
    """Stage every file first, then rename each: a failure while writing leaves every file as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            staged.append((stage(path, data), Path(path)))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)


_REASONS = {
    errno.EACCES: ("permission denied", "give yourself access to it (chmod/chown) or choose another folder"),
    errno.EPERM: ("operation not permitted", "give yourself access to it (chmod/chown) or choose another folder"),
    errno.EROFS: ("the file system is read-only", "choose a folder on a writable disk"),
    errno.ENOSPC: ("no space left on the disk", "free some space or choose a folder on another disk; "
                                                 "earlier reports were kept"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or choose a folder on another disk"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "remove or rename that file, or choose another path"),
    errno.EEXIST: ("a file is in the way", "remove or rename it, or choose another path"),
    errno.EISDIR: ("a folder is where a file should be", "remove or rename it, or choose another path"),
    errno.ELOOP: ("a symbolic link loop", "point the link at a real folder"),
    errno.ENOENT: ("not found", "check the path"),
    errno.ENAMETOOLONG: ("the path is too long", "choose a shorter path"),
}


def os_error(exc: OSError, doing: str) -> KpiKitError:
    """One message for a filesystem error: what the kit was doing, the path, the cause and the fix.

    Examples
    --------
    >>> str(os_error(PermissionError(13, "Permission denied", "/r/acme"), "writing the report"))
    'writing the report: /r/acme: permission denied. Fix: give yourself access to it (chmod/chown) or choose another folder.'
    """
    reason, fix = _REASONS.get(exc.errno, (exc.strerror or str(exc), "check the path and try again"))
    where = f"{exc.filename}: " if exc.filename else ""
    return KpiKitError(f"{doing}: {where}{reason}. Fix: {fix}.")
