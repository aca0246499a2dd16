"""ASGI middleware checking credentials before a request body is read.

A POST to the REST API or to ``/graphql`` is answered from its headers alone
when the token or workspace is wrong: the refusal goes out at once in that
API's error shape with ``connection: close``, so an unread body (however large)
is never received. An accepted principal is kept in the request's state for
the REST dependency, which then need not verify the token again.
"""

from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.auth import authenticate
from backend.errors import LocalSyncError
from backend.graphql.router import refusal_result
from backend.rest.deps import Runtime, keep_principal
from backend.rest.limits import answer_and_close

REST_PREFIX = "/api/local-sync/"
GRAPHQL_PATHS = ("/graphql", "/graphql/")


class AuthGate:
    """Refuse bad credentials on POSTs to the APIs before any body byte is read."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = _api(scope)
        if api is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = authenticate(
                self.runtime.settings,
                self.runtime.secret,
                headers.get("authorization"),
                headers.get("x-workspace-id"),
            )
        except LocalSyncError as exc:
            await answer_and_close(send, *_refusal(api, exc))
            return
        keep_principal(scope, principal)
        await self.app(scope, receive, send)


def _api(scope: Scope) -> str | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if path.startswith(REST_PREFIX):
        return "rest"
    if path in GRAPHQL_PATHS:
        return "graphql"
    return None


def _refusal(api: str, exc: LocalSyncError) -> tuple[int, dict[str, Any]]:
    """REST: the route's status and error body. GraphQL: the result a resolver's auth
    error gives (HTTP 200, no data, one error with ``extensions.code``)."""
    if api == "rest":
        return exc.status, {"error": {"code": exc.code, "message": exc.message}}
    return 200, refusal_result(exc)
