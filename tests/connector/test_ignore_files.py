"""Ignore files at every level, with git's precedence, and ignoring never deletes."""

from pathlib import Path

import pathspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.ignore import Rules, _matcher
from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api, sha, upsert


def live_paths(api: Api, folder: Path) -> set[str]:
    return {f["relativePath"] for f in api.files(source_id(folder))}


def test_nested_ignore_files_follow_git_precedence(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, ".gitignore", "*.draft.md\nbuild/\n/top-only.md\nsecret/\n")
    write(a, "docs/.gitignore", "!keep.draft.md\nlocal/*.md\n")
    write(a, "docs/deep/.localsyncignore", "*.md\n!wanted.md\n")
    write(a, "docs/deep/.gitignore", "wanted.md\n")  # read first: .localsyncignore wins
    write(a, ".localsyncignore", "scratch.md\n")
    files = {
        "a.md": "synced",
        "x.draft.md": "root ignore",
        "docs/y.draft.md": "root pattern reaches below",
        "docs/keep.draft.md": "re-included by a deeper negation",
        "docs/local/l.md": "anchored to docs/",
        "local/l.md": "docs/'s anchored pattern does not reach here",
        "top-only.md": "anchored at root",
        "docs/top-only.md": "only the root's top-only.md is ignored",
        "build/b.md": "directory-only pattern",
        "docs/build/b.md": "directory pattern without slash inside: any depth",
        "docs/deep/d.md": "ignored by the deepest file",
        "docs/deep/wanted.md": "re-included by the deepest file",
        "secret/s.md": "inside an ignored directory",
        "scratch.md": "ignored by .localsyncignore",
        "docs/scratch.md": "unanchored: any depth",
    }
    for rel, text in files.items():
        write(a, rel, text + "\n")
    # A file inside an ignored directory cannot be re-included (git never reads it).
    write(a, "secret/.gitignore", "!s.md\n")

    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert live_paths(api, a) == {
        "a.md",
        "docs/keep.draft.md",
        "local/l.md",
        "docs/top-only.md",
        "docs/deep/wanted.md",
    }
    assert "not synced (ignored by docs/.gitignore): docs/local/l.md" in result.output
    assert "not synced (ignored by .gitignore): docs/y.draft.md" in result.output
    assert "not synced (ignored by docs/deep/.localsyncignore): docs/deep/d.md" in result.output
    assert "not synced (ignored by .localsyncignore): docs/scratch.md" in result.output


def test_ignoring_synced_files_deletes_nothing_anywhere(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "keep.md", "keep\n")
    write(a, "notes/n.md", "note\n")
    write(a, "notes/sub/s.md", "sub\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    # Another client adds a file the folder will ignore.
    api.push(sid, upsert("notes/remote.md", "from elsewhere\n", None))

    write(a, "notes/.localsyncignore", "*.md\n")
    write(a, "notes/sub/.gitignore", "# nothing\n")
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert "not synced (ignored by notes/.localsyncignore): notes/n.md" in result.output
    # The ignored remote file was not written here, and nothing was deleted anywhere.
    assert set(tree(a)) == {
        "keep.md",
        "notes/n.md",
        "notes/sub/s.md",
        "notes/.localsyncignore",
        "notes/sub/.gitignore",
    }
    assert live_paths(api, a) == {"keep.md", "notes/n.md", "notes/sub/s.md", "notes/remote.md"}

    # Removing an ignored file locally, or the server changing one, deletes nothing either.
    (a / "notes/n.md").unlink()
    api.push(sid, upsert("notes/sub/s.md", "changed remotely\n", sha("sub\n")))
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert live_paths(api, a) == {"keep.md", "notes/n.md", "notes/sub/s.md", "notes/remote.md"}
    assert (a / "notes/sub/s.md").read_text() == "sub\n"

    # A deeper file re-including a path makes it sync again: the local edit is pushed
    # on the base it was made on, so meeting the remote edit it becomes a conflict.
    write(a, "notes/sub/.gitignore", "!s.md\n")
    write(a, "notes/sub/s.md", "edited here\n")
    result = syncer.once(a)
    assert result.exit_code == 1, result.output  # local "sub" vs remote edit: a conflict
    assert any(c["relativePath"] == "notes/sub/s.md" for c in api.conflicts(sid))


PATTERNS = ["**/*.md", "*.md", "docs/", "/top.md", "a/**/b", "x?.md", "[ab]*", "**/tmp/**", ""]
SEGMENTS = st.sampled_from(["a", "b", "docs", "top.md", "x1.md", "n.md", "tmp", "c.txt", "é.md"])


@given(
    patterns=st.lists(st.sampled_from(PATTERNS), max_size=4),
    parts=st.lists(SEGMENTS, min_size=1, max_size=4),
    is_dir=st.booleans(),
)
def test_the_fast_matcher_agrees_with_pathspec(
    patterns: list[str], parts: list[str], is_dir: bool
) -> None:
    path = "/".join(parts) + ("/" if is_dir else "")
    expected = pathspec.GitIgnoreSpec.from_lines(patterns).match_file(path)
    assert _matcher(patterns)(path) == expected


EXCLUDES = [*PATTERNS, "!keep.md", "!a/n.md", "**/x1.md"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    include=st.lists(st.sampled_from(PATTERNS), max_size=3),
    exclude=st.lists(st.sampled_from(EXCLUDES), max_size=3),
    parts=st.lists(SEGMENTS, min_size=1, max_size=4),
)
def test_the_one_call_file_test_agrees_with_reason(
    tmp_path_factory: pytest.TempPathFactory,
    include: list[str],
    exclude: list[str],
    parts: list[str],
) -> None:
    """Where no ignore file applies, ``quick`` says "synced" exactly when ``reason`` does
    (negated excludes included, which need pathspec's own precedence)."""
    rules = Rules(tmp_path_factory.mktemp("empty"), include, exclude, 1024)
    path = "/".join(parts)
    parent = path.rpartition("/")[0]
    if rules.dir_reason(parent) is not None:
        return  # the walk never lists such a directory
    quick = rules.quick(parent)
    assert quick is not None
    assert bool(quick(path)) == (rules.reason(path) is None)


def test_directories_an_ignore_file_applies_to_are_judged_line_by_line(tmp_path: Path) -> None:
    write(tmp_path, "docs/.gitignore", "*.md\n!keep.md\n")
    rules = Rules(tmp_path, None, [], 1024)
    rules.listed("", ["docs", "a"])
    rules.listed("a", ["n.md"])
    rules.listed("docs", [".gitignore", "keep.md", "drop.md"])
    assert rules.quick("a") is not None and rules.quick("") is not None
    assert rules.quick("docs") is None  # its own .gitignore: ``reason`` decides there
    assert rules.reason("docs/drop.md") == "ignored by docs/.gitignore"
    assert rules.reason("docs/keep.md") is None
    write(tmp_path, "a/.gitignore", "*.md\n")  # appeared after ``a`` was listed without one
    assert Rules(tmp_path, None, [], 1024).reason("a/n.md") == "ignored by a/.gitignore"
