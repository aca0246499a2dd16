"""Bad input of every class gets a 4xx with a code, never a 500 and never a partial write."""

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.factories import DOCUMENTED_PATHS, PREFIX, Api, assert_error, sha, upsert

BAD = "__BAD__"


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """A source with a file and an open conflict, so every endpoint has valid targets."""
    source = api.source()
    api.push(source["id"], upsert("notes/a.md", "# A\n"))
    conflict = api.open_conflict(source["id"])
    return {
        "connector": source["connectorId"],
        "source": source["id"],
        "conflict": conflict["id"],
        "hash": sha("# A\n"),
    }


def _bodies(w: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A valid request body for every documented path."""
    return {
        "connectors/register": {"name": "laptop", "platform": "linux", "version": "1.0"},
        "connectors/heartbeat": {"connectorId": w["connector"]},
        "sources": {
            "name": "Notes",
            "mode": "bidirectional",
            "connectorId": w["connector"],
            "includePatterns": ["**/*.md"],
            "excludePatterns": ["**/.git/**"],
            "autoMerge": True,
            "mergeGranularity": "word",
        },
        "sources/list": {},
        "sources/pause": {"sourceId": w["source"]},
        "sources/resume": {"sourceId": w["source"]},
        "sources/files": {
            "sourceId": w["source"],
            "prefix": "notes/",
            "state": "ok",
            "includeDeleted": False,
            "after": "a",
            "limit": 10,
        },
        "sources/file": {"sourceId": w["source"], "relativePath": "notes/a.md"},
        "sources/file/update": {
            "sourceId": w["source"],
            "relativePath": "notes/a.md",
            "content": "# A2\n",
            "baseHash": w["hash"],
        },
        "sources/push-batch": {
            "sourceId": w["source"],
            "connectorId": w["connector"],
            "items": [upsert("notes/b.md", "# B\n", op="op-errors")],
        },
        "sources/deltas": {"sourceId": w["source"], "cursor": 0, "limit": 10},
        "sources/conflicts": {"sourceId": w["source"], "status": "open"},
        "sources/conflicts/preview": {
            "sourceId": w["source"],
            "conflictId": w["conflict"],
            "contextLines": 3,
        },
        "sources/conflicts/resolve": {
            "sourceId": w["source"],
            "conflictId": w["conflict"],
            "resolution": "manual_merge",
            "resolvedContent": "# merged\n",
            "revision": 1,
        },
        "sources/history": {
            "sourceId": w["source"],
            "relativePath": "notes/a.md",
            "limit": 10,
            "before": 5,
            "includeContent": True,
        },
    }


def _leaves(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar inside a JSON value, with its location."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*where, index))
    else:
        yield where, value


def _replace(body: Any, where: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = new
    return copy


def _send(api: Api, path: str, body: Any, literal: str) -> httpx.Response:
    """POST ``body`` with the ``BAD`` placeholder swapped for a raw JSON literal."""
    text = json.dumps(body).replace(json.dumps(BAD), literal)
    return api.raw(path, text.encode("utf-8"))


def _never_a_500(response: httpx.Response, context: str) -> None:
    """Accepted (harmless) or refused with the documented error body; never a server error."""
    assert response.status_code < 500, f"{context}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        assert_error(response, response.status_code)


def test_the_valid_bodies_are_valid(api: Api, world: dict[str, Any]) -> None:
    for path, body in _bodies(world).items():
        response = api.post(path, body)
        assert response.status_code == 200, f"{path}: {response.text}"


# ---- whole-body forms -------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_not_json_is_400(api: Api, path: str) -> None:
    for text in (b"{", b"{'a': 1}", b'{"sourceId": }', b"\xff\xfe", b"[1,]"):
        assert_error(api.raw(path, text), 400, "MALFORMED_JSON")


@pytest.mark.parametrize("path", [p for p in DOCUMENTED_PATHS if p != "sources/list"])
def test_wrong_body_shapes_are_422(api: Api, path: str) -> None:
    for text in (b"", b"{}", b"[]", b"[{}]", b'"text"', b"42", b"null", b"true"):
        assert_error(api.raw(path, text), 422, "INVALID_INPUT")


def test_list_takes_an_optional_object(api: Api) -> None:
    for text in (b"", b"{}", b"null", b'{"anything": [1, 2]}'):
        response = api.raw("sources/list", text)
        assert response.status_code == 200, response.text
    for text in (b"[]", b'"text"', b"42"):
        assert_error(api.raw("sources/list", text), 422, "INVALID_INPUT")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_unknown_fields_are_ignored(api: Api, world: dict[str, Any], path: str) -> None:
    body = {**_bodies(world)[path], "unknownField": {"nested": [1, 2]}, "__proto__": None}
    response = api.post(path, body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400, "MALFORMED_JSON"),
        (b'{"sourceId": "s", "limit": ' + b"9" * 5000 + b"}", 400, "MALFORMED_JSON"),
        (b'{"sourceId": "s", "cursor": 1e999999}', 422, "INVALID_INPUT"),
        (b'{"sourceId": "s", "cursor": NaN}', 422, "INVALID_INPUT"),
    ],
    ids=["deep-nesting", "5000-digit-int", "huge-exponent", "nan"],
)
def test_pathological_json_is_a_4xx(api: Api, text: bytes, status: int, code: str) -> None:
    assert_error(api.raw("sources/deltas", text), status, code)


def test_other_content_types_are_not_parsed_as_json(api: Api, world: dict[str, Any]) -> None:
    body = json.dumps({"sourceId": world["source"]}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        response = api.raw("sources/deltas", body, content_type=content_type)
        assert_error(response, 422, "INVALID_INPUT")
    response = api.raw("sources/deltas", body, content_type="application/json; charset=utf-8")
    assert response.status_code == 200, response.text


def test_unknown_path_and_wrong_method(api: Api) -> None:
    assert_error(api.post("sources/nope", {}), 404, "NOT_FOUND")
    response = api.http.get(PREFIX + "sources/list", headers=api.headers)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "TRACE"])
@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_a_wrong_method_says_which_are_allowed(api: Api, method: str, path: str) -> None:
    """RFC 9110: a 405 lists the methods the resource supports in ``Allow``."""
    response = api.http.request(method, PREFIX + path, headers=api.headers, json={})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers.get("allow") == "POST"


def test_healthz_says_it_allows_get(api: Api) -> None:
    response = api.http.post("/healthz")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers.get("allow") == "GET"


# ---- every field, every bad value --------------------------------------------------

UNSTORABLE = {
    "nul": '"a\\u0000b"',
    "lone-high-surrogate": '"a\\ud800b"',
    "lone-low-surrogate": '"\\udc00"',
}
"""Text no database column can hold: always refused (a push item alone, the rest whole)."""
ODD_STRINGS = {
    "control": '"a\\u0001\\u001fb"',
    "long": json.dumps("x" * 5000),
}
WRONG_TYPES = {
    "int": "123",
    "float": "1.5",
    "bool": "true",
    "null": "null",
    "list": "[1, 2]",
    "object": '{"a": 1}',
    "huge-int": str(10**30),
    "int64-max-plus-one": str(2**63),
    "negative": "-1",
    "infinity": "Infinity",
    "nan": "NaN",
    "huge-float": "1e400",
}


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_unstorable_text_in_any_field_is_refused(
    api: Api, world: dict[str, Any], path: str
) -> None:
    body = _bodies(world)[path]
    for where, value in _leaves(body):
        if not isinstance(value, str):
            continue
        for name, literal in UNSTORABLE.items():
            context = f"{path} {where} {name}"
            response = _send(api, path, _replace(body, where, BAD), literal)
            if where[0] == "items":
                assert response.status_code == 200, f"{context}: {response.text}"
                [item] = response.json()["results"]
                assert item["status"] == "rejected", context
            else:
                assert 400 <= response.status_code < 500, f"{context}: {response.text}"
                assert_error(response, response.status_code)


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_odd_strings_in_any_field_are_refused_or_harmless(
    api: Api, world: dict[str, Any], path: str
) -> None:
    body = _bodies(world)[path]
    for where, value in _leaves(body):
        if not isinstance(value, str):
            continue
        for name, literal in ODD_STRINGS.items():
            response = _send(api, path, _replace(body, where, BAD), literal)
            _never_a_500(response, f"{path} {where} {name}")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_wrong_types_in_any_field_are_refused_or_harmless(
    api: Api, world: dict[str, Any], path: str
) -> None:
    body = _bodies(world)[path]
    for where, _value in _leaves(body):
        for name, literal in WRONG_TYPES.items():
            response = _send(api, path, _replace(body, where, BAD), literal)
            _never_a_500(response, f"{path} {where} {name}")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("sources/deltas", "cursor"),
        ("sources/deltas", "limit"),
        ("sources/history", "before"),
        ("sources/history", "limit"),
        ("sources/files", "limit"),
        ("sources/conflicts/preview", "contextLines"),
    ],
)
def test_out_of_range_numbers_are_422(
    api: Api, world: dict[str, Any], path: str, field: str
) -> None:
    body = _bodies(world)[path]
    for value in (-1, 2**63, 10**30):
        response = api.post(path, {**body, field: value})
        assert_error(response, 422, "INVALID_INPUT")


def test_revisions_must_be_positive_and_huge_ones_are_stale(
    api: Api, world: dict[str, Any]
) -> None:
    body = _bodies(world)["sources/conflicts/resolve"]
    for value in (0, -1):
        assert_error(api.post("sources/conflicts/resolve", {**body, "revision": value}), 422)
    for value in (2**63, 10**30):
        response = api.post("sources/conflicts/resolve", {**body, "revision": value})
        assert_error(response, 409, "STALE_REVISION")
    assert api.conflicts(world["source"])[0]["status"] == "open"


# ---- request size limits ---------------------------------------------------------------

SMALL = 64 * 1024


@pytest.fixture
def small_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(max_request_bytes=SMALL)


def _http_exchange(server: LiveServer, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request by hand and return the one response the server answers with."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head)
        for part in body_parts:
            conn.sendall(part)
        received = b""
        while not _complete(received):
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break  # closing with our unread bytes pending resets; the answer came first
            if not chunk:
                break
            received += chunk
        return received


def _complete(response: bytes) -> bool:
    head, found, body = response.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _head(api: Api, server: LiveServer, extra: str) -> bytes:
    lines = [
        f"POST {PREFIX}sources/push-batch HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Authorization: Bearer {api.token}",
        f"x-workspace-id: {api.workspace}",
        "Content-Type: application/json",
        extra,
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


def test_declared_oversized_body_is_413_before_it_is_sent(
    small_server: LiveServer, workspace: str
) -> None:
    with Api(small_server.url, small_server.settings, workspace) as api:
        # Only the head goes out; the server must answer without waiting for 10 MB of body.
        answer = _http_exchange(
            small_server, _head(api, small_server, "Content-Length: 10485760"), []
        )
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"REQUEST_TOO_LARGE"' in rest


def test_streamed_oversized_body_is_413_before_it_ends(
    small_server: LiveServer, workspace: str
) -> None:
    with Api(small_server.url, small_server.settings, workspace) as api:
        chunk = b"x" * 8192
        parts = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(SMALL // 8192 + 1)]
        # No terminating zero-size chunk: the body never ends, yet the server answers.
        head = _head(api, small_server, "Transfer-Encoding: chunked")
        answer = _http_exchange(small_server, head, parts)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"REQUEST_TOO_LARGE"' in rest


def test_oversized_bodies_through_a_client(small_server: LiveServer, workspace: str) -> None:
    with Api(small_server.url, small_server.settings, workspace) as api:
        source = api.source()
        big = {"sourceId": source["id"], "items": [upsert("a.md", "x" * SMALL)]}
        assert_error(api.post("sources/push-batch", big), 413, "REQUEST_TOO_LARGE")
        data = json.dumps(big).encode()

        def stream() -> Iterator[bytes]:
            for start in range(0, len(data), 4096):
                yield data[start : start + 4096]

        assert_error(api.raw("sources/push-batch", stream()), 413, "REQUEST_TOO_LARGE")
        assert api.files(source["id"]) == []
        # Under the limit, the same server accepts a streamed body.
        small = json.dumps({"sourceId": source["id"], "items": [upsert("a.md", "x")]}).encode()
        response = api.raw("sources/push-batch", iter([small[:10], small[10:]]))
        assert response.status_code == 200, response.text
        assert response.json()["applied"] == 1


def test_the_openapi_document_names_every_refusal(api: Api) -> None:
    """Clients learn from the document which answers to expect, and push-batch's item shape."""
    document = api.http.get("/openapi.json").json()
    for path in DOCUMENTED_PATHS:
        responses = document["paths"][PREFIX + path]["post"]["responses"]
        assert {"200", "401", "403", "404", "409", "413", "422", "503"} <= set(responses), path
        assert "Retry-After" in responses["503"]["headers"]
    body = document["paths"][PREFIX + "sources/push-batch"]["post"]["requestBody"]
    schema = document["components"]["schemas"][
        body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    ]
    items = schema["properties"]["items"]
    assert items["maxItems"] == api.settings.max_batch_items
    item = items["items"]["anyOf"][0]
    assert set(item["required"]) == {"operationId", "relativePath"}
    assert item["properties"]["isDelete"]["type"] == "boolean"
    assert item["properties"]["operationId"]["maxLength"] == 200
