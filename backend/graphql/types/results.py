"""Typed results of mutations: edits have outcomes, not errors."""

from enum import Enum

import strawberry

from backend.graphql.types.conflict import Conflict
from backend.services.edits import Outcome
from backend.services.sync import BatchResult, UpdateResult


@strawberry.enum
class EditStatus(Enum):
    OK = "ok"
    MERGED = "merged"
    CONFLICT = "conflict"
    UNCHANGED = "unchanged"


@strawberry.enum
class ItemStatus(Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    MERGED = "merged"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


_EDIT = {
    "applied": EditStatus.OK,
    "merged": EditStatus.MERGED,
    "conflict": EditStatus.CONFLICT,
    "unchanged": EditStatus.UNCHANGED,
}


@strawberry.type
class EditResult:
    status: EditStatus
    path: str
    hash: str | None
    conflict_id: str | None
    event_cursor: int

    @classmethod
    def from_result(cls, result: UpdateResult) -> "EditResult":
        outcome: Outcome = result.outcome
        return cls(
            status=_EDIT[outcome.status],
            path=result.relative_path,
            hash=outcome.digest,
            conflict_id=outcome.conflict_id,
            event_cursor=result.event_cursor,
        )


@strawberry.type
class PushItemResult:
    operation_id: str | None
    path: str | None
    status: ItemStatus
    hash: str | None
    conflict_id: str | None
    code: str | None
    message: str | None


@strawberry.type
class PushBatchResult:
    source_id: str
    applied: int
    conflicts: int
    event_cursor: int
    results: list[PushItemResult]

    @classmethod
    def from_result(cls, result: BatchResult) -> "PushBatchResult":
        return cls(
            source_id=result.source_id,
            applied=result.applied,
            conflicts=result.conflicts,
            event_cursor=result.event_cursor,
            results=[
                PushItemResult(
                    operation_id=r.operation_id,
                    path=r.relative_path,
                    status=ItemStatus(r.status),
                    hash=r.hash,
                    conflict_id=r.conflict_id,
                    code=r.code,
                    message=r.message,
                )
                for r in result.results
            ],
        )


@strawberry.type
class ResolveResult:
    conflict: Conflict
    hash: str | None
    event_cursor: int
