"""`fazhizhen serve`: the HTTP server with a graceful stop on SIGTERM (and SIGINT).

aiohttp's own shutdown (`web.run_app`) first marks every connection closing, and a closing connection
drops the bytes that arrive after that: a handler still reading a slow request body never gets the rest
and is cancelled at the time-out. So the stop is done here, in this order:

1. close the listening socket (new connections are refused; nginx moves on to another process);
2. close idle keep-alive connections and answer `Connection: close` from now on;
3. the application's on_shutdown hooks (the real-time streams end, no new notification starts), then let
   the requests in flight finish, bodies still arriving included, within FAZHIZHEN_SHUTDOWN_TIMEOUT_SECONDS
   (counted from the signal);
4. aiohttp's cleanup: connections still open are closed (a handler past the time-out is cancelled), then
   the cleanup contexts in reverse order: the scheduler after its current run, the real-time machinery,
   the pool, the embedded PostgreSQL when no other process uses it.

A second signal during step 3 cuts the wait short.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fazhizhen.keys import INFLIGHT
from fazhizhen.log import get_logger

log = get_logger("fazhizhen.lifecycle")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class InFlightRequests:
    """The requests whose handlers are running, and the connections they arrived on."""

    def __init__(self) -> None:
        self.draining = False
        self._busy: dict[Any, int] = {}  # connection (aiohttp RequestHandler) -> requests on it
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        """Requests being handled now."""
        return sum(self._busy.values())

    def busy(self, connection: Any) -> bool:
        """Whether a request is being handled on `connection`."""
        return connection in self._busy

    def enter(self, connection: Any) -> None:
        """A request's handler starts on `connection`."""
        self._busy[connection] = self._busy.get(connection, 0) + 1
        self._idle.clear()

    def leave(self, connection: Any) -> None:
        """That handler has returned."""
        left = self._busy.pop(connection) - 1
        if left:
            self._busy[connection] = left
        elif not self._busy:
            self._idle.set()

    async def wait_idle(self, seconds: float, cut: asyncio.Event) -> bool:
        """Wait up to `seconds` until no request is in flight (or `cut` is set); True when none is."""
        waiters = [asyncio.ensure_future(self._idle.wait()), asyncio.ensure_future(cut.wait())]
        try:
            await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        return self._idle.is_set()


@web.middleware
async def track_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request while its handler runs (outermost, so it covers every other middleware)."""
    inflight = request.app[INFLIGHT]
    inflight.enter(request.protocol)
    try:
        response = await handler(request)
    finally:
        inflight.leave(request.protocol)
    if inflight.draining and not response.prepared:
        response.force_close()  # the client opens its next request elsewhere
    return response


class _Runner(web.AppRunner):
    """An AppRunner whose cleanup does not send on_shutdown again (`drain` sent it before waiting)."""

    _shutdown_sent = False

    async def shutdown(self) -> None:
        if not self._shutdown_sent:
            self._shutdown_sent = True
            await super().shutdown()


async def drain(runner: _Runner, inflight: InFlightRequests, limit_seconds: float, cut: asyncio.Event) -> float:
    """Steps 1-3 of the stop; returns the seconds the requests in flight took to finish."""
    started = time.monotonic()
    for site in list(runner.sites):
        await site.stop()
    inflight.draining = True
    server = runner.server
    for conn in server.connections if server is not None else ():
        if not inflight.busy(conn):
            conn.close()
    await runner.shutdown()  # on_shutdown: the streams end (they count as requests in flight)
    pending = inflight.count
    done = await inflight.wait_idle(limit_seconds - (time.monotonic() - started), cut)
    took = time.monotonic() - started
    if done:
        log.info("shutdown_drained", requests=pending, seconds=round(took, 3))
    else:
        log.warning("shutdown_requests_cut", requests=inflight.count, seconds=round(took, 3))
    return took


async def serve_until_signalled(app: web.Application, host: str, port: int, limit_seconds: float) -> None:
    """Serve `app` until SIGTERM or SIGINT, then stop gracefully (see the module's docstring)."""
    inflight = app[INFLIGHT]
    runner = _Runner(app, access_log=None, shutdown_timeout=limit_seconds)
    stop, cut = asyncio.Event(), asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            cut.set()
            return
        log.info("shutdown_started", signal=signal.Signals(signum).name, requests=inflight.count)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("serving", host=host, port=port)
        await stop.wait()
        await drain(runner, inflight, limit_seconds, cut)
    finally:
        await runner.cleanup()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("shutdown_done")
