"""GET /metrics: Prometheus text with request latency, question counters, queue and pool gauges."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.factories import Api


async def _scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with api.client.get("/metrics") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_questions_and_read_queues(api: Api) -> None:
    before = await _scrape(api)
    city = await api.city()
    lawyer = await api.lawyer()
    pool_id = await api.pool([lawyer])
    resident = await api.resident()
    await api.ask(resident, city.community_id)  # nobody on duty: straight to the pool
    q = await api.ask(resident, city.community_id)
    await api.ok("POST", f"/questions/{q['id']}/claim", lawyer)

    after = await _scrape(api)
    created = _value(after, "fazhizhen_questions_total", event="created")
    assert created - _value(before, "fazhizhen_questions_total", event="created") == 2
    claimed = _value(after, "fazhizhen_questions_total", event="claimed")
    assert claimed - _value(before, "fazhizhen_questions_total", event="claimed") == 1
    hist = "fazhizhen_http_request_duration_seconds_count"
    route = {"method": "POST", "route": "/api/v1/questions", "status": "201"}
    assert _value(after, hist, **route) - _value(before, hist, **route) == 2
    claim = {"method": "POST", "route": "/api/v1/questions/{id}/claim", "status": "200"}
    assert _value(after, hist, **claim) >= 1
    pool = {"pool_id": str(pool_id)}
    depth = [
        v
        for (n, lab), v in after.items()
        if n == "fazhizhen_pool_queue_depth" and dict(lab)["pool_id"] == pool["pool_id"]
    ]
    assert depth == [1.0]
    assert _value(after, "fazhizhen_open_questions", status="escalated") == 1
    assert _value(after, "fazhizhen_open_questions", status="claimed") == 1
    assert _value(after, "fazhizhen_database_up") == 1
    assert _value(after, "fazhizhen_db_pool_connections", state="max") == api.settings.db_pool_max
    assert _value(after, "fazhizhen_db_pool_connections", state="size") >= 1


async def test_unmatched_paths_share_one_label(api: Api) -> None:
    for n in range(3):
        async with api.client.get(f"/no/such/path/{n}") as resp:
            assert resp.status == 404
    samples = await _scrape(api)
    routes = {dict(lab).get("route") for (n, lab) in samples if n.startswith("fazhizhen_http_request")}
    assert "unmatched" in routes and not any(r and r.startswith("/no/such") for r in routes)
