"""Lifecycle with real processes: a PostgreSQL restart under a serving app, and SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from subprocess import DEVNULL

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.harness import running_server, seed_city
from fazhizhen.app import create_app
from fazhizhen.db.embedded import EmbeddedPostgres
from fazhizhen.db.migrate import migrate
from fazhizhen.db.pool import connect
from fazhizhen.services.auth import create_or_reset_bureau
from tests.conftest import ROOT, make_settings
from tests.factories import PASSWORD
from tests.faults.load import wait_for


async def _poll(fn, want: int, deadline_s: float = 20.0) -> float:  # type: ignore[no-untyped-def]
    """Call `fn` until it returns `want`; the seconds it took."""
    start = time.monotonic()
    while True:
        if await fn() == want:
            return time.monotonic() - start
        assert time.monotonic() - start < deadline_s, f"status never became {want}"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def pg_dir() -> Iterator[Path]:
    """The data directory of a dedicated embedded server (initdb once for the module).

    Under var/, not pytest's tmp_path: each pytest session resets /tmp/pytest-of-<user> to 0700,
    locking out the system user the server runs as (docs/DEVELOPING.md).
    """
    base = ROOT / "var" / "embedded-tests" / f"ops-{uuid.uuid4().hex[:8]}"
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def own_pg(pg_dir: Path) -> Iterator[EmbeddedPostgres]:
    """A dedicated embedded server (the shared test server is never disturbed)."""
    pg = EmbeddedPostgres(pg_dir)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


def _restart_args(pg: EmbeddedPostgres) -> list[str]:
    socket_dir = (pg.pgdata / "postmaster.pid").read_text().splitlines()[4]
    return ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(pg.pgdata / "log"), "start"]


@pytest.fixture
async def own_client(own_pg: EmbeddedPostgres) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    assert own_pg.uri
    conn = await connect(own_pg.uri)
    try:
        await migrate(conn)
        await create_or_reset_bureau(conn, "ops-admin", PASSWORD)
    finally:
        await conn.close()
    app = create_app(make_settings(own_pg.uri, db_pool_min=2, db_pool_max=4))
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_readyz_and_requests_answer_503_during_a_database_restart_then_recover(
    own_pg: EmbeddedPostgres,
    own_client: TestClient,  # type: ignore[type-arg]
) -> None:
    c = own_client
    async with c.post("/api/v1/auth/login", json={"username": "ops-admin", "password": PASSWORD}) as r:
        token = (await r.json())["token"]
    auth = {"Authorization": f"Bearer {token}"}

    async def ready() -> int:
        async with c.get("/readyz") as r:
            return r.status

    async def districts() -> int:
        async with c.get("/api/v1/admin/districts", headers=auth) as r:
            return r.status

    assert await ready() == 200
    restart = _restart_args(own_pg)
    stopped = await asyncio.to_thread(own_pg._pg_ctl, "-w", "-m", "fast", "stop", check=False)
    assert stopped.returncode == 0, stopped.stderr

    assert await ready() == 503
    for _ in range(3):  # dead pooled connections, then refused new ones: all the JSON 503
        async with c.get("/api/v1/admin/districts", headers=auth) as r:
            assert r.status == 503
            assert (await r.json())["error"]["code"] == "unavailable"
    async with c.get("/metrics") as r:
        assert r.status == 200 and "fazhizhen_database_up 0.0" in await r.text()

    await asyncio.to_thread(own_pg._pg_ctl, *restart)
    recovered = await _poll(ready, 200)
    await _poll(districts, 200, deadline_s=5)
    print(f"readyz recovered {recovered:.2f}s after PostgreSQL came back")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, proc: asyncio.subprocess.Process, log: Path, deadline_s: float = 60) -> None:
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        assert proc.returncode is None, log.read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("server never became ready")


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return True
    return False


async def test_sigterm_finishes_in_flight_request_stops_embedded_postgres_and_exits_0(
    tmp_path: Path, pg_dir: Path
) -> None:
    port = _free_port()
    pgdata = pg_dir / "pg"
    env = {
        **os.environ,
        "FAZHIZHEN_DATA_DIR": str(pg_dir),
        "FAZHIZHEN_PORT": str(port),
        "FAZHIZHEN_DEV_LOGIN": "true",
        "FAZHIZHEN_SWEEP_INTERVAL_SECONDS": "0.2",
        "FAZHIZHEN_SHUTDOWN_TIMEOUT_SECONDS": "10",
        "FAZHIZHEN_LOG_FORMAT": "json",
    }
    env.pop("FAZHIZHEN_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with open(log, "wb") as log_fh:  # noqa: ASYNC230 (a local file, opened once)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fazhizhen", "serve", cwd=ROOT, env=env, stdout=DEVNULL, stderr=log_fh
        )
    try:
        await asyncio.to_thread(_wait_ready, port, proc, log)
        pid_lines = (pgdata / "postmaster.pid").read_text().splitlines()
        locker = await asyncpg.connect(f"postgresql://postgres:@/postgres?host={pid_lines[4]}&port={pid_lines[3]}")
        # an in-flight request: it waits on a lock this test holds when SIGTERM arrives
        tx = locker.transaction()
        await tx.start()
        await locker.execute("LOCK TABLE residents IN ACCESS EXCLUSIVE MODE")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'{"openid": "sigterm-test"}'
        writer.write(
            b"POST /api/v1/auth/dev HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        await _poll(lambda: locker.fetchval(waiting), 1, deadline_s=10)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not await asyncio.to_thread(_refuses, port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
        await tx.commit()
        await locker.close()
        reply = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
        code = await asyncio.wait_for(proc.wait(), 30)
        took = time.monotonic() - signalled
        err = log.read_text()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0, err
    for event in ("scheduler_stopped", "embedded_postgres_stopped"):
        assert event in err, err
    assert not (pgdata / "postmaster.pid").exists()
    print(f"SIGTERM to exit 0: {took:.2f}s")


async def _in_progress(base: str) -> float:
    """fazhizhen_http_requests_in_progress, the scrape itself included."""
    async with aiohttp.ClientSession() as s, s.get(base + "/metrics") as r:
        text = await r.text()
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(IN_PROGRESS))


IN_PROGRESS = "fazhizhen_http_requests_in_progress "


async def test_sigterm_lets_a_slow_request_body_arrive_and_answers_201(
    own_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    assert own_pg.uri
    env = {"FAZHIZHEN_LOG_LEVEL": "INFO", "FAZHIZHEN_SHUTDOWN_TIMEOUT_SECONDS": "10"}
    async with running_server(own_pg.uri, tmp_path, **env) as server:
        conn = await asyncpg.connect(own_pg.uri)
        try:
            city = await seed_city(conn, residents=1)
        finally:
            await conn.close()
        body = json.dumps(
            {"community_id": city.community_ids[0], "content": "邻居装修噪音太大，怎么办？", "category": "neighbor"}
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /api/v1/questions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {city.resident_tokens[0]}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:20]
        )
        await writer.drain()
        # the handler is waiting for the rest of the body (the scrape counts itself too)
        assert await wait_for(lambda: _eq(_in_progress(server.base), 2.0), 10)

        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert await wait_for(lambda: asyncio.to_thread(_refuses, server.port), 5), "still accepting"
        writer.write(body[20:])  # the rest of the body arrives after SIGTERM
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        code = await asyncio.to_thread(server.proc.wait, 30)
        took = time.monotonic() - signalled

    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201"), reply[:500]
    assert b"Connection: close" in head  # the client is told to go elsewhere next time
    question_id = json.loads(payload)["id"]
    conn = await asyncpg.connect(own_pg.uri)
    try:
        assert await conn.fetchval("SELECT count(*) FROM questions WHERE id = $1", question_id) == 1
    finally:
        await conn.close()
    log = server.log_path.read_text()
    assert code == 0, log[-3000:]
    for event in ("shutdown_started", "shutdown_drained", "scheduler_stopped", "shutdown_done"):
        assert event in log, log[-3000:]
    print(f"slow body: SIGTERM to exit 0 in {took:.2f}s")


async def _eq(value: Awaitable[float], want: float) -> bool:
    return await value == want
