"""Retention over GraphQL: a source's policy, pins, pruned versions, garbage collection.

Query and mutation mixins merged into the root types by ``schema.py``; each
resolver calls one function of ``backend.retention``, like the REST extension.
"""

from datetime import datetime, timedelta
from enum import Enum

import strawberry
from anyio import to_thread
from sqlmodel import Session
from strawberry.types import Info

from backend.graphql.context import Context
from backend.retention import gc, policies, versions
from backend.retention.policy import Policy
from backend.services.sources import get_source


@strawberry.enum(description="all: keep every version; last: the newest N; staggered: thinning")
class RetentionKind(Enum):
    ALL = "all"
    LAST = "last"
    STAGGERED = "staggered"


@strawberry.type(
    description=(
        "What a source keeps. Whatever the policy, the current version, an open conflict's "
        "sides and base, pinned versions, and a deleted file's last content (until the "
        "tombstone is older than LOCALSYNC_TOMBSTONE_MAX_AGE_DAYS) are never pruned."
    )
)
class RetentionPolicy:
    kind: RetentionKind
    keep_last: int | None = strawberry.field(description="last: how many versions are kept.")
    max_age_days: int | None = strawberry.field(
        description="staggered: every version for a day, the newest of each day for 30 days, "
        "the newest of each week up to this age; older versions go."
    )

    @classmethod
    def from_policy(cls, policy: Policy) -> "RetentionPolicy":
        return cls(
            kind=RetentionKind(policy.kind),
            keep_last=policy.keep_last,
            max_age_days=policy.max_age_days,
        )


@strawberry.type(description="A version and what retention did with it.")
class VersionRetention:
    seq: int
    hash: str | None
    recorded_at: datetime
    pinned: bool
    pruned: bool = strawberry.field(
        description="Its content was removed by retention (reads answer VERSION_PRUNED)."
    )
    pruned_at: datetime | None

    @classmethod
    def from_status(cls, s: versions.VersionStatus) -> "VersionRetention":
        return cls(
            seq=s.seq,
            hash=s.hash,
            recorded_at=s.created_at,
            pinned=s.pinned,
            pruned=s.pruned,
            pruned_at=s.pruned_at,
        )


@strawberry.type
class GarbageCollection:
    source_id: strawberry.ID
    dry_run: bool
    files: int
    versions_pruned: int
    blobs_deleted: int
    bytes_freed: int
    blobs_left: int = strawberry.field(
        description="Unused blobs this run could not free yet (the blob table stayed busy); "
        "the next run frees them. Always 0 for a dry run."
    )


async def retention_of(info: Info[Context, None], source_id: str) -> RetentionPolicy:
    ctx = info.context
    policy = await ctx.read(lambda s: policies.get_retention(s, ctx.workspace_id, source_id))
    return RetentionPolicy.from_policy(policy)


@strawberry.type
class RetentionQuery:
    @strawberry.field(description="A source's retention policy.")
    async def retention(
        self, info: Info[Context, None], source_id: strawberry.ID
    ) -> RetentionPolicy:
        return await retention_of(info, str(source_id))

    @strawberry.field(
        description="Which versions of a file are pinned and which pruned, newest first."
    )
    async def version_retention(
        self,
        info: Info[Context, None],
        source_id: strawberry.ID,
        path: str,
        first: int = 100,
        before: int | None = None,
    ) -> list[VersionRetention]:
        ctx = info.context
        rows = await ctx.read(
            lambda s: versions.version_statuses(
                s, ctx.workspace_id, str(source_id), path, limit=first, before=before
            )
        )
        return [VersionRetention.from_status(r) for r in rows]


@strawberry.type
class RetentionMutation:
    @strawberry.mutation(description="Replace a source's retention policy (next gc applies it).")
    async def set_retention(
        self,
        info: Info[Context, None],
        source_id: strawberry.ID,
        kind: RetentionKind,
        keep_last: int | None = None,
        max_age_days: int | None = None,
    ) -> RetentionPolicy:
        ctx = info.context
        policy = await ctx.run(
            lambda s: policies.set_retention(
                s, ctx.workspace_id, str(source_id), kind.value, keep_last, max_age_days
            )
        )
        return RetentionPolicy.from_policy(policy)

    @strawberry.mutation(description="Keep a version whatever the retention policy says.")
    async def pin_version(
        self, info: Info[Context, None], source_id: strawberry.ID, path: str, seq: int
    ) -> VersionRetention:
        return await _pin(info, str(source_id), path, seq, True)

    @strawberry.mutation(description="Let the retention policy decide about a version again.")
    async def unpin_version(
        self, info: Info[Context, None], source_id: strawberry.ID, path: str, seq: int
    ) -> VersionRetention:
        return await _pin(info, str(source_id), path, seq, False)

    @strawberry.mutation(description="Apply the source's retention policy now.")
    async def collect_garbage(
        self, info: Info[Context, None], source_id: strawberry.ID, dry_run: bool = False
    ) -> GarbageCollection:
        ctx = info.context

        def load(s: Session) -> tuple[str, Policy]:
            source = get_source(s, ctx.workspace_id, str(source_id))
            return source.id, policies.policy_of(s, source.id)

        sid, policy = await ctx.read(load)
        max_age = timedelta(days=ctx.runtime.settings.tombstone_max_age_days)
        report = await to_thread.run_sync(
            lambda: gc.collect_source(
                ctx.runtime.engine, sid, policy, tombstone_max_age=max_age, dry_run=dry_run
            )
        )
        return GarbageCollection(
            source_id=strawberry.ID(sid),
            dry_run=dry_run,
            files=report.files,
            versions_pruned=report.versions_pruned,
            blobs_deleted=report.blobs_deleted,
            bytes_freed=report.bytes_freed,
            blobs_left=report.blobs_left,
        )


async def _pin(
    info: Info[Context, None], source_id: str, path: str, seq: int, pinned: bool
) -> VersionRetention:
    ctx = info.context
    status = await ctx.run(
        lambda s: versions.set_pin(s, ctx.workspace_id, source_id, path, seq, pinned)
    )
    return VersionRetention.from_status(status)
