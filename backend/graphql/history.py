"""History operations beyond the core schema: reopening a resolved conflict."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.graphql.context import Context
from backend.graphql.types.conflict import Conflict
from backend.services import reopen


@strawberry.type
class ReopenResult:
    conflict: Conflict
    hash: str | None = strawberry.field(
        description="The file's current hash again, as before the resolution (null: deleted)."
    )
    event_cursor: int


@strawberry.type
class HistoryMutation:
    @strawberry.mutation(
        description="Undo a resolution: the conflict opens again with its base and both sides,"
        " if the file has not changed since it was resolved."
    )
    async def reopen_conflict(
        self,
        info: Info[Context, None],
        conflict_id: str,
        expected_file_hash: Annotated[
            str | None, strawberry.argument(description="Refuse if the file's hash differs")
        ] = None,
    ) -> ReopenResult:
        ctx = info.context
        result = await ctx.run(
            lambda s: reopen.reopen_conflict(
                s, ctx.workspace_id, conflict_id, expected_file_hash=expected_file_hash
            )
        )
        return ReopenResult(
            conflict=Conflict.from_model(result.conflict),
            hash=result.digest,
            event_cursor=result.event_cursor,
        )
