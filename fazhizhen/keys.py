"""Every web.AppKey in one place."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from fazhizhen.services.auth import Principal
from fazhizhen.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB_POOL = web.AppKey("db_pool", asyncpg.Pool)
DSN = web.AppKey("dsn", str)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
PRINCIPAL = web.RequestKey("principal", Principal)
