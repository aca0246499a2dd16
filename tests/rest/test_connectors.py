"""Connector endpoints: register and heartbeat, and liveness."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.factories import Api, assert_error, assert_utc

CONNECTOR_KEYS = {
    "id",
    "workspaceId",
    "name",
    "platform",
    "version",
    "createdAt",
    "lastHeartbeatAt",
    "online",
}


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_register_returns_the_connector(api: Api) -> None:
    body = {"name": "macbook-pro", "platform": "darwin", "version": "0.1.0"}
    connector = api.call("connectors/register", body)
    assert set(connector) == CONNECTOR_KEYS
    assert connector["workspaceId"] == api.workspace
    assert (connector["name"], connector["platform"], connector["version"]) == (
        "macbook-pro",
        "darwin",
        "0.1.0",
    )
    assert connector["online"] is True
    assert_utc(connector["createdAt"])
    assert_utc(connector["lastHeartbeatAt"])


def test_each_registration_is_a_new_installation(api: Api) -> None:
    first, second = api.connector("same"), api.connector("same")
    assert first["id"] != second["id"]


def test_register_trims_names(api: Api) -> None:
    connector = api.call(
        "connectors/register", {"name": "  laptop ", "platform": " linux", "version": "1 "}
    )
    assert (connector["name"], connector["platform"], connector["version"]) == (
        "laptop",
        "linux",
        "1",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "linux", "version": "1"},
        {"name": "", "platform": "linux", "version": "1"},
        {"name": "   ", "platform": "linux", "version": "1"},
        {"name": "n" * 201, "platform": "linux", "version": "1"},
        {"name": "laptop", "platform": "p" * 101, "version": "1"},
        {"name": "laptop", "platform": "linux", "version": "v" * 101},
        {"name": 7, "platform": "linux", "version": "1"},
    ],
    ids=["no-name", "empty", "blank", "long-name", "long-platform", "long-version", "int-name"],
)
def test_register_refuses_bad_fields(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.post("connectors/register", body), 422, "INVALID_INPUT")


def test_heartbeat_updates_last_heartbeat(api: Api) -> None:
    connector = api.connector()
    beat = api.call("connectors/heartbeat", {"connectorId": connector["id"]})
    assert set(beat) == CONNECTOR_KEYS
    assert beat["id"] == connector["id"]
    assert beat["online"] is True
    assert beat["createdAt"] == connector["createdAt"]
    assert _when(beat["lastHeartbeatAt"]) > _when(connector["lastHeartbeatAt"])
    again = api.call("connectors/heartbeat", {"connectorId": connector["id"]})
    assert _when(again["lastHeartbeatAt"]) > _when(beat["lastHeartbeatAt"])


def test_heartbeat_of_an_unknown_connector_is_404(api: Api) -> None:
    response = api.post("connectors/heartbeat", {"connectorId": "no-such-connector"})
    assert_error(response, 404, "CONNECTOR_NOT_FOUND")


def test_heartbeat_requires_a_connector_id(api: Api) -> None:
    assert_error(api.post("connectors/heartbeat", {}), 422, "INVALID_INPUT")
    assert_error(api.post("connectors/heartbeat", {"connectorId": ""}), 422, "INVALID_INPUT")


def _graphql_connectors(server: LiveServer, api: Api) -> dict[str, dict[str, Any]]:
    """REST has no read of a connector that does not also beat, so look through GraphQL."""
    query = "{ connectors { id online lastHeartbeatAt } }"
    response = httpx.post(
        server.url + "/graphql", json={"query": query}, headers=api.headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return {c["id"]: c for c in body["data"]["connectors"]}


def test_online_follows_the_heartbeat_window(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    server = start_server(online_window_seconds=2)
    with Api(server.url, server.settings, workspace) as api:
        connector = api.connector()
        assert connector["online"] is True
        assert _graphql_connectors(server, api)[connector["id"]]["online"] is True
        time.sleep(2.5)
        stale = _graphql_connectors(server, api)[connector["id"]]
        assert stale["online"] is False
        assert stale["lastHeartbeatAt"] is not None
        beat = api.call("connectors/heartbeat", {"connectorId": connector["id"]})
        assert beat["online"] is True
        assert _graphql_connectors(server, api)[connector["id"]]["online"] is True
