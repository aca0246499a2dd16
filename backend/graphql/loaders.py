"""Per-request DataLoaders: each batches one kind of lookup into a single query."""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session, col, select
from strawberry.dataloader import DataLoader

from backend.models import Conflict, Connector, File, Version
from backend.services.content import binary_hashes, load_blobs, load_stored_many
from backend.services.sources import open_conflict_counts

if TYPE_CHECKING:
    from backend.graphql.context import Context

K = TypeVar("K")
V = TypeVar("V")


def _blobs(session: Session, keys: list[str]) -> list[str | None]:
    found = load_blobs(session, keys)
    return [found.get(k) for k in keys]


def _binary(session: Session, keys: list[str]) -> list[bool]:
    found = binary_hashes(session, keys)
    return [k in found for k in keys]


def _attachments(session: Session, keys: list[str]) -> list[str | None]:
    found = load_stored_many(session, keys)
    return [s.content if (s := found.get(k)) is not None and s.binary else None for k in keys]


def _connectors(session: Session, keys: list[str]) -> list[Connector | None]:
    by_id = {r.id: r for r in session.exec(select(Connector).where(col(Connector.id).in_(keys)))}
    return [by_id.get(k) for k in keys]


def _open_conflict_counts(session: Session, keys: list[str]) -> list[int]:
    counts = open_conflict_counts(session, keys)
    return [counts.get(k, 0) for k in keys]


def _latest_versions(session: Session, keys: list[int]) -> list[Version | None]:
    statement = (
        select(Version)
        .join(File, col(File.id) == col(Version.file_id))
        .where(col(File.id).in_(keys), col(Version.seq) == col(File.version_count))
    )
    by_file = {v.file_id: v for v in session.exec(statement)}
    return [by_file.get(k) for k in keys]


def _in_history(session: Session, keys: list[tuple[int, str]]) -> list[bool]:
    """``files.in_history`` for many ``(file_id, hash)`` pairs in one query."""
    statement = select(Version.file_id, Version.hash).where(
        col(Version.file_id).in_({file_id for file_id, _ in keys}),
        col(Version.hash).in_({digest for _, digest in keys}),
    )
    found = set(session.exec(statement.distinct()).all())
    return [key in found for key in keys]


def _open_conflicts(session: Session, keys: list[int]) -> list[Conflict | None]:
    statement = select(Conflict).where(col(Conflict.file_id).in_(keys), Conflict.status == "open")
    by_file = {c.file_id: c for c in session.exec(statement)}
    return [by_file.get(k) for k in keys]


def _get(
    context: "Context", name: str, fetch: Callable[[Session, list[Any]], list[Any]]
) -> DataLoader[Any, Any]:
    def build(ctx: "Context") -> DataLoader[Any, Any]:
        async def load(keys: list[Any]) -> Sequence[Any]:
            return await ctx.read(lambda session: fetch(session, keys))

        return DataLoader(load_fn=load)

    loader: DataLoader[Any, Any] = context.loader(name, build)
    return loader


def blobs(context: "Context") -> DataLoader[str, str | None]:
    return _get(context, "blobs", _blobs)


def binary(context: "Context") -> DataLoader[str, bool]:
    """Whether each hash is an attachment: one query for a page, no content read."""
    return _get(context, "binary", _binary)


def attachments(context: "Context") -> DataLoader[str, str | None]:
    """Attachments' base64 by hash (None for text): asked for only by ``contentBase64``."""
    return _get(context, "attachments", _attachments)


def connectors(context: "Context") -> DataLoader[str, Connector | None]:
    return _get(context, "connectors", _connectors)


def open_conflict_count(context: "Context") -> DataLoader[str, int]:
    """Open conflicts per source: one grouped query for a whole page of sources."""
    return _get(context, "open_conflict_count", _open_conflict_counts)


def latest_versions(context: "Context") -> DataLoader[int, Version | None]:
    return _get(context, "latest_versions", _latest_versions)


def in_history(context: "Context") -> DataLoader[tuple[int, str], bool]:
    return _get(context, "in_history", _in_history)


def open_conflicts(context: "Context") -> DataLoader[int, Conflict | None]:
    return _get(context, "open_conflicts", _open_conflicts)
