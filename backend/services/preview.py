"""Conflict previews and per-region decisions, through the merge engine.

The terminal app and the API both resolve through :func:`decide`, so the text a
person sees after choosing region by region is exactly what the server stores.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from backend.errors import InvalidInput
from backend.merge import (
    Decision,
    DecisionError,
    Hunk,
    MergeResult,
    apply_decisions,
    diff_lines,
    hunks,
    merge3way,
    merge_without_base,
    render_partial,
)
from backend.models import Conflict, Source
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
class Preview:
    sides: ConflictSides
    merge: MergeResult
    base_known: bool
    hunks: list[Hunk]
    changes: list[LineChange]
    insertions: int
    deletions: int

    @property
    def conflict(self) -> Conflict:
        return self.sides.conflict


def word_or_line(source: Source) -> Literal["line", "word"]:
    return "word" if source.merge_granularity == "word" else "line"


def merge_sides(sides: ConflictSides, source: Source) -> tuple[MergeResult, bool]:
    """Three-way when the base content is stored; otherwise every difference is a region."""
    local, remote = sides.local or "", sides.remote or ""
    if sides.base is not None:
        return merge3way(sides.base, local, remote, granularity=word_or_line(source)), True
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


def conflict_preview(
    session: Session,
    workspace_id: str,
    conflict_id: object,
    context_lines: int = 3,
    source_id: object = None,
) -> Preview:
    if not 0 <= context_lines <= 50:
        raise InvalidInput("contextLines must be between 0 and 50", "INVALID_CONTEXT")
    conflict = get_conflict(session, workspace_id, conflict_id, source_id)
    source = get_source(session, workspace_id, conflict.source_id)
    sides = conflict_sides(session, conflict)
    merge, base_known = merge_sides(sides, source)
    local, remote = sides.local or "", sides.remote or ""
    kinds = [entry.kind for entry in diff_lines(local, remote)]
    return Preview(
        sides,
        merge,
        base_known,
        hunks(local, remote, context_lines),
        _changes(local, remote),
        kinds.count("insert"),
        kinds.count("delete"),
    )


@dataclass(frozen=True)
class Decided:
    text: str
    unresolved: int
    merge: MergeResult


def decide(
    session: Session,
    workspace_id: str,
    conflict_id: object,
    decisions: Mapping[int, Decision],
    *,
    partial: bool = False,
) -> Decided:
    """Apply per-region decisions to a conflict; ``partial`` keeps markers where undecided."""
    conflict = get_conflict(session, workspace_id, conflict_id)
    source = get_source(session, workspace_id, conflict.source_id)
    merge, _ = merge_sides(conflict_sides(session, conflict), source)
    try:
        if partial:
            text, unresolved = render_partial(merge, decisions)
            return Decided(text, unresolved, merge)
        return Decided(apply_decisions(merge, decisions), 0, merge)
    except DecisionError as exc:
        raise InvalidInput(str(exc), "INVALID_DECISIONS") from None


def resolve_with_decisions(
    session: Session,
    workspace_id: str,
    conflict_id: object,
    decisions: Mapping[int, Decision],
    settings: Settings,
    revision: int | None = None,
) -> ResolveResult:
    """Resolve by region decisions; the text stored is exactly what :func:`decide` shows.

    The revision is checked before the decisions: region numbers only mean
    something in the view they were chosen in, so a stale view must read as
    stale, not as decisions naming regions that no longer exist.
    """
    check_current(get_conflict(session, workspace_id, conflict_id), revision)
    decided = decide(session, workspace_id, conflict_id, decisions)
    return resolve_conflict(
        session,
        workspace_id,
        conflict_id,
        "manual_merge",
        settings,
        resolved_content=decided.text,
        revision=revision,
    )
