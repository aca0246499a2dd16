"""REST request bodies go through the bounded JSON decoder (``backend.bodies``).

FastAPI's documented way to change how a body is read: a Request subclass whose
``json()`` is ours, installed by an APIRoute subclass that every REST router uses.
"""

import copy
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from backend.bodies import JsonLimits, decode_body
from backend.errors import LocalSyncError


class _Refused(HTTPException):
    """Carries a refusal past FastAPI, which turns any other error while parsing into 400."""

    def __init__(self, error: LocalSyncError) -> None:
        super().__init__(error.status, error.message)
        self.error = error


class BoundedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            limits = JsonLimits.from_settings(self.app.state.runtime.settings)
            try:
                self._json = await decode_body(await self.body(), limits)
            except LocalSyncError as exc:
                raise _Refused(exc) from None
        return self._json


class BoundedJsonRoute(APIRoute):
    """A route whose JSON body is decoded within the configured limits, off the event
    loop when large; a refusal is answered by the app's LocalSyncError handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            try:
                return await handler(BoundedJsonRequest(request.scope, request.receive))
            except _Refused as refused:
                # A copy: raising the carried error itself would tie it and the
                # carrier into a cycle that keeps the whole body alive until the
                # garbage collector next runs.
                raise copy.copy(refused.error) from None

        return bounded
