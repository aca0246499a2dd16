"""Conflicts whose base is unknown: every difference is a region, nothing is guessed."""

from backend.merge import apply_decisions, merge_without_base


def test_identical_sides_are_clean() -> None:
    result = merge_without_base("a\nb\n", "a\nb\n")
    assert result.clean
    assert result.text == "a\nb\n"


def test_every_difference_is_a_region_with_an_empty_base() -> None:
    result = merge_without_base("a\nx\nc\n", "a\ny\nc\nd\n")
    assert not result.clean
    assert [(r.local, r.remote, r.base) for r in result.regions] == [
        (("x\n",), ("y\n",), ()),
        ((), ("d\n",), ()),
    ]
    assert result.regions[0].local_line == 2
    assert result.merged_with_markers == (
        "a\n<<<<<<< local\nx\n||||||| base\n=======\ny\n>>>>>>> raven\nc\n"
        "<<<<<<< local\n||||||| base\n=======\nd\n>>>>>>> raven\n"
    )


def test_decisions_apply_as_for_three_way_conflicts() -> None:
    result = merge_without_base("a\nx\nc\n", "a\ny\nc\nd\n")
    assert apply_decisions(result, ["raven", "local"]) == "a\ny\nc\n"
    assert apply_decisions(result, ["both_local_first", "raven"]) == "a\nx\ny\nc\nd\n"


def test_crlf_markers_follow_the_file() -> None:
    result = merge_without_base("a\r\nx\r\n", "a\r\ny\r\n")
    assert "<<<<<<< local\r\n" in result.merged_with_markers
