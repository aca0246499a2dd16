"""Edits that reach a path after its file moved away follow the file.

A connector that has not yet seen a move still pushes to the old path, on the
base it last synced. The edit lands on the moved file by the normal rules
(applied, merged or a conflict at the new path) and never brings the old path
back; a new file pushed there (no base) is a new file.
"""

import pytest

from tests.factories import Api, delete, sha, upsert

BASE = "# Plan\none\ntwo\nthree\n"


@pytest.fixture
def moved(api: Api) -> str:
    """A source where ``a.md`` (content BASE) was moved to ``b.md``."""
    sid: str = api.source()["id"]
    api.push(sid, upsert("a.md", BASE))
    result = api.push(sid, upsert("b.md", BASE, base=sha(BASE), renameFrom="a.md"))
    assert result["results"][0]["status"] == "applied"
    return sid


def _paths(api: Api, source_id: str) -> set[str]:
    return {f["relativePath"] for f in api.files(source_id)}


def test_an_edit_on_the_old_base_lands_at_the_new_path(api: Api, moved: str) -> None:
    edited = BASE.replace("two", "TWO")
    result = api.push(moved, upsert("a.md", edited, base=sha(BASE)))["results"][0]
    assert (result["status"], result["relativePath"]) == ("applied", "b.md")
    assert api.file(moved, "b.md")["content"] == edited
    assert _paths(api, moved) == {"b.md"}


def test_an_edit_that_raced_another_merges_at_the_new_path(api: Api, moved: str) -> None:
    api.push(moved, upsert("b.md", BASE.replace("one", "ONE"), base=sha(BASE)))
    result = api.push(moved, upsert("a.md", BASE.replace("three", "3"), base=sha(BASE)))
    assert result["results"][0]["status"] == "merged"
    assert api.file(moved, "b.md")["content"] == "# Plan\nONE\ntwo\n3\n"
    assert _paths(api, moved) == {"b.md"}


def test_colliding_edits_open_the_conflict_at_the_new_path(api: Api, moved: str) -> None:
    api.push(moved, upsert("b.md", BASE.replace("two", "mine"), base=sha(BASE)))
    result = api.push(moved, upsert("a.md", BASE.replace("two", "theirs"), base=sha(BASE)))
    first = result["results"][0]
    assert first["status"] == "conflict"
    [conflict] = api.conflicts(moved)
    assert (conflict["id"], conflict["relativePath"]) == (first["conflictId"], "b.md")
    assert _paths(api, moved) == {"b.md"}


def test_a_delete_on_the_old_base_deletes_the_moved_file(api: Api, moved: str) -> None:
    result = api.push(moved, delete("a.md", sha(BASE)))["results"][0]
    assert (result["status"], result["relativePath"]) == ("applied", "b.md")
    assert _paths(api, moved) == set()
    history = api.history(moved, "b.md")
    assert history[0]["deleted"] and history[1]["movedFrom"] == "a.md"


def test_a_delete_of_content_changed_since_opens_a_conflict(api: Api, moved: str) -> None:
    api.push(moved, upsert("b.md", BASE + "more\n", base=sha(BASE)))
    result = api.push(moved, delete("a.md", sha(BASE)))["results"][0]
    assert result["status"] == "conflict"
    assert api.conflicts(moved)[0]["relativePath"] == "b.md"


def test_a_new_file_at_the_old_path_is_a_new_file(api: Api, moved: str) -> None:
    result = api.push(moved, upsert("a.md", "new\n"))["results"][0]
    assert (result["status"], result["relativePath"]) == ("applied", "a.md")
    assert [v["movedFrom"] for v in api.history(moved, "a.md")] == [None]
    late = api.push(moved, upsert("a.md", BASE + "late\n", base=sha(BASE)))["results"][0]
    assert late["relativePath"] == "a.md"  # the path holds a file again: it is that file's
    assert api.file(moved, "b.md")["content"] == BASE


def test_an_edit_follows_a_chain_of_moves(api: Api, moved: str) -> None:
    api.push(moved, upsert("c/d.md", BASE, base=sha(BASE), renameFrom="b.md"))
    edited = BASE + "four\n"
    result = api.push(moved, upsert("a.md", edited, base=sha(BASE)))["results"][0]
    assert result["relativePath"] == "c/d.md"
    assert _paths(api, moved) == {"c/d.md"}


def test_a_replayed_followed_edit_is_a_duplicate(api: Api, moved: str) -> None:
    item = upsert("a.md", BASE + "x\n", base=sha(BASE), op="late-1")
    assert api.push(moved, item)["results"][0]["status"] == "applied"
    again = api.push(moved, item)["results"][0]
    assert again["status"] == "duplicate"
    assert len(api.history(moved, "b.md")) == 3
