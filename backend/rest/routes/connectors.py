"""Connector endpoints: register and heartbeat."""

from fastapi import APIRouter

from backend.rest import shapes
from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import CtxDep
from backend.rest.schemas import ConnectorOut, HeartbeatRequest, RegisterConnectorRequest
from backend.services import connectors

router = APIRouter(tags=["connectors"], route_class=BoundedJsonRoute)


@router.post("/connectors/register", response_model=ConnectorOut)
def register(body: RegisterConnectorRequest, ctx: CtxDep) -> ConnectorOut:
    """Registers a connector instance."""
    with ctx.transaction() as session:
        row = connectors.register_connector(
            session, ctx.workspace_id, body.name, body.platform, body.version
        )
    return shapes.connector(row, ctx.settings.online_window_seconds)


@router.post("/connectors/heartbeat", response_model=ConnectorOut)
def heartbeat(body: HeartbeatRequest, ctx: CtxDep) -> ConnectorOut:
    """Updates connector liveness."""
    with ctx.transaction() as session:
        row = connectors.heartbeat(session, ctx.workspace_id, body.connector_id)
    return shapes.connector(row, ctx.settings.online_window_seconds)
