"""deltas' ``ownConnectorId`` extension: a connector's own pushes come back without content."""

from typing import Any

from backend.rest.schemas import DeltasOut
from tests.factories import Api, assert_error, sha, upsert


def _page(api: Api, sid: str, **extra: Any) -> list[dict[str, Any]]:
    page = api.call("sources/deltas", {"sourceId": sid, "cursor": 0, "limit": 500, **extra})
    events: list[dict[str, Any]] = page["events"]
    return events


def test_own_pushes_come_without_content_everything_else_unchanged(api: Api) -> None:
    mine, theirs = api.connector("mine"), api.connector("theirs")
    sid = api.source(connector=mine)["id"]
    api.push(sid, upsert("a.md", "mine\n"))  # defaults to the source's connector
    api.push(sid, upsert("b.md", "theirs\n"), connectorId=theirs["id"])
    api.update(sid, "c.md", "raven\n")
    # A stale push that merges: the merged result is not the pusher's own content.
    api.push(sid, upsert("m.md", "one\ntwo\nthree\n"))
    api.update(sid, "m.md", "one\ntwo\nthree!\n", base=sha("one\ntwo\nthree\n"))
    api.push(sid, upsert("m.md", "one!\ntwo\nthree\n", base=sha("one\ntwo\nthree\n")))

    plain = _page(api, sid)
    own = _page(api, sid, ownConnectorId=mine["id"])
    assert len(own) == len(plain)
    for before, after in zip(plain, own, strict=True):
        echo = (
            before["type"] == "file.upsert" and before["payload"].get("connectorId") == mine["id"]
        )
        if echo:
            assert after["payload"]["content"] is None
            assert after["payload"]["contentOmitted"] is True
            rest = {
                k: v for k, v in after["payload"].items() if k not in ("content", "contentOmitted")
            }
            assert rest == {k: v for k, v in before["payload"].items() if k != "content"}
            assert {k: v for k, v in after.items() if k != "payload"} == {
                k: v for k, v in before.items() if k != "payload"
            }
        else:
            assert after == before
            assert "contentOmitted" not in after["payload"]
    omitted = [e["relativePath"] for e in own if e["payload"].get("contentOmitted")]
    assert omitted == ["a.md", "m.md"]  # a.md, and m.md's first push (not its merge)
    merged = [e for e in own if e["payload"].get("origin") == "merge"]
    assert merged and merged[0]["payload"]["content"] == "one!\ntwo\nthree!\n"


def test_an_unknown_or_foreign_id_changes_nothing(api: Api, other_api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "a\n"))
    plain = _page(api, sid)
    foreign = other_api.connector("elsewhere")["id"]
    assert _page(api, sid, ownConnectorId=foreign) == plain
    assert _page(api, sid, ownConnectorId="no-such-connector") == plain
    assert plain[0]["payload"]["content"] == "a\n"


def test_a_malformed_id_is_a_client_error(api: Api) -> None:
    sid = api.source()["id"]
    for bad in (42, "", "x" * 201):
        body = {"sourceId": sid, "ownConnectorId": bad}
        assert_error(api.post("sources/deltas", body), 422, "INVALID_INPUT")


def test_a_page_is_exactly_the_documented_shape(api: Api) -> None:
    """The page is encoded without the model; it must still be the model, field for field."""
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "ä\n"), upsert("b.md", "b\n"))
    api.update(sid, "a.md", "ä2\n", base=sha("ä\n"))
    api.call("sources/pause", {"sourceId": sid})
    page = api.call("sources/deltas", {"sourceId": sid, "limit": 3})
    assert page["hasMore"] is True
    assert DeltasOut.model_validate(page).model_dump(mode="json", by_alias=True) == page
    rest = api.call("sources/deltas", {"sourceId": sid, "cursor": page["nextCursor"]})
    assert DeltasOut.model_validate(rest).model_dump(mode="json", by_alias=True) == rest
    assert [e["type"] for e in rest["events"]] == ["source.paused"]
