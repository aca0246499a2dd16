"""Blame over edits, an auto-merge, a resolution and a restore, with the walk's cap."""

from typing import Any

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

BLAME = """
query($id: ID!, $path: String!, $first: Int!, $max: Int) {
  source(id: $id) {
    file(path: $path) {
      versions(first: $first) {
        nodes {
          seq
          blame(maxVersions: $max) {
            seq versionsWalked stopsAt note
            lines { lineNo text seq origin author orOlder recordedAt }
          }
        }
      }
    }
  }
}
"""


async def _blame(gq: Gq, sid: str, path: str, back: int = 0, max: int | None = None) -> Any:
    """Blame of the newest version, or of the one ``back`` versions before it."""
    data = await gq.run(BLAME, id=sid, path=path, first=back + 1, max=max)
    return data["source"]["file"]["versions"]["nodes"][back]["blame"]


def _credits(blame: Any) -> list[tuple[str, int]]:
    return [(line["text"], line["seq"]) for line in blame["lines"]]


async def test_blame_follows_a_chain_of_edits_with_authors(gq: Gq, api: Api) -> None:
    connector = api.connector("Work Laptop")
    sid = api.source(connector=connector)["id"]
    v1 = "one\ntwo\nthree\n"
    v2 = "one\nTWO\nthree\n"
    v3 = "one\nTWO\nthree\nfour\n"
    api.push(sid, upsert("a.md", v1), connectorId=connector["id"])
    api.update(sid, "a.md", v2, base=sha(v1))
    api.push(sid, upsert("a.md", v3, base=sha(v2)), connectorId=connector["id"])

    blame = await _blame(gq, sid, "a.md")
    assert _credits(blame) == [("one", 1), ("TWO", 2), ("three", 1), ("four", 3)]
    assert [line["author"] for line in blame["lines"]] == [
        "Work Laptop",
        "Raven",
        "Work Laptop",
        "Work Laptop",
    ]
    assert blame["lines"][1]["origin"] == "RAVEN"
    assert blame["stopsAt"] is None and blame["note"] is None
    assert not any(line["orOlder"] for line in blame["lines"])
    # An older version is blamed as it was then.
    older = await _blame(gq, sid, "a.md", back=1)
    assert _credits(older) == [("one", 1), ("TWO", 2), ("three", 1)]


async def test_a_merged_result_credits_the_side_that_introduced_each_line(gq: Gq, api: Api) -> None:
    sid = api.source()["id"]
    base = "top\nmiddle\nbottom\n"
    raven = "TOP\nmiddle\nbottom\n"
    local = "top\nmiddle\nBOTTOM\n"
    api.push(sid, upsert("m.md", base))  # 1
    api.update(sid, "m.md", raven, base=sha(base))  # 2
    result = api.push(sid, upsert("m.md", local, base=sha(base)))["results"][
        0
    ]  # 3 pushed, 4 merged
    assert result["status"] == "merged"

    blame = await _blame(gq, sid, "m.md")
    assert blame["seq"] == 4
    assert _credits(blame) == [("TOP", 2), ("middle", 1), ("BOTTOM", 3)]


async def test_a_resolution_credits_sides_and_only_typed_lines_to_itself(gq: Gq, api: Api) -> None:
    sid = api.source()["id"]
    clash = api.open_conflict(sid, "c.md")  # 1 base, 2 remote, 3 local side
    merged = "# Title\nlocal line\nremote line\nby hand\n"
    api.resolve(clash["id"], "manual_merge", resolvedContent=merged)  # 4

    blame = await _blame(gq, sid, "c.md")
    assert _credits(blame) == [
        ("# Title", 1),
        ("local line", 3),
        ("remote line", 2),
        ("by hand", 4),
    ]
    assert blame["lines"][3]["author"] == "Local Sync"


async def test_a_restore_is_credited_with_the_lines_it_brings_back(gq: Gq, api: Api) -> None:
    """Restoring is a new edit made from the current version, as a revert is in git."""
    sid = api.source()["id"]
    v1 = "keep\nold\n"
    v2 = "keep\nnew\n"
    api.push(sid, upsert("r.md", v1))
    api.update(sid, "r.md", v2, base=sha(v1))
    restored = await gq.run(
        'mutation($id: String!, $h: String!) { restoreVersion(sourceId: $id, path: "r.md",'
        " hash: $h) { status } }",
        id=sid,
        h=sha(v1),
    )
    assert restored["restoreVersion"]["status"] == "OK"

    blame = await _blame(gq, sid, "r.md")
    assert _credits(blame) == [("keep", 1), ("old", 3)]


async def test_the_walk_stops_at_the_cap_and_says_so(gq: Gq, api: Api) -> None:
    sid = api.source()["id"]
    texts = ["a\n", "a\nb\n", "a\nb\nc\n", "a\nb\nc\nd\n"]
    previous = None
    for text in texts:
        api.push(sid, upsert("cap.md", text, base=previous))
        previous = sha(text)

    blame = await _blame(gq, sid, "cap.md", max=2)
    assert blame["versionsWalked"] == 2
    assert blame["stopsAt"] == 3
    assert "blame stops at version 3" in blame["note"]
    assert _credits(blame) == [("a", 3), ("b", 3), ("c", 3), ("d", 4)]
    assert [line["orOlder"] for line in blame["lines"]] == [True, True, True, False]

    error = await gq.error(
        BLAME, id=sid, path="cap.md", first=1, max=api.settings.blame_max_versions + 1
    )
    assert error["extensions"]["reason"] == "INVALID_LIMIT"


async def test_blame_is_priced_so_a_page_of_blames_is_refused(gq: Gq, api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("p.md", "one\n"))
    assert (await _blame(gq, sid, "p.md"))["lines"][0]["seq"] == 1  # one blame fits the budget

    error = await gq.error(BLAME, id=sid, path="p.md", first=50, max=None)

    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
