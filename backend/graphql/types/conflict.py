"""Conflicts, their previews and region decisions.

Merges, diffs and large word changes run in a compute turn (``backend.services.cpu``)
after the read that fed them closed: they neither hold a pooled connection nor
block the event loop, and they wait for their turn on the event loop.
"""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from backend.graphql import loaders
from backend.graphql.context import Context
from backend.graphql.types.common import ConflictStatus
from backend.graphql.types.file import DiffHunk
from backend.merge import Chunk, Decision, Edited, Span, pair_lines, word_diff
from backend.models import Conflict as ConflictRow
from backend.services import preview as preview_service


@strawberry.enum
class RegionChoice(Enum):
    LOCAL = "local"
    RAVEN = "raven"
    BOTH_LOCAL_FIRST = "both_local_first"
    BOTH_RAVEN_FIRST = "both_raven_first"
    BASE = "base"
    EDITED = "edited"


@strawberry.input
class RegionDecisionInput:
    index: int = strawberry.field(description="1-based region number")
    choice: RegionChoice
    text: str | None = strawberry.field(default=None, description="Required for EDITED")


def to_decisions(inputs: list[RegionDecisionInput]) -> dict[int, Decision]:
    from backend.errors import InvalidInput

    out: dict[int, Decision] = {}
    for item in inputs:
        if item.index in out:
            raise InvalidInput(f"region {item.index} has two decisions", "INVALID_DECISIONS")
        if item.choice is RegionChoice.EDITED:
            if item.text is None:
                raise InvalidInput(f"region {item.index}: EDITED needs text", "INVALID_DECISIONS")
            out[item.index] = Edited(item.text)
        else:
            out[item.index] = item.choice.value
    return out


@strawberry.enum(description="One version of a conflict region.")
class RegionSide(Enum):
    BASE = "base"
    LOCAL = "local"
    REMOTE = "remote"


@strawberry.type(description="A run of text inside a line: kept, or on one version only.")
class WordSegment:
    kind: str = strawberry.field(
        description="equal (on both), delete (only on `old`) or insert (only on `new`)"
    )
    text: str


@strawberry.type(
    description=(
        "What changed inside one line of a region, word by word, between two versions.\n\n"
        "Lines are paired by a line diff of the two versions, not by position, so a line "
        "inserted on one side does not shift the pairs after it: line `oldOffset` of `old` "
        "against line `newOffset` of `new`. Unchanged lines are paired with their copy and "
        "have a single `equal` segment; inside a changed block the n-th removed line is "
        "paired with the n-th added one, and lines beyond the shorter side of the block "
        "have no entry. The segments cover both lines without their line endings: "
        "equal + delete spell the `old` line, equal + insert the `new` one."
    )
)
class WordChangeLine:
    old: RegionSide
    new: RegionSide
    old_offset: int = strawberry.field(description="0-based line number within the region in `old`")
    new_offset: int = strawberry.field(description="0-based line number within the region in `new`")
    offset: int = strawberry.field(
        description="Same as oldOffset",
        deprecation_reason="Use oldOffset and newOffset; lines are no longer paired by position",
    )
    segments: list[WordSegment]


# Regions up to this many characters get their word changes on the event loop: a
# thread hop costs more than they do. Larger ones go to a worker thread, so one
# huge region cannot stall every other request.
_INLINE_WORD_CHANGES = 4096

# The pairs ``wordChanges`` compares, in this order: each side against the base
# (when the region has base lines), then local against remote.
_WORD_PAIRS = (
    (RegionSide.BASE, RegionSide.LOCAL),
    (RegionSide.BASE, RegionSide.REMOTE),
    (RegionSide.LOCAL, RegionSide.REMOTE),
)


def _segments(old_line: str, new_line: str) -> list[WordSegment]:
    """One ``equal`` segment for an unchanged line, even an empty one.

    ``word_diff`` gives no segment at all for two empty lines; spelling out the
    equal run keeps every unchanged pair recognisable as such.
    """
    if old_line == new_line:
        return [WordSegment(kind="equal", text=old_line)]
    return [WordSegment(kind=k, text=t) for k, t in word_diff(old_line, new_line)]


def _compare(old: RegionSide, new: RegionSide, a: list[str], b: list[str]) -> list[WordChangeLine]:
    """The word changes of every line pair ``pair_lines`` finds between two versions."""
    return [
        WordChangeLine(
            old=old,
            new=new,
            old_offset=i,
            new_offset=j,
            offset=i,
            segments=_segments(a[i], b[j]),
        )
        for i, j in pair_lines(a, b)
    ]


def word_changes(base: str, local: str, remote: str) -> list[WordChangeLine]:
    """Every line pair of the region's versions, matched by a line diff, word by word."""
    lines = {
        RegionSide.BASE: base.splitlines(),
        RegionSide.LOCAL: local.splitlines(),
        RegionSide.REMOTE: remote.splitlines(),
    }
    return [
        change for old, new in _WORD_PAIRS for change in _compare(old, new, lines[old], lines[new])
    ]


@strawberry.type
class ConflictRegion:
    index: int
    base: str = strawberry.field(description="The base's lines of this region (may be empty)")
    local: str
    remote: str
    base_line: int
    local_line: int
    remote_line: int

    @classmethod
    def from_chunk(cls, chunk: Chunk) -> "ConflictRegion":
        return cls(
            index=chunk.index,
            base="".join(chunk.base),
            local="".join(chunk.local),
            remote="".join(chunk.remote),
            base_line=chunk.base_line,
            local_line=chunk.local_line,
            remote_line=chunk.remote_line,
        )

    @strawberry.field(
        description=(
            "Word-level changes inside the region's lines: base against local and base "
            "against remote (when the region has base lines), then local against remote. "
            "Lines are paired by a line diff, not by position; see WordChangeLine."
        )
    )
    async def word_changes(self, info: Info[Context, None]) -> list[WordChangeLine]:
        base, local, remote = self.base, self.local, self.remote
        if len(base) + len(local) + len(remote) <= _INLINE_WORD_CHANGES:
            return word_changes(base, local, remote)

        def changes() -> list[WordChangeLine]:
            return word_changes(base, local, remote)

        # Many large regions ask at once; the preview they belong to was admitted.
        return await info.context.compute(changes, bounded=False)


@strawberry.type
class MergeChunk:
    """A piece of the merged file: stable text, or the numbered conflicting region."""

    stable: str | None
    region: ConflictRegion | None


@strawberry.enum(description="Who changed a span of the merged file.")
class SpanOrigin(Enum):
    UNCHANGED = "same"
    LOCAL = "local"
    RAVEN = "remote"
    BOTH = "both"
    WORDS = "words"
    CONFLICT = "conflict"


@strawberry.type(
    description=(
        "One stretch of the merge, aligned across the three versions: where it sits in "
        "each (1-based first line and line count; a count of 0 means the version has no "
        "line there) and who changed it. LOCAL and RAVEN are that side's change, merged "
        "automatically; BOTH is the same change on both sides; WORDS is a change both "
        "sides made whose word edits merged; CONFLICT is the numbered region to decide. "
        "Spans come in file order and cover every line of every version once."
    )
)
class MergeSpan:
    origin: SpanOrigin
    base_line: int
    base_count: int
    local_line: int
    local_count: int
    remote_line: int
    remote_count: int
    merged_count: int = strawberry.field(
        description="Lines in the merged file (for a CONFLICT: its local lines, undecided)"
    )
    region: int | None = strawberry.field(description="The region number of a CONFLICT span")

    @classmethod
    def from_span(cls, span: Span) -> "MergeSpan":
        return cls(
            origin=SpanOrigin(span.kind),
            base_line=span.base_start + 1,
            base_count=span.base_count,
            local_line=span.local_start + 1,
            local_count=span.local_count,
            remote_line=span.remote_start + 1,
            remote_count=span.remote_count,
            merged_count=span.merged_count,
            region=span.index or None,
        )


@strawberry.type
class LineChange:
    line: int
    local: str | None
    remote: str | None


@strawberry.type
class PreviewSummary:
    local_lines: int
    remote_lines: int
    different_lines: int
    insertions: int
    deletions: int
    conflicting_regions: int


@strawberry.type
class ConflictPreview:
    """The merge is made once; diffs and spans are made only when asked for."""

    preview: strawberry.Private[preview_service.Preview]
    base_known: bool

    @strawberry.field
    async def summary(self, info: Info[Context, None]) -> PreviewSummary:
        p = self.preview

        def summary() -> PreviewSummary:
            local, remote = p.sides.local or "", p.sides.remote or ""
            return PreviewSummary(
                local_lines=len(local.splitlines()),
                remote_lines=len(remote.splitlines()),
                different_lines=len(p.changes),
                insertions=p.insertions,
                deletions=p.deletions,
                conflicting_regions=len(p.merge.regions),
            )

        return await info.context.compute(summary, bounded=False)

    @strawberry.field
    async def hunks(self, info: Info[Context, None]) -> list[DiffHunk]:
        p = self.preview
        return await info.context.compute(
            lambda: [DiffHunk.from_hunk(h) for h in p.hunks], bounded=False
        )

    @strawberry.field
    async def changes(self, info: Info[Context, None]) -> list[LineChange]:
        p = self.preview
        return await info.context.compute(
            lambda: [LineChange(line=c.line, local=c.local, remote=c.remote) for c in p.changes],
            bounded=False,
        )

    chunks: list[MergeChunk]
    regions: list[ConflictRegion]
    merged_with_markers: str

    @strawberry.field(
        description="Who changed each stretch of the file, aligned across the versions"
    )
    async def spans(self, info: Info[Context, None]) -> list[MergeSpan]:
        p = self.preview
        return await info.context.compute(
            lambda: [MergeSpan.from_span(s) for s in p.spans], bounded=False
        )

    @classmethod
    def build(cls, p: preview_service.Preview) -> "ConflictPreview":
        return cls(
            preview=p,
            base_known=p.base_known,
            chunks=[
                MergeChunk(stable="".join(c.lines), region=None)
                if c.kind == "stable"
                else MergeChunk(stable=None, region=ConflictRegion.from_chunk(c))
                for c in p.merge.chunks
            ],
            regions=[ConflictRegion.from_chunk(c) for c in p.merge.regions],
            merged_with_markers=p.merge.merged_with_markers,
        )


@strawberry.type(description="Where one region sits in a resolution preview's text.")
class ResultRegion:
    index: int
    line: int = strawberry.field(description="1-based first line in the text")
    count: int = strawberry.field(description="Lines, markers included while undecided")


@strawberry.type
class ResolutionPreview:
    text: str = strawberry.field(description="Result; undecided regions keep their markers")
    unresolved: int
    regions: list[ResultRegion] = strawberry.field(
        description="Where each region sits in the text, in region order"
    )


@strawberry.type(description="Who wrote each side: a connector's name, Raven, or a merge.")
class SideAuthors:
    local: str
    remote: str


@strawberry.type
class Conflict:
    row: strawberry.Private[ConflictRow]
    id: strawberry.ID
    source_id: str
    path: str
    status: ConflictStatus
    reason: str
    revision: int
    base_hash: str | None
    local_hash: str | None
    remote_hash: str | None
    local_deleted: bool
    remote_deleted: bool
    resolution: str | None
    resolved_hash: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_model(cls, row: ConflictRow) -> "Conflict":
        return cls(
            row=row,
            id=strawberry.ID(row.id),
            source_id=row.source_id,
            path=row.relative_path,
            status=ConflictStatus(row.status),
            reason=row.reason,
            revision=row.revision,
            base_hash=row.base_hash,
            local_hash=row.local_hash,
            remote_hash=row.remote_hash,
            local_deleted=row.local_deleted,
            remote_deleted=row.remote_deleted,
            resolution=row.resolution,
            resolved_hash=row.resolved_hash,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
        )

    async def _blob(self, info: Info[Context, None], digest: str | None) -> str | None:
        return await loaders.blobs(info.context).load(digest) if digest else None

    @strawberry.field(
        description="A side is an attachment: never merged; resolve with KEEP_LOCAL, "
        "KEEP_RAVEN or KEEP_BOTH. Its sides' texts are null."
    )
    async def binary(self, info: Info[Context, None]) -> bool:
        sides = [h for h in (self.local_hash, self.remote_hash) if h]
        found = await loaders.binary(info.context).load_many(sides)
        return any(found)

    @strawberry.field(description="Base content; null when the base is unknown.")
    async def base(self, info: Info[Context, None]) -> str | None:
        # As in ``conflicts.conflict_sides``: a client-supplied base hash is only shown
        # when this file really held that content (the blob store is shared by
        # workspaces). Batched, so a list of conflicts costs no query per conflict.
        if self.base_hash is None:
            return None
        known = await loaders.in_history(info.context).load((self.row.file_id, self.base_hash))
        return await self._blob(info, self.base_hash) if known else None

    @strawberry.field(description="The connector's side; null when it deleted the file.")
    async def local(self, info: Info[Context, None]) -> str | None:
        return await self._blob(info, self.local_hash)

    @strawberry.field(description="The Raven side; null when the file is deleted there.")
    async def remote(self, info: Info[Context, None]) -> str | None:
        return await self._blob(info, self.remote_hash)

    @strawberry.field(description="Who wrote each side, for labelling them.")
    async def side_authors(self, info: Info[Context, None]) -> SideAuthors:
        ctx = info.context
        found = await ctx.read(
            lambda s: preview_service.load_side_authors(s, ctx.workspace_id, self.row.id)
        )
        return SideAuthors(local=found.local, remote=found.remote)

    @strawberry.field(description="Diff, merge regions and the text with conflict markers.")
    async def preview(self, info: Info[Context, None], context_lines: int = 3) -> ConflictPreview:
        ctx = info.context
        loaded = await ctx.read(
            lambda s: preview_service.load_preview(s, ctx.workspace_id, self.row.id, context_lines)
        )
        return await ctx.compute(
            lambda: ConflictPreview.build(preview_service.build_preview(loaded))
        )

    @strawberry.field(description="What the given decisions produce, without saving anything.")
    async def apply_decisions(
        self, info: Info[Context, None], decisions: list[RegionDecisionInput]
    ) -> ResolutionPreview:
        ctx = info.context
        chosen = to_decisions(decisions)
        view = await ctx.read(lambda s: preview_service.load_view(s, ctx.workspace_id, self.row.id))
        result = await ctx.compute(lambda: preview_service.decide(view, chosen, partial=True))
        return ResolutionPreview(
            text=result.text,
            unresolved=result.unresolved,
            regions=[
                ResultRegion(index=i, line=line + 1, count=count)
                for i, (line, count) in sorted(result.regions.items())
            ],
        )
