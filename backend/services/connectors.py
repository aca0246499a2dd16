"""Connector registration and liveness."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.errors import InvalidInput, NotFound
from backend.models import Connector, utcnow
from backend.services.content import require_text

MAX_FIELD = 200


def _text(value: object, field: str, limit: int = MAX_FIELD) -> str:
    if not isinstance(value, str) or not require_text(value, field).strip():
        raise InvalidInput(f"{field} must be a non-empty string")
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters")
    return value.strip()


def register_connector(
    session: Session, workspace_id: str, name: str, platform: str, version: str
) -> Connector:
    """Each registration is a new installation; it counts as a first heartbeat."""
    now = utcnow()
    connector = Connector(
        workspace_id=workspace_id,
        name=_text(name, "name"),
        platform=_text(platform, "platform", 100),
        version=_text(version, "version", 100),
        created_at=now,
        last_heartbeat_at=now,
    )
    session.add(connector)
    session.flush()
    return connector


def get_connector(session: Session, workspace_id: str, connector_id: str) -> Connector:
    """Another workspace's connector answers exactly like a missing one."""
    require_text(connector_id, "connectorId")
    connector = session.get(Connector, connector_id)
    if connector is None or connector.workspace_id != workspace_id:
        raise NotFound("connector not found", "CONNECTOR_NOT_FOUND")
    return connector


def heartbeat(session: Session, workspace_id: str, connector_id: str) -> Connector:
    connector = get_connector(session, workspace_id, connector_id)
    connector.last_heartbeat_at = utcnow()
    session.add(connector)
    session.flush()
    return connector


def list_connectors(session: Session, workspace_id: str) -> list[Connector]:
    statement = (
        select(Connector)
        .where(Connector.workspace_id == workspace_id)
        .order_by(col(Connector.created_at), col(Connector.id))
    )
    return list(session.exec(statement))


def is_online(connector: Connector, window_seconds: int, now: datetime | None = None) -> bool:
    if connector.last_heartbeat_at is None:
        return False
    return (now or utcnow()) - connector.last_heartbeat_at <= timedelta(seconds=window_seconds)
