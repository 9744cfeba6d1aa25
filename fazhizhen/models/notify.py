"""Request models for webhooks and the outbox view."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, StringConstraints

from fazhizhen.models.requests import Body, Page


class WebhookIn(Body):
    url: Annotated[AnyHttpUrl, Field(max_length=2000)]
    events: Annotated[
        list[Literal["escalated", "alerted"]],
        Field(min_length=1, max_length=2, default_factory=lambda: ["escalated", "alerted"]),
    ]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class OutboxQuery(Page):
    status: Literal["pending", "sent", "dead", "skipped"] | None = None
