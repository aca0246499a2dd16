"""Retention extensions beyond the documented API: policies, pins, pruned versions, gc.

Same rules as the documented paths: POST with a camelCase JSON body, the
caller's workspace only, errors as ``{"error": {"code", "message"}}``.
"""

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field

from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import CtxDep
from backend.rest.schemas import (
    MAX_SAFE_INT,
    ErrorOut,
    Id,
    RelativePath,
    UtcTime,
    Whole,
    Wire,
    WireIn,
)
from backend.retention import gc, policies, versions
from backend.retention.policy import (
    DAILY_FOR,
    DEFAULT_MAX_AGE_DAYS,
    MAX_AGE_LIMIT_DAYS,
    MAX_KEEP_LAST,
    Policy,
)
from backend.services.sources import get_source

GONE: dict[int | str, dict[str, object]] = {
    410: {"model": ErrorOut, "description": "The version's content was pruned (VERSION_PRUNED)"}
}

router = APIRouter(tags=["retention"], route_class=BoundedJsonRoute, responses=GONE)

Seq = Annotated[int, Field(ge=1, le=MAX_SAFE_INT), Whole]


class KeepAllIn(WireIn):
    kind: Literal["all"]


class KeepLastIn(WireIn):
    kind: Literal["last"]
    keep_last: Annotated[int, Field(ge=1, le=MAX_KEEP_LAST), Whole]


class StaggeredIn(WireIn):
    kind: Literal["staggered"]
    max_age_days: Annotated[int, Field(ge=DAILY_FOR.days, le=MAX_AGE_LIMIT_DAYS), Whole] | None = (
        Field(default=None, description=f"Default {DEFAULT_MAX_AGE_DAYS}.")
    )


# One shape per kind, so the published schema admits exactly the policies the
# server stores: a client (or a fuzzer) reading it cannot build a valid-looking
# policy that is then refused.
PolicyIn = Annotated[KeepAllIn | KeepLastIn | StaggeredIn, Field(discriminator="kind")]


class RetentionRequest(WireIn):
    source_id: Id
    policy: PolicyIn | None = Field(
        default=None, description="Absent: read the policy. Present: replace it."
    )


class RetentionOut(Wire):
    source_id: str
    kind: str
    keep_last: int | None
    max_age_days: int | None


class PinRequest(WireIn):
    source_id: Id
    relative_path: RelativePath
    seq: Seq
    pinned: bool = True


class VersionStatusOut(Wire):
    seq: int
    hash: str | None
    recorded_at: UtcTime
    pinned: bool
    pruned: bool
    pruned_at: UtcTime | None


class VersionsRequest(WireIn):
    source_id: Id
    relative_path: RelativePath
    limit: Annotated[int, Field(ge=1, le=500), Whole] = 100
    before: Seq | None = None


class ContentRequest(WireIn):
    source_id: Id
    relative_path: RelativePath
    seq: Seq


class ContentOut(Wire):
    seq: int
    hash: str | None
    content: str | None


class GcRequest(WireIn):
    source_id: Id
    dry_run: bool = False


class GcOut(Wire):
    source_id: str
    kind: str
    dry_run: bool
    files: int
    versions_pruned: int
    blobs_deleted: int
    bytes_freed: int
    blobs_left: int = Field(
        description="Unused blobs this run could not free yet (the blob table stayed busy); "
        "the next run frees them. Always 0 for a dry run."
    )


def _policy_out(source_id: str, policy: Policy) -> RetentionOut:
    return RetentionOut(
        source_id=source_id,
        kind=policy.kind,
        keep_last=policy.keep_last,
        max_age_days=policy.max_age_days,
    )


def _status(s: versions.VersionStatus) -> VersionStatusOut:
    return VersionStatusOut(
        seq=s.seq,
        hash=s.hash,
        recorded_at=s.created_at,
        pinned=s.pinned,
        pruned=s.pruned,
        pruned_at=s.pruned_at,
    )


@router.post("/sources/retention", response_model=RetentionOut)
def retention(body: RetentionRequest, ctx: CtxDep) -> RetentionOut:
    """Reads a source's retention policy, or replaces it when ``policy`` is given."""
    if body.policy is None:
        with ctx.transaction(read_only=True) as session:
            policy = policies.get_retention(session, ctx.workspace_id, body.source_id)
        return _policy_out(body.source_id, policy)
    wanted = body.policy
    with ctx.transaction() as session:
        policy = policies.set_retention(
            session,
            ctx.workspace_id,
            body.source_id,
            wanted.kind,
            getattr(wanted, "keep_last", None),
            getattr(wanted, "max_age_days", None),
        )
    return _policy_out(body.source_id, policy)


@router.post("/sources/history/pin", response_model=VersionStatusOut)
def pin(body: PinRequest, ctx: CtxDep) -> VersionStatusOut:
    """Pins a version (kept whatever the policy) or, with ``pinned: false``, unpins it."""
    with ctx.transaction() as session:
        status = versions.set_pin(
            session, ctx.workspace_id, body.source_id, body.relative_path, body.seq, body.pinned
        )
    return _status(status)


@router.post("/sources/history/retention", response_model=list[VersionStatusOut])
def version_retention(body: VersionsRequest, ctx: CtxDep) -> list[VersionStatusOut]:
    """Which versions of a file are pinned and which were pruned, newest first."""
    with ctx.transaction(read_only=True) as session:
        rows = versions.version_statuses(
            session,
            ctx.workspace_id,
            body.source_id,
            body.relative_path,
            limit=body.limit,
            before=body.before,
        )
    return [_status(r) for r in rows]


@router.post("/sources/history/content", response_model=ContentOut)
def content(body: ContentRequest, ctx: CtxDep) -> ContentOut:
    """One version's content by ``seq``; 410 VERSION_PRUNED once retention removed it."""
    with ctx.transaction(read_only=True) as session:
        found = versions.version_content(
            session, ctx.workspace_id, body.source_id, body.relative_path, body.seq
        )
    return ContentOut(seq=found.seq, hash=found.hash, content=found.content)


@router.post("/sources/gc", response_model=GcOut)
def collect(body: GcRequest, ctx: CtxDep) -> GcOut:
    """Applies the source's retention policy now (short transactions; pushes go on)."""
    with ctx.transaction(read_only=True) as session:
        source = get_source(session, ctx.workspace_id, body.source_id)
        policy = policies.policy_of(session, source.id)
    report = gc.collect_source(
        ctx.runtime.engine,
        source.id,
        policy,
        tombstone_max_age=timedelta(days=ctx.settings.tombstone_max_age_days),
        dry_run=body.dry_run,
    )
    return GcOut(
        source_id=source.id,
        kind=policy.kind,
        dry_run=body.dry_run,
        files=report.files,
        versions_pruned=report.versions_pruned,
        blobs_deleted=report.blobs_deleted,
        bytes_freed=report.bytes_freed,
        blobs_left=report.blobs_left,
    )
