"""create_app(settings): the same factory in production and tests; resources live in cleanup_ctx."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from fazhizhen import observability
from fazhizhen.db.migrate import migrate
from fazhizhen.db.pool import create_pool, database
from fazhizhen.keys import DB_POOL, DSN, INFLIGHT, INTAKE, SCHEDULER, SCHEDULER_JOBS, SETTINGS, TOKENS
from fazhizhen.log import get_logger
from fazhizhen.realtime.runtime import setup_realtime
from fazhizhen.scheduler.runner import InFlight, build_scheduler, stop_scheduler
from fazhizhen.services import auth
from fazhizhen.services.questions import Intake
from fazhizhen.settings import Settings
from fazhizhen.web import middleware, security
from fazhizhen.web.lifecycle import InFlightRequests, track_requests
from fazhizhen.web.routes import setup_routes

log = get_logger("fazhizhen.app")

MAX_BODY = 64 * 1024


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if DSN in app:  # given by the caller (tests, several apps on one server)
        dsn = app[DSN]
        async for _ in _pool_ctx(app, dsn):
            yield
        return
    async with database(settings) as dsn:
        app[DSN] = dsn
        async for _ in _pool_ctx(app, dsn):
            yield


async def _pool_ctx(app: web.Application, dsn: str) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        app[DB_POOL] = pool
        app[INTAKE] = Intake(pool, settings)
        tokens = auth.token_lookup(pool)
        app[TOKENS] = tokens
        yield
        await app[INTAKE].close()
        await tokens.close()
    finally:
        await pool.close()


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.scheduler_enabled:
        yield
        return
    inflight = InFlight()
    scheduler = build_scheduler(app[DB_POOL], settings, extra_jobs=app.get(SCHEDULER_JOBS), inflight=inflight)
    scheduler.start()
    app[SCHEDULER] = scheduler
    log.info("scheduler_started", sweep_interval_seconds=settings.sweep_interval_seconds)
    try:
        yield
    finally:
        await stop_scheduler(scheduler, inflight, settings.shutdown_timeout_seconds)
        log.info("scheduler_stopped")


async def _classifier_ctx(app: web.Application) -> AsyncIterator[None]:
    """Train the classifier in a background thread at start-up, not in the first uncategorised question."""
    from fazhizhen.services import classify

    if app[SETTINGS].classifier_warm_up:
        classify.warm_up_in_background()
    yield


async def _wechat_ctx(app: web.Application) -> AsyncIterator[None]:
    from fazhizhen.clients import wechat

    yield
    await wechat.close_all()


def create_app(settings: Settings, *, dsn: str | None = None) -> web.Application:
    """The web application; with `dsn` it uses that database instead of resolving one from settings."""
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[
            track_requests,  # outermost: the graceful stop waits for every request it counts
            observability.measure,
            middleware.request_context,
            security.audit_middleware,
            middleware.errors,
        ],
    )
    app[INFLIGHT] = InFlightRequests()
    security.setup_security(app)
    app[SETTINGS] = settings
    settings.apply_password_cost()
    if dsn is not None:
        app[DSN] = dsn
    app.cleanup_ctx.append(_classifier_ctx)
    app.cleanup_ctx.append(_database_ctx)
    setup_realtime(app)
    app.cleanup_ctx.append(_scheduler_ctx)
    app.cleanup_ctx.append(_wechat_ctx)
    setup_routes(app)
    return app
