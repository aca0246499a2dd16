"""Live feeds over WebSocket: who may open one, how long it lasts, how many it may hold.

Only graphql-transport-ws is served. Its ``connection_init`` carries the
credentials, and the connection is admitted there or closed:

- 4401 when the token is missing, malformed, forged or expired;
- 4403 when the token is valid but names no workspace, or not this one
  (a missing ``x-workspace-id`` is a refusal of access, like an ungranted one:
  the client must change its credentials before trying again);
- 4408 (Strawberry) when no ``connection_init`` arrives in time.

An admitted connection closes with 4401 "token expired" when its token's
``exp`` passes: one timer per connection, so no event pays for an auth check.
Clients reconnect with a fresh token and resume from their cursor.

Subscriptions are counted per connection and per token over this process's
connections; one past either cap is refused (``extensions.code``
TOO_MANY_REQUESTS, ``reason`` TOO_MANY_SUBSCRIPTIONS) while the open ones carry
on, and a subscription that ends, however it ends, frees its slot. With
``serve --workers N`` each worker counts its own connections, so one token may
hold up to N times the cap in all: counting across processes would cost a
shared store for every subscribe, and an idle subscription now costs nothing
but its memory (``backend.live_signal``).
"""

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from backend.errors import LocalSyncError, TooManyRequests, Unauthenticated
from backend.graphql.context import Context
from backend.settings import Settings

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
TOKEN_EXPIRED = "token expired"
MAX_REASON_BYTES = 123
"""A WebSocket close reason is at most 123 bytes of UTF-8."""

OPERATIONS_BESIDE_SUBSCRIPTIONS = 16
"""Queries and mutations one connection may run at once beside a full set of subscriptions."""


class Refused(Exception):
    """``connection_init`` is not admitted: close the socket with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = _truncate(reason)

    @classmethod
    def from_error(cls, error: LocalSyncError) -> "Refused":
        code = CLOSE_UNAUTHENTICATED if isinstance(error, Unauthenticated) else CLOSE_FORBIDDEN
        return cls(code, error.message)


class TooManySubscriptions(TooManyRequests):
    code = "TOO_MANY_SUBSCRIPTIONS"


class SubscriptionCounts:
    """Open subscriptions per token over this process's connections (one per app)."""

    def __init__(self, per_connection: int, per_token: int) -> None:
        self.per_connection = per_connection
        self.per_token = per_token
        self.by_token: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, settings: Settings) -> "SubscriptionCounts":
        return cls(settings.max_subscriptions_per_connection, settings.max_subscriptions_per_token)

    def slots(self, token: str) -> "SubscriptionSlots":
        """The slots of one new connection authenticated with ``token``."""
        return SubscriptionSlots(self, token)


class SubscriptionSlots:
    """One connection's subscriptions, counted against it and against its token.

    A slot belongs to the task running its subscription. It is given back when
    the subscription ends, and at once when the client completes the operation
    (``LiveConnection.cleanup_operation``) rather than whenever the cancelled
    task next runs, so "end one, open another" never meets a stale count.
    Nothing here awaits, so on one event loop no count can race past a cap.
    """

    def __init__(self, counts: SubscriptionCounts, token: str) -> None:
        self.counts = counts
        self.token = token
        self.holders: set[object] = set()

    @contextmanager
    def hold(self) -> Iterator[None]:
        counts, held = self.counts, len(self.holders)
        if held >= counts.per_connection:
            raise TooManySubscriptions(
                f"this connection already holds {held} subscriptions, the most allowed; "
                "end one first"
            )
        if counts.by_token[self.token] >= counts.per_token:
            raise TooManySubscriptions(
                f"this token already holds {counts.by_token[self.token]} subscriptions, "
                "the most allowed; end one first"
            )
        holder: object = asyncio.current_task() or object()
        self.holders.add(holder)
        counts.by_token[self.token] += 1
        try:
            yield
        finally:
            self.release(holder)

    def release(self, holder: object) -> None:
        """Give back ``holder``'s slot, if it still holds one."""
        if holder not in self.holders:
            return
        self.holders.remove(holder)
        by_token = self.counts.by_token
        by_token[self.token] -= 1
        if by_token[self.token] <= 0:
            del by_token[self.token]


def admit(context: Context, counts: SubscriptionCounts) -> None:
    """Authenticate ``connection_init`` and give the connection its slots, or raise Refused."""
    try:
        _ = context.principal
    except LocalSyncError as error:
        raise Refused.from_error(error) from None
    authorization, _workspace = context.credentials()
    context.live = counts.slots(_token(authorization or ""))


def _token(authorization: str) -> str:
    """The token itself, as :func:`backend.auth.authenticate` verified it.

    Keyed by the raw header, "bearer X", "Bearer  X" and "Bearer X " would be
    three counters for one token, and the per-token cap would multiply.
    """
    _scheme, _, token = authorization.partition(" ")
    return token.strip()


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with our admission, expiry and in-flight limit."""

    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Refused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)
            return
        expires_at = self.context.principal.expires_at if self.connection_acknowledged else None
        if expires_at is not None and self._expiry is None:
            self._expiry = asyncio.create_task(self._close_at(expires_at))
            self._expiry.add_done_callback(self._task_done)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Refuse an operation past the in-flight limit with a coded error, not a bare one."""
        limit = self.max_subscriptions_per_connection
        busy = limit is not None and len(self.operations) >= limit
        if self.connection_acknowledged and busy and message["id"] not in self.operations:
            error = GraphQLError(
                f"{len(self.operations)} operations are already running on this connection",
                extensions={"code": "TOO_MANY_REQUESTS", "reason": "TOO_MANY_OPERATIONS"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        await super().cleanup_operation(operation_id)
        slots = self.context.live
        if operation is not None and operation.task is not None and slots is not None:
            slots.release(operation.task)

    async def _close_at(self, expires_at: float) -> None:
        """End every operation, then close 4401: the token no longer vouches for the client."""
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with suppress(RuntimeError):  # the client left at the same moment
            await self.websocket.close(code=CLOSE_UNAUTHENTICATED, reason=TOKEN_EXPIRED)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self._expiry
        await super().shutdown()


def _truncate(reason: str) -> str:
    encoded = reason.encode("utf-8")[:MAX_REASON_BYTES]
    return encoded.decode("utf-8", errors="ignore")
