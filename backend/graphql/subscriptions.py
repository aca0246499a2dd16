"""Live event feed over WebSocket (admission, expiry and caps: ``backend.graphql.live``)."""

import asyncio
from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from sqlmodel import Session
from strawberry.types import Info

from backend.graphql.context import Context
from backend.graphql.types.source import Event
from backend.services import deltas

POLL_SECONDS = 0.2
PAGE = 200


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Events after `after`, then new ones as they commit, in cursor order."
    )
    async def source_events(
        self, info: Info[Context, None], source_id: str, after: int = 0
    ) -> AsyncGenerator[Event, None]:
        """Replay then follow by reading committed events from the database.

        Reading the table (rather than an in-process signal) is what makes this
        work with several server processes sharing one PostgreSQL, and cursor
        order is commit order, so nothing is skipped or sent twice. The token was
        checked once at ``connection_init``; the connection closes when it expires
        (``backend.graphql.live``), so no event pays for an auth check.
        """
        ctx = info.context
        with ctx.subscription_slot():  # freed however the subscription ends
            cursor = after
            while True:
                page = await ctx.read(partial(_read, ctx.workspace_id, source_id, cursor))
                for row in page.events:
                    yield Event.from_model(row, page.contents)
                cursor = page.next_cursor
                if not page.has_more:
                    await asyncio.sleep(POLL_SECONDS)


def _read(workspace_id: str, source_id: str, cursor: int, session: Session) -> deltas.DeltaPage:
    return deltas.read_deltas(session, workspace_id, source_id, cursor, PAGE)
