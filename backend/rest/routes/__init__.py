"""One router per group of the documented API, mounted under ``/api/local-sync``."""

from fastapi import APIRouter

from backend.rest.routes import conflicts, connectors, files, history_ext, retention, sources
from backend.rest.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in [
        (400, "Malformed request or missing x-workspace-id"),
        (401, "Missing, malformed, expired or forged token"),
        (403, "Token does not grant this workspace"),
        (404, "Not found in this workspace"),
        (408, "Request body stalled (no data within the body timeout)"),
        (409, "State forbids the call"),
        (413, "Over a size limit (body bytes, JSON values, batch items, file size)"),
        (422, "Invalid input"),
        (503, "The database is busy or unreachable; retry after Retry-After seconds"),
    ]
}
ERRORS[503]["headers"] = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/local-sync", responses=ERRORS)
    for module in (connectors, sources, files, conflicts, history_ext, retention):
        router.include_router(module.router)
    return router
