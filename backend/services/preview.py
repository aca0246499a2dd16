"""Conflict previews and per-region decisions, through the merge engine.

The terminal app and the API both resolve through :func:`decide`, so the text a
person sees after choosing region by region is exactly what the server stores.

Each use comes in parts: ``load_*`` reads what the work needs in a short
transaction, the pure part (:func:`build_preview`, :func:`decide`) merges after
that transaction closed, and :func:`store_decision` re-checks in a new one. A
merge of two large sides takes seconds of CPU; holding a pooled connection for
it would starve every other request. Adapters run the pure part through
:func:`backend.services.cpu.compute`, which gives merges their turns.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from sqlmodel import Session, col, select

from backend.errors import InvalidInput
from backend.merge import (
    Decision,
    DecisionError,
    Hunk,
    MergeResult,
    Span,
    apply_decisions,
    diff_lines,
    hunks,
    merge3way,
    merge_spans,
    merge_without_base,
    region_lines,
    render_partial,
    spans_of_chunks,
)
from backend.models import Conflict, Connector, Source, Version
from backend.services.conflicts import (
    ConflictSides,
    ResolveResult,
    check_current,
    conflict_sides,
    get_conflict,
    resolve_conflict,
)
from backend.services.sources import get_source
from backend.settings import Settings


@dataclass(frozen=True)
class LineChange:
    """The documented line-level form: line number and both sides' text (None: absent)."""

    line: int
    local: str | None
    remote: str | None


@dataclass(frozen=True)
class ConflictView:
    """A conflict's three sides as read at one revision, and how its source merges."""

    sides: ConflictSides
    granularity: Literal["line", "word"]

    @property
    def conflict(self) -> Conflict:
        return self.sides.conflict


@dataclass(frozen=True)
class Preview:
    """A conflict's merge, and the diffs a client may ask for, computed when first read.

    A merge screen asks for the merge and its spans, a diff view for hunks and
    line changes; each is a diff of the whole file, so none is made unasked.
    """

    view: ConflictView
    merge: MergeResult
    base_known: bool
    context_lines: int

    @property
    def sides(self) -> ConflictSides:
        return self.view.sides

    @property
    def conflict(self) -> Conflict:
        return self.sides.conflict

    @property
    def _texts(self) -> tuple[str, str]:
        return self.sides.local or "", self.sides.remote or ""

    @cached_property
    def hunks(self) -> list[Hunk]:
        return hunks(*self._texts, self.context_lines)

    @cached_property
    def changes(self) -> list[LineChange]:
        return _changes(*self._texts)

    @cached_property
    def _kinds(self) -> list[str]:
        return [entry.kind for entry in diff_lines(*self._texts)]

    @property
    def insertions(self) -> int:
        return self._kinds.count("insert")

    @property
    def deletions(self) -> int:
        return self._kinds.count("delete")

    @cached_property
    def spans(self) -> list[Span]:
        """Who changed each stretch of the file, aligned across the versions."""
        return _spans(self.view, self.merge)


@dataclass(frozen=True)
class PreviewInput:
    view: ConflictView
    context_lines: int


def word_or_line(source: Source) -> Literal["line", "word"]:
    return "word" if source.merge_granularity == "word" else "line"


def load_view(
    session: Session, workspace_id: str, conflict_id: object, source_id: object = None
) -> ConflictView:
    conflict = get_conflict(session, workspace_id, conflict_id, source_id)
    source = get_source(session, workspace_id, conflict.source_id)
    return ConflictView(conflict_sides(session, conflict), word_or_line(source))


def merge_sides(view: ConflictView) -> tuple[MergeResult, bool]:
    """Three-way when the base content is stored; otherwise every difference is a region."""
    sides = view.sides
    local, remote = sides.local or "", sides.remote or ""
    if sides.base is not None:
        return merge3way(sides.base, local, remote, granularity=view.granularity), True
    return merge_without_base(local, remote), False


def _changes(local: str, remote: str) -> list[LineChange]:
    """Pair the deleted (local) and inserted (remote) lines of each changed block."""
    out: list[LineChange] = []
    dels: list[str] = []
    ins: list[str] = []
    line = 1

    def flush() -> None:
        nonlocal line
        for i in range(max(len(dels), len(ins))):
            out.append(
                LineChange(
                    line, dels[i] if i < len(dels) else None, ins[i] if i < len(ins) else None
                )
            )
            line += 1
        dels.clear()
        ins.clear()

    for entry in diff_lines(local, remote):
        if entry.kind == "equal":
            flush()
            line += 1
        elif entry.kind == "delete":
            dels.append(entry.text)
        else:
            ins.append(entry.text)
    flush()
    return out


def load_preview(
    session: Session,
    workspace_id: str,
    conflict_id: object,
    context_lines: int = 3,
    source_id: object = None,
) -> PreviewInput:
    """Everything :func:`build_preview` needs; the context is checked before any read."""
    if not 0 <= context_lines <= 50:
        raise InvalidInput("contextLines must be between 0 and 50", "INVALID_CONTEXT")
    return PreviewInput(load_view(session, workspace_id, conflict_id, source_id), context_lines)


def build_preview(given: PreviewInput) -> Preview:
    """The diff and three-way regions of a loaded conflict (CPU only, no database)."""
    merge, base_known = merge_sides(given.view)
    return Preview(given.view, merge, base_known, given.context_lines)


def _spans(view: ConflictView, merge: MergeResult) -> list[Span]:
    """The spans of the same merge ``merge_sides`` made: three-way with a base, else by chunk."""
    sides = view.sides
    if sides.base is None:
        return spans_of_chunks(merge)
    local, remote = sides.local or "", sides.remote or ""
    return merge_spans(sides.base, local, remote, granularity=view.granularity)


@dataclass(frozen=True)
class Decided:
    text: str
    unresolved: int
    merge: MergeResult
    regions: dict[int, tuple[int, int]]
    """Where each region sits in ``text``: 0-based first line and line count (partial only)."""


def decide(
    view: ConflictView, decisions: Mapping[int, Decision], *, partial: bool = False
) -> Decided:
    """Apply per-region decisions to a conflict; ``partial`` keeps markers where undecided."""
    merge, _ = merge_sides(view)
    try:
        if partial:
            text, unresolved = render_partial(merge, decisions)
            return Decided(text, unresolved, merge, region_lines(merge, decisions))
        return Decided(apply_decisions(merge, decisions), 0, merge, {})
    except DecisionError as exc:
        raise InvalidInput(str(exc), "INVALID_DECISIONS") from None


def load_decision(
    session: Session, workspace_id: str, conflict_id: object, revision: int | None = None
) -> ConflictView:
    """The view decisions apply to, refused when it is not the one they were chosen in.

    The revision is checked before the decisions: region numbers only mean
    something in the view they were chosen in, so a stale view must read as
    stale, not as decisions naming regions that no longer exist.
    """
    view = load_view(session, workspace_id, conflict_id)
    check_current(view.conflict, revision)
    if view.sides.binary:
        raise InvalidInput(
            "an attachment cannot be merged by regions; choose KEEP_LOCAL, KEEP_RAVEN or KEEP_BOTH",
            "BINARY_NOT_MERGEABLE",
        )
    return view


def store_decision(
    session: Session, workspace_id: str, view: ConflictView, decided: Decided, settings: Settings
) -> ResolveResult:
    """Resolve with the decided text, only if the conflict is still the view it came from.

    The merge ran outside any transaction: a side replaced meanwhile (which bumps
    the revision) or a resolution by someone else is refused as stale, never
    overwritten by text merged from the old sides.
    """
    return resolve_conflict(
        session,
        workspace_id,
        view.conflict.id,
        "manual_merge",
        settings,
        resolved_content=decided.text,
        revision=view.conflict.revision,
    )


@dataclass(frozen=True)
class SideAuthors:
    """Who wrote each side of a conflict, as a person would name them."""

    local: str
    remote: str


def load_side_authors(session: Session, workspace_id: str, conflict_id: object) -> SideAuthors:
    """Name each side after the version that brought it: a connector's name, Raven, a merge.

    "Remote" is not always Raven: a second folder of the same source writes
    through its own connector, and a person merging must know whose text it is.
    """
    conflict = get_conflict(session, workspace_id, conflict_id)
    source = get_source(session, workspace_id, conflict.source_id)
    own = session.get(Connector, source.connector_id) if source.connector_id else None
    local = _author(session, conflict, conflict.local_hash, own.name if own else "the connector")
    return SideAuthors(local, _author(session, conflict, conflict.remote_hash, "Raven"))


def _author(session: Session, conflict: Conflict, digest: str | None, default: str) -> str:
    if digest is None:
        return default
    statement = (
        select(Version)
        .where(Version.file_id == conflict.file_id, Version.hash == digest)
        .order_by(col(Version.seq).desc())
    )
    versions = list(session.exec(statement))
    # The version stored as this conflict's side, else the latest with that content.
    version = next((v for v in versions if v.conflict_id == conflict.id), None)
    version = version or (versions[0] if versions else None)
    if version is None:
        return default
    if version.origin == "raven":
        return "Raven"
    if version.origin == "merge":
        return "Local Sync (a merge)"
    connector = session.get(Connector, version.connector_id) if version.connector_id else None
    return connector.name if connector else default
