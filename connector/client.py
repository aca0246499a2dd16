"""The REST client: the documented ``/api/local-sync/*`` paths and nothing else.

Transient failures (connection errors, timeouts, 5xx, 429) are retried with
exponential backoff and full jitter, capped, so many connectors coming back
after an outage do not hammer the server in lockstep.

The transport is the standard library's ``http.client`` on one kept-alive
connection: a run of ``localsync sync --once`` that finds nothing to do lasts
about as long as importing httpx would (its import pulls in rich and pygments),
and the connector needs nothing beyond POSTing JSON to one server. TLS is set
up only for ``https`` URLs.
"""

import http.client
import json
import logging
import random
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("connector")
PREFIX = "/api/local-sync/"


class ApiError(Exception):
    """A 4xx answer: the request itself is wrong or the state forbids it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class SourcePaused(ApiError):
    """409 SOURCE_PAUSED: keep journaling, push again once the source resumes."""


class Unreachable(Exception):
    """The server did not answer usefully within the retry budget."""


class _Transport:
    """One kept-alive connection to the server, reopened when it went stale.

    A server closes idle keep-alive connections (after a few seconds), so a
    request on a reused connection that fails before any answer is sent once
    more on a fresh one right away, as browsers and httpx do, instead of
    waiting out a backoff delay.
    """

    def __init__(self, server: str, headers: dict[str, str], timeout: float) -> None:
        parts = urlsplit(server.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL must be http(s)://host[:port]: {server!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.base_path = parts.path
        self.headers = {**headers, "content-type": "application/json"}
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            reused = self.conn is not None
            try:
                return self._post(path, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if not reused:
                    raise
            return self._post(path, body)

    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.request("POST", self.base_path + path, body, self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 30.0
    attempts: int = 5
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return self.rng.uniform(0, min(self.cap, self.base * (2**attempt)))


class Client:
    def __init__(
        self,
        server: str,
        token: str,
        workspace: str,
        backoff: Backoff | None = None,
        stop: threading.Event | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.stop = stop or threading.Event()
        self.http = _Transport(
            server, {"Authorization": f"Bearer {token}", "x-workspace-id": workspace}, timeout
        )

    def close(self) -> None:
        self.http.close()

    def call(self, path: str, body: dict[str, Any] | None = None, content: bytes = b"") -> Any:
        """POST ``body`` (or the already encoded JSON ``content``) with retries."""
        last = "no attempt"
        for attempt in range(self.backoff.attempts):
            if attempt:
                delay = self.backoff.delay(attempt - 1)
                log.info("retrying %s in %.2fs (%s)", path, delay, last)
                if self.stop.wait(delay):
                    break
            data = content or json.dumps(body or {}, ensure_ascii=False).encode("utf-8")
            try:
                status, answer = self.http.post(PREFIX + path, data)
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if status == 200:
                return json.loads(answer)
            if status >= 500 or status == 429:
                last = f"HTTP {status}"
                continue
            raise _error(status, answer)
        raise Unreachable(f"{path}: {last}")

    # ---- documented endpoints -------------------------------------------------

    def register(self, name: str, platform: str, version: str) -> dict[str, Any]:
        body = {"name": name, "platform": platform, "version": version}
        result: dict[str, Any] = self.call("connectors/register", body)
        return result

    def heartbeat(self, connector_id: str) -> None:
        self.call("connectors/heartbeat", {"connectorId": connector_id})

    def create_source(
        self,
        name: str,
        mode: str,
        connector_id: str,
        include: list[str] | None,
        exclude: list[str],
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "mode": mode,
            "connectorId": connector_id,
            "excludePatterns": exclude,
        }
        if include:
            body["includePatterns"] = include
        result: dict[str, Any] = self.call("sources", body)
        return result

    def sources(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("sources/list", {})
        return result

    def push_batch(
        self, source_id: str, connector_id: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return self.push_encoded(self.encode_push(source_id, connector_id, items))

    @staticmethod
    def encode_push(source_id: str, connector_id: str, items: list[dict[str, Any]]) -> bytes:
        """A push-batch body encoded ahead of sending (see ``push_encoded``)."""
        body = {"sourceId": source_id, "connectorId": connector_id, "items": items}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def push_encoded(self, body: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self.call("sources/push-batch", content=body)
        return result

    def deltas(
        self,
        source_id: str,
        cursor: int,
        limit: int = 500,
        own_connector_id: str = "",
        accept_encodings: list[str] | None = None,
    ) -> dict[str, Any]:
        """One page of events; with ``own_connector_id`` that connector's own pushes come
        back without their content (``contentOmitted``), since it holds them already.
        ``accept_encodings`` ``["base64"]`` asks for attachments' upserts too."""
        body: dict[str, Any] = {"sourceId": source_id, "cursor": cursor, "limit": limit}
        if own_connector_id:
            body["ownConnectorId"] = own_connector_id
        if accept_encodings:
            body["acceptEncodings"] = accept_encodings
        result: dict[str, Any] = self.call("sources/deltas", body)
        return result

    def file(
        self, source_id: str, path: str, accept_encodings: list[str] | None = None
    ) -> dict[str, Any]:
        """The file's current record, content included."""
        body: dict[str, Any] = {"sourceId": source_id, "relativePath": path}
        if accept_encodings:
            body["acceptEncodings"] = accept_encodings
        result: dict[str, Any] = self.call("sources/file", body)
        return result

    def conflicts(self, source_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call(
            "sources/conflicts", {"sourceId": source_id, "status": "open"}
        )
        return result


def _error(status: int, answer: bytes) -> ApiError:
    code, message = "HTTP_ERROR", answer[:300].decode("utf-8", "replace")
    try:
        err = json.loads(answer).get("error", {})
        code, message = str(err.get("code", code)), str(err.get("message", message))
    except (ValueError, AttributeError):
        pass
    cls = SourcePaused if code == "SOURCE_PAUSED" else ApiError
    return cls(status, code, message)
