"""The embedded PostgreSQL survives SIGKILLs, is shared by two servers, and stops with the last one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait(predicate: object, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def _is_postgres(pid: int | None) -> bool:
    """A running (not zombie) PostgreSQL process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z" and Path(f"/proc/{pid}/comm").read_text().strip() in ("postgres", "postmaster")
    except (OSError, IndexError):
        return False


class Servers:
    """Start and stop real `fazhizhen serve` processes on one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> tuple[subprocess.Popen[bytes], int]:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "FAZHIZHEN_DATABASE_URL"}
        env |= {"FAZHIZHEN_DATA_DIR": str(self.data_dir), "FAZHIZHEN_PORT": str(port), "FAZHIZHEN_LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "fazhizhen", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.procs.append(proc)
        assert _wait(lambda: _ready(port) or proc.poll() is not None), "server did not become ready"
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        return proc, port

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
            if p.stderr:
                p.stderr.close()


@pytest.fixture
def servers() -> Iterator[Servers]:
    # Not under pytest's tmp_path: each pytest session resets /tmp/pytest-of-<user> to 0700, which would
    # lock out the unprivileged user the embedded server runs as when tests run as root.
    base = Path(__file__).resolve().parents[2] / "var" / "embedded-tests" / uuid.uuid4().hex[:8]
    s = Servers(base / "data")
    yield s
    s.stop_all()
    pid = _postmaster_pid(s.data_dir)
    if pid is not None and _is_postgres(pid):
        os.kill(pid, signal.SIGKILL)
        _wait(lambda: not _is_postgres(pid), 10)
    shutil.rmtree(base, ignore_errors=True)


def test_survives_sigkill_of_server_and_of_postmaster(servers: Servers) -> None:
    proc, _ = servers.start()
    first_postmaster = _postmaster_pid(servers.data_dir)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert _is_postgres(first_postmaster)  # the postmaster outlives a killed server...
    second, port = servers.start()  # ...and the next server reuses it
    assert _postmaster_pid(servers.data_dir) == first_postmaster and _ready(port)

    pid = _postmaster_pid(servers.data_dir)
    assert pid is not None and _is_postgres(pid)
    os.kill(pid, signal.SIGKILL)  # kill the postmaster itself: its postmaster.pid stays behind
    second.send_signal(signal.SIGKILL)
    second.wait(10)
    assert _wait(lambda: not _is_postgres(pid), 10)
    assert (servers.data_dir / "pg" / "postmaster.pid").exists()
    # worse: the stale file names a live process that is not PostgreSQL (a recycled pid)
    impostor = subprocess.Popen(["sleep", "60"])
    try:
        pidfile = servers.data_dir / "pg" / "postmaster.pid"
        lines = pidfile.read_text().splitlines()
        pidfile.write_text("\n".join([str(impostor.pid), *lines[1:]]) + "\n")
        _, port = servers.start()
        assert _ready(port)
        assert _postmaster_pid(servers.data_dir) not in (None, pid, impostor.pid)
    finally:
        impostor.kill()
        impostor.wait()


def test_two_servers_share_one_postgres_which_stops_with_the_last(servers: Servers) -> None:
    a, port_a = servers.start()
    b, port_b = servers.start()
    postmaster = _postmaster_pid(servers.data_dir)
    assert _is_postgres(postmaster)
    a.terminate()
    assert a.wait(20) == 0
    assert _ready(port_b) and _is_postgres(postmaster)  # still used by b
    b.terminate()
    assert b.wait(20) == 0
    assert _wait(lambda: not _is_postgres(postmaster), 20)  # the last one out stopped it
    assert not _ready(port_a)
