"""The load generator: a separate process (aiohttp client) so it never shares an event loop with the server.

Reads a JSON spec on stdin, writes a JSON report on stdout. Modes:
  post   POST `path` with {"community_id", "content", "category"} rotating `tokens`/`communities`;
         closed loop with `concurrency` workers, or open loop at `rate` requests/s (latency counted
         from the intended send time, so a stalled server cannot hide its queue).
  claim  each of `tokens` (one per lawyer, all concurrent) tries to claim its list in `plans`.
  queue  each of `tokens` polls GET `path` every `interval` s with a random phase, for `duration` s.
Only stdlib + aiohttp, so it can also run from another virtualenv.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from typing import Any

import aiohttp


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


class Stats:
    def __init__(self, warmup_until: float) -> None:
        self.warmup_until = warmup_until
        self.lat: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.first = self.last = 0.0
        self.acked: list[int] = []

    def add(self, start: float, end: float, status: int | str) -> None:
        if start < self.warmup_until:
            return
        self.lat.append(end - start)
        self.statuses[str(status)] += 1
        self.first = min(self.first, start) if self.first else start
        self.last = max(self.last, end)

    def report(self, ok_codes: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        ok = sum(n for s, n in self.statuses.items() if s.isdigit() and int(s) in ok_codes)
        elapsed = max(self.last - self.first, 1e-9)
        ms = [x * 1000 for x in self.lat]
        return {
            "requests": len(self.lat),
            "ok": ok,
            "statuses": dict(self.statuses),
            "elapsed_s": round(elapsed, 3),
            "throughput": round(ok / elapsed, 1),
            "attempts_per_s": round(len(self.lat) / elapsed, 1),
            "p50_ms": round(pct(ms, 50), 2),
            "p90_ms": round(pct(ms, 90), 2),
            "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms, default=0.0), 2),
        }


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    token: str | None,
    body: dict[str, Any],
    stats: Stats,
    start: float,
) -> int | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status: int | str
    qid = None
    try:
        async with session.post(url, json=body, headers=headers) as resp:
            status = resp.status
            data = await resp.read()
            if status == 201:
                qid = json.loads(data).get("id")
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        status = f"{type(exc).__name__}: {exc}"[:120]
    stats.add(start, time.perf_counter(), status)
    return qid


async def run_post(spec: dict[str, Any], session: aiohttp.ClientSession) -> dict[str, Any]:
    url = spec["base"] + spec.get("path", "/api/v1/questions")
    tokens: list[str | None] = spec.get("tokens") or [None]
    communities: list[int] = spec["communities"]
    duration = float(spec["duration"])
    warmup = float(spec.get("warmup", 0))
    content = spec.get("content", "楼上邻居装修噪音太大，物业不管，我可以怎么维权？")
    t0 = time.perf_counter()
    stats = Stats(t0 + warmup)
    end = t0 + warmup + duration
    counter = 0

    def body(i: int) -> tuple[str | None, dict[str, Any]]:
        return tokens[i % len(tokens)], {
            "community_id": communities[i % len(communities)],
            "content": content,
            "category": "neighbor",
        }

    async def one(i: int, start: float) -> None:
        token, b = body(i)
        qid = await _post(session, url, token, b, stats, start)
        if qid is not None and start >= stats.warmup_until:
            stats.acked.append(qid)

    rate = spec.get("rate")
    if rate:
        tasks: list[asyncio.Task[None]] = []
        interval = 1.0 / float(rate)
        i = 0
        while True:
            at = t0 + i * interval
            if at >= end:
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, at)))
            i += 1
        await asyncio.gather(*tasks)
    else:

        async def worker(w: int) -> None:
            nonlocal counter
            while time.perf_counter() < end:
                counter += 1
                await one(counter + w, time.perf_counter())

        await asyncio.gather(*(worker(w) for w in range(int(spec["concurrency"]))))
    out = stats.report((201,))
    if spec.get("return_ids"):
        out["ids"] = stats.acked
    return out


async def run_claim(spec: dict[str, Any], session: aiohttp.ClientSession) -> dict[str, Any]:
    base = spec["base"]
    stats = Stats(0.0)
    wins: list[tuple[int, int]] = []

    async def lawyer(idx: int, token: str, plan: list[int]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        for qid in plan:
            start = time.perf_counter()
            status: int | str
            try:
                async with session.post(f"{base}/api/v1/questions/{qid}/claim", headers=headers) as resp:
                    status = resp.status
                    await resp.read()
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                status = f"{type(exc).__name__}: {exc}"[:120]
            stats.add(start, time.perf_counter(), status)
            if status == 200:
                wins.append((qid, idx))

    await asyncio.gather(*(lawyer(i, t, p) for i, (t, p) in enumerate(zip(spec["tokens"], spec["plans"], strict=True))))
    out = stats.report((200,))
    out["wins"] = wins
    return out


async def run_queue(spec: dict[str, Any], session: aiohttp.ClientSession) -> dict[str, Any]:
    url = spec["base"] + spec.get("path", "/api/v1/lawyer/queue")
    interval = float(spec.get("interval", 10))
    duration = float(spec["duration"])
    rng = random.Random(spec.get("seed", 1))
    t0 = time.perf_counter()
    stats = Stats(t0)

    async def lawyer(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        at = t0 + rng.random() * interval
        while at < t0 + duration:
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status: int | str
            try:
                async with session.get(url, headers=headers) as resp:
                    status = resp.status
                    await resp.read()
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                status = f"{type(exc).__name__}: {exc}"[:120]
            stats.add(at, time.perf_counter(), status)
            at += interval

    await asyncio.gather(*(lawyer(t) for t in spec["tokens"]))
    return stats.report((200,))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def run_push(spec: dict[str, Any], session: aiohttp.ClientSession) -> dict[str, Any]:
    """Lawyer i holds an SSE stream and is on duty in community i; questions go round-robin to the
    communities at `rate`/s. Latency: POST returning -> the assigned lawyer's stream yielding the event."""
    base = spec["base"]
    lawyers: list[str] = spec["lawyer_tokens"]
    communities: list[int] = spec["communities"]
    residents: list[str] = spec["resident_tokens"]
    returned: dict[int, float] = {}
    received: dict[int, float] = {}
    expected: dict[int, int] = {}
    connected = 0
    all_connected = asyncio.Event()
    rss_before = rss_kib(spec["server_pid"])

    async def stream(i: int) -> None:
        nonlocal connected
        headers = {"Authorization": f"Bearer {lawyers[i]}", "Accept": "text/event-stream"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with session.get(base + "/api/v1/lawyer/stream", headers=headers, timeout=timeout) as resp:
            if resp.status != 200:
                raise RuntimeError(f"stream {i}: HTTP {resp.status}")
            connected += 1
            if connected == len(lawyers):
                all_connected.set()
            event = ""
            async for raw in resp.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "assigned":
                    qid = json.loads(line[5:]).get("question_id")
                    if qid is not None and qid not in received and expected.get(qid, i) == i:
                        received[qid] = time.perf_counter()
                elif not line:
                    event = ""

    readers = [asyncio.create_task(stream(i)) for i in range(len(lawyers))]
    await asyncio.wait_for(all_connected.wait(), float(spec.get("connect_timeout", 120)))
    await asyncio.sleep(1.0)
    rss_after = rss_kib(spec["server_pid"])

    async def ask(n: int) -> None:
        i = n % len(communities)
        headers = {"Authorization": f"Bearer {residents[n % len(residents)]}"}
        body = {"community_id": communities[i], "content": "公司拖欠工资三个月，我该怎么办？", "category": "labor"}
        async with session.post(base + "/api/v1/questions", json=body, headers=headers) as resp:
            data = await resp.json()
            if resp.status == 201:
                returned[data["id"]] = time.perf_counter()
                expected[data["id"]] = i

    rate, duration = float(spec["rate"]), float(spec["duration"])
    t0 = time.perf_counter()
    posts = []
    n = 0
    while t0 + n / rate < t0 + duration:
        delay = t0 + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(ask(n)))
        n += 1
    await asyncio.gather(*posts)
    end = time.perf_counter() + float(spec.get("grace", 3))
    while time.perf_counter() < end and not all(q in received for q in returned):  # noqa: ASYNC110 - a deadline
        await asyncio.sleep(0.05)
    for r in readers:
        r.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    lat = [max(0.0, received[q] - returned[q]) * 1000 for q in returned if q in received]
    return {
        "streams": len(lawyers),
        "posted": len(returned),
        "delivered": len(lat),
        "missed": len(returned) - len(lat),
        "p50_ms": round(pct(lat, 50), 2),
        "p99_ms": round(pct(lat, 99), 2),
        "max_ms": round(max(lat, default=0.0), 2),
        "rss_before_kib": rss_before,
        "rss_connected_kib": rss_after,
        "kib_per_connection": round((rss_after - rss_before) / max(1, len(lawyers)), 2),
    }


MODES = {"post": run_post, "claim": run_claim, "queue": run_queue, "push": run_push}


async def main() -> None:
    spec = json.loads(sys.stdin.read())
    connector = aiohttp.TCPConnector(limit=int(spec.get("connections", spec.get("concurrency", 64))))
    timeout = aiohttp.ClientTimeout(total=float(spec.get("timeout", 30)))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        result = await MODES[spec["mode"]](spec, session)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
