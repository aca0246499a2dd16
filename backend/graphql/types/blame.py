"""Blame: each line of a version with the version that introduced it."""

from datetime import datetime

import strawberry

from backend.graphql.types.common import Origin
from backend.services import blame


@strawberry.type
class BlameLine:
    line_no: int
    text: str
    seq: int = strawberry.field(description="The version that introduced the line.")
    hash: str | None
    origin: Origin
    recorded_at: datetime
    author: str = strawberry.field(description='Connector name, "Raven" or "Local Sync".')
    connector_id: str | None
    or_older: bool = strawberry.field(
        description="The walk stopped at this version: the line may be older still."
    )

    @classmethod
    def from_line(cls, line: blame.BlameLine) -> "BlameLine":
        version = line.version
        return cls(
            line_no=line.line_no,
            text=line.text,
            seq=version.seq,
            hash=version.hash,
            origin=Origin(version.origin),
            recorded_at=version.recorded_at,
            author=version.author,
            connector_id=version.connector_id,
            or_older=line.or_older,
        )


@strawberry.type
class Blame:
    seq: int = strawberry.field(description="The version blamed.")
    lines: list[BlameLine]
    versions_walked: int
    stops_at: int | None = strawberry.field(
        description="The oldest version walked, when the walk stopped before version 1."
    )
    note: str | None = strawberry.field(description='"blame stops at version N ..." or null.')

    @classmethod
    def build(cls, result: blame.Blame) -> "Blame":
        return cls(
            seq=result.seq,
            lines=[BlameLine.from_line(line) for line in result.lines],
            versions_walked=result.versions_walked,
            stops_at=result.stops_at,
            note=result.note,
        )
