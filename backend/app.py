"""Application factory: one app per settings object, so tests can run many side by side."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.auth import load_secret
from backend.db import make_engine, run_migrations
from backend.gate import AuthGate
from backend.graphql.router import graphql_router
from backend.rest.deps import Runtime
from backend.rest.errors import UnexpectedErrors, install_error_handlers
from backend.rest.limits import BodyLimitMiddleware
from backend.rest.routes import api_router
from backend.rest.schemas import HealthOut
from backend.settings import Settings

VERSION = "0.1.0"


def create_app(settings: Settings, migrate: bool = True) -> FastAPI:
    engine = make_engine(settings)
    if migrate:
        run_migrations(engine)
    runtime = Runtime(settings=settings, engine=engine, secret=load_secret(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
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
    app.include_router(api_router())
    app.include_router(graphql_router(runtime), prefix="/graphql", include_in_schema=False)

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> HealthOut:
        return HealthOut(status="ok")

    return app
