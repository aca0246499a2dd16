"""Retention inside the server: the garbage-collection schedule and the server's presence mark.

The schedule runs :func:`backend.retention.gc.collect` on a worker thread every
``gc_interval_seconds``; collection works in short per-batch transactions, so
pushes only ever wait for one batch. Several servers sharing a database each
run it; batches take the source lock, so two collections never prune the same
file at once and a second pass finds nothing left to do.
"""

import asyncio
import logging
import threading
from contextlib import suppress
from datetime import timedelta

from anyio import to_thread
from sqlalchemy.engine import Engine

from backend.retention.backup import ServerPresence
from backend.retention.gc import collect
from backend.settings import Settings

log = logging.getLogger("localsync.retention")


class RetentionKeeper:
    """What a running server does for retention: mark itself live and collect on schedule.

    The presence mark (a shared lock on a file beside a SQLite database) is what
    ``localsync restore`` checks before replacing the database.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.presence = ServerPresence.hold(settings)
        self.task: asyncio.Task[None] | None = None
        self.stopping = threading.Event()
        if settings.gc_interval_seconds > 0:
            self.task = asyncio.create_task(_every(engine, settings, self.stopping))

    async def stop(self) -> None:
        """A collection under way stops after its current batch."""
        self.stopping.set()
        if self.task is not None:
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task
        self.presence.release()


async def _every(engine: Engine, settings: Settings, stopping: threading.Event) -> None:
    max_age = timedelta(days=settings.tombstone_max_age_days)
    while True:
        await asyncio.sleep(settings.gc_interval_seconds)
        try:
            reports = await to_thread.run_sync(
                lambda: collect(engine, tombstone_max_age=max_age, stop=stopping)
            )
        except Exception:  # a failed run is retried next interval; the server goes on
            log.exception("scheduled garbage collection failed")
            continue
        for report in reports:
            if report.versions_pruned:
                log.info(
                    "retention: source %s pruned %d versions, freed %d blobs (%d bytes)",
                    report.source_id,
                    report.versions_pruned,
                    report.blobs_deleted,
                    report.bytes_freed,
                )
