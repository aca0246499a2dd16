"""Live event feed over WebSocket (admission, expiry and caps: ``backend.graphql.live``)."""

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from functools import partial

import strawberry
from anyio.lowlevel import RunVar
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
                page = await _shared_read(ctx, source_id, waiter.cursor, waiter.woken_at)
                for row in page.events:
                    yield Event.from_model(row, page.contents, page.pruned)
                waiter.cursor = page.next_cursor
                if not page.has_more:
                    await waiter.wait()


@dataclass(frozen=True)
class _Read:
    started_at: float
    page: "asyncio.Task[deltas.DeltaPage]"


_reads: RunVar[dict[tuple[str, str, int], _Read]] = RunVar("localsync_feed_reads")


async def _shared_read(
    ctx: Context, source_id: str, cursor: int, woken_at: float
) -> deltas.DeltaPage:
    """Read the events after ``cursor``, with every feed of this workspace, source and
    cursor woken together: one commit wakes all of a source's feeds at once, and a
    thousand of them would otherwise make a thousand identical reads.

    A feed joins a read only if that read started after the feed's wake-up, and so
    after the commit that woke it: it never takes a page that may miss that commit.
    """
    try:
        reads = _reads.get()
    except LookupError:
        reads = {}
        _reads.set(reads)
    key = (ctx.workspace_id, source_id, cursor)
    read = reads.get(key)
    if read is None or read.started_at <= woken_at:
        task = asyncio.ensure_future(ctx.read(partial(_read, *key)))
        read = reads[key] = _Read(time.monotonic(), task)
        task.add_done_callback(lambda _: reads.pop(key) if reads.get(key) is read else None)
    return await asyncio.shield(read.page)


def _read(workspace_id: str, source_id: str, cursor: int, session: Session) -> deltas.DeltaPage:
    return deltas.read_deltas(session, workspace_id, source_id, cursor, PAGE)
