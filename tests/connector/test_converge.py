"""Two folders bound to one bidirectional source converge through the real server."""

from pathlib import Path

from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api, sha


def settle(syncer: Syncer, *folders: Path) -> None:
    """Run each folder once, twice around, the way two machines would take turns."""
    for _ in range(2):
        for folder in folders:
            result = syncer.once(folder)
            assert result.exit_code == 0, result.output


def test_create_edit_delete_nested_unicode(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "top.md", "# Top\n")
    write(a, "deep/er/nested.md", "nested\n")
    write(a, "notes/café ☕.md", "unicode name\n")
    write(a, "ignored.txt", "not markdown\n")
    settle(syncer, a, b)
    assert tree(b) == {k: v for k, v in tree(a).items() if k.endswith(".md")}
    assert "ignored.txt" not in tree(b)

    write(b, "top.md", "# Top\nedited in b\n")
    (b / "deep/er/nested.md").unlink()
    write(b, "new/in-b.md", "from b\n")
    settle(syncer, b, a)
    assert tree(a) == {**tree(b), "ignored.txt": "not markdown\n"}
    assert not (a / "deep").exists()
    assert tree(a)["top.md"] == "# Top\nedited in b\n"
    files = {f["relativePath"]: f["hash"] for f in api.files(source_id(a))}
    assert files["top.md"] == sha("# Top\nedited in b\n")
    assert "deep/er/nested.md" not in files


def test_rename_is_delete_plus_upsert(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "old.md", "same bytes\n")
    settle(syncer, a, b)
    (a / "old.md").rename(a / "renamed.md")
    settle(syncer, a, b)
    assert tree(b) == {"renamed.md": "same bytes\n"}


def test_non_overlapping_edits_merge(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    base = "# Doc\n\nfirst\n\nmiddle\n\nlast\n"
    write(a, "doc.md", base)
    settle(syncer, a, b)
    write(a, "doc.md", base.replace("first", "first (a)"))
    write(b, "doc.md", base.replace("last", "last (b)"))
    settle(syncer, a, b)
    merged = base.replace("first", "first (a)").replace("last", "last (b)")
    assert tree(a) == tree(b) == {"doc.md": merged}
    assert api.conflicts(source_id(a)) == []


def test_overlapping_edits_conflict_then_resolution_lands(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "clash.md", "# T\nbase line\n")
    settle(syncer, a, b)
    write(a, "clash.md", "# T\nline from a\n")
    write(b, "clash.md", "# T\nline from b\n")
    assert syncer.once(a).exit_code == 0
    result = syncer.once(b)
    assert result.exit_code == 1, result.output
    assert "conflict" in result.output and "clash.md" in result.output
    # The local side is never overwritten while the conflict is open.
    assert tree(b) == {"clash.md": "# T\nline from b\n"}
    assert syncer.once(a).exit_code == 1
    assert tree(a) == {"clash.md": "# T\nline from a\n"}

    (conflict,) = api.conflicts(source_id(a))
    resolution = "# T\nline from a\nline from b\n"
    api.resolve(conflict["id"], "manual_merge", resolvedContent=resolution)
    settle(syncer, a, b)
    assert tree(a) == tree(b) == {"clash.md": resolution}


def test_local_edit_after_push_before_pull_survives(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "one\n\ntwo\n\nthree\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    # A Raven-side edit lands on the server while the local file is edited, unpushed.
    api.update(sid, "n.md", "one (raven)\n\ntwo\n\nthree\n", base=sha("one\n\ntwo\n\nthree\n"))
    write(a, "n.md", "one\n\ntwo\n\nthree (local)\n")
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert tree(a) == {"n.md": "one (raven)\n\ntwo\n\nthree (local)\n"}
    assert api.file(sid, "n.md")["content"] == "one (raven)\n\ntwo\n\nthree (local)\n"


def test_own_echo_is_not_rewritten(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "e.md", "echo\n")
    assert syncer.once(a).exit_code == 0
    before = (a / "e.md").stat().st_mtime_ns
    assert syncer.once(a).exit_code == 0
    assert (a / "e.md").stat().st_mtime_ns == before
    assert len(api.history(source_id(a), "e.md")) == 1
