"""The main path end to end: ask, route to the on-duty lawyer, answer, adopt, rate."""

from __future__ import annotations

from tests.factories import Api


async def test_ask_answer_adopt_rate(api: Api) -> None:
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident()

    q = await api.ask(resident, city.community_id)
    assert q["status"] == "pending"
    assert q["assigned_lawyer_id"] == lawyer.id

    queue = await api.ok("GET", "/lawyer/queue", lawyer)
    assert [x["id"] for x in queue["assigned"]] == [q["id"]]

    msg = await api.ok(
        "POST", f"/questions/{q['id']}/answers", lawyer, {"content": "建议先协商，保留证据。"}, status=201
    )
    got = await api.ok("GET", f"/questions/{q['id']}", resident)
    assert got["status"] == "answered"
    assert got["response_seconds"] is not None and got["response_seconds"] >= 0
    assert got["resolved_level"] == "A"

    adopted = await api.ok("POST", f"/questions/{q['id']}/adopt", resident, {"answer_id": msg["id"]})
    assert adopted["status"] == "closed" and adopted["adopted_answer_id"] == msg["id"]
    rated = await api.ok("POST", f"/questions/{q['id']}/rating", resident, {"score": 5, "comment": "很好"})
    assert rated["rating"] == 5
