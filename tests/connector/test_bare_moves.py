"""A renamed file is pushed as a move without its content, and falls back safely.

A path that appears with the (inode, size, mtime_ns) of a journaled path that
vanished is that file, renamed: the scan does not read it and the push item
carries ``renameFrom`` and ``contentHash`` only. The journal shows what was sent:
a crash right after journaling (the fault hook) leaves the operations in place
to be read. When the server cannot apply such a move (the file there changed, or
is gone) the connector sends it again with the content, and nothing is lost.
"""

import signal
import sqlite3
from pathlib import Path

from connector.engine import EXIT_OK
from connector.state import state_dir
from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api, sha

V1 = "# Doc\n\nfirst\n\nmiddle\n\nlast\n"
FAULT_ENV = "LOCALSYNC_CONNECTOR_FAULT"


def settle(syncer: Syncer, *folders: Path) -> None:
    for _ in range(2):
        for folder in folders:
            result = syncer.once(folder)
            assert result.exit_code == EXIT_OK, result.output


def _pair(syncer: Syncer, tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for rel, text in files.items():
        write(a, rel, text)
    settle(syncer, a, b)
    return a, b


def _journaled(folder: Path) -> dict[str, tuple[bool, bool]]:
    """Pending operations: path -> (is a delete, carries content)."""
    db = sqlite3.connect(state_dir(folder) / "journal.db")
    try:
        rows = db.execute("SELECT path, is_delete, content IS NOT NULL FROM ops").fetchall()
    finally:
        db.close()
    return {path: (bool(d), bool(c)) for path, d, c in rows}


def test_a_renamed_folder_is_pushed_without_content_and_keeps_history(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    files = {f"notes/{i:03}.md": f"note {i}\n" for i in range(120)}
    a, b = _pair(syncer, tmp_path, {**files, "keep.md": "k\n"})
    sid = source_id(a)
    write(a, "notes/000.md", "note 0, edited\n")  # an edit is journaled first, then moved
    settle(syncer, a, b)
    inodes = {rel: (b / rel).stat().st_ino for rel in files}
    (a / "notes").rename(a / "archive")

    killed = syncer.subprocess(a, env={FAULT_ENV: "after-journal"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    ops = _journaled(a)
    moved = {"archive/" + rel.removeprefix("notes/") for rel in files}
    assert {p for p, (d, _) in ops.items() if not d} == moved
    assert {p for p, (d, _) in ops.items() if d} == set(files)
    assert not any(has_content for _, has_content in ops.values())  # nothing read or sent

    settle(syncer, a, b)
    expect = {f"archive/{i:03}.md": f"note {i}\n" for i in range(120)}
    expect["archive/000.md"] = "note 0, edited\n"
    assert tree(a) == tree(b) == {**expect, "keep.md": "k\n"}
    for rel in files:
        assert (b / ("archive/" + rel.removeprefix("notes/"))).stat().st_ino == inodes[rel]
    history = api.history(sid, "archive/000.md")
    assert [(v["hash"], v["movedFrom"]) for v in history] == [
        (sha("note 0, edited\n"), "notes/000.md"),
        (sha("note 0, edited\n"), None),
        (sha("note 0\n"), None),
    ]
    assert api.history(sid, "archive/119.md")[0]["movedFrom"] == "notes/119.md"
    assert next(s for s in api.sources() if s["id"] == sid)["fileCount"] == 121


def test_a_crash_after_a_bare_move_was_applied_replays_as_a_duplicate(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1, "keep.md": "k\n"})
    (a / "doc.md").rename(a / "moved.md")
    killed = syncer.subprocess(a, env={FAULT_ENV: "after-push"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    settle(syncer, a, b)
    assert tree(a) == tree(b) == {"moved.md": V1, "keep.md": "k\n"}
    history = api.history(source_id(a), "moved.md")
    assert [(v["hash"], v["movedFrom"]) for v in history] == [(sha(V1), "doc.md"), (sha(V1), None)]


def test_a_move_of_a_file_edited_elsewhere_meanwhile_is_sent_again_with_content(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1, "keep.md": "k\n"})
    sid = source_id(a)
    raven = V1.replace("middle", "middle (raven)")
    api.update(sid, "doc.md", raven, base=sha(V1))  # a has not pulled this yet
    (a / "doc.md").rename(a / "moved.md")
    settle(syncer, a, b)
    assert tree(a) == tree(b) == {"moved.md": raven, "keep.md": "k\n"}
    assert {f["relativePath"] for f in api.files(sid)} == {"moved.md", "keep.md"}
    history = api.history(sid, "moved.md")  # moved with its history, then merged
    assert history[0]["hash"] == sha(raven)
    assert (sha(raven), "doc.md") in [(v["hash"], v["movedFrom"]) for v in history]
    assert (history[-1]["hash"], history[-1]["movedFrom"]) == (sha(V1), None)
    assert api.conflicts(sid) == []


def test_a_move_of_a_file_deleted_elsewhere_meanwhile_keeps_the_file(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1, "keep.md": "k\n"})
    sid = source_id(a)
    (b / "doc.md").unlink()
    assert syncer.once(b).exit_code == EXIT_OK  # the server's doc.md is gone
    (a / "doc.md").rename(a / "moved.md")
    settle(syncer, a, b)
    assert tree(a) == tree(b) == {"moved.md": V1, "keep.md": "k\n"}
    assert api.file(sid, "moved.md")["content"] == V1
    assert {f["relativePath"] for f in api.files(sid)} == {"moved.md", "keep.md"}


def test_a_copy_then_delete_is_read_and_still_a_move(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = _pair(syncer, tmp_path, {"doc.md": V1, "keep.md": "k\n"})
    write(a, "copy.md", V1)  # a new inode: the scan reads it and pairs it by hash
    (a / "doc.md").unlink()
    settle(syncer, a, b)
    assert tree(a) == tree(b) == {"copy.md": V1, "keep.md": "k\n"}
    assert api.history(source_id(a), "copy.md")[0]["movedFrom"] == "doc.md"
