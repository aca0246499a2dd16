"""Three-way merge rules, checked on small hand-made cases (git's results)."""

import pytest

from backend.merge import Chunk, merge3way

BASE = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n"


def test_side_equal_to_base_takes_the_other_side_entirely() -> None:
    other = "something\ncompletely\ndifferent"
    assert merge3way(BASE, BASE, other).text == other
    assert merge3way(BASE, other, BASE).text == other


def test_equal_sides_give_that_text() -> None:
    side = "x\n" + BASE
    result = merge3way(BASE, side, side)
    assert result.clean and result.text == side


def test_identical_edits_on_both_sides_are_not_a_conflict() -> None:
    local = BASE.replace("two", "TWO") + "tail\n"
    remote = BASE.replace("two", "TWO").replace("six", "SIX")
    result = merge3way(BASE, local, remote)
    assert result.clean
    assert result.text == BASE.replace("two", "TWO").replace("six", "SIX") + "tail\n"


def test_edits_to_separate_lines_merge() -> None:
    local = BASE.replace("two", "TWO")
    remote = BASE.replace("six", "SIX")
    result = merge3way(BASE, local, remote)
    assert result.clean
    assert result.text == BASE.replace("two", "TWO").replace("six", "SIX")
    assert result.regions == ()
    assert result.merged_with_markers == result.text


def test_deleting_a_region_the_other_side_left_alone_is_clean() -> None:
    local = BASE.replace("two\nthree\n", "")
    remote = BASE.replace("six", "SIX")
    result = merge3way(BASE, local, remote)
    assert result.clean and result.text == "one\nfour\nfive\nSIX\nseven\n"


def test_delete_against_modify_conflicts() -> None:
    result = merge3way(BASE, BASE.replace("three\n", ""), BASE.replace("three", "THREE"))
    assert not result.clean and result.text is None
    (region,) = result.regions
    assert (region.base, region.local, region.remote) == (("three\n",), (), ("THREE\n",))


def test_edits_to_neighbouring_lines_conflict_like_git() -> None:
    result = merge3way(BASE, BASE.replace("three", "3"), BASE.replace("four", "4"))
    assert not result.clean
    (region,) = result.regions
    assert region.base == ("three\n", "four\n")


def test_different_insertions_at_the_same_place_conflict() -> None:
    result = merge3way(BASE, "L\n" + BASE, "R\n" + BASE)
    (region,) = result.regions
    assert (region.base, region.local, region.remote) == ((), ("L\n",), ("R\n",))


def test_conflict_markers_are_git_diff3_style() -> None:
    result = merge3way("a\nb\nc\n", "a\nB\nc\n", "a\nb2\nc\n")
    assert result.merged_with_markers == (
        "a\n<<<<<<< local\nB\n||||||| base\nb\n=======\nb2\n>>>>>>> raven\nc\n"
    )


def test_marker_never_glued_to_a_side_without_final_newline() -> None:
    result = merge3way("a\nb", "a\nL", "a\nR")
    assert result.merged_with_markers == (
        "a\n<<<<<<< local\nL\n||||||| base\nb\n=======\nR\n>>>>>>> raven\n"
    )


def test_crlf_is_preserved_in_merged_text_and_markers() -> None:
    base = BASE.replace("\n", "\r\n")
    merged = merge3way(base, base.replace("two", "TWO"), base.replace("six", "SIX"))
    assert merged.text == BASE.replace("two", "TWO").replace("six", "SIX").replace("\n", "\r\n")
    conflict = merge3way("a\r\nb\r\n", "a\r\nL\r\n", "a\r\nR\r\n")
    assert conflict.merged_with_markers == (
        "a\r\n<<<<<<< local\r\nL\r\n||||||| base\r\nb\r\n=======\r\nR\r\n>>>>>>> raven\r\n"
    )


def test_crlf_in_one_side_is_a_change_to_every_line() -> None:
    local = BASE.replace("\n", "\r\n")
    assert merge3way(BASE, local, BASE).text == local
    assert not merge3way(BASE, local, BASE.replace("two", "TWO")).clean


def test_missing_final_newline_is_a_change_like_in_git() -> None:
    no_eol = BASE[:-1]
    assert merge3way(BASE, no_eol, BASE.replace("two", "TWO")).text == no_eol.replace("two", "TWO")
    assert merge3way(no_eol, BASE, no_eol.replace("two", "TWO")).text == BASE.replace("two", "TWO")
    result = merge3way(BASE, no_eol, BASE.replace("seven", "SEVEN"))
    assert not result.clean
    assert result.regions[0].local == ("seven",)


def test_empty_files() -> None:
    assert merge3way("", "", "").text == ""
    assert merge3way("", "", "").chunks == ()
    assert merge3way("", "a\n", "").text == "a\n"
    assert merge3way("a\n", "", "a\n").text == ""
    both_added = merge3way("", "L\n", "R\n")
    assert both_added.merged_with_markers == (
        "<<<<<<< local\nL\n||||||| base\n=======\nR\n>>>>>>> raven\n"
    )


def test_chunks_number_regions_and_locate_them() -> None:
    local = BASE.replace("two", "L2").replace("six", "L6")
    remote = BASE.replace("two", "R2").replace("six", "R6") + "eight\n"
    result = merge3way(BASE, local, remote)
    kinds = [c.kind for c in result.chunks]
    assert kinds == ["stable", "conflict", "stable", "conflict", "stable"]
    first, second = result.regions
    assert (first.index, second.index) == (1, 2)
    assert (second.base_start, second.local_start, second.remote_start) == (5, 5, 5)
    assert (second.base_line, second.local_line, second.remote_line) == (6, 6, 6)
    assert result.chunks[-1] == Chunk("stable", ("seven\n", "eight\n"))


def test_merged_with_markers_is_the_chunks_joined() -> None:
    result = merge3way(BASE, BASE.replace("two", "L"), BASE.replace("two", "R"))
    assert result.merged_with_markers == "".join(c.with_markers() for c in result.chunks)


def test_unknown_granularity_is_refused() -> None:
    with pytest.raises(ValueError, match="granularity"):
        merge3way("a", "b", "c", granularity="char")  # type: ignore[arg-type]
