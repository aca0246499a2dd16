"""Per-request GraphQL context: who calls, and how resolvers reach the database.

Resolvers are async; each database touch runs a service function in a worker
thread with a short session of its own, so the event loop never blocks and
sibling fields resolved concurrently never share a session.
"""

import copy
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from anyio import to_thread
from sqlmodel import Session
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext

from backend.auth import Principal, authenticate
from backend.db import session_scope
from backend.errors import InvalidInput
from backend.rest.deps import Runtime
from backend.services.cpu import compute

if TYPE_CHECKING:
    from backend.graphql.live import SubscriptionSlots

T = TypeVar("T")


@dataclass
class Context(BaseContext):
    runtime: Runtime
    authorization: str | None
    workspace_header: str | None
    loaders: dict[str, Any] = field(default_factory=dict)
    live: "SubscriptionSlots | None" = None
    """The WebSocket connection's subscription slots; ``None`` over HTTP."""
    _principal: Principal | None = None

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def principal(self) -> Principal:
        """Authenticate lazily, so a bad token surfaces as a GraphQL error with a code."""
        if self._principal is None:
            authorization, workspace = self.credentials()
            settings = self.runtime.settings
            self._principal = authenticate(settings, self.runtime.secret, authorization, workspace)
        return self._principal

    def credentials(self) -> tuple[str | None, str | None]:
        """``Authorization`` and workspace: the ``connection_init`` payload wins over headers."""
        authorization, workspace = self.authorization, self.workspace_header
        params = self.connection_params
        if isinstance(params, dict):
            authorization = _param(params, "Authorization") or authorization
            workspace = _param(params, "x-workspace-id") or workspace
        return authorization, workspace

    @property
    def workspace_id(self) -> str:
        return self.principal.workspace_id

    async def run(self, fn: Callable[[Session], T], read_only: bool = False) -> T:
        """Run ``fn(session)`` in one transaction on a worker thread."""
        principal = self.principal  # authenticate before touching the database

        def call() -> T:
            with session_scope(self.runtime.engine, read_only) as session:
                return fn(session)

        del principal
        return await to_thread.run_sync(call)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """:meth:`run` for resolvers that only read (on SQLite: no write lock)."""
        return await self.run(fn, read_only=True)

    async def compute(self, fn: Callable[[], T], *, bounded: bool = True) -> T:
        """Run CPU-bound ``fn()`` (no session) in one of the process's compute turns.

        ``bounded``: refuse as busy past ``max_queued_computations`` waiting; a part
        of work already admitted (a preview's word changes) passes ``False``.
        """
        limit = self.runtime.settings.max_queued_computations if bounded else None
        return await compute(fn, max_queued=limit)

    def subscription_slot(self) -> AbstractContextManager[None]:
        """Hold one of the connection's (and its token's) subscription slots while it runs."""
        if self.live is None:
            raise InvalidInput(
                "subscriptions are served over WebSocket (graphql-transport-ws) only",
                code="WEBSOCKET_REQUIRED",
            )
        return self.live.hold()

    def loader(self, name: str, factory: Callable[["Context"], Any]) -> Any:
        """DataLoaders live for one operation only (see :class:`OperationLoaders`)."""
        if name not in self.loaders:
            self.loaders[name] = factory(self)
        return self.loaders[name]


def _param(params: dict[str, Any], name: str) -> str | None:
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == name.lower() and isinstance(value, str):
            return value
    return None


class OperationLoaders(SchemaExtension):
    """Give every operation a context of its own with fresh DataLoaders.

    Over WebSocket one context serves every operation of the connection; loaders
    kept on it would answer later operations from an earlier operation's cache.
    The copy keeps the principal admitted at ``connection_init`` and the
    connection's subscription slots.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            fresh = copy.copy(context)
            fresh.loaders = {}
            self.execution_context.context = fresh
        yield
