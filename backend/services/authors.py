"""Who a version is credited to, in words a person reads (blame, git export).

Versions record an origin and, for pushes, the connector; they record no user.
Credit therefore goes to the connector by name, to "Raven" for edits made on
the server side, and to "Local Sync" for results the server computed itself
(auto-merges, conflict resolutions and reopenings).
"""

import re

from sqlmodel import Session, col, select

from backend.models import Connector

RAVEN = "Raven"
SERVER = "Local Sync"
EMAIL_DOMAIN = "localsync.invalid"
"""A reserved top-level domain (RFC 2606): the addresses look real to tools but reach no one."""


def author_name(origin: str, connector_name: str | None) -> str:
    if origin == "connector":
        return connector_name or "connector"
    if origin == "raven":
        return RAVEN
    return SERVER


def author_email(name: str) -> str:
    """A stable address per name: the same connector name always gives the same address."""
    local = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed"
    return f"{local}@{EMAIL_DOMAIN}"


def connector_names(session: Session, ids: set[str]) -> dict[str, str]:
    """Names of the given connectors in one query; a connector since removed is absent."""
    if not ids:
        return {}
    rows = session.exec(select(Connector.id, Connector.name).where(col(Connector.id).in_(ids)))
    return dict(rows.all())
