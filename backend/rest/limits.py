"""ASGI middleware bounding how much of a request body is read, and how slowly."""

import json
import math
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    """413 past ``max_bytes`` (declared or streamed), 408 when the next chunk of a body
    takes longer than ``timeout_seconds``.

    A declared ``Content-Length`` over the limit is refused before anything is
    read. A stream is cut off where it crosses the limit or stalls: the error goes
    out at once with ``connection: close``, and the app is told the client left,
    so whatever it makes of that is dropped. (Raising instead would not work: the
    framework turns errors while reading a body into 400.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float = math.inf) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _answer_error(send, *self._too_large())
            return
        seen = 0
        body_done = False
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, body_done
            if refused:
                return {"type": "http.disconnect"}
            if body_done:
                return await receive()
            with anyio.move_on_after(self.timeout_seconds) as waiting:
                message = await receive()
            if waiting.cancelled_caught:
                return await refuse(self._too_slow())
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if seen > self.max_bytes:
                    return await refuse(self._too_large())
            return message

        async def refuse(error: tuple[int, str, str]) -> Message:
            nonlocal refused
            refused = True
            if not started:
                await _answer_error(send, *error)
            return {"type": "http.disconnect"}

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The app failed on the cut-off stream; the client already has its answer.

    def _too_large(self) -> tuple[int, str, str]:
        return 413, "REQUEST_TOO_LARGE", f"request body over {self.max_bytes} bytes"

    def _too_slow(self) -> tuple[int, str, str]:
        message = f"request body stalled: no data for {self.timeout_seconds:g} seconds"
        return 408, "REQUEST_TIMEOUT", message


async def _answer_error(send: Send, status: int, code: str, message: str) -> None:
    await answer_and_close(send, status, {"error": {"code": code, "message": message}})


async def answer_and_close(send: Send, status: int, body: dict[str, Any]) -> None:
    """Answer with a JSON body and close the connection, so no unread body is drained."""
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
