"""How the app is served: one uvicorn configuration for ``localsync serve`` and the tests.

uvicorn bounds idle keep-alive connections and WebSocket messages, but has no
limit on how long or how large a request's headers may be: a client could hold
a connection open forever by sending a header byte now and then, or stream
headers without end. :class:`GuardedHttpProtocol` adds both limits to uvicorn's
httptools protocol (its own choice when httptools is installed).

It also ends keep-alive when a response goes out before its request's body was
read (a 404, 405 or redirect answers from the headers alone): the rest of that
body would otherwise be read on a connection that already waits for its next
request head.
"""

import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click
import uvicorn
from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState
from uvicorn.supervisors.multiprocess import Multiprocess

from backend.auth import load_secret
from backend.db import make_engine, run_migrations
from backend.logs import log_config
from backend.settings import Settings


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the header limits its protocols lack."""

    def __init__(
        self, app: Any, *, header_timeout: float, max_header_bytes: int, **kwargs: Any
    ) -> None:
        super().__init__(app, http=GuardedHttpProtocol, **kwargs)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes


class HeadTooLarge(Exception):
    """Raised from a parser callback: the request head passed ``max_header_bytes``."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """Closes a connection whose request headers are not complete within
    ``header_timeout`` seconds (counted from the connection's opening, then from each
    request's first byte), and answers 431 to headers over ``max_header_bytes``.

    The head's size is counted twice over: the bytes of each read that leaves the
    head unfinished (a head trickling in, or one header without end, which the
    parser buffers until it is complete), and the parsed URL and headers as the
    parser hands them over (a whole head in one read is parsed before that read
    returns).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout: float = getattr(config, "header_timeout", 10.0)
        self.max_header_bytes: int = getattr(config, "max_header_bytes", 64 * 1024)
        self.header_timer: asyncio.TimerHandle | None = None
        self.header_bytes = 0
        self.parsed_head_bytes = 0
        self.head_too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # (stops the keep-alive clock)
        if self.transport.get_protocol() is not self:
            # Upgraded to a WebSocket: this object no longer serves the connection
            # and is never told it closed, so it must leave no clock behind.
            self._stop_header_timer()
            return
        if self.transport.is_closing():
            return
        if self.header_timer is None and self._between_requests():
            # Bytes that begin no request (a stray CRLF) must not stop every clock.
            self._start_header_timer()
        if self.header_timer is None:
            return
        self.header_bytes += len(data)
        if self.header_bytes > self.max_header_bytes:
            self._stop_header_timer()
            self._send_431()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.parsed_head_bytes = 0
        if self.header_timer is None:
            self._start_header_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:
            self._close_if_body_left_unread(self.cycle)

    def send_400_response(self, msg: str) -> None:
        """The parser stops on a callback's error as on bad input: say which it was."""
        if self.head_too_large:
            self._send_431()
        else:
            super().send_400_response(msg)

    def _count_head(self, size: int) -> None:
        self.parsed_head_bytes += size
        if self.parsed_head_bytes > self.max_header_bytes:
            self.head_too_large = True
            raise HeadTooLarge

    def _between_requests(self) -> bool:
        """No request is open: its response went out and its body was read to the end."""
        cycle = self.cycle
        return cycle is None or (cycle.response_complete and not cycle.more_body)

    @staticmethod
    def _close_if_body_left_unread(cycle: RequestResponseCycle) -> None:
        """A response that starts before its request's body was read to the end says
        ``connection: close`` and closes: the rest of the body is never read as the
        next request's head."""
        send = cycle.send

        async def send_closing(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start" and cycle.more_body:
                cycle.keep_alive = False
            await send(message)

        cycle.send = send_closing  # type: ignore[method-assign]

    def _start_header_timer(self) -> None:
        self.header_bytes = 0
        self.header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _send_431(self) -> None:
        message = b"request headers too large"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(message)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + message
        )
        self.transport.close()


def uvicorn_config(
    app: Any, settings: Settings, host: str, port: int, log_level: str = "info", **extra: Any
) -> ServerConfig:
    """The one serving configuration, with every connection limit from ``settings``."""
    return ServerConfig(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        header_timeout=settings.header_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
        timeout_keep_alive=settings.keep_alive_seconds,
        ws_max_size=settings.ws_max_message_bytes,
        log_config=log_config(settings.log_format),
        **extra,
    )


class WorkersNeedPostgres(click.UsageError):
    """Several processes on SQLite would queue on its one write lock: no more throughput."""

    def __init__(self) -> None:
        super().__init__(
            "--workers above 1 needs PostgreSQL: SQLite lets one process write at a time, "
            "so more processes add no throughput. Use --workers 1, or set "
            "--database-url / LOCALSYNC_DATABASE_URL to postgresql+psycopg://..."
        )


def serve_workers(settings: Settings, host: str, port: int, log_level: str) -> None:
    """Run ``settings.workers`` processes accepting on one socket (uvicorn's supervisor).

    What must happen once happens here, before any worker starts: migrations,
    and the JWT secret file (workers creating it at once would each sign with
    their own). Workers build their app from the environment
    (:func:`backend.app.create_worker_app`), so the settings this command was
    given travel there, with a metrics directory all of them share.
    """
    if not settings.resolved_database_url().startswith("postgresql"):
        raise WorkersNeedPostgres
    engine = make_engine(settings)
    try:
        run_migrations(engine)
    finally:
        engine.dispose()
    load_secret(settings)
    os.environ["LOCALSYNC_DATABASE_URL"] = settings.resolved_database_url()
    os.environ["LOCALSYNC_DATA_DIR"] = str(settings.data_dir)
    metrics_dir = _fresh_metrics_dir(settings.prometheus_multiproc_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    config = uvicorn_config(
        "backend.app:create_worker_app",
        settings,
        host,
        port,
        log_level,
        workers=settings.workers,
        factory=True,
    )
    socket = config.bind_socket()
    try:
        Multiprocess(config, sockets=[socket]).run()
    finally:
        if settings.prometheus_multiproc_dir is None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _fresh_metrics_dir(configured: str | None) -> str:
    """prometheus-client's multiprocess files must not outlive the run that wrote them."""
    if configured is None:
        return tempfile.mkdtemp(prefix="localsync-metrics-")
    directory = Path(configured)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return str(directory)
