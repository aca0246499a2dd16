"""push-batch: one batch mixing plain writes and conflicts numbers its events gaplessly.

A batch counts its plain writes' cursors on its own and hands the count to the
source row before a conflict path (which emits through the row) runs, then
takes up again after it: the events must still run 1..N in item order.
"""

from typing import Any

from tests.factories import Api, sha, upsert

BASE, REMOTE = "# Title\nbase line\n", "# Title\nremote line\n"


def _cursors_and_kinds(api: Api, source_id: str, after: int) -> list[tuple[int, str, str]]:
    events = api.deltas(source_id, cursor=after)
    return [(e["cursor"], e["type"], e["relativePath"]) for e in events]


def _source(api: Api, source_id: str) -> dict[str, Any]:
    [found] = [s for s in api.sources() if s["id"] == source_id]
    return found


def test_plain_writes_around_conflict_paths_keep_cursors_gapless_and_in_order(api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", BASE))
    api.push(sid, upsert("a.md", REMOTE, base=sha(BASE)))
    result = api.push(
        sid,
        upsert("x.md", "x"),
        upsert("a.md", "# Title\nlocal line\n", base=sha(BASE)),  # opens a conflict
        upsert("y.md", "y"),
        upsert("a.md", "# Title\nlocal again\n", base=sha(BASE)),  # extends it
        upsert("z.md", "z"),
    )
    assert [r["status"] for r in result["results"]] == [
        "applied",
        "conflict",
        "applied",
        "conflict",
        "applied",
    ]
    assert _cursors_and_kinds(api, sid, after=2) == [
        (3, "file.upsert", "x.md"),
        (4, "conflict.opened", "a.md"),
        (5, "file.upsert", "y.md"),
        (6, "conflict.updated", "a.md"),
        (7, "file.upsert", "z.md"),
    ]
    assert result["eventCursor"] == 7
    assert _source(api, sid)["lastCursor"] == 7

    # The next batch continues from the settled count, through a conflict again.
    follow = api.push(sid, upsert("a.md", "# Title\nthird\n", base=sha(BASE)), upsert("w.md", "w"))
    assert follow["eventCursor"] == 9
    assert _cursors_and_kinds(api, sid, after=7) == [
        (8, "conflict.updated", "a.md"),
        (9, "file.upsert", "w.md"),
    ]
    assert _source(api, sid)["lastCursor"] == 9


def test_a_conflict_first_then_plain_writes_continue_after_it(api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", BASE))
    api.push(sid, upsert("a.md", REMOTE, base=sha(BASE)))
    result = api.push(
        sid,
        upsert("a.md", "# Title\nlocal line\n", base=sha(BASE)),
        upsert("b.md", "b"),
        upsert("c.md", "c"),
    )
    assert result["eventCursor"] == 5
    assert _cursors_and_kinds(api, sid, after=2) == [
        (3, "conflict.opened", "a.md"),
        (4, "file.upsert", "b.md"),
        (5, "file.upsert", "c.md"),
    ]
