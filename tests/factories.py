"""Test helpers that speak the REST API exactly as a client would."""

import hashlib
import uuid
from types import TracebackType
from typing import Any

import httpx

from backend.auth import mint_token
from backend.settings import Settings

PREFIX = "/api/local-sync/"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ApiError(AssertionError):
    pass


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
