"""deltas: the ordered, gapless, per-source event feed."""

from typing import Any

import pytest

from tests.factories import Api, assert_error, assert_utc, delete, sha, upsert

EVENT_KEYS = {"cursor", "type", "relativePath", "payload", "createdAt"}


def _page(api: Api, source_id: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.call("sources/deltas", {"sourceId": source_id, **extra})
    return result


def test_empty_feed(api: Api) -> None:
    source = api.source()
    page = _page(api, source["id"])
    assert page == {
        "sourceId": source["id"],
        "cursor": 0,
        "nextCursor": 0,
        "hasMore": False,
        "events": [],
    }


def test_upsert_event_carries_everything_a_connector_needs(api: Api) -> None:
    source = api.source()
    item = upsert("notes/a.md", "# A ✓\n", op="op-a", contentType="text/x-markdown")
    api.push(source["id"], item)
    [event] = api.deltas(source["id"])
    assert set(event) == EVENT_KEYS
    assert (event["cursor"], event["type"], event["relativePath"]) == (
        1,
        "file.upsert",
        "notes/a.md",
    )
    assert_utc(event["createdAt"])
    payload = event["payload"]
    assert payload["hash"] == sha("# A ✓\n")
    assert payload["content"] == "# A ✓\n"
    assert payload["contentType"] == "text/x-markdown"
    assert payload["operationId"] == "op-a"
    assert payload["origin"] == "connector"
    assert payload["connectorId"] == source["connectorId"]
    assert payload["previousHash"] is None
    assert payload["size"] == len("# A ✓\n".encode())


def test_update_and_delete_events(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "v1"))
    api.push(sid, upsert("a.md", "v2", base=sha("v1")))
    api.push(sid, delete("a.md", sha("v2"), op="op-del"))
    api.update(sid, "b.md", "from raven")
    events = api.deltas(sid)
    assert [e["type"] for e in events] == [
        "file.upsert",
        "file.upsert",
        "file.delete",
        "file.upsert",
    ]
    assert events[1]["payload"]["previousHash"] == sha("v1")
    removal = events[2]["payload"]
    assert removal["operationId"] == "op-del"
    assert removal["previousHash"] == sha("v2")
    assert removal["origin"] == "connector"
    assert "hash" not in removal and "content" not in removal
    raven = events[3]["payload"]
    assert (raven["origin"], raven["content"]) == ("raven", "from raven")
    assert "connectorId" not in raven


def test_paging_with_next_cursor_and_has_more(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, *(upsert(f"{i}.md", str(i)) for i in range(7)))
    first = _page(api, sid, cursor=0, limit=3)
    assert [e["cursor"] for e in first["events"]] == [1, 2, 3]
    assert (first["cursor"], first["nextCursor"], first["hasMore"]) == (0, 3, True)
    second = _page(api, sid, cursor=first["nextCursor"], limit=3)
    assert [e["cursor"] for e in second["events"]] == [4, 5, 6]
    assert (second["nextCursor"], second["hasMore"]) == (6, True)
    third = _page(api, sid, cursor=second["nextCursor"], limit=3)
    assert [e["cursor"] for e in third["events"]] == [7]
    assert (third["nextCursor"], third["hasMore"]) == (7, False)
    exact = _page(api, sid, cursor=4, limit=3)
    assert ([e["cursor"] for e in exact["events"]], exact["hasMore"]) == ([5, 6, 7], False)
    beyond = _page(api, sid, cursor=100)
    assert (beyond["events"], beyond["nextCursor"], beyond["hasMore"]) == ([], 100, False)
    everything = _page(api, sid, cursor=0, limit=500)
    assert [e["cursor"] for e in everything["events"]] == list(range(1, 8))


def test_default_limit_applies_without_a_limit(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    default = api.settings.deltas_default_limit
    batch = api.settings.max_batch_items
    for start in range(0, default + 1, batch):
        count = min(batch, default + 1 - start)
        api.push(sid, *(upsert(f"{start + i}.md", "x") for i in range(count)))
    page = _page(api, sid)
    assert len(page["events"]) == default
    assert page["hasMore"] is True
    assert _page(api, sid, cursor=None, limit=None)["nextCursor"] == default


@pytest.mark.parametrize("limit", [0, 501, -1])
def test_limit_out_of_range_is_422(api: Api, limit: int) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "limit": limit}
    assert_error(api.post("sources/deltas", body), 422, "INVALID_INPUT")


@pytest.mark.parametrize("limit", [1, 500])
def test_limit_bounds_are_accepted(api: Api, limit: int) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a"), upsert("b.md", "b"))
    page = _page(api, source["id"], limit=limit)
    assert len(page["events"]) == min(limit, 2)


def test_negative_cursor_is_422(api: Api) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "cursor": -1}
    assert_error(api.post("sources/deltas", body), 422, "INVALID_INPUT")


def test_each_source_numbers_its_own_events(api: Api) -> None:
    one, two = api.source(), api.source()
    api.push(one["id"], upsert("a.md", "a"), upsert("b.md", "b"))
    api.push(two["id"], upsert("a.md", "a"))
    assert [e["cursor"] for e in api.deltas(one["id"])] == [1, 2]
    assert [e["cursor"] for e in api.deltas(two["id"])] == [1]


def test_conflict_and_source_events_share_the_feed(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    conflict = api.open_conflict(sid)
    api.call("sources/pause", {"sourceId": sid})
    api.call("sources/resume", {"sourceId": sid})
    api.resolve(conflict["id"], "keep_raven")
    events = api.deltas(sid)
    assert [e["type"] for e in events] == [
        "file.upsert",
        "file.upsert",
        "conflict.opened",
        "source.paused",
        "source.resumed",
        "conflict.resolved",
        "file.upsert",
    ]
    assert [e["cursor"] for e in events] == list(range(1, 8))
    assert events[2]["payload"]["conflictId"] == conflict["id"]
    assert events[5]["payload"]["resolution"] == "keep_raven"


def test_unknown_source_is_404(api: Api) -> None:
    assert_error(api.post("sources/deltas", {"sourceId": "nope"}), 404, "SOURCE_NOT_FOUND")
