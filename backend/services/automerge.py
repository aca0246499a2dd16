"""Three-way auto-merge of a stale edit against the base the server stored."""

from sqlmodel import Session

from backend.models import File, Source
from backend.services.edits import Edit, Outcome


def merge_edit(session: Session, source: Source, file: File, edit: Edit) -> Outcome | None:
    """Seam for the merge engine: no merge yet, so every stale base becomes a conflict."""
    return None
