"""Three real server processes on one database: every event reaches every lawyer concerned exactly once,
every reminder and notification is sent once, and a process stopped with SIGTERM loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fazhizhen.db.pool import connect
from fazhizhen.services.auth import create_or_reset_bureau
from tests.factories import PASSWORD
from tests.realtime.fakes import Fake, receiver_app, serve, wechat_app
from tests.realtime.sse import SSE

ROOT = Path(__file__).resolve().parents[2]
ESCALATE_AFTER = 3.0
REMIND_BEFORE = 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    port: int
    popen: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def wait_until(check: Callable[[], Any], timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[Fake, Fake]]:
    wechat, receiver = Fake(), Fake()
    async with serve(wechat_app(wechat), wechat), serve(receiver_app(receiver), receiver, "/hook"):
        yield wechat, receiver


@pytest.fixture
async def procs(db_dsn: str, fakes: tuple[Fake, Fake], tmp_path: Path) -> AsyncIterator[list[Proc]]:
    wechat, _ = fakes
    env = os.environ | {
        "FAZHIZHEN_DATABASE_URL": db_dsn,
        "FAZHIZHEN_DEV_LOGIN": "true",
        "FAZHIZHEN_LOG_FORMAT": "json",
        "FAZHIZHEN_LOG_LEVEL": "INFO",
        "FAZHIZHEN_ESCALATE_AFTER_SECONDS": str(ESCALATE_AFTER),
        "FAZHIZHEN_REMIND_BEFORE_SECONDS": str(REMIND_BEFORE),
        "FAZHIZHEN_SWEEP_INTERVAL_SECONDS": "0.2",
        "FAZHIZHEN_OUTBOX_INTERVAL_SECONDS": "0.2",
        "FAZHIZHEN_STREAM_HEARTBEAT_SECONDS": "1",
        "FAZHIZHEN_WECHAT_APPID": "wx-test",
        "FAZHIZHEN_WECHAT_SECRET": "s3cret",
        "FAZHIZHEN_WECHAT_API_BASE": wechat.url,
        "FAZHIZHEN_WECHAT_TEMPLATE_ANSWERED": "tmpl-answered",
        "FAZHIZHEN_WECHAT_CONTENT_CHECK": "false",  # msgSecCheck is tested in tests/api/test_wechat.py
        "FAZHIZHEN_DB_POOL_MIN": "1",
        "FAZHIZHEN_DB_POOL_MAX": "8",
        "FAZHIZHEN_SHUTDOWN_TIMEOUT_SECONDS": "5",
    }
    env.pop("PYTHONASYNCIODEBUG", None)  # three debug loops on two cores only add noise
    out: list[Proc] = []
    logs = []
    for i in range(3):
        port = free_port()
        log = open(tmp_path / f"serve-{i}.log", "wb")  # noqa: SIM115, ASYNC230 - kept open for the process
        logs.append(log)
        popen = subprocess.Popen(  # noqa: ASYNC220 - started once, then polled over HTTP
            [sys.executable, "-m", "fazhizhen", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        out.append(Proc(port, popen))
    try:
        async with aiohttp.ClientSession() as http:

            async def all_up() -> bool:
                for p in out:
                    assert p.popen.poll() is None, (tmp_path / "serve-0.log").read_text()[-2000:]
                    try:
                        async with http.get(p.url + "/healthz") as r:
                            if r.status != 200:
                                return False
                    except aiohttp.ClientConnectionError:
                        return False
                return True

            await wait_until(all_up, 30, "three servers to start")
        yield out
    finally:
        for p in out:
            if p.popen.poll() is None:
                p.popen.kill()
            p.popen.wait(10)
        for log in logs:
            log.close()


@dataclass
class Listener:
    """A lawyer's (or the bureau's) app: follows its stream, reconnecting elsewhere with Last-Event-ID."""

    token: str
    urls: list[str]
    path: str = "/api/v1/lawyer/stream"
    events: list[tuple[int, str, int]] = field(default_factory=list)
    reconnects: int = 0
    task: asyncio.Task[None] | None = None

    async def run(self, http: aiohttp.ClientSession) -> None:
        last: int | None = None
        for url in self.urls:
            headers = {"Authorization": f"Bearer {self.token}"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                async with http.get(
                    url + self.path, headers=headers, timeout=aiohttp.ClientTimeout()
                ) as resp:
                    assert resp.status == 200
                    sse = SSE(resp)
                    while (ev := await sse.next(timeout=60)) is not None:
                        self.events.append((ev.id, ev.event, ev.data["question_id"]))
                        last = ev.id
            self.reconnects += 1

    def kinds(self) -> Counter[tuple[str, int]]:
        return Counter((kind, qid) for _, kind, qid in self.events)


async def call(
    http: aiohttp.ClientSession, base: str, method: str, path: str, token: str | None = None, json: Any = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, base + "/api/v1" + path, json=json, headers=headers) as r:
        body = await r.json() if r.content_type == "application/json" else None
        assert 200 <= r.status < 300, (method, path, r.status, body)
        return body


async def test_three_processes_deliver_exactly_once_and_survive_sigterm(
    procs: list[Proc], fakes: tuple[Fake, Fake], db_dsn: str
) -> None:
    wechat, receiver = fakes
    p0, p1, p2 = procs
    conn = await connect(db_dsn)
    try:
        await create_or_reset_bureau(conn, "bureau-admin", PASSWORD)
    finally:
        await conn.close()

    async with aiohttp.ClientSession() as http:
        login = await call(
            http, p0.url, "POST", "/auth/login", json={"username": "bureau-admin", "password": PASSWORD}
        )
        bt = login["token"]
        lawyers = {}
        for name in ("duty", "a", "b"):
            await call(
                http,
                p1.url,
                "POST",
                "/admin/lawyers",
                bt,
                {"name": name, "username": f"lawyer-{name}", "password": PASSWORD},
            )
            body = await call(
                http, p2.url, "POST", "/auth/login", json={"username": f"lawyer-{name}", "password": PASSWORD}
            )
            lawyers[name] = body
        d = await call(http, p0.url, "POST", "/admin/districts", bt, {"name": "区"})
        s = await call(http, p0.url, "POST", "/admin/streets", bt, {"district_id": d["id"], "name": "街道"})
        c = await call(http, p0.url, "POST", "/admin/communities", bt, {"street_id": s["id"], "name": "社区"})
        await call(
            http,
            p0.url,
            "POST",
            f"/admin/communities/{c['id']}/duty",
            bt,
            {"lawyer_id": lawyers["duty"]["user_id"]},
        )
        pool = await call(
            http, p0.url, "POST", "/admin/pools", bt, {"name": "服务团", "district_id": d["id"]}
        )
        for name in ("a", "b"):
            await call(
                http,
                p0.url,
                "POST",
                f"/admin/pools/{pool['id']}/members",
                bt,
                {"lawyer_id": lawyers[name]["user_id"]},
            )
        await call(
            http, p0.url, "POST", "/admin/webhooks", bt, {"url": receiver.url, "events": ["escalated"]}
        )

        duty = Listener(lawyers["duty"]["token"], [p0.url])
        a = Listener(lawyers["a"]["token"], [p1.url])
        b = Listener(lawyers["b"]["token"], [p2.url, p0.url])  # b's server will be stopped
        bureau = Listener(bt, [p1.url], path="/api/v1/bureau/stream")
        listeners = [duty, a, b, bureau]
        for lst in listeners:
            lst.task = asyncio.create_task(lst.run(http))
        await asyncio.sleep(0.5)  # streams open (events before this would still be caught by replay)

        residents = []
        for i in range(6):
            body = await call(http, procs[i % 3].url, "POST", "/auth/dev", json={"openid": f"openid-{i}"})
            residents.append(body["token"])
        asked = []
        for i, token in enumerate(residents):
            q = await call(
                http,
                procs[i % 3].url,
                "POST",
                "/questions",
                token,
                {"community_id": c["id"], "content": f"邻居装修噪音怎么办？第{i}问", "category": "neighbor"},
            )
            asked.append(q)
        answered, left = asked[:3], asked[3:]
        for i, q in enumerate(answered):
            await call(
                http,
                procs[(i + 1) % 3].url,
                "POST",
                f"/questions/{q['id']}/answers",
                lawyers["duty"]["token"],
                {"content": "可以先与物业协商。"},
            )

        # stop b's server: its stream must end cleanly and the process exit promptly
        stopped_at = time.monotonic()
        p2.popen.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(p2.popen.wait, 10) == 0
        assert time.monotonic() - stopped_at < 6

        def escalated_everywhere() -> bool:
            return all(
                ("pool_new", q["id"]) in b.kinds() and ("pool_new", q["id"]) in a.kinds() for q in left
            )

        await wait_until(escalated_everywhere, ESCALATE_AFTER + 8, "escalations to reach both pool lawyers")
        claimed = left[0]
        await call(http, p1.url, "POST", f"/questions/{claimed['id']}/claim", lawyers["a"]["token"])
        await wait_until(lambda: ("pool_claimed", claimed["id"]) in b.kinds(), 5, "b to learn of the claim")
        await wait_until(
            lambda: len(wechat.received) >= 3 and len(receiver.received) >= 3, 8, "notifications"
        )
        await asyncio.sleep(1.0)  # anything duplicated would arrive by now

        for lst in listeners:
            assert lst.task is not None
            lst.task.cancel()
        await asyncio.gather(*(lst.task for lst in listeners if lst.task), return_exceptions=True)

    ids = lambda qs: [q["id"] for q in qs]  # noqa: E731
    expect_duty = Counter(
        [("assigned", i) for i in ids(asked)]
        + [("reminder", i) for i in ids(left)]
        + [("escalated", i) for i in ids(left)]
    )
    assert duty.kinds() == expect_duty
    assert a.kinds() == Counter(("pool_new", i) for i in ids(left))
    assert b.kinds() == Counter([("pool_new", i) for i in ids(left)] + [("pool_claimed", claimed["id"])])
    assert b.reconnects >= 1  # it really moved from the stopped process to another
    assert bureau.kinds() == Counter(("escalated", i) for i in ids(left))
    for lst in listeners:
        seqs = [e[0] for e in lst.events]
        assert seqs == sorted(set(seqs)), "ids increase and never repeat"

    sent = [m["body"]["touser"] for m in wechat.received if m["mode"] == "ok"]
    assert sorted(sent) == [f"openid-{i}" for i in range(3)]
    deliveries = Counter(r["body"]["question_id"] for r in receiver.received)
    assert deliveries == Counter(ids(left))
