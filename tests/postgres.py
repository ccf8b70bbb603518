"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` in a temporary folder, ``pg_ctl
start`` on a free 127.0.0.1 port (and a unix socket in the same folder), password authentication over
TCP, stopped and deleted at the end.

    with PostgresServer.start() as pg:        # raises NoPostgres when no binaries are found
        print(pg.url)                          # postgresql://kit@127.0.0.1:PORT/kit (password: pg.password)

The binaries are looked up on PATH, then in Debian's /usr/lib/postgresql/<version>/bin and in
``pg_config --bindir``. As root (initdb refuses to run as root) the server runs as the ``postgres``
user when it exists, else as ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD, DATABASE = "kit", "kit-test-secret-7Qx", "kit"


class NoPostgres(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    candidates = []
    if found := shutil.which("initdb"):
        candidates.append(Path(found).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)]
    candidates += [Path("/usr/local/pgsql/bin")]
    if pg_config := shutil.which("pg_config"):
        try:
            candidates.append(Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                                  check=True).stdout.strip()))
        except (OSError, subprocess.CalledProcessError):
            pass
    for d in candidates:
        if all((d / exe).exists() for exe in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def _version(path: str) -> tuple:
    part = Path(path).parent.name
    return tuple(int(x) for x in part.split(".") if x.isdigit())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C", "LANG": "C"}


@dataclass
class PostgresServer:
    bindir: Path
    folder: Path
    port: int
    prefix: list[str]
    user: str = USER
    password: str = PASSWORD
    database: str = DATABASE

    @property
    def url(self) -> str:
        """A URL without the password (it comes from PGPASSWORD)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def secret_url(self) -> str:
        """The URL with the password, for the test's own set-up only."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @classmethod
    def start(cls) -> PostgresServer:
        bindir = find_bindir()
        if bindir is None:
            raise NoPostgres("no PostgreSQL server binaries found (initdb, pg_ctl, postgres); "
                             "install them with `apt-get install -y postgresql`")
        folder = Path(tempfile.mkdtemp(prefix="kpi-kit-pg-"))
        prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root: run the server as an unprivileged user
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            prefix = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", "--"]
            os.chown(folder, account.pw_uid, account.pw_gid)
        server = cls(bindir, folder, _free_port(), prefix)
        try:
            server._init_and_start()
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, *args: str) -> None:
        out = subprocess.run([*self.prefix, *args], capture_output=True, text=True, env=_server_env(),
                             cwd=self.folder)
        if out.returncode:
            log = (self.folder / "server.log")
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed ({out.returncode}): {out.stderr.strip()}\n{tail}")

    def _init_and_start(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.prefix:
            os.chown(pwfile, os.stat(self.folder).st_uid, os.stat(self.folder).st_gid)
        self._run(str(self.bindir / "initdb"), "-D", str(self.folder / "data"), "-U", self.user,
                  f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        pwfile.unlink()
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        self._run(str(self.bindir / "createdb"), "-h", str(self.folder), "-p", str(self.port), "-U", self.user,
                  self.database)

    def stop(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                            "-w", "stop"], capture_output=True, env=_server_env(), cwd=self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
