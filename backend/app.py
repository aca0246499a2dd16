"""Application factory: one app per settings object, so tests can run many side by side."""

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import metrics
from backend.auth import load_secret
from backend.db import make_engine, run_migrations
from backend.gate import AuthGate
from backend.graphql.router import graphql_router
from backend.live_signal import PgListener, hub_for, sweep
from backend.rest.deps import Runtime
from backend.rest.errors import UnexpectedErrors, install_error_handlers
from backend.rest.limits import BodyLimitMiddleware
from backend.rest.routes import api_router
from backend.rest.schemas import HealthOut
from backend.retention.schedule import RetentionKeeper
from backend.settings import Settings, load_settings

VERSION = "0.1.0"


def create_app(settings: Settings, migrate: bool = True) -> FastAPI:
    engine = make_engine(settings)
    if migrate:
        run_migrations(engine)
    runtime = Runtime(settings=settings, engine=engine, secret=load_secret(settings))

    multiproc_dir = settings.prometheus_multiproc_dir
    pool_size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 0
    metrics.watch_pool(engine, pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        freeze_startup_objects()
        keeper = RetentionKeeper(engine, settings)
        hub = hub_for(engine)
        tasks = [asyncio.create_task(sweep(engine, hub, settings.live_safety_poll_seconds))]
        if engine.dialect.name == "postgresql":
            app.state.listener = PgListener(engine, hub)
            tasks.append(asyncio.create_task(app.state.listener.run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await keeper.stop()
            metrics.unwatch_pool(pool_size)
            metrics.process_exited(multiproc_dir)
            engine.dispose()

    app = FastAPI(
        title="Local Sync",
        version=VERSION,
        description="Keeps local folders of markdown in sync with a shared workspace.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    # Outermost last: credentials are checked before the size and pace of a body.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(AuthGate, runtime=runtime)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(metrics.RequestMetrics)
    app.add_middleware(WorkerHeader)
    app.include_router(api_router())
    app.include_router(graphql_router(runtime), prefix="/graphql", include_in_schema=False)

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> HealthOut:
        return HealthOut(status="ok")

    if settings.metrics_enabled:
        app.add_route("/metrics", metrics.serve_metrics, methods=["GET"], include_in_schema=False)
    return app


_frozen = False


def freeze_startup_objects() -> None:
    """Move everything alive after startup out of the cyclic collector's reach, once.

    Imports, the schema, the routes and the engine make hundreds of thousands of
    long-lived objects; each full collection walked them all again, which cost
    a deltas catch-up about a fifth of its server CPU (bench/push_batch.py, with
    and without the freeze, side by side). A collection first
    frees startup's garbage, so only live objects are frozen; reference counting
    still frees them if they go. Once per process: a second app in the same
    process (tests) has nothing new worth freezing.
    """
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()


def create_worker_app() -> FastAPI:
    """The app of one ``localsync serve --workers N`` process: settings from the
    environment ``serve`` prepared, migrations already run by ``serve`` itself."""
    return create_app(load_settings(), migrate=False)


WORKER_HEADER = b"x-localsync-worker"


class WorkerHeader:
    """Names the serving process (its pid) on every HTTP response and WebSocket accept,
    so an operator (or a test) can tell which of several workers answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (WORKER_HEADER, str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, send_named)
