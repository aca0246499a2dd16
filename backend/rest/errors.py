"""The one place REST turns errors into status codes and ``{"error": {...}}`` bodies."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import LocalSyncError, Unavailable

log = logging.getLogger("localsync")


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LocalSyncError)
    async def _domain(request: Request, exc: LocalSyncError) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message)
        if isinstance(exc, Unavailable):  # busy: the client may retry
            retry_after = request.app.state.runtime.settings.retry_after_seconds
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = any(err.get("type") == "json_invalid" for err in exc.errors())
        if malformed:
            return error_response(400, "MALFORMED_JSON", "request body is not valid JSON")
        return error_response(422, "INVALID_INPUT", _describe(exc))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        # FastAPI answers 400 for a body it could not parse beyond a JSON syntax error
        # (nesting too deep, an integer over Python's digit limit).
        codes = {400: "MALFORMED_JSON", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        code = codes.get(exc.status_code, "HTTP_ERROR")
        response = error_response(exc.status_code, code, str(exc.detail))
        # Keep what the framework put on the answer, above all 405's ``Allow`` (RFC 9110).
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _db(request: Request, exc: Exception) -> JSONResponse:
        # A locked or unreachable database, or every pooled connection busy past
        # db_pool_timeout_seconds: the client may retry; nothing was written.
        log.warning("database unavailable: %s", exc)
        response = error_response(503, "UNAVAILABLE", "the database is busy or unreachable; retry")
        retry_after = request.app.state.runtime.settings.retry_after_seconds
        response.headers["Retry-After"] = str(retry_after)
        return response


class UnexpectedErrors:
    """Answer an unexpected error with a JSON 500 and keep the connection usable.

    Starlette's outermost handler re-raises after answering, and the server then
    drops the connection; a client retrying on that keep-alive connection would
    see a reset instead of the answer. Nothing was committed: the request's
    transaction rolled back when the error left it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error("unexpected error", exc_info=exc)
            if started:
                raise
            response = error_response(500, "INTERNAL", "unexpected server error; nothing was saved")
            await response(scope, receive, send)
