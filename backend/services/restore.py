"""Making an old version current again."""

from sqlmodel import Session, select

from backend.errors import InvalidInput, NotFound
from backend.models import Version
from backend.paths import normalise_path
from backend.retention.marks import check_not_pruned
from backend.services.content import check_hash, load_stored
from backend.services.files import find_file
from backend.services.sources import get_source
from backend.services.sync import UpdateResult, update_file
from backend.settings import Settings


def restore_version(
    session: Session,
    workspace_id: str,
    source_id: str,
    path: object,
    version_hash: object,
    settings: Settings,
) -> UpdateResult:
    """Restore as a new Raven-side version (history is never rewritten).

    It goes through the ordinary Raven edit with the current hash as its base, so
    the same mode, pause and open-conflict rules apply as to any other edit.
    """
    source = get_source(session, workspace_id, source_id)
    clean = normalise_path(path)
    file = find_file(session, source.id, clean)
    digest = check_hash(version_hash, "hash")
    if file is None or digest is None:
        raise NotFound("version not found", "VERSION_NOT_FOUND")
    statement = select(Version.id).where(Version.file_id == file.id, Version.hash == digest)
    if session.exec(statement).first() is None:
        raise NotFound("version not found in this file's history", "VERSION_NOT_FOUND")
    check_not_pruned(session, file.id, digest)
    stored = load_stored(session, digest)
    if stored is None:
        raise InvalidInput("that version's content is missing", "VERSION_NOT_FOUND")
    return update_file(
        session,
        workspace_id,
        source.id,
        clean,
        stored.content,
        file.current_hash,
        settings,
        stored.encoding,
    )
