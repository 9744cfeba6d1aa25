"""The embedded PostgreSQL (package pgserver) under the data directory, shared by every local process.

pgserver starts the cluster, but its own reference count keeps the pids of processes killed with
SIGKILL forever, and it trusts a stale postmaster.pid. So we start it with cleanup disabled, prove it
answers with a real connection (recovering a stale pid file ourselves), and keep our own count of the
live processes using it: the last one to leave stops the server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

from fazhizhen.log import get_logger

log = get_logger("fazhizhen.db.embedded")

_HANDLES = ".fazhizhen_handles.json"


def _pid_alive(pid: int) -> bool:
    """True for a running process (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".fazhizhen.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_handles(data_dir: Path) -> list[int]:
    try:
        pids = json.loads((data_dir / _HANDLES).read_text())
    except (FileNotFoundError, ValueError):
        return []
    return [p for p in pids if isinstance(p, int) and _pid_alive(p)]


def _write_handles(data_dir: Path, pids: list[int]) -> None:
    tmp = data_dir / (_HANDLES + ".tmp")
    tmp.write_text(json.dumps(sorted(set(pids))))
    tmp.replace(data_dir / _HANDLES)


class EmbeddedPostgres:
    """A handle on the embedded server; `start()` then `stop()` (the last handle stops the server)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / "pg"
        self.uri: str | None = None
        self._started = False

    def start(self) -> str:
        """Start (or join) the server and return a DSN that answers."""
        with _locked(self.data_dir):
            self.uri = self._ensure_running()
            pids = _read_handles(self.data_dir)
            pids.append(os.getpid())
            _write_handles(self.data_dir, pids)
        self._started = True
        log.info("embedded_postgres_ready", pgdata=str(self.pgdata), users=len(set(pids)))
        return self.uri

    def stop(self) -> None:
        """Leave the server; stop it when no other live process uses it."""
        if not self._started:
            return
        self._started = False
        with _locked(self.data_dir):
            pids = [p for p in _read_handles(self.data_dir) if p != os.getpid()]
            _write_handles(self.data_dir, pids)
            if pids:
                log.info("embedded_postgres_left_running", users=len(pids))
                return
            self._pg_ctl("-w", "-m", "fast", "stop", check=False)
            log.info("embedded_postgres_stopped", pgdata=str(self.pgdata))

    def _ensure_running(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver  # imported late: it touches the file system at import

        get_server = pgserver.postgres_server.get_server

        server = get_server(self.pgdata, cleanup_mode=None)
        uri: str = server.get_uri()
        if self._answers():
            return uri
        # A postmaster killed with SIGKILL leaves postmaster.pid (and the socket lock) behind, and pgserver
        # trusts them when their pid is alive again (recycled) or not yet reaped.
        log.warning("embedded_postgres_stale", pgdata=str(self.pgdata))
        self._wait_for_old_processes()
        with contextlib.suppress(FileNotFoundError):
            (self.pgdata / "postmaster.pid").unlink()
        for lock in self.pgdata.glob(".s.PGSQL.*.lock"):
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        pgserver.postgres_server.PostgresServer._instances.pop(self.pgdata, None)
        server = get_server(self.pgdata, cleanup_mode=None)
        uri = server.get_uri()
        if not self._answers():
            raise RuntimeError(f"embedded PostgreSQL under {self.pgdata} does not answer; see {self.pgdata}/log")
        return uri

    def _wait_for_old_processes(self, timeout: float = 15.0) -> None:
        """Let the children of a killed postmaster notice its death and exit before starting anew."""
        import time

        pid_line = ""
        with contextlib.suppress(OSError):
            pid_line = (self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        old = int(pid_line) if pid_line.isdigit() else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            old_alive = old is not None and _pid_alive(old) and _is_postgres(old)
            if not old_alive and not self._orphans():
                return
            time.sleep(0.1)
        log.warning("embedded_postgres_old_processes_linger", pgdata=str(self.pgdata))

    def _orphans(self) -> list[int]:
        """Live postgres processes still working in this data directory (a killed postmaster's children)."""
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            if not _is_postgres(pid) or not _pid_alive(pid):
                continue
            try:
                if Path(os.readlink(entry / "cwd")) == self.pgdata:
                    out.append(pid)
            except OSError:
                continue
        return out

    def _bin(self, name: str) -> str:
        from pgserver._commands import POSTGRES_BIN_PATH

        return str(Path(POSTGRES_BIN_PATH) / name)

    def _run_as(self) -> tuple[int | None, int | None]:
        """pgserver runs the cluster as its own system user when we are root; so must pg_ctl."""
        if os.geteuid() != 0:
            return None, None
        import pwd

        pw = pwd.getpwnam("pgserver")
        return pw.pw_uid, pw.pw_gid

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        user, group = self._run_as()
        return subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), *args],
            check=check,
            capture_output=True,
            timeout=60,
            user=user,
            group=group,
        )

    def _answers(self) -> bool:
        """True when the postmaster named in postmaster.pid accepts connections."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return False
        if len(lines) < 5:
            return False
        socket_dir, port = lines[4], lines[3]
        res = subprocess.run(
            [self._bin("pg_isready"), "-h", socket_dir, "-p", port, "-U", "postgres", "-d", "postgres", "-t", "5"],
            capture_output=True,
            check=False,
            timeout=15,
        )
        return res.returncode == 0


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() in ("postgres", "postmaster")
    except OSError:
        return False
