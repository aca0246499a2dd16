"""Two-way diff: edit scripts, hunks, applying hunks, unified text, line pairs, word diffs."""

import pytest

from backend.merge import (
    DiffLine,
    Hunk,
    HunkError,
    apply_hunks,
    diff_lines,
    hunks,
    pair_lines,
    unified_diff,
    word_diff,
)

TEN = "".join(f"line {i}\n" for i in range(1, 11))


def test_equal_texts_have_only_equal_lines() -> None:
    lines = diff_lines("a\nb\n", "a\nb\n")
    assert [(d.kind, d.old_no, d.new_no) for d in lines] == [("equal", 1, 1), ("equal", 2, 2)]
    assert hunks("a\nb\n", "a\nb\n") == []
    assert unified_diff("a\nb\n", "a\nb\n") == ""


def test_replacement_lists_deletes_before_inserts() -> None:
    lines = diff_lines("a\nb\nc\n", "a\nB\nc\n")
    assert lines == [
        DiffLine("equal", "a", 1, 1, "a\n"),
        DiffLine("delete", "b", 2, None, "b\n"),
        DiffLine("insert", "B", None, 2, "B\n"),
        DiffLine("equal", "c", 3, 3, "c\n"),
    ]


def test_insertion_at_top_leaves_following_lines_equal() -> None:
    lines = diff_lines(TEN, "new first line\n" + TEN)
    assert [d.kind for d in lines] == ["insert"] + ["equal"] * 10
    assert [d.old_no for d in lines[1:]] == list(range(1, 11))
    assert [d.new_no for d in lines[1:]] == list(range(2, 12))


def test_crlf_is_kept_in_raw_and_stripped_in_text() -> None:
    lines = diff_lines("a\r\nb\r\n", "a\r\nc\r\n")
    assert lines[1] == DiffLine("delete", "b", 2, None, "b\r\n")
    assert lines[2] == DiffLine("insert", "c", None, 2, "c\r\n")


def test_changing_only_the_line_ending_is_a_change() -> None:
    kinds = [d.kind for d in diff_lines("a\nb\n", "a\r\nb\n")]
    assert kinds == ["delete", "insert", "equal"]


def test_missing_final_newline_differs_from_present_one() -> None:
    lines = diff_lines("a\nb", "a\nb\n")
    assert [(d.kind, d.text, d.raw) for d in lines] == [
        ("equal", "a", "a\n"),
        ("delete", "b", "b"),
        ("insert", "b", "b\n"),
    ]


def test_empty_files() -> None:
    assert diff_lines("", "") == []
    assert [d.kind for d in diff_lines("", "x\n")] == ["insert"]
    assert [d.kind for d in diff_lines("x\n", "")] == ["delete"]
    assert unified_diff("", "x\n") == "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n"
    assert unified_diff("x\n", "") == "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n"


def test_diff_line_raw_defaults_to_text_with_newline() -> None:
    assert DiffLine("insert", "x", None, 1).raw == "x\n"


def test_context_zero_gives_one_hunk_per_change() -> None:
    new = TEN.replace("line 2\n", "").replace("line 6\n", "line 6\nextra\n")
    found = hunks(TEN, new, context=0)
    assert [h.header() for h in found] == ["@@ -2 +1,0 @@", "@@ -6,0 +6 @@"]
    assert found[0] == Hunk(2, 1, 1, 0, (DiffLine("delete", "line 2", 2, None, "line 2\n"),))
    assert [d.kind for d in found[1].lines] == ["insert"]


def test_context_fifty_covers_the_whole_file() -> None:
    new = TEN.replace("line 1\n", "LINE 1\n").replace("line 10\n", "LINE 10\n")
    (only,) = hunks(TEN, new, context=50)
    assert (only.old_start, only.old_count, only.new_start, only.new_count) == (1, 10, 1, 10)
    assert [d.kind for d in only.lines].count("equal") == 8


def test_hunks_fuse_when_context_touches_like_git() -> None:
    gap6 = TEN.replace("line 2\n", "X\n").replace("line 9\n", "Y\n")
    gap7 = TEN.replace("line 1\n", "X\n").replace("line 9\n", "Y\n")
    assert len(hunks(gap6, TEN, context=3)) == 1
    assert len(hunks(gap7, TEN, context=3)) == 2


def test_context_is_clipped_at_file_edges() -> None:
    (only,) = hunks(TEN, TEN.replace("line 1\n", "first\n"), context=3)
    assert only.header() == "@@ -1,4 +1,4 @@"


@pytest.mark.parametrize("context", [-1, 51])
def test_context_out_of_range_is_refused(context: int) -> None:
    with pytest.raises(ValueError, match="context"):
        hunks("a\n", "b\n", context)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),
        ("", "a\nb"),
        ("a\nb", ""),
        ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\nd"),
        ("a\nb", "a\nb\n"),
        ("a\nb\n", "a\nb"),
        (TEN, "top\n" + TEN.replace("line 5\n", "") + "bottom"),
    ],
)
@pytest.mark.parametrize("context", [0, 1, 3, 50])
def test_apply_hunks_reproduces_new_exactly(old: str, new: str, context: int) -> None:
    assert apply_hunks(old, hunks(old, new, context)) == new


def test_apply_hunks_refuses_a_hunk_for_another_text() -> None:
    found = hunks(TEN, TEN.replace("line 5\n", "five\n"))
    with pytest.raises(HunkError, match="does not match"):
        apply_hunks(TEN.replace("line 4\n", "four\n"), found)


def test_unified_diff_text() -> None:
    old = "alpha\nbeta\ngamma\n"
    new = "alpha\nBETA\ngamma\ndelta"
    assert unified_diff(old, new, old_label="a/notes.md", new_label="b/notes.md") == (
        "--- a/notes.md\n"
        "+++ b/notes.md\n"
        "@@ -1,3 +1,4 @@\n"
        " alpha\n"
        "-beta\n"
        "+BETA\n"
        " gamma\n"
        "+delta\n"
        "\\ No newline at end of file\n"
    )


def test_unified_diff_keeps_crlf() -> None:
    assert unified_diff("a\r\n", "b\r\n") == "--- a\n+++ b\n@@ -1 +1 @@\n-a\r\n+b\r\n"


def test_word_diff_highlights_changed_word_only() -> None:
    assert word_diff("the quick brown fox", "the quick red fox") == [
        ("equal", "the quick "),
        ("delete", "brown"),
        ("insert", "red"),
        ("equal", " fox"),
    ]


def test_word_diff_of_equal_and_empty_lines() -> None:
    assert word_diff("same words", "same words") == [("equal", "same words")]
    assert word_diff("", "") == []
    assert word_diff("", "new") == [("insert", "new")]


def test_word_diff_treats_punctuation_as_its_own_token() -> None:
    assert word_diff("Hello, world.", "Hello, world!") == [
        ("equal", "Hello, world"),
        ("delete", "."),
        ("insert", "!"),
    ]


def test_pair_lines_skips_a_line_inserted_at_the_top() -> None:
    old = ["the quick fox", "jumps over", "the dog"]
    new = ["A title", "the quick fox", "jumps over", "the dog"]
    assert pair_lines(old, new) == [(0, 1), (1, 2), (2, 3)]


def test_pair_lines_skips_a_line_deleted_in_the_middle() -> None:
    assert pair_lines(["a", "b", "c", "d"], ["a", "c", "d"]) == [(0, 0), (2, 1), (3, 2)]


def test_pair_lines_pairs_a_replaced_block_up_to_its_shorter_side() -> None:
    old = ["keep", "one", "two", "end"]
    new = ["keep", "ONE", "TWO", "three", "end"]
    # "three" is the extra line of the longer side: it has no partner.
    assert pair_lines(old, new) == [(0, 0), (1, 1), (2, 2), (3, 4)]
    assert pair_lines(new, old) == [(0, 0), (1, 1), (2, 2), (4, 3)]


def test_pair_lines_of_identical_and_empty_inputs() -> None:
    assert pair_lines(["a", "", "a"], ["a", "", "a"]) == [(0, 0), (1, 1), (2, 2)]
    assert pair_lines([], []) == []
    assert pair_lines([], ["new"]) == []
    assert pair_lines(["old"], []) == []
