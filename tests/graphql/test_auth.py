"""The same credentials as REST: a bearer JWT plus ``x-workspace-id``.

Over HTTP they are request headers; over WebSocket they travel in the
``connection_init`` payload. Failures over HTTP are GraphQL errors with a code,
never a stack trace, and never data; over WebSocket the socket is closed with
4401/4403 (tests/graphql/test_live_auth.py) (``Gq.errors`` / ``check_error_shape`` check every
error's shape and message).
"""

import time
from typing import Any

import jwt
import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from backend.auth import mint_token
from backend.settings import Settings
from tests.factories import Api, upsert
from tests.graphql.conftest import GqlFactory, auth_headers

QUERY = "{ sources { id name } }"
MUTATION = 'mutation { registerConnector(name: "x", platform: "linux", version: "1") { id } }'
SUBSCRIPTION = "subscription($s: String!) { sourceEvents(sourceId: $s) { cursor type } }"


def _token(settings: Settings, workspace: str, secret: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {"sub": "tester", "workspaces": [workspace], "iat": now}
    body["exp"] = now + 300
    body.update(claims)
    return jwt.encode(body, secret or settings.jwt_secret or "", algorithm="HS256")


def _bad_credentials(api: Api) -> dict[str, tuple[dict[str, str], str]]:
    """Header sets that must be refused, with the expected ``extensions.code``."""
    settings, ws = api.settings, api.workspace
    forged = _token(settings, ws, secret="not-the-server-secret-" + "y" * 32)
    expired = _token(settings, ws, iat=int(time.time()) - 600, exp=int(time.time()) - 60)
    other = mint_token(settings, ["ws-somebody-else"])
    return {
        "missing token": ({"x-workspace-id": ws}, "UNAUTHENTICATED"),
        "not a bearer": (
            {"Authorization": f"Basic {api.token}", "x-workspace-id": ws},
            "UNAUTHENTICATED",
        ),
        "garbage token": (
            {"Authorization": "Bearer abc.def.ghi", "x-workspace-id": ws},
            "UNAUTHENTICATED",
        ),
        "forged": ({"Authorization": f"Bearer {forged}", "x-workspace-id": ws}, "UNAUTHENTICATED"),
        "expired": (
            {"Authorization": f"Bearer {expired}", "x-workspace-id": ws},
            "UNAUTHENTICATED",
        ),
        "not granted": ({"Authorization": f"Bearer {other}", "x-workspace-id": ws}, "FORBIDDEN"),
    }


CASES = ["missing token", "not a bearer", "garbage token", "forged", "expired", "not granted"]


# ---- HTTP ----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("document", [QUERY, MUTATION], ids=["query", "mutation"])
async def test_http_refuses_bad_credentials(
    gql_client: GqlFactory, api: Api, case: str, document: str
) -> None:
    headers, code = _bad_credentials(api)[case]
    async with gql_client(headers) as gq:
        errors = await gq.errors(document)
    assert {e["extensions"]["code"] for e in errors} == {code}


async def test_http_refusal_returns_no_data_and_writes_nothing(
    gql_client: GqlFactory, api: Api
) -> None:
    headers, _ = _bad_credentials(api)["forged"]
    async with gql_client(headers) as gq:
        request = GraphQLRequest(MUTATION)
        with pytest.raises(TransportQueryError) as info:
            await gq.session.execute(request)
    assert info.value.data is None
    async with gql_client(auth_headers(api)) as gq:
        assert (await gq.run("{ connectors { id } }"))["connectors"] == []


async def test_http_missing_workspace_is_a_coded_client_error(
    gql_client: GqlFactory, api: Api
) -> None:
    async with gql_client({"Authorization": f"Bearer {api.token}"}) as gq:
        error = await gq.error(QUERY)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "WORKSPACE_REQUIRED"


async def test_http_token_for_several_workspaces_uses_the_named_one(
    gql_client: GqlFactory, api: Api, other_api: Api
) -> None:
    source = api.source()
    token = mint_token(api.settings, [api.workspace, other_api.workspace])
    async with gql_client(
        {"Authorization": f"Bearer {token}", "x-workspace-id": api.workspace}
    ) as gq:
        assert [s["id"] for s in (await gq.run(QUERY))["sources"]] == [source["id"]]
    headers = {"Authorization": f"Bearer {token}", "x-workspace-id": other_api.workspace}
    async with gql_client(headers) as gq:
        assert (await gq.run(QUERY))["sources"] == []


# ---- WebSocket -----------------------------------------------------------------


async def _first_event(ws_client: GqlFactory, payload: dict[str, Any], source_id: str) -> Any:
    async with ws_client(payload) as gq:
        request = GraphQLRequest(SUBSCRIPTION, variable_values={"s": source_id})
        async for result in gq.session.subscribe(request):
            return result
    raise AssertionError("subscription ended without a result")


async def test_ws_accepts_credentials_in_connection_init(ws_client: GqlFactory, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "# A\n"))
    result = await _first_event(ws_client, auth_headers(api), source["id"])
    assert result == {"sourceEvents": {"cursor": 1, "type": "file.upsert"}}


async def test_ws_payload_keys_are_case_insensitive(ws_client: GqlFactory, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "# A\n"))
    payload = {"authorization": f"Bearer {api.token}", "X-Workspace-Id": api.workspace}
    result = await _first_event(ws_client, payload, source["id"])
    assert result["sourceEvents"]["cursor"] == 1


# Refused credentials close the socket at ``connection_init`` (4401/4403): see
# tests/graphql/test_live_auth.py.
