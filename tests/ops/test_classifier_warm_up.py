"""The classifier is trained at start-up in a background thread, not by the first uncategorised question."""

from __future__ import annotations

import threading

import pytest

from fazhizhen.services import classify


async def test_start_up_trains_the_classifier_and_the_first_question_waits_for_that_build(
    make_api,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds: list[str] = []
    real_build = classify._build

    def counted() -> classify._Tables:
        builds.append(threading.current_thread().name)
        return real_build()

    monkeypatch.setattr(classify, "_build", counted)
    monkeypatch.setattr(classify, "_tables", None)  # as in a fresh process
    monkeypatch.setattr(classify, "_warm_up", None)
    api = await make_api(classifier_warm_up=True)  # starting the app starts the build
    city = await api.city()
    lawyer = await api.lawyer()
    await api.duty(city.community_id, lawyer)
    resident = await api.resident()
    q = await api.ask(resident, city.community_id, "老公出轨了，我想离婚，孩子抚养权怎么判？", category=None)
    assert q["category"] == "marriage_family"
    assert builds == ["classifier-warm-up"]  # one build, the start-up's, which the question waited for
    assert classify.ready()
