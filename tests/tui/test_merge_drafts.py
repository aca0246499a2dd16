"""Merge drafts on disk: per server, workspace, conflict and revision; never trusted blindly."""

from pathlib import Path

from tui.client import Decision
from tui.drafts import Draft, DraftStore


def _store(root: Path, workspace: str = "ws-a") -> DraftStore:
    return DraftStore("http://sync.example.org", workspace, root)


def test_a_draft_comes_back_in_its_revision_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    draft = Draft(revision=3, decisions=[Decision(1, "LOCAL"), Decision(2, "EDITED", "mine\n")])
    store.save_soon("c1", draft)
    store.close()
    again = _store(tmp_path)
    assert _store(tmp_path, "ws-b").load("c1", 3) is None  # another workspace's
    assert again.load("c1", 3) == draft
    assert again.load("c1", 4) is None  # the conflict changed: the draft is dropped
    assert again.load("c1", 3) is None
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_or_empty_draft_leaves_no_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save("c1", Draft(revision=1, decisions=[Decision(1, "RAVEN")]))
    [path] = tmp_path.iterdir()
    path.write_text("{not json")
    assert store.load("c1", 1) is None and not path.exists()
    store.save("c1", Draft(revision=1, decisions=[Decision(1, "RAVEN")]))
    store.save("c1", Draft(revision=1, decisions=[]))  # nothing chosen any more
    assert list(tmp_path.iterdir()) == []


def test_writes_after_close_still_land(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.close()
    store.save_soon("c1", Draft(revision=1, decisions=[], whole="KEEP_LOCAL")).result()
    assert store.load("c1", 1) == Draft(revision=1, decisions=[], whole="KEEP_LOCAL")
