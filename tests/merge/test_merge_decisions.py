"""Resolving conflicts region by region, and the half-resolved live view."""

import pytest

from backend.merge import DecisionError, Edited, apply_decisions, merge3way, render_partial
from backend.merge.decisions import Decision

BASE = "title\nbase one\nmiddle\nbase two\nend\n"
LOCAL = "title\nlocal one\nmiddle\nlocal two\nend\n"
REMOTE = "title\nraven one\nmiddle\nraven two\nend\n"
RESULT = merge3way(BASE, LOCAL, REMOTE)


def test_fixture_has_two_regions() -> None:
    assert [r.index for r in RESULT.regions] == [1, 2]


@pytest.mark.parametrize(
    ("decision", "first"),
    [
        ("local", "local one\n"),
        ("raven", "raven one\n"),
        ("base", "base one\n"),
        ("both_local_first", "local one\nraven one\n"),
        ("both_raven_first", "raven one\nlocal one\n"),
        (Edited("hand made\r\nsecond line\n"), "hand made\r\nsecond line\n"),
        (Edited(""), ""),
    ],
)
def test_every_decision_kind(decision: Decision, first: str) -> None:
    text = apply_decisions(RESULT, {1: decision, 2: "local"})
    assert text == f"title\n{first}middle\nlocal two\nend\n"


def test_sequence_of_decisions_in_region_order() -> None:
    text = apply_decisions(RESULT, ["raven", "base"])
    assert text == "title\nraven one\nmiddle\nbase two\nend\n"


def test_both_never_glues_a_side_without_final_newline() -> None:
    result = merge3way("a\nb", "a\nL", "a\nR")
    assert apply_decisions(result, ["both_local_first"]) == "a\nL\nR"
    assert apply_decisions(result, ["both_raven_first"]) == "a\nR\nL"


def test_both_uses_the_files_dominant_line_ending() -> None:
    result = merge3way("a\r\nb\r\nc", "a\r\nb\r\nL", "a\r\nb\r\nR")
    assert apply_decisions(result, ["both_local_first"]) == "a\r\nb\r\nL\r\nR"


def test_clean_merge_needs_no_decisions() -> None:
    result = merge3way("a\n", "b\n", "a\n")
    assert apply_decisions(result, []) == "b\n"
    assert apply_decisions(result, {}) == "b\n"
    assert render_partial(result, {}) == ("b\n", 0)


def test_missing_decision_is_an_error() -> None:
    with pytest.raises(DecisionError, match=r"no decision for region\(s\) \[2\]"):
        apply_decisions(RESULT, {1: "local"})


@pytest.mark.parametrize("index", [0, 3, -1])
def test_unknown_region_index_is_an_error(index: int) -> None:
    with pytest.raises(DecisionError, match="unknown region index"):
        apply_decisions(RESULT, {1: "local", 2: "local", index: "local"})


def test_count_mismatch_is_an_error() -> None:
    with pytest.raises(DecisionError, match="expected 2 decision"):
        apply_decisions(RESULT, ["local"])
    with pytest.raises(DecisionError, match="expected 2 decision"):
        apply_decisions(RESULT, ["local", "local", "local"])


def test_malformed_decisions_are_errors() -> None:
    with pytest.raises(DecisionError, match="is not a decision"):
        apply_decisions(RESULT, ["local", "remote"])  # type: ignore[list-item]
    with pytest.raises(DecisionError, match="single string"):
        apply_decisions(RESULT, "local")  # type: ignore[arg-type]


def test_decision_error_is_a_value_error() -> None:
    assert issubclass(DecisionError, ValueError)


def test_render_partial_counts_what_is_left() -> None:
    assert render_partial(RESULT, {}) == (RESULT.merged_with_markers, 2)
    text, left = render_partial(RESULT, {2: "raven"})
    assert left == 1
    assert text == (
        "title\n<<<<<<< local\nlocal one\n||||||| base\nbase one\n=======\nraven one\n"
        ">>>>>>> raven\nmiddle\nraven two\nend\n"
    )
    assert render_partial(RESULT, {1: "base", 2: "raven"}) == (
        apply_decisions(RESULT, ["base", "raven"]),
        0,
    )


def test_render_partial_rejects_unknown_regions() -> None:
    with pytest.raises(DecisionError):
        render_partial(RESULT, {7: "local"})


def test_render_partial_keeps_crlf_markers() -> None:
    result = merge3way("a\r\nb\r\n", "a\r\nL\r\n", "a\r\nR\r\n")
    text, left = render_partial(result, {})
    assert left == 1
    assert "<<<<<<< local\r\n" in text and ">>>>>>> raven\r\n" in text
