"""Sources: creation, listing, pause and resume."""

from dataclasses import dataclass, field

import pathspec
from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from backend.errors import InvalidInput, NotFound
from backend.models import Conflict, Source, utcnow
from backend.services.connectors import get_connector
from backend.services.content import require_text
from backend.services.events import emit

MODES = ("import_only", "local_to_cloud", "bidirectional")
GRANULARITIES = ("line", "word")
DEFAULT_INCLUDE = ["**/*.md"]
MAX_PATTERNS = 200
MAX_PATTERN_LENGTH = 1024


@dataclass
class SourceSpec:
    """What a client asks for when creating a source."""

    name: str
    mode: str
    connector_id: str | None = None
    include_patterns: list[str] | None = None
    exclude_patterns: list[str] = field(default_factory=list)
    auto_merge: bool = True
    merge_granularity: str = "line"


def _patterns(values: list[str], field_name: str) -> list[str]:
    """Refuse patterns that gitignore semantics cannot compile, before a connector trips on them."""
    if len(values) > MAX_PATTERNS:
        raise InvalidInput(f"{field_name} has more than {MAX_PATTERNS} patterns")
    for pattern in values:
        if not isinstance(pattern, str) or not pattern.strip():
            raise InvalidInput(f"{field_name} entries must be non-empty strings")
        require_text(pattern, field_name)
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise InvalidInput(f"{field_name} has an invalid pattern")
    try:
        pathspec.GitIgnoreSpec.from_lines(values)
    except Exception as exc:
        raise InvalidInput(f"{field_name}: {exc}", "INVALID_PATTERN") from None
    return list(values)


def create_source(session: Session, workspace_id: str, spec: SourceSpec) -> Source:
    name = require_text(spec.name, "name").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name must be 1 to 200 characters")
    if spec.mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}", "INVALID_MODE")
    if spec.merge_granularity not in GRANULARITIES:
        raise InvalidInput("mergeGranularity must be 'line' or 'word'")
    if spec.connector_id is not None:
        get_connector(session, workspace_id, spec.connector_id)
    include = DEFAULT_INCLUDE if spec.include_patterns is None else spec.include_patterns
    source = Source(
        workspace_id=workspace_id,
        name=name,
        mode=spec.mode,
        connector_id=spec.connector_id,
        include_patterns=_patterns(include, "includePatterns"),
        exclude_patterns=_patterns(spec.exclude_patterns, "excludePatterns"),
        auto_merge=spec.auto_merge,
        merge_granularity=spec.merge_granularity,
    )
    session.add(source)
    session.flush()
    return source


_BY_ID = select(Source).where(Source.id == bindparam("source_id"))
"""Built once: every push, read and feed page loads its source, and composing the
statement each time cost about as much as running it."""
_BY_ID_LOCKED = _BY_ID.with_for_update().execution_options(populate_existing=True)
"""populate_existing: a copy loaded earlier in this session must not hide what the
lock holder committed (the event counter above all)."""


def get_source(session: Session, workspace_id: str, source_id: str, lock: bool = False) -> Source:
    """Load a source of this workspace; ``lock`` takes its row lock for a write transaction."""
    if not isinstance(source_id, str) or not source_id:
        raise InvalidInput("sourceId is required")
    require_text(source_id, "sourceId")
    statement = _BY_ID_LOCKED if lock else _BY_ID
    source = session.exec(statement, params={"source_id": source_id}).first()
    if source is None or source.workspace_id != workspace_id:
        raise NotFound("source not found", "SOURCE_NOT_FOUND")
    return source


def list_sources(session: Session, workspace_id: str) -> list[Source]:
    statement = (
        select(Source)
        .where(Source.workspace_id == workspace_id)
        .order_by(col(Source.created_at), col(Source.id))
    )
    return list(session.exec(statement))


def count_sources(session: Session, workspace_id: str) -> int:
    """How many items :func:`list_sources` returns, read without loading them."""
    statement = select(func.count()).select_from(Source).where(Source.workspace_id == workspace_id)
    return int(session.exec(statement).one())


@dataclass(frozen=True)
class SourceStats:
    file_count: int
    open_conflicts: int


def source_stats(session: Session, sources: list[Source]) -> dict[str, SourceStats]:
    """File and open-conflict counts for many sources: one grouped query, whatever their size.

    The file count is the source's counter column (kept under its lock by every
    writer), never a count of its files.
    """
    conflicts = open_conflict_counts(session, [s.id for s in sources])
    return {s.id: SourceStats(s.file_count, conflicts.get(s.id, 0)) for s in sources}


def open_conflict_counts(session: Session, source_ids: list[str]) -> dict[str, int]:
    if not source_ids:
        return {}
    rows = session.exec(
        select(Conflict.source_id, func.count())
        .where(col(Conflict.source_id).in_(source_ids), Conflict.status == "open")
        .group_by(col(Conflict.source_id))
    ).all()
    return {source_id: int(count) for source_id, count in rows}


def set_status(session: Session, workspace_id: str, source_id: str, status: str) -> Source:
    """Pause or resume; only a real change emits ``source.paused`` / ``source.resumed``."""
    source = get_source(session, workspace_id, source_id, lock=True)
    if source.status != status:
        source.status = status
        source.updated_at = utcnow()
        session.add(source)
        emit(session, source, f"source.{'paused' if status == 'paused' else 'resumed'}", None, {})
        session.flush()
    return source
