"""The REST client: the documented ``/api/local-sync/*`` paths and nothing else.

Transient failures (connection errors, timeouts, 5xx, 429) are retried with
exponential backoff and full jitter, capped, so many connectors coming back
after an outage do not hammer the server in lockstep.
"""

import json
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("connector")
PREFIX = "/api/local-sync/"
JSON = {"content-type": "application/json"}


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
        self.http = httpx.Client(
            base_url=server.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "x-workspace-id": workspace},
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
            try:
                if content:
                    response = self.http.post(PREFIX + path, content=content, headers=JSON)
                else:
                    response = self.http.post(PREFIX + path, json=body)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code == 200:
                return response.json()
            if response.status_code >= 500 or response.status_code == 429:
                last = f"HTTP {response.status_code}"
                continue
            raise _error(response)
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

    def deltas(self, source_id: str, cursor: int, limit: int = 500) -> dict[str, Any]:
        body = {"sourceId": source_id, "cursor": cursor, "limit": limit}
        result: dict[str, Any] = self.call("sources/deltas", body)
        return result

    def conflicts(self, source_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call(
            "sources/conflicts", {"sourceId": source_id, "status": "open"}
        )
        return result


def _error(response: httpx.Response) -> ApiError:
    code, message = "HTTP_ERROR", response.text[:300]
    try:
        err = response.json().get("error", {})
        code, message = str(err.get("code", code)), str(err.get("message", message))
    except (ValueError, AttributeError):
        pass
    cls = SourcePaused if code == "SOURCE_PAUSED" else ApiError
    return cls(response.status_code, code, message)
