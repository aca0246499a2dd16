"""Authentication and workspace authorisation on every documented endpoint."""

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from backend.auth import mint_token
from backend.settings import Settings
from tests.conftest import LiveServer, make_settings
from tests.factories import DOCUMENTED_PATHS, PREFIX, Api

BODY = {"sourceId": "00000000-0000-0000-0000-000000000000"}


def _post(
    server: LiveServer, path: str, headers: dict[str, str], body: Any = BODY
) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return client.post(PREFIX + path, json=body, headers=headers)


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def _claims(settings: Settings, workspace: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "tester",
        "workspaces": [workspace],
        "iat": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(settings: Settings, claims: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(claims, secret or settings.jwt_secret or "", algorithm="HS256")


# ---- every endpoint ----------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_endpoint_refuses_a_missing_token(live_server: LiveServer, path: str) -> None:
    response = _post(live_server, path, {"x-workspace-id": "ws-any"})
    _error(response, 401, "UNAUTHENTICATED")


def test_every_operation_the_server_publishes_requires_a_token(live_server: LiveServer) -> None:
    """Also covers any path beyond the documented ones."""
    spec = httpx.get(live_server.url + "/openapi.json", timeout=30).json()
    paths = [p for p in spec["paths"] if p.startswith(PREFIX)]
    assert {PREFIX + p for p in DOCUMENTED_PATHS} <= set(paths)
    for path in paths:
        assert list(spec["paths"][path]) == ["post"], path
        response = _post(live_server, path.removeprefix(PREFIX), {"x-workspace-id": "ws-a"})
        _error(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_endpoint_refuses_a_forged_token(live_server: LiveServer, path: str) -> None:
    token = _sign(live_server.settings, _claims(live_server.settings, "ws-a"), "another-secret" * 3)
    headers = {"Authorization": f"Bearer {token}", "x-workspace-id": "ws-a"}
    _error(_post(live_server, path, headers), 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_endpoint_requires_the_workspace_header(api: Api, path: str) -> None:
    response = api.http.post(
        PREFIX + path, json=BODY, headers={"Authorization": f"Bearer {api.token}"}
    )
    _error(response, 400, "WORKSPACE_REQUIRED")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_endpoint_refuses_a_workspace_the_token_does_not_grant(api: Api, path: str) -> None:
    response = api.post(path, BODY, headers={"x-workspace-id": api.workspace + "-other"})
    _error(response, 403, "FORBIDDEN")


# ---- token forms -------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Basic dXNlcjpwYXNz",
        "Token abc",
    ],
)
def test_malformed_authorization_is_401(api: Api, authorization: str) -> None:
    response = api.post("sources/list", {}, headers={"Authorization": authorization})
    _error(response, 401, "UNAUTHENTICATED")


def test_scheme_is_case_insensitive(api: Api) -> None:
    response = api.post("sources/list", {}, headers={"Authorization": f"bearer {api.token}"})
    assert response.status_code == 200, response.text


def test_expired_token_is_401(api: Api) -> None:
    token = mint_token(api.settings, [api.workspace], ttl_seconds=-5)
    response = api.post("sources/list", {}, headers={"Authorization": f"Bearer {token}"})
    _error(response, 401, "UNAUTHENTICATED")
    assert "expired" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "changes",
    [
        {"workspaces": None},
        {"workspaces": "ws-a"},
        {"workspaces": [1, 2]},
        {"exp": None},
        {"sub": None},
    ],
    ids=["no-workspaces", "workspaces-string", "workspaces-ints", "no-exp", "no-sub"],
)
def test_token_with_bad_claims_is_401(api: Api, changes: dict[str, Any]) -> None:
    claims = _claims(api.settings, api.workspace)
    claims.update(changes)
    token = _sign(api.settings, {k: v for k, v in claims.items() if v is not None})
    response = api.post("sources/list", {}, headers={"Authorization": f"Bearer {token}"})
    _error(response, 401, "UNAUTHENTICATED")


def test_unsigned_token_is_401(api: Api) -> None:
    token = jwt.encode(_claims(api.settings, api.workspace), "", algorithm="none")
    response = api.post("sources/list", {}, headers={"Authorization": f"Bearer {token}"})
    _error(response, 401, "UNAUTHENTICATED")


def test_token_signed_with_another_algorithm_is_401(api: Api) -> None:
    with warnings.catch_warnings():
        # The right secret, the wrong algorithm: PyJWT warns the key is short for HS512.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        token = jwt.encode(
            _claims(api.settings, api.workspace), api.settings.jwt_secret or "", algorithm="HS512"
        )
    response = api.post("sources/list", {}, headers={"Authorization": f"Bearer {token}"})
    _error(response, 401, "UNAUTHENTICATED")


def test_auth_is_checked_before_the_body(live_server: LiveServer) -> None:
    response = _post(live_server, "sources/push-batch", {"x-workspace-id": "ws-a"}, body=[1, 2])
    _error(response, 401, "UNAUTHENTICATED")


# ---- workspace header --------------------------------------------------------


def test_blank_or_oversized_workspace_header_is_400(api: Api) -> None:
    _error(api.post("sources/list", {}, headers={"x-workspace-id": ""}), 400, "WORKSPACE_REQUIRED")
    _error(
        api.post("sources/list", {}, headers={"x-workspace-id": "w" * 201}),
        400,
        "WORKSPACE_REQUIRED",
    )


def test_one_token_may_grant_several_workspaces(api: Api, other_api: Api) -> None:
    token = mint_token(api.settings, [api.workspace, other_api.workspace])
    api.source()
    for workspace, expected in ((api.workspace, 1), (other_api.workspace, 0)):
        headers = {"Authorization": f"Bearer {token}", "x-workspace-id": workspace}
        response = api.post("sources/list", {}, headers=headers)
        assert response.status_code == 200, response.text
        assert len(response.json()) == expected
        assert all(s["workspaceId"] == workspace for s in response.json())


# ---- issuer and audience -----------------------------------------------------


ISSUER = "https://issuer.localsync.test"
AUDIENCE = "localsync-api"


@pytest.fixture(scope="module")
def strict_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = make_settings(
        database_url, tmp_path_factory.mktemp("strict"), jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"iss": ISSUER, "aud": AUDIENCE}, True),
        ({"iss": ISSUER, "aud": [AUDIENCE, "other"]}, True),
        ({}, False),
        ({"aud": AUDIENCE}, False),
        ({"iss": ISSUER}, False),
        ({"iss": "https://elsewhere.test", "aud": AUDIENCE}, False),
        ({"iss": ISSUER, "aud": "another-api"}, False),
    ],
    ids=["both", "aud-list", "neither", "no-iss", "no-aud", "wrong-iss", "wrong-aud"],
)
def test_issuer_and_audience_are_checked_when_configured(
    strict_server: LiveServer, changes: dict[str, Any], accepted: bool
) -> None:
    token = _sign(strict_server.settings, _claims(strict_server.settings, "ws-iss", **changes))
    headers = {"Authorization": f"Bearer {token}", "x-workspace-id": "ws-iss"}
    response = _post(strict_server, "sources/list", headers, body={})
    if accepted:
        assert response.status_code == 200, response.text
        assert response.json() == []
    else:
        _error(response, 401, "UNAUTHENTICATED")


def test_minted_tokens_carry_the_configured_issuer_and_audience(
    strict_server: LiveServer, live_server: LiveServer
) -> None:
    token = mint_token(strict_server.settings, ["ws-iss"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    headers = {"Authorization": f"Bearer {token}", "x-workspace-id": "ws-iss"}
    assert _post(strict_server, "sources/list", headers, body={}).status_code == 200
    # A server without an audience refuses a token that names one it does not expect.
    _error(_post(live_server, "sources/list", headers, body={}), 401, "UNAUTHENTICATED")


def test_a_token_from_another_secret_is_refused_by_a_server_on_the_same_database(
    start_server: Callable[..., LiveServer], live_server: LiveServer
) -> None:
    other = start_server(jwt_secret="a-completely-different-secret-" + "y" * 32)
    settings = make_settings("sqlite://", live_server.settings.data_dir)
    token = mint_token(settings, ["ws-a"])
    headers = {"Authorization": f"Bearer {token}", "x-workspace-id": "ws-a"}
    assert _post(live_server, "sources/list", headers, body={}).status_code == 200
    _error(_post(other, "sources/list", headers, body={}), 401, "UNAUTHENTICATED")
