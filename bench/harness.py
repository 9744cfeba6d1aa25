"""What every scenario needs: a PostgreSQL server, a fresh bench database, a real `fazhizhen serve`
subprocess, seeded places/people/tokens, the separate load-generator process, and percentiles.

Scenarios take a `Bench` (a server DSN plus where to put logs) so the smoke tests can run them
against the test suite's PostgreSQL and `make bench` against its own embedded one under var/bench-pg.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from fazhizhen.db.dsn import with_database
from fazhizhen.db.migrate import migrate
from fazhizhen.db.pool import connect
from fazhizhen.services.auth import hash_token, new_token

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LOADGEN = ROOT / "bench" / "loadgen.py"
# Generous limits: the benchmark measures the pipeline, not the per-resident rate limiter.
UNLIMITED = {
    "FAZHIZHEN_RATE_QUESTIONS_PER_HOUR": "1000000000",
    "FAZHIZHEN_RATE_QUESTIONS_PER_DAY": "1000000000",
    "FAZHIZHEN_MAX_OPEN_QUESTIONS": "1000000000",
}


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`; 0 for none."""
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return float(s[k])


NICE = -10


def prioritise(data_dir: Path | None = None) -> int:
    """Run this process, what it spawns, and the bench PostgreSQL at nice -10 (root only): the machine is
    shared with other work, and anchors and figures alike should measure software, not the neighbours.
    Returns the niceness now in force."""
    if os.geteuid() != 0:
        return os.nice(0)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    pid_file = (data_dir or ROOT / "var" / "bench-pg") / "pg" / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        postmaster = int(pid_file.read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        for pid in [postmaster, *map(int, children)]:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, pid, NICE)
    return os.nice(0)


def free_port() -> int:
    """A free port below the kernel's ephemeral range, so no client socket or port-0 server of another
    process on this shared machine takes it between now and our server's bind."""
    import random

    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randrange(20000, min(low, 32768))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@dataclass
class Bench:
    """Where scenarios run: a server DSN (maintenance database) and a scratch directory."""

    server_dsn: str
    work_dir: Path = ROOT / "var" / "bench"
    quick: bool = False
    databases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)

    async def fresh_database(self, prefix: str) -> str:
        """A new migrated database; returns its DSN (dropped by `cleanup`)."""
        name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(self.server_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self.databases.append(name)
        dsn = with_database(self.server_dsn, name)
        conn = await connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        return dsn

    async def cleanup(self) -> None:
        admin = await asyncpg.connect(self.server_dsn)
        try:
            for name in self.databases:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        self.databases.clear()


@contextlib.contextmanager
def embedded_server(data_dir: Path | None = None) -> Iterator[str]:
    """The bench's own embedded PostgreSQL (var/bench-pg), or FAZHIZHEN_BENCH_DSN when set."""
    given = os.environ.get("FAZHIZHEN_BENCH_DSN")
    if given:
        yield given
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", str(ROOT / "var" / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    from fazhizhen.db.embedded import EmbeddedPostgres

    pg = EmbeddedPostgres(data_dir or ROOT / "var" / "bench-pg")
    dsn = pg.start()
    try:
        yield dsn
    finally:
        pg.stop()


@contextlib.asynccontextmanager
async def bench_context(quick: bool, server_dsn: str | None = None) -> AsyncIterator[Bench]:
    """A Bench on the given server, or on the embedded one; databases dropped afterwards."""
    if server_dsn is not None:
        b = Bench(server_dsn, quick=quick)
        try:
            yield b
        finally:
            await b.cleanup()
        return
    with embedded_server() as dsn:
        b = Bench(dsn, quick=quick)
        try:
            yield b
        finally:
            await b.cleanup()


# --- the service under test, as a real process ---------------------------------------------------


@dataclass
class Server:
    """A `python -m fazhizhen serve` subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        """Resident memory of the server process, in KiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def kill(self) -> None:
        """SIGKILL, no goodbye."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def http_status(url: str, timeout: float = 2.0) -> int:
    """The status code of a GET (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, TimeoutError):
        return 0


async def wait_ready(server: Server, deadline_s: float = 30.0) -> None:
    """Poll /readyz until 200 (or fail with the server's log tail)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if server.proc.poll() is not None:
            break
        if await asyncio.to_thread(http_status, server.base + "/readyz", 1.0) == 200:
            return
        await asyncio.sleep(0.05)
    tail = server.log_path.read_text(errors="replace")[-3000:] if server.log_path.exists() else ""
    raise RuntimeError(f"server on port {server.port} did not become ready:\n{tail}")


def start_server_proc(dsn: str, log_dir: Path, port: int | None = None, **env: Any) -> Server:
    """Spawn the server (not waiting for it): scheduler settings and the like come in `env`."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{port}.log"
    full = {
        **os.environ,
        "FAZHIZHEN_DATABASE_URL": dsn,
        "FAZHIZHEN_DEV_LOGIN": "true",
        "FAZHIZHEN_LOG_LEVEL": "WARNING",
        "FAZHIZHEN_LOG_FORMAT": "json",
        "FAZHIZHEN_SHUTDOWN_TIMEOUT_SECONDS": "2",
        **UNLIMITED,
        **{k: str(v) for k, v in env.items()},
    }
    full.pop("PYTHONASYNCIODEBUG", None)  # the debug loop would measure itself
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [PY, "-m", "fazhizhen", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=full,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(proc, port, log_path)


@contextlib.asynccontextmanager
async def running_server(dsn: str, log_dir: Path, port: int | None = None, **env: Any) -> AsyncIterator[Server]:
    """A ready server for the duration of the block (a fresh port if the chosen one was taken)."""
    for attempt in range(3):
        server = start_server_proc(dsn, log_dir, port, **env)
        try:
            await wait_ready(server)
            await asyncio.sleep(0.1)
            if server.proc.poll() is None:  # the 200 came from us, not from a squatter on the port
                break
        except RuntimeError:
            server.stop()
            if attempt == 2 or port is not None:
                raise
    if server.proc.poll() is not None:
        raise RuntimeError(f"server on port {server.port} exited at start-up; see {server.log_path}")
    try:
        yield server
    finally:
        server.stop()


# --- the load generator, a separate process ----------------------------------------------------


async def loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    """Run bench/loadgen.py with `spec` on stdin; return its JSON report."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONASYNCIODEBUG"}
    proc = await asyncio.create_subprocess_exec(
        PY,
        str(LOADGEN),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate(json.dumps(spec).encode())
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed ({proc.returncode}): {err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out)
    return result


# --- seed data, straight into the database (fast; tokens minted like the service does) ----------


@dataclass
class City:
    district_id: int
    community_ids: list[int]
    lawyer_ids: list[int]
    lawyer_tokens: list[str]
    resident_ids: list[int]
    resident_tokens: list[str]
    pool_id: int | None


async def _mint_tokens(conn: asyncpg.Connection, role: str, ids: list[int], column: str) -> list[str]:
    tokens = [new_token() for _ in ids]
    await conn.execute(
        f"""INSERT INTO auth_tokens (token_hash, role, {column}, expires_at)
            SELECT h, $1, i, now() + interval '2 days' FROM unnest($2::bytea[], $3::bigint[]) AS t(h, i)""",
        role,
        [hash_token(t) for t in tokens],
        ids,
    )
    return tokens


async def seed_city(
    conn: asyncpg.Connection,
    *,
    communities: int = 1,
    duty_lawyers: bool = True,
    pool_lawyers: int = 0,
    residents: int = 0,
    tag: str = "",
) -> City:
    """One district and street; `communities` each with an always-on-duty lawyer (if `duty_lawyers`);
    a district pool of `pool_lawyers` fresh lawyers; `residents` with tokens."""
    tag = tag or uuid.uuid4().hex[:6]
    district = await conn.fetchval("INSERT INTO districts (name) VALUES ($1) RETURNING id", f"区{tag}")
    street = await conn.fetchval(
        "INSERT INTO streets (district_id, name) VALUES ($1, $2) RETURNING id", district, f"街道{tag}"
    )
    cids = [
        r["id"]
        for r in await conn.fetch(
            """INSERT INTO communities (street_id, name)
               SELECT $1, '社区' || $2 || '-' || g FROM generate_series(1, $3) g RETURNING id""",
            street,
            tag,
            communities,
        )
    ]

    async def lawyers(n: int, kind: str) -> list[int]:
        rows = await conn.fetch(
            """WITH a AS (
                   INSERT INTO accounts (role, username, password_hash)
                   SELECT 'lawyer', $1 || '-' || g, '!bench-no-password' FROM generate_series(1, $2) g
                   RETURNING id)
               INSERT INTO lawyers (id, name) SELECT id, '律师' || id FROM a RETURNING id""",
            f"bench-{kind}-{tag}",
            n,
        )
        return sorted(r["id"] for r in rows)

    duty_ids = await lawyers(communities, "duty") if duty_lawyers else []
    if duty_ids:
        await conn.execute(
            "INSERT INTO duty_slots (community_id, lawyer_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])",
            cids,
            duty_ids,
        )
    pool_ids = await lawyers(pool_lawyers, "pool") if pool_lawyers else []
    pool_id = None
    if pool_lawyers:
        pool_id = await conn.fetchval(
            "INSERT INTO pools (name, district_id) VALUES ($1, $2) RETURNING id", f"服务团{tag}", district
        )
        await conn.execute(
            "INSERT INTO pool_members (pool_id, lawyer_id) SELECT $1, unnest($2::bigint[])", pool_id, pool_ids
        )
    rids = [
        r["id"]
        for r in await conn.fetch(
            "INSERT INTO residents (openid) SELECT $1 || '-' || g FROM generate_series(1, $2) g RETURNING id",
            f"bench-{tag}",
            residents,
        )
    ]
    all_lawyers = duty_ids + pool_ids
    return City(
        district,
        cids,
        all_lawyers,
        await _mint_tokens(conn, "lawyer", all_lawyers, "account_id") if all_lawyers else [],
        rids,
        await _mint_tokens(conn, "resident", rids, "resident_id") if rids else [],
        pool_id,
    )


def pg_bin(name: str) -> str:
    """A PostgreSQL client program shipped with pgserver (pgbench, psql)."""
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / name)


async def server_version(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def round_dict(d: dict[str, Any], ndigits: int = 2) -> dict[str, Any]:
    return {k: round(v, ndigits) if isinstance(v, float) else v for k, v in d.items()}


def quick_or(bench: Bench, quick: Any, full: Any) -> Any:
    return quick if bench.quick else full


def script_main(name: str, run: Any) -> None:
    """`python bench/<name>.py [--quick]`: run one scenario on the bench server, print its figures."""
    import argparse

    parser = argparse.ArgumentParser(description=f"benchmark scenario: {name}")
    parser.add_argument("--quick", action="store_true", help="small scale, a few seconds")
    args = parser.parse_args()

    prioritise()

    async def go() -> dict[str, Any]:
        async with bench_context(args.quick) as bench:
            prioritise()
            result: dict[str, Any] = await run(bench)
            return result

    result = asyncio.run(go())
    out = ROOT / "var" / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    from bench.report import machine, render

    print(render({name: result}, machine()))


@contextlib.contextmanager
def service_logs_to(path: Path, level: str = "INFO") -> Iterator[None]:
    """Route this process's structlog output to a file (as production would), then back to quiet."""
    import structlog

    from fazhizhen.log import configure_logging

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        configure_logging("json", level)
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(fh))
        try:
            yield
        finally:
            configure_logging("console", "WARNING")


async def insert_questions(
    conn: asyncpg.Connection,
    city: City,
    n: int,
    *,
    status: str,
    escalate_in: str,
    created_ago: str = "20 minutes",
    lawyers: list[int] | None = None,
) -> None:
    """`n` questions in one INSERT ... SELECT generate_series (the fastest bulk path on this machine):
    spread over the city's communities, assigned round-robin to `lawyers` (pending) or in the pool."""
    pooled = status in ("escalated", "claimed")
    ids = lawyers if lawyers is not None else city.lawyer_ids[: len(city.community_ids)] or [0]
    await conn.execute(
        """INSERT INTO questions (community_id, category, content, status, assigned_lawyer_id, pool_id,
                                  created_at, escalate_at, escalated_at, alert_at, first_answered_at,
                                  first_answered_by, resolved_level)
           SELECT c[1 + g % cardinality(c)], 'neighbor', '楼上邻居装修噪音太大，物业不管，怎么维权？', $3,
                  CASE WHEN $4 THEN NULL ELSE l[1 + g % cardinality(l)] END,
                  CASE WHEN $4 THEN $5::bigint END,
                  now() - $6::text::interval, now() + $7::text::interval,
                  CASE WHEN $4 THEN now() END, CASE WHEN $4 THEN now() + interval '15 minutes' END,
                  CASE WHEN $3 = 'answered' THEN now() - interval '5 minutes' END,
                  CASE WHEN $3 = 'answered' THEN l[1 + g % cardinality(l)] END,
                  CASE WHEN $3 = 'answered' THEN 'A' END
           FROM generate_series(1, $8::int) g, (SELECT $1::bigint[] AS c, $2::bigint[] AS l) a""",
        city.community_ids,
        ids,
        status,
        pooled,
        city.pool_id,
        created_ago,
        escalate_in,
        n,
    )
