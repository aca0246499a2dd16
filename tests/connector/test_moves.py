"""Renames and moves between two real folders syncing through one real server.

A rename found by a scan goes to the server as a move (history follows the
file), and the other folder renames its file instead of deleting it and
writing it again: the inode it had survives, which a delete plus write cannot
fake.
"""

from pathlib import Path

from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api, sha

V1, V2 = "# Doc\n\nfirst\n\nmiddle\n\nlast\n", "# Doc\n\nfirst\n\nmiddle, edited\n\nlast\n"


def settle(syncer: Syncer, *folders: Path) -> None:
    for _ in range(2):
        for folder in folders:
            result = syncer.once(folder)
            assert result.exit_code == 0, result.output


def _pair(syncer: Syncer, tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for rel, text in files.items():
        write(a, rel, text)
    settle(syncer, a, b)
    return a, b


def test_a_renamed_file_keeps_its_history_on_both_sides(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1})
    write(a, "doc.md", V2)
    settle(syncer, a, b)
    inode = (b / "doc.md").stat().st_ino
    (a / "sub").mkdir()
    (a / "doc.md").rename(a / "sub" / "renamed.md")
    settle(syncer, a, b)
    assert tree(a) == tree(b) == {"sub/renamed.md": V2}
    assert (b / "sub" / "renamed.md").stat().st_ino == inode  # renamed there, not rewritten
    history = api.history(source_id(a), "sub/renamed.md")
    assert [(v["hash"], v["movedFrom"]) for v in history] == [
        (sha(V2), "doc.md"),
        (sha(V2), None),
        (sha(V1), None),
    ]
    assert [f["relativePath"] for f in api.files(source_id(a))] == ["sub/renamed.md"]


def test_a_renamed_folder_moves_every_file_past_the_delete_limits(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    files = {f"notes/{i:03}.md": f"note {i}\n" for i in range(150)}
    a, b = _pair(syncer, tmp_path, {**files, "keep.md": "k\n"})
    inodes = {rel: (b / rel).stat().st_ino for rel in files}
    (a / "notes").rename(a / "archive")
    settle(syncer, a, b)  # 150 vanished paths, but no safety stop: they are moves
    moved = {"archive/" + rel.removeprefix("notes/"): text for rel, text in files.items()}
    assert tree(a) == tree(b) == {**moved, "keep.md": "k\n"}
    assert not (b / "notes").exists()
    for rel in files:
        new = "archive/" + rel.removeprefix("notes/")
        assert (b / new).stat().st_ino == inodes[rel]
    sid = source_id(a)
    assert api.history(sid, "archive/007.md")[0]["movedFrom"] == "notes/007.md"
    assert next(s for s in api.sources() if s["id"] == sid)["fileCount"] == 151


def test_an_edit_made_before_seeing_a_move_lands_at_the_new_path(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1})
    (a / "doc.md").rename(a / "moved.md")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    raven = V1.replace("first", "first (raven)")
    api.update(sid, "moved.md", raven, base=sha(V1))
    write(b, "doc.md", V1.replace("last", "last (b)"))  # b has not seen the move
    settle(syncer, b, a)
    merged = V1.replace("first", "first (raven)").replace("last", "last (b)")
    assert tree(a) == tree(b) == {"moved.md": merged}
    assert [f["relativePath"] for f in api.files(sid)] == ["moved.md"]
    assert api.conflicts(sid) == []


def test_a_colliding_edit_before_seeing_a_move_is_a_conflict_at_the_new_path(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1})
    (a / "doc.md").rename(a / "moved.md")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.update(sid, "moved.md", V1.replace("middle", "middle (raven)"), base=sha(V1))
    write(b, "doc.md", V1.replace("middle", "middle (b)"))
    result = syncer.once(b)
    assert result.exit_code == 1, result.output
    [conflict] = api.conflicts(sid)
    assert conflict["relativePath"] == "moved.md"
    assert "doc.md" not in {f["relativePath"] for f in api.files(sid)}
    contents = {api.call("sources/conflicts/preview", {"conflictId": conflict["id"]})["localHash"]}
    assert contents == {sha(V1.replace("middle", "middle (b)"))}


def test_a_delete_made_before_seeing_a_move_deletes_the_moved_file(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1, "keep.md": "k\n"})
    (a / "doc.md").rename(a / "moved.md")
    assert syncer.once(a).exit_code == 0
    (b / "doc.md").unlink()
    settle(syncer, b, a)
    assert tree(a) == tree(b) == {"keep.md": "k\n"}
    history = api.history(source_id(a), "moved.md")
    assert history[0]["deleted"] and history[1]["movedFrom"] == "doc.md"


def test_a_move_onto_a_taken_path_falls_back_and_loses_nothing(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"x.md": V1})
    write(b, "y.md", "made in b\n")
    assert syncer.once(b).exit_code == 0
    (a / "x.md").rename(a / "y.md")  # a has not seen b's y.md
    result = syncer.once(a)
    assert result.exit_code == 1, result.output
    sid = source_id(a)
    [conflict] = api.conflicts(sid)
    assert conflict["relativePath"] == "y.md"
    assert {conflict["localHash"], conflict["remoteHash"]} == {sha(V1), sha("made in b\n")}
    assert "x.md" not in {f["relativePath"] for f in api.files(sid)}
    assert api.history(sid, "x.md")[0]["deleted"]
