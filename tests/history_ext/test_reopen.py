"""Reopening a resolved conflict: sides back intact, history kept, refusals with codes."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.factories import Api, assert_error, delete, sha, upsert
from tests.graphql.conftest import Gq

REOPEN = "sources/conflicts/reopen"
GQL_REOPEN = """
mutation($id: String!, $expected: String) {
  reopenConflict(conflictId: $id, expectedFileHash: $expected) {
    hash eventCursor
    conflict { id status revision baseHash localHash remoteHash resolution }
  }
}
"""


def _resolved(api: Api, resolution: str = "keep_local") -> tuple[str, dict[str, Any], int]:
    """A source with ``notes/clash.md`` resolved by ``resolution``; also the cursor before."""
    sid: str = api.source()["id"]
    clash = api.open_conflict(sid)
    api.resolve(clash["id"], resolution)
    return sid, clash, api.deltas(sid)[-1]["cursor"]


def test_reopen_brings_back_the_conflict_and_keeps_the_resolution_in_history(api: Api) -> None:
    sid, clash, cursor = _resolved(api, "keep_local")
    before = api.conflicts(sid, status="resolved")[0]
    history_before = api.history(sid, clash["path"])

    answer = api.call(REOPEN, {"conflictId": clash["id"], "expectedFileHash": sha(clash["local"])})

    conflict = answer["conflict"]
    assert conflict["status"] == "open" and conflict["resolution"] is None
    assert conflict["revision"] == before["revision"] + 1
    for key in ("baseHash", "localHash", "remoteHash", "reason"):
        assert conflict[key] == before[key]
    assert answer["hash"] == sha(clash["remote"])  # current again as before the resolution
    file = api.file(sid, clash["path"])
    assert file["state"] == "conflict" and file["hash"] == sha(clash["remote"])
    history = api.history(sid, clash["path"])
    assert len(history) == len(history_before) + 1
    assert history[1:] == history_before  # the resolution's version is still there
    assert history[0]["hash"] == sha(clash["remote"]) and history[0]["origin"] == "merge"
    assert [c["id"] for c in api.conflicts(sid)] == [clash["id"]]

    # The feed: the conflict opens first, then the file changes back; cursors follow on.
    events = api.deltas(sid, cursor)
    assert [e["type"] for e in events] == ["conflict.opened", "file.upsert"]
    assert [e["cursor"] for e in events] == [cursor + 1, cursor + 2]
    assert events[0]["payload"]["conflictId"] == clash["id"]
    assert events[0]["payload"]["reopened"] is True
    assert events[1]["payload"]["hash"] == sha(clash["remote"])
    assert events[1]["payload"]["previousHash"] == sha(clash["local"])
    assert answer["eventCursor"] == cursor + 2

    # Resolving again works, and the feed tells the same story to a connector.
    again = api.resolve(clash["id"], "keep_raven", revision=conflict["revision"])
    assert again["conflict"]["status"] == "resolved"
    later = api.deltas(sid, cursor + 2)
    assert [e["type"] for e in later] == ["conflict.resolved", "file.upsert"]
    assert [e["payload"]["hash"] for e in later] == [sha(clash["remote"])] * 2
    assert api.file(sid, clash["path"])["state"] == "ok"


def test_reopen_of_a_resolution_that_kept_the_current_content_changes_no_file(api: Api) -> None:
    sid, clash, cursor = _resolved(api, "keep_raven")
    count = len(api.history(sid, clash["path"]))

    answer = api.call(REOPEN, {"conflictId": clash["id"]})

    assert answer["hash"] == sha(clash["remote"])
    assert [e["type"] for e in api.deltas(sid, cursor)] == ["conflict.opened"]
    assert len(api.history(sid, clash["path"])) == count
    assert api.file(sid, clash["path"])["state"] == "conflict"
    # Only one open conflict per file: a second reopen is refused.
    assert_error(api.post(REOPEN, {"conflictId": clash["id"]}), 409, "CONFLICT_OPEN")


def test_reopen_is_refused_once_the_file_changed_after_the_resolution(api: Api) -> None:
    sid, clash, _ = _resolved(api, "keep_local")
    api.update(sid, clash["path"], "newer\n", base=sha(clash["local"]))

    response = api.post(REOPEN, {"conflictId": clash["id"]})

    assert_error(response, 409, "FILE_CHANGED_SINCE_RESOLUTION")
    assert api.conflicts(sid, status="resolved")[0]["id"] == clash["id"]
    assert api.file(sid, clash["path"])["hash"] == sha("newer\n")


def test_reopen_refuses_a_stale_expected_hash_and_changes_nothing(api: Api) -> None:
    sid, clash, cursor = _resolved(api)
    response = api.post(REOPEN, {"conflictId": clash["id"], "expectedFileHash": sha("other")})
    assert_error(response, 409, "STALE_FILE_HASH")
    assert api.deltas(sid, cursor) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"conflictId": "00000000-0000-0000-0000-000000000000"}, 404, "CONFLICT_NOT_FOUND"),
        ({"conflictId": "x" * 200}, 404, "CONFLICT_NOT_FOUND"),
        ({"conflictId": "x" * 201}, 422, None),
        ({"conflictId": "a\u0000b"}, 422, None),
        ({"conflictId": 7}, 422, None),
        ({}, 422, None),
        ({"conflictId": "c", "expectedFileHash": "zz"}, 422, None),
    ],
)
def test_reopen_refuses_unknown_and_malformed_ids(
    api: Api, body: dict[str, Any], status: int, code: str | None
) -> None:
    assert_error(api.post(REOPEN, body), status, code)


def test_reopen_of_an_open_conflict_or_another_workspaces_is_refused(
    api: Api, other_api: Api
) -> None:
    sid = api.source()["id"]
    clash = api.open_conflict(sid)
    assert_error(api.post(REOPEN, {"conflictId": clash["id"]}), 409, "CONFLICT_OPEN")
    api.resolve(clash["id"], "keep_local")
    assert_error(other_api.post(REOPEN, {"conflictId": clash["id"]}), 404, "CONFLICT_NOT_FOUND")
    other_source = other_api.source()["id"]
    wrong_source = {"conflictId": clash["id"], "sourceId": other_source}
    assert_error(api.post(REOPEN, wrong_source), 404, "CONFLICT_NOT_FOUND")
    assert api.conflicts(sid, status="resolved")[0]["id"] == clash["id"]


async def test_reopen_over_graphql(gq: Gq, other_gq: Gq, api: Api) -> None:
    sid, clash, _ = _resolved(api, "keep_local")
    assert (await other_gq.error(GQL_REOPEN, id=clash["id"]))["extensions"]["reason"] == (
        "CONFLICT_NOT_FOUND"
    )

    data = await gq.run(GQL_REOPEN, id=clash["id"], expected=sha(clash["local"]))
    reopened = data["reopenConflict"]
    assert reopened["conflict"]["status"] == "OPEN"
    assert reopened["conflict"]["localHash"] == sha(clash["local"])
    assert reopened["hash"] == sha(clash["remote"])

    error = await gq.error(GQL_REOPEN, id=clash["id"])
    assert error["extensions"]["reason"] == "CONFLICT_OPEN"
    api.resolve(clash["id"], "keep_local")
    api.push(sid, upsert(clash["path"], "later\n", base=sha(clash["local"])))
    error = await gq.error(GQL_REOPEN, id=clash["id"])
    assert error["extensions"]["reason"] == "FILE_CHANGED_SINCE_RESOLUTION"


def test_reopen_refuses_when_what_was_current_is_gone_from_history(
    api: Api, db_engine: Engine
) -> None:
    """History pruned between the conflict and its resolution: the old current is unknown."""
    sid, clash, cursor = _resolved(api)
    remote = next(v for v in api.history(sid, clash["path"]) if v["hash"] == sha(clash["remote"]))
    with db_engine.begin() as connection:
        connection.execute(
            text(
                "DELETE FROM versions WHERE seq = :seq AND file_id ="
                " (SELECT id FROM files WHERE source_id = :sid AND relative_path = :path)"
            ),
            {"seq": remote["seq"], "sid": sid, "path": clash["path"]},
        )

    assert_error(api.post(REOPEN, {"conflictId": clash["id"]}), 409, "HISTORY_INCOMPLETE")
    assert api.deltas(sid, cursor) == []


def test_reopen_brings_back_a_delete_that_was_current(api: Api) -> None:
    """The file was deleted when the conflict opened: reopening deletes it again."""
    sid = api.source()["id"]
    api.push(sid, upsert("d.md", "v1\n"))
    api.push(sid, delete("d.md", sha("v1\n")))
    clash = api.push(sid, upsert("d.md", "v2\n", base=sha("v1\n")))["results"][0]
    assert clash["status"] == "conflict"
    api.resolve(clash["conflictId"], "keep_local")
    cursor = api.deltas(sid)[-1]["cursor"]

    answer = api.call(REOPEN, {"conflictId": clash["conflictId"]})

    assert answer["hash"] is None
    assert [e["type"] for e in api.deltas(sid, cursor)] == ["conflict.opened", "file.delete"]
    file = api.file(sid, "d.md")
    assert file["state"] == "conflict" and file["hash"] is None
    assert api.history(sid, "d.md")[0]["deleted"] is True
    api.resolve(clash["conflictId"], "keep_local")
    assert api.file(sid, "d.md")["hash"] == sha("v2\n")


def test_a_conflict_whose_sides_converged_does_not_reopen(api: Api) -> None:
    sid = api.source()["id"]
    clash = api.open_conflict(sid)
    converged = api.push(sid, upsert(clash["path"], clash["remote"], base=sha(clash["base"])))
    assert converged["results"][0]["status"] == "applied"
    assert api.conflicts(sid, status="resolved")[0]["resolution"] == "converged"

    response = api.post(REOPEN, {"conflictId": clash["id"]})

    assert_error(response, 409, "CONFLICT_CONVERGED")


def test_reopening_a_resolution_that_deleted_the_file_counts_it_again(api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("keep.md", "k\n"), upsert("gone.md", "v1\n"))
    api.update(sid, "gone.md", "raven\n", base=sha("v1\n"))
    clash = api.push(sid, delete("gone.md", sha("v1\n")))["results"][0]
    assert clash["status"] == "conflict"

    def counted() -> tuple[int, int]:
        (source,) = [s for s in api.sources() if s["id"] == sid]
        return source["fileCount"], source["openConflicts"]

    assert counted() == (2, 1)
    api.resolve(clash["conflictId"], "keep_local")  # the delete wins
    assert counted() == (1, 0)
    api.call(REOPEN, {"conflictId": clash["conflictId"]})
    assert counted() == (2, 1)
    assert api.file(sid, "gone.md")["hash"] == sha("raven\n")
    api.resolve(clash["conflictId"], "keep_local")
    assert counted() == (1, 0)
