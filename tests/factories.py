"""Test helpers that speak the REST API exactly as a client would."""

import hashlib
import re
import uuid
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpx

from backend.auth import mint_token
from backend.settings import Settings

PREFIX = "/api/local-sync/"
DOCUMENTED_PATHS = [
    "connectors/register",
    "connectors/heartbeat",
    "sources",
    "sources/list",
    "sources/pause",
    "sources/resume",
    "sources/files",
    "sources/file",
    "sources/file/update",
    "sources/push-batch",
    "sources/deltas",
    "sources/conflicts",
    "sources/conflicts/preview",
    "sources/conflicts/resolve",
    "sources/history",
]
"""Every path of ``spec/local-sync-api.md``, relative to ``PREFIX``."""
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ApiError(AssertionError):
    pass


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """The response is ``status`` with the documented ``{"error": {"code", "message"}}`` body."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


def assert_utc(value: object) -> None:
    """An ISO-8601 UTC timestamp ending in ``Z``."""
    assert isinstance(value, str) and ISO_UTC.match(value), value


class Api:
    """An authenticated client for one workspace, plus shortcuts for common set-ups."""

    def __init__(self, base_url: str, settings: Settings, workspace: str) -> None:
        self.settings = settings
        self.workspace = workspace
        self.token = mint_token(settings, [workspace], user="tester")
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.http.close()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "x-workspace-id": self.workspace}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.post(PREFIX + path, json=body, headers=headers, **kwargs)

    def raw(
        self,
        path: str,
        content: bytes | str | Iterable[bytes],
        content_type: str | None = "application/json",
        **kwargs: Any,
    ) -> httpx.Response:
        """POST bytes exactly as given (malformed JSON, lone surrogates, streamed bodies)."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.http.post(PREFIX + path, content=content, headers=headers, **kwargs)

    def call(self, path: str, body: Any = None) -> Any:
        """POST and return the JSON body, failing loudly on a non-200."""
        response = self.post(path, body)
        if response.status_code != 200:
            raise ApiError(f"{path} -> {response.status_code}: {response.text}")
        return response.json()

    # ---- set-up shortcuts ----------------------------------------------------

    def connector(self, name: str = "laptop") -> dict[str, Any]:
        body = {"name": name, "platform": "linux", "version": "0.1.0"}
        result: dict[str, Any] = self.call("connectors/register", body)
        return result

    def source(self, mode: str = "bidirectional", **extra: Any) -> dict[str, Any]:
        connector = extra.pop("connector", None) or self.connector()
        body = {"name": "Notes", "mode": mode, "connectorId": connector["id"], **extra}
        result: dict[str, Any] = self.call("sources", body)
        return result

    def push(self, source_id: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "sources/push-batch", {"sourceId": source_id, "items": list(items), **extra}
        )
        return result

    def deltas(self, source_id: str, cursor: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            page = self.call(
                "sources/deltas", {"sourceId": source_id, "cursor": cursor, "limit": limit}
            )
            events.extend(page["events"])
            cursor = page["nextCursor"]
            if not page["hasMore"]:
                return events

    def file(self, source_id: str, path: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "sources/file", {"sourceId": source_id, "relativePath": path}
        )
        return result

    def history(self, source_id: str, path: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call(
            "sources/history", {"sourceId": source_id, "relativePath": path, "limit": 500}
        )
        return result

    def sources(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("sources/list", {})
        return result

    def files(self, source_id: str, **extra: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("sources/files", {"sourceId": source_id, **extra})
        return result

    def update(
        self, source_id: str, path: str, content: str, base: str | None = None
    ) -> dict[str, Any]:
        """A Raven-side edit through ``file/update``."""
        body = {"sourceId": source_id, "relativePath": path, "content": content, "baseHash": base}
        result: dict[str, Any] = self.call("sources/file/update", body)
        return result

    def conflicts(self, source_id: str, status: str | None = "open") -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call(
            "sources/conflicts", {"sourceId": source_id, "status": status}
        )
        return result

    def resolve(self, conflict_id: str, resolution: str, **extra: Any) -> dict[str, Any]:
        body = {"conflictId": conflict_id, "resolution": resolution, **extra}
        result: dict[str, Any] = self.call("sources/conflicts/resolve", body)
        return result

    def open_conflict(self, source_id: str, path: str = "notes/clash.md") -> dict[str, Any]:
        """Make ``path`` conflict: both sides rewrite the same line of a stored base.

        The remote side is an earlier push (or a Raven edit on a bidirectional
        source); the local side is a push still based on the old base. Both edits
        change one line differently, so no three-way merge can reconcile them.
        Returns the conflict id, the three contents and their hashes.
        """
        base, remote, local = (
            "# Title\nbase line\n",
            "# Title\nremote line\n",
            "# Title\nlocal line\n",
        )
        self.push(source_id, upsert(path, base))
        self.push(source_id, upsert(path, remote, base=sha(base)))
        result = self.push(source_id, upsert(path, local, base=sha(base)))["results"][0]
        if result["status"] != "conflict":
            raise ApiError(f"expected a conflict, got {result}")
        return {
            "id": result["conflictId"],
            "base": base,
            "remote": remote,
            "local": local,
            "path": path,
        }


def upsert(
    path: str, content: str, base: str | None = None, op: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A push-batch item that writes ``content``; ``base`` is the hash it was edited from."""
    item = {
        "operationId": op or f"op-{uuid.uuid4()}",
        "relativePath": path,
        "content": content,
        "contentType": "text/markdown",
        "contentHash": sha(content),
        "baseHash": base,
        "isDelete": False,
    }
    item.update(extra)
    return item


def delete(path: str, base: str | None, op: str | None = None) -> dict[str, Any]:
    return {
        "operationId": op or f"op-{uuid.uuid4()}",
        "relativePath": path,
        "baseHash": base,
        "isDelete": True,
    }
