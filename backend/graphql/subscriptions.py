"""Live event feed over WebSocket (admission, expiry and caps: ``backend.graphql.live``)."""

from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from sqlmodel import Session
from strawberry.types import Info

from backend import metrics
from backend.graphql.context import Context
from backend.graphql.types.source import Event
from backend.live_signal import hub_for
from backend.services import deltas

PAGE = 200


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Events after `after`, then new ones as they commit, in cursor order."
    )
    async def source_events(
        self, info: Info[Context, None], source_id: str, after: int = 0
    ) -> AsyncGenerator[Event, None]:
        """Replay, then sleep until the source's writers announce a commit, and read again.

        Every read is of committed events after the cursor, from the table: cursor
        order is commit order, so nothing is skipped or sent twice, and a wake-up
        that never comes (``backend.live_signal``) delays events, never loses them.
        An idle subscription costs no query. The token was checked once at
        ``connection_init``; the connection closes when it expires
        (``backend.graphql.live``), so no event pays for an auth check.
        """
        ctx = info.context
        hub = hub_for(ctx.runtime.engine)
        # The slot is freed however the subscription ends; the waiter is registered
        # before the first read, so a commit after that read always wakes it.
        with (
            ctx.subscription_slot(),
            metrics.open_subscription(),
            hub.waiter(source_id, after) as waiter,
        ):
            while True:
                page = await ctx.read(partial(_read, ctx.workspace_id, source_id, waiter.cursor))
                for row in page.events:
                    yield Event.from_model(row, page.contents)
                waiter.cursor = page.next_cursor
                if not page.has_more:
                    await waiter.wait()


def _read(workspace_id: str, source_id: str, cursor: int, session: Session) -> deltas.DeltaPage:
    return deltas.read_deltas(session, workspace_id, source_id, cursor, PAGE)
