"""Reading and setting a source's retention policy."""

from typing import cast

from sqlmodel import Session, col, select

from backend.errors import InvalidInput
from backend.models import utcnow
from backend.retention.policy import KEEP_ALL, Kind, Policy, PolicyError, make_policy
from backend.retention.tables import RetentionPolicy
from backend.services.sources import get_source


def stored(row: RetentionPolicy) -> Policy:
    """The policy a row holds; rows are only written from checked policies."""
    return Policy(cast(Kind, row.kind), row.keep_last, row.max_age_days)


def policy_of(session: Session, source_id: str) -> Policy:
    """A source's policy; without a stored one, every version is kept."""
    row = session.get(RetentionPolicy, source_id)
    if row is None:
        return KEEP_ALL
    return stored(row)


def policies_of(session: Session, source_ids: list[str]) -> dict[str, Policy]:
    """Policies of many sources in one query (GraphQL lists)."""
    rows = session.exec(
        select(RetentionPolicy).where(col(RetentionPolicy.source_id).in_(source_ids))
    )
    found = {r.source_id: stored(r) for r in rows}
    return {sid: found.get(sid, KEEP_ALL) for sid in source_ids}


def get_retention(session: Session, workspace_id: str, source_id: str) -> Policy:
    source = get_source(session, workspace_id, source_id)
    return policy_of(session, source.id)


def set_retention(
    session: Session,
    workspace_id: str,
    source_id: str,
    kind: object,
    keep_last: object = None,
    max_age_days: object = None,
) -> Policy:
    """Store a checked policy; it takes effect at the next garbage collection.

    Strict types: ``keepLast: "3"`` or ``true`` is refused rather than coerced,
    since a policy decides what gets deleted.
    """
    source = get_source(session, workspace_id, source_id, lock=True)
    for name, value in (("keepLast", keep_last), ("maxAgeDays", max_age_days)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidInput(f"{name} must be a whole number", "INVALID_RETENTION")
    if not isinstance(kind, str):
        raise InvalidInput("kind must be a string", "INVALID_RETENTION")
    try:
        policy = make_policy(kind, keep_last, max_age_days)  # type: ignore[arg-type]
    except PolicyError as exc:
        raise InvalidInput(str(exc), "INVALID_RETENTION") from None
    row = session.get(RetentionPolicy, source.id)
    if policy == KEEP_ALL:
        if row is not None:
            session.delete(row)
        return policy
    row = row or RetentionPolicy(source_id=source.id, kind=policy.kind)
    row.kind, row.keep_last, row.max_age_days = policy.kind, policy.keep_last, policy.max_age_days
    row.updated_at = utcnow()
    session.add(row)
    return policy
