"""``ConflictRegion.wordChanges``: the merge engine's word diff of a region's lines."""

from typing import Any

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

PATH = "notes/words.md"
BASE = "# Title\n\nthe quick brown fox\njumps over\n\nend\n"
LOCAL = "# Title\n\nthe quick red fox\njumps over it\nand runs\n\nend\n"
RAVEN = "# Title\n\nthe slow brown fox\njumps under\n\nend\n"

WORDS = """
query($id: ID!) {
  conflict(id: $id) {
    preview {
      baseKnown
      regions { index base local remote wordChanges { old new offset segments { kind text } } }
    }
  }
}
"""


def _conflict(api: Api, base: str | None) -> str:
    sid = api.source(autoMerge=False)["id"]
    api.push(sid, upsert(PATH, BASE))
    edit = api.update(sid, PATH, RAVEN, base=sha(BASE))
    assert edit["status"] == "ok", edit
    item = api.push(sid, upsert(PATH, LOCAL, base=base))["results"][0]
    assert item["status"] == "conflict", item
    return str(item["conflictId"])


def _segments(change: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["kind"], s["text"]) for s in change["segments"]]


def _spell(change: dict[str, Any], keep: str) -> str:
    return "".join(s["text"] for s in change["segments"] if s["kind"] in ("equal", keep))


async def test_word_changes_against_base_then_between_sides(api: Api, gq: Gq) -> None:
    conflict_id = _conflict(api, sha(BASE))
    preview = (await gq.run(WORDS, id=conflict_id))["conflict"]["preview"]
    assert preview["baseKnown"] is True
    [region] = preview["regions"]
    changes = region["wordChanges"]
    pairs = [(c["old"], c["new"], c["offset"]) for c in changes]
    # Each side against the base, then local against remote; paired by position only,
    # so local's third line ("and runs") has no partner anywhere.
    assert pairs == [
        ("BASE", "LOCAL", 0),
        ("BASE", "LOCAL", 1),
        ("BASE", "REMOTE", 0),
        ("BASE", "REMOTE", 1),
        ("LOCAL", "REMOTE", 0),
        ("LOCAL", "REMOTE", 1),
    ]
    assert _segments(changes[0]) == [
        ("equal", "the quick "),
        ("delete", "brown"),
        ("insert", "red"),
        ("equal", " fox"),
    ]
    assert _segments(changes[1]) == [("equal", "jumps over"), ("insert", " it")]
    assert _segments(changes[4]) == [
        ("equal", "the "),
        ("delete", "quick"),
        ("insert", "slow"),
        ("equal", " "),
        ("delete", "red"),
        ("insert", "brown"),
        ("equal", " fox"),
    ]
    # The segments spell both lines, without line endings.
    versions = {"BASE": region["base"], "LOCAL": region["local"], "REMOTE": region["remote"]}
    for change in changes:
        offset = change["offset"]
        assert _spell(change, "delete") == versions[change["old"]].splitlines()[offset]
        assert _spell(change, "insert") == versions[change["new"]].splitlines()[offset]


async def test_word_changes_without_base_compare_the_sides(api: Api, gq: Gq) -> None:
    conflict_id = _conflict(api, sha("content this server never stored\n"))
    preview = (await gq.run(WORDS, id=conflict_id))["conflict"]["preview"]
    assert preview["baseKnown"] is False
    for region in preview["regions"]:
        assert region["base"] == ""
        assert {(c["old"], c["new"]) for c in region["wordChanges"]} <= {("LOCAL", "REMOTE")}
    changes = [c for r in preview["regions"] for c in r["wordChanges"]]
    assert ("delete", "quick") in _segments(changes[0])
    assert ("insert", "slow") in _segments(changes[0])
