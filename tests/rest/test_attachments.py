"""Attachments over REST: bytes as base64, never merged, never sent to clients that did not ask."""

from typing import Any

import pytest

from tests.attachment_data import attachment, b64, digest, pdf, png
from tests.factories import Api, assert_error, sha, upsert

ACCEPT = {"acceptEncodings": ["base64"]}


@pytest.fixture
def source(api: Api) -> dict[str, Any]:
    return api.source()


def graphql(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    response = api.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=api.headers
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _page(api: Api, source_id: str, **extra: Any) -> dict[str, Any]:
    body = {"sourceId": source_id, "cursor": 0, "limit": 500, **extra}
    page: dict[str, Any] = api.call("sources/deltas", body)
    return page


def _read(api: Api, source_id: str, path: str) -> dict[str, Any]:
    record: dict[str, Any] = api.call(
        "sources/file", {"sourceId": source_id, "relativePath": path, **ACCEPT}
    )
    return record


def test_png_and_pdf_round_trip_byte_exact(api: Api, source: dict[str, Any]) -> None:
    image, doc = png(), pdf()
    result = api.push(
        source["id"],
        attachment("img/photo.png", image),
        attachment("docs/paper.pdf", doc, content_type="application/pdf"),
    )
    assert [r["status"] for r in result["results"]] == ["applied", "applied"]
    assert result["results"][0]["hash"] == digest(image)
    record = _read(api, source["id"], "img/photo.png")
    assert record["contentEncoding"] == "base64"
    assert (record["hash"], record["size"]) == (digest(image), len(image))
    assert record["contentType"] == "image/png"
    assert record["content"] == b64(image)
    listed = {f["relativePath"]: f for f in api.files(source["id"])}
    assert listed["docs/paper.pdf"]["size"] == len(doc)
    assert listed["docs/paper.pdf"]["contentType"] == "application/pdf"
    events = _page(api, source["id"], **ACCEPT)["events"]
    upserts = {e["relativePath"]: e["payload"] for e in events if e["type"] == "file.upsert"}
    assert upserts["docs/paper.pdf"]["contentEncoding"] == "base64"
    assert upserts["docs/paper.pdf"]["content"] == b64(doc)


def test_history_dedup_restore_and_tombstone(api: Api, source: dict[str, Any]) -> None:
    first, second = png(shade=1), png(shade=2)
    sid = source["id"]
    api.push(sid, attachment("a.png", first))
    api.push(sid, attachment("a.png", second, base=digest(first)))
    api.push(sid, attachment("copy.png", first))  # same bytes: one blob, two files
    history = api.call(
        "sources/history", {"sourceId": sid, "relativePath": "a.png", "limit": 10, **ACCEPT}
    )
    assert [v["hash"] for v in history] == [digest(second), digest(first)]
    assert all(v["contentEncoding"] == "base64" for v in history)
    assert history[1]["content"] == b64(first)
    assert history[1]["size"] == len(first)
    restored = graphql(
        api,
        "mutation($s: String!, $p: String!, $h: String!) {"
        " restoreVersion(sourceId: $s, path: $p, hash: $h) { __typename } }",
        s=sid,
        p="a.png",
        h=digest(first),
    )
    assert restored["restoreVersion"]
    assert _read(api, sid, "a.png")["content"] == b64(first)
    gone = {"operationId": "del-1", "relativePath": "a.png", "isDelete": True}
    api.push(sid, gone | {"baseHash": digest(first)})
    history = api.call("sources/history", {"sourceId": sid, "relativePath": "a.png"})
    assert history[0]["deleted"] is True
    assert [v["hash"] for v in history[1:]] == [digest(first), digest(second), digest(first)]
    assert _read(api, sid, "copy.png")["content"] == b64(first)


def test_clients_without_the_opt_in_never_see_base64(api: Api, source: dict[str, Any]) -> None:
    sid = source["id"]
    image = png()
    api.push(sid, upsert("notes/a.md", "# text\n"))
    api.push(sid, attachment("img/photo.png", image))
    api.push(sid, upsert("notes/b.md", "# more\n"))
    plain = _page(api, sid)
    assert [e["relativePath"] for e in plain["events"]] == ["notes/a.md", "notes/b.md"]
    assert plain["nextCursor"] == _page(api, sid, **ACCEPT)["nextCursor"] == 3
    assert all("contentEncoding" not in e["payload"] for e in plain["events"])
    # A page holding only the attachment still moves the cursor past it.
    only = api.call("sources/deltas", {"sourceId": sid, "cursor": 1, "limit": 1})
    assert (only["events"], only["nextCursor"], only["hasMore"]) == ([], 2, True)
    refused = api.post("sources/file", {"sourceId": sid, "relativePath": "img/photo.png"})
    assert_error(refused, 409, "BINARY_CONTENT")
    history = api.history(sid, "img/photo.png")
    assert history[0]["content"] is None and history[0]["contentEncoding"] == "base64"
    text = api.file(sid, "notes/a.md")
    assert (text["content"], text["contentEncoding"]) == ("# text\n", "utf-8")


def test_stale_attachment_edit_opens_a_conflict_never_a_merge(
    api: Api, source: dict[str, Any]
) -> None:
    sid = source["id"]
    base, remote, local = png(shade=1), png(shade=2), png(shade=3)
    api.push(sid, attachment("p.png", base))
    api.push(sid, attachment("p.png", remote, base=digest(base)))
    result = api.push(sid, attachment("p.png", local, base=digest(base)))["results"][0]
    assert result["status"] == "conflict"
    preview = api.call("sources/conflicts/preview", {"conflictId": result["conflictId"]})
    assert preview["binary"] is True
    assert preview["hunks"] == [] and preview["regions"] == []
    merge = api.post(
        "sources/conflicts/resolve",
        {"conflictId": result["conflictId"], "resolution": "manual_merge", "resolvedContent": "x"},
    )
    assert_error(merge, 422, "BINARY_NOT_MERGEABLE")
    diff = api.post(
        "sources/history/diff",
        {
            "sourceId": sid,
            "relativePath": "p.png",
            "fromHash": digest(base),
            "toHash": digest(remote),
        },
    )
    assert_error(diff, 422, "BINARY_NOT_DIFFABLE")


def test_text_edit_on_an_attachment_is_a_conflict(api: Api, source: dict[str, Any]) -> None:
    """A stale text push against bytes is never merged with them."""
    sid = source["id"]
    api.push(sid, upsert("x.md", "one\ntwo\n"))
    api.push(sid, attachment("x.md", png(), base=sha("one\ntwo\n")))
    result = api.push(sid, upsert("x.md", "one\nTWO\n", base=sha("one\ntwo\n")))["results"][0]
    assert result["status"] == "conflict"


def test_keep_both_keeps_raven_side_and_names_the_other(api: Api, source: dict[str, Any]) -> None:
    sid = source["id"]
    base, remote, local = png(shade=1), png(shade=2), png(shade=3)
    api.push(sid, attachment("img/photo.png", base))
    api.push(sid, attachment("img/photo.png", remote, base=digest(base)))
    conflict = api.push(sid, attachment("img/photo.png", local, base=digest(base)))["results"][0]
    answer = api.resolve(conflict["conflictId"], "keep_both")
    assert answer["hash"] == digest(remote)
    assert answer["conflict"]["resolution"] == "keep_both"
    copy = f"img/photo (conflict {digest(local)[:8]}).png"
    assert _read(api, sid, "img/photo.png")["content"] == b64(remote)
    kept = _read(api, sid, copy)
    assert (kept["content"], kept["contentType"]) == (b64(local), "image/png")
    events = _page(api, sid, **ACCEPT)["events"]
    assert events[-1]["type"] == "file.upsert" and events[-1]["relativePath"] == copy
    assert answer["eventCursor"] == events[-1]["cursor"]
    assert api.conflicts(sid) == []


def test_keep_both_needs_content_on_both_sides(api: Api, source: dict[str, Any]) -> None:
    sid = source["id"]
    image = png()
    api.push(sid, attachment("p.png", image))
    api.push(sid, attachment("p.png", png(shade=9), base=digest(image)))
    gone = {"operationId": "d", "relativePath": "p.png", "isDelete": True}
    result = api.push(sid, gone | {"baseHash": digest(image)})["results"][0]
    assert result["status"] == "conflict"
    response = api.post(
        "sources/conflicts/resolve", {"conflictId": result["conflictId"], "resolution": "keep_both"}
    )
    assert_error(response, 422, "KEEP_BOTH_NEEDS_CONTENT")
    assert api.conflicts(sid)[0]["id"] == result["conflictId"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"contentEncoding": "gzip"}, "INVALID_CONTENT_ENCODING"),
        ({"contentEncoding": 64}, "INVALID_CONTENT_ENCODING"),
        ({"content": "not base64!!"}, "INVALID_BASE64"),
        ({"content": "iVBORw0KGgo"}, "INVALID_BASE64"),  # missing padding
        ({"content": "iVBO\nRw0K"}, "INVALID_BASE64"),
        ({"content": "ï»¿AAAA"}, "INVALID_BASE64"),
        ({"contentHash": sha("something else")}, "HASH_MISMATCH"),
        ({"content": None}, "MISSING_CONTENT"),
    ],
)
def test_hostile_attachment_items_are_rejected_alone(
    api: Api, source: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    bad = attachment("bad.png", png()) | change
    good = attachment("good.png", pdf())
    results = api.push(source["id"], bad, good)["results"]
    assert (results[0]["status"], results[0]["code"]) == ("rejected", code)
    assert results[1]["status"] == "applied"
    assert [f["relativePath"] for f in api.files(source["id"])] == ["good.png"]


def test_update_refuses_a_bad_encoding(api: Api, source: dict[str, Any]) -> None:
    body = {"sourceId": source["id"], "relativePath": "x.png", "content": b64(png())}
    response = api.post("sources/file/update", body | {"contentEncoding": "base32"})
    assert_error(response, 422, "INVALID_CONTENT_ENCODING")
    response = api.post("sources/file/update", body | {"contentEncoding": "base64", "content": "@"})
    assert_error(response, 422, "INVALID_BASE64")
    assert api.files(source["id"]) == []


def test_accept_encodings_is_checked(api: Api, source: dict[str, Any]) -> None:
    for value in (["gzip"], "base64", [1]):
        response = api.post("sources/deltas", {"sourceId": source["id"], "acceptEncodings": value})
        assert response.status_code in (400, 422), response.text


def test_attachment_limit_is_its_own_and_counts_bytes(start_server: Any) -> None:
    server = start_server(max_attachment_bytes=100, max_file_bytes=50)
    with Api(server.url, server.settings, "ws-limit-test") as api:
        sid = api.source()["id"]
        fits = bytes(range(100))  # 100 bytes is 136 base64 characters: fits its limit
        over = bytes(range(101))
        results = api.push(
            sid,
            attachment("fits.bin", fits),
            attachment("over.bin", over),
            upsert("text.md", "x" * 60),
        )["results"]
        assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
        assert results[1]["code"] == "ATTACHMENT_TOO_LARGE"
        assert results[2]["code"] == "CONTENT_TOO_LARGE"
        huge = attachment("huge.bin", fits) | {"content": "A" * 10_000}
        assert api.push(sid, huge)["results"][0]["code"] == "ATTACHMENT_TOO_LARGE"
        assert [f["relativePath"] for f in api.files(sid)] == ["fits.bin"]


def test_default_limits_let_a_25_mib_attachment_through_in_one_item(api: Api) -> None:
    sid = api.source()["id"]
    data = (png() * (25 * 1024 * 1024 // len(png()) + 1))[: 25 * 1024 * 1024]
    result = api.push(sid, attachment("big.png", data))["results"][0]
    assert (result["status"], result["hash"]) == ("applied", digest(data))
    over = api.push(sid, attachment("bigger.png", data + b"!"))["results"][0]
    assert (over["status"], over["code"]) == ("rejected", "ATTACHMENT_TOO_LARGE")
    assert api.files(sid)[0]["size"] == len(data)


def test_graphql_shows_encoding_size_and_type(api: Api, source: dict[str, Any]) -> None:
    sid = source["id"]
    image = png()
    api.push(sid, attachment("p.png", image))
    data = graphql(
        api,
        "query($s: ID!, $p: String!) { source(id: $s) { file(path: $p) {"
        " binary contentEncoding size contentType content contentBase64"
        " versions { edges { node { binary size contentEncoding content contentBase64 } } }"
        " } } }",
        s=sid,
        p="p.png",
    )
    file = data["source"]["file"]
    assert file["binary"] is True and file["contentEncoding"] == "base64"
    assert (file["size"], file["contentType"], file["content"]) == (len(image), "image/png", None)
    assert file["contentBase64"] == b64(image)
    version = file["versions"]["edges"][0]["node"]
    assert (version["binary"], version["size"], version["content"]) == (True, len(image), None)
    assert version["contentBase64"] == b64(image)
    api.push(sid, upsert("t.md", "text\n"))
    text = graphql(
        api,
        'query($s: ID!) { source(id: $s) { file(path: "t.md") {'
        " binary contentEncoding content contentBase64 } } }",
        s=sid,
    )["source"]["file"]
    assert text == {
        "binary": False,
        "contentEncoding": "utf-8",
        "content": "text\n",
        "contentBase64": None,
    }


def test_blame_of_an_attachment_is_refused_clearly(api: Api, source: dict[str, Any]) -> None:
    sid = source["id"]
    api.push(sid, attachment("p.png", png()))
    response = api.http.post(
        "/graphql",
        json={
            "query": 'query($s: ID!) { source(id: $s) { file(path: "p.png") {'
            " latestVersion { blame { lines { text } } } } } }",
            "variables": {"s": sid},
        },
        headers=api.headers,
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["reason"] == "BINARY_NOT_BLAMABLE"


def test_keep_both_of_another_workspace_is_not_found(
    api: Api, other_api: Api, source: dict[str, Any]
) -> None:
    sid = source["id"]
    base = png(shade=1)
    api.push(sid, attachment("p.png", base))
    api.push(sid, attachment("p.png", png(shade=2), base=digest(base)))
    conflict = api.push(sid, attachment("p.png", png(shade=3), base=digest(base)))["results"][0]
    body = {"conflictId": conflict["conflictId"], "resolution": "keep_both"}
    assert_error(other_api.post("sources/conflicts/resolve", body), 404, "CONFLICT_NOT_FOUND")
    assert api.conflicts(sid)[0]["id"] == conflict["conflictId"]
    assert [f["relativePath"] for f in api.files(sid)] == ["p.png"]


def test_a_deltas_page_carries_a_bounded_amount_of_content(start_server: Any) -> None:
    server = start_server(deltas_max_page_bytes=200)
    with Api(server.url, server.settings, "ws-page-bytes") as api:
        sid = api.source()["id"]
        for n in range(3):
            api.push(sid, attachment(f"{n}.bin", bytes([n]) * 100))
        api.push(sid, attachment("big.bin", bytes(300)))
        pages, cursor = [], 0
        while True:
            page = _page(api, sid, cursor=cursor, **ACCEPT)
            pages.append([e["relativePath"] for e in page["events"]])
            cursor = page["nextCursor"]
            if not page["hasMore"]:
                break
        # Two 100-byte upserts fit 200 bytes; an upsert over the budget still goes, alone.
        assert pages == [["0.bin", "1.bin"], ["2.bin"], ["big.bin"]]
