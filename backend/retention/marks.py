"""Whether retention pruned a version: the leaf that history and content reads can import.

It imports no service module, so ``backend.services`` (history pages, diffs,
restores) can ask it without an import cycle.
"""

from sqlmodel import Session, col, select

from backend.db import write_deferred
from backend.models import Version
from backend.retention.errors import VersionPruned
from backend.retention.tables import VersionPrune


def pruned_ids(session: Session, version_ids: list[int]) -> set[int]:
    """Which of these versions were pruned: for history pages that mark them ``pruned``."""
    if not version_ids:
        return set()
    statement = select(VersionPrune.version_id).where(col(VersionPrune.version_id).in_(version_ids))
    return set(session.exec(statement))


def check_not_pruned(session: Session, file_id: int | None, digest: str | None) -> None:
    """Raise VERSION_PRUNED when every version of the file holding ``digest`` was pruned.

    For content reads by hash (diffs, restores): the hash is in history, its
    content is not, on purpose.
    """
    if file_id is None or digest is None:
        return
    write_deferred(session)
    holders = select(Version.id).where(Version.file_id == file_id, Version.hash == digest)
    ids = [i for i in session.exec(holders) if i is not None]
    if ids and pruned_ids(session, ids) == set(ids):
        raise VersionPruned("that version was pruned by the source's retention policy")
