"""Request dependencies shared by the REST and GraphQL adapters."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.types import Scope

from backend.auth import Principal, authenticate
from backend.db import session_scope
from backend.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """What ``create_app`` builds once: settings, engine and the signing secret."""

    settings: Settings
    engine: Engine
    secret: str


@dataclass(frozen=True)
class Ctx:
    """One authenticated request: who calls, and a way to run one transaction."""

    runtime: Runtime
    principal: Principal

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def workspace_id(self) -> str:
        return self.principal.workspace_id

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[Session]:
        """Commit before the response is built, so a 200 always means the write is durable."""
        with session_scope(self.runtime.engine, read_only) as session:
            yield session


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


_PRINCIPAL = "principal"


def keep_principal(scope: Scope, principal: Principal) -> None:
    """Remember who a request acts as, once its credentials are verified at the edge."""
    scope.setdefault("state", {})[_PRINCIPAL] = principal


def get_ctx(
    request: Request,
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_workspace_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Ctx:
    principal = request.scope.get("state", {}).get(_PRINCIPAL)
    if not isinstance(principal, Principal):
        principal = authenticate(runtime.settings, runtime.secret, authorization, x_workspace_id)
    return Ctx(runtime, principal)


CtxDep = Annotated[Ctx, Depends(get_ctx)]
