"""``ConflictRegion.wordChanges``: the merge engine's word diff of a region's lines."""

from typing import Any

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

PATH = "notes/words.md"
BASE = "# Title\n\nthe quick brown fox\njumps over\n\nend\n"
LOCAL = "# Title\n\nthe quick red fox\njumps over it\nand runs\n\nend\n"
RAVEN = "# Title\n\nthe slow brown fox\njumps under\n\nend\n"
BASE_LOCAL = ("BASE", "LOCAL")
BASE_RAVEN = ("BASE", "REMOTE")

WORDS = """
query($id: ID!) {
  conflict(id: $id) {
    preview {
      baseKnown
      regions {
        index base local remote
        wordChanges { old new oldOffset newOffset offset segments { kind text } }
      }
    }
  }
}
"""


def _conflict(
    api: Api, base: str | None, texts: tuple[str, str, str] = (BASE, LOCAL, RAVEN)
) -> str:
    """A conflict on PATH from ``texts`` (base, local, raven); ``base`` is the hash sent."""
    original, local, raven = texts
    sid = api.source(autoMerge=False)["id"]
    api.push(sid, upsert(PATH, original))
    edit = api.update(sid, PATH, raven, base=sha(original))
    assert edit["status"] == "ok", edit
    item = api.push(sid, upsert(PATH, local, base=base))["results"][0]
    assert item["status"] == "conflict", item
    return str(item["conflictId"])


def _segments(change: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["kind"], s["text"]) for s in change["segments"]]


def _spell(change: dict[str, Any], keep: str) -> str:
    return "".join(s["text"] for s in change["segments"] if s["kind"] in ("equal", keep))


def _pairs(changes: list[dict[str, Any]]) -> list[tuple[str, str, int, int]]:
    return [(c["old"], c["new"], c["oldOffset"], c["newOffset"]) for c in changes]


def _assert_segments_spell_the_lines(region: dict[str, Any]) -> None:
    """Equal + delete spell line ``oldOffset`` of ``old``; equal + insert line ``newOffset``."""
    versions = {"BASE": region["base"], "LOCAL": region["local"], "REMOTE": region["remote"]}
    for change in region["wordChanges"]:
        assert change["offset"] == change["oldOffset"]  # the deprecated field
        old_line = versions[change["old"]].splitlines()[change["oldOffset"]]
        new_line = versions[change["new"]].splitlines()[change["newOffset"]]
        assert _spell(change, "delete") == old_line
        assert _spell(change, "insert") == new_line


async def test_word_changes_against_base_then_between_sides(api: Api, gq: Gq) -> None:
    conflict_id = _conflict(api, sha(BASE))
    preview = (await gq.run(WORDS, id=conflict_id))["conflict"]["preview"]
    assert preview["baseKnown"] is True
    [region] = preview["regions"]
    changes = region["wordChanges"]
    # Each side against the base, then local against remote. Every line differs, so
    # each comparison is one changed block paired line by line, and local's third
    # line ("and runs"), beyond the shorter side, has no partner anywhere.
    assert _pairs(changes) == [
        ("BASE", "LOCAL", 0, 0),
        ("BASE", "LOCAL", 1, 1),
        ("BASE", "REMOTE", 0, 0),
        ("BASE", "REMOTE", 1, 1),
        ("LOCAL", "REMOTE", 0, 0),
        ("LOCAL", "REMOTE", 1, 1),
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
    _assert_segments_spell_the_lines(region)


async def test_a_line_inserted_at_the_top_does_not_shift_the_pairs(api: Api, gq: Gq) -> None:
    base = "# Plan\n\nthe quick brown fox\njumps over the dog\n\nend\n"
    local = "# Plan\n\nA new opening line\nthe quick brown fox\njumps over the lazy dog\n\nend\n"
    raven = "# Plan\n\nthe slow brown fox\njumps over the dog\n\nend\n"
    conflict_id = _conflict(api, sha(base), (base, local, raven))
    preview = (await gq.run(WORDS, id=conflict_id))["conflict"]["preview"]
    [region] = preview["regions"]
    assert region["local"].splitlines()[0] == "A new opening line"
    against_local = [c for c in region["wordChanges"] if (c["old"], c["new"]) == BASE_LOCAL]
    # The inserted line has no partner; the base's lines meet their counterparts one
    # line down (an unchanged copy, then the edited line), not whatever local line
    # happens to sit at the same position.
    assert _pairs(against_local) == [("BASE", "LOCAL", 0, 1), ("BASE", "LOCAL", 1, 2)]
    assert _segments(against_local[0]) == [("equal", "the quick brown fox")]
    assert _segments(against_local[1]) == [
        ("equal", "jumps over the "),
        ("insert", "lazy "),
        ("equal", "dog"),
    ]
    against_raven = [c for c in region["wordChanges"] if (c["old"], c["new"]) == BASE_RAVEN]
    assert _pairs(against_raven) == [("BASE", "REMOTE", 0, 0), ("BASE", "REMOTE", 1, 1)]
    assert _segments(against_raven[1]) == [("equal", "jumps over the dog")]
    _assert_segments_spell_the_lines(region)


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
