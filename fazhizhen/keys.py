"""Every web.AppKey in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from fazhizhen.services.auth import Principal
from fazhizhen.services.batching import MicroBatcher
from fazhizhen.settings import Settings

if TYPE_CHECKING:
    from fazhizhen.realtime.runtime import Realtime
    from fazhizhen.services.questions import Intake
    from fazhizhen.web.lifecycle import InFlightRequests

SETTINGS = web.AppKey("settings", Settings)
DB_POOL = web.AppKey("db_pool", asyncpg.Pool)
DSN = web.AppKey("dsn", str)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
OPENAPI = web.AppKey("openapi", dict)
PRINCIPAL = web.RequestKey("principal", Principal)
# jobs other contexts add for the scheduler (started after them): name -> (async fn, every seconds)
SCHEDULER_JOBS = web.AppKey("scheduler_jobs", dict[str, tuple[Any, float]])
REALTIME: web.AppKey[Realtime] = web.AppKey("realtime")
# requests being handled, for the graceful stop (fazhizhen/web/lifecycle.py)
INFLIGHT: web.AppKey[InFlightRequests] = web.AppKey("inflight")
# residents' questions, written in batches under load (fazhizhen/services/questions.py)
INTAKE: web.AppKey[Intake] = web.AppKey("intake")
# bearer-token look-ups, shared by concurrent requests (fazhizhen/services/auth.py)
TOKENS: web.AppKey[MicroBatcher[bytes, dict[str, Any] | None]] = web.AppKey("tokens")
