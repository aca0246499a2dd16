"""Properties that must hold for any text, found with hypothesis."""

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.merge import (
    apply_decisions,
    apply_hunks,
    diff_lines,
    hunks,
    merge3way,
    pair_lines,
    word_diff,
)
from backend.merge.text import split_lines

# A small alphabet of lines makes repeated lines (blank lines, list markers)
# common, which is where diff and merge algorithms go wrong.
_LINE = st.sampled_from(["", "", "# Title", "- item", "- other item", "text", "more text", "```"])
_EXAMPLES = settings(max_examples=150, deadline=None)


@st.composite
def texts(draw: st.DrawFn) -> str:
    lines = draw(st.lists(_LINE, max_size=25))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = "".join(line + eol for line in lines)
    if text and draw(st.booleans()):
        text = text[: -len(eol)]
    return text


@_EXAMPLES
@given(texts(), texts())
def test_one_side_unchanged_takes_the_other(base: str, other: str) -> None:
    for result in (merge3way(base, base, other), merge3way(base, other, base)):
        assert result.clean
        assert result.text == other
        assert result.merged_with_markers == other


@_EXAMPLES
@given(texts(), texts())
def test_same_change_on_both_sides_is_clean(base: str, side: str) -> None:
    result = merge3way(base, side, side)
    assert result.clean and result.text == side


@_EXAMPLES
@given(texts(), texts(), st.integers(min_value=0, max_value=50))
def test_apply_hunks_round_trips(old: str, new: str, context: int) -> None:
    assert apply_hunks(old, hunks(old, new, context)) == new


@_EXAMPLES
@given(texts(), texts())
def test_diff_lines_covers_both_texts(old: str, new: str) -> None:
    script = diff_lines(old, new)
    assert "".join(d.raw for d in script if d.kind != "insert") == old
    assert "".join(d.raw for d in script if d.kind != "delete") == new
    assert [d.old_no for d in script if d.old_no] == list(range(1, len(split_lines(old)) + 1))
    assert [d.new_no for d in script if d.new_no] == list(range(1, len(split_lines(new)) + 1))


@_EXAMPLES
@given(texts(), texts(), texts())
def test_chunks_rebuild_every_side(base: str, local: str, remote: str) -> None:
    """Choosing a side everywhere is what a merge looks like from that side's edits."""
    result = merge3way(base, local, remote)
    assert result.merged_with_markers == "".join(c.with_markers() for c in result.chunks)
    assert all(r.index == i for i, r in enumerate(result.regions, start=1))
    if not result.clean:
        assert result.text is None
        resolved = apply_decisions(result, ["local"] * len(result.regions))
        assert "<<<<<<<" not in resolved
    if local == remote:
        assert result.text == local


@_EXAMPLES
@given(texts(), texts())
def test_pair_lines_follow_the_line_diff(old: str, new: str) -> None:
    a, b = split_lines(old), split_lines(new)
    pairs = pair_lines(a, b)
    assert all(0 <= i < len(a) and 0 <= j < len(b) for i, j in pairs)
    for (i1, j1), (i2, j2) in pairwise(pairs):
        assert i1 < i2 and j1 < j2
    for line in diff_lines(old, new):
        if line.kind == "equal":  # unchanged lines pair with their own copy
            assert line.old_no is not None and line.new_no is not None
            assert (line.old_no - 1, line.new_no - 1) in pairs
            assert a[line.old_no - 1] == b[line.new_no - 1]


@_EXAMPLES
@given(texts())
def test_pair_lines_of_one_text_pairs_every_line_with_itself(text: str) -> None:
    lines = split_lines(text)
    assert pair_lines(lines, lines) == [(i, i) for i in range(len(lines))]


_WORDS = st.text(alphabet="abcdefghij ,.\n", max_size=40)


@_EXAMPLES
@given(_WORDS, _WORDS)
def test_word_diff_covers_both_lines(old: str, new: str) -> None:
    segments = word_diff(old, new)
    assert "".join(t for k, t in segments if k != "insert") == old
    assert "".join(t for k, t in segments if k != "delete") == new
    assert all(t for _, t in segments)


@st.composite
def word_edits(draw: st.DrawFn) -> tuple[str, str, str]:
    """A paragraph of unique words and two independently edited copies of it.

    Words are unique so "was this word added or deleted" has one answer.
    """
    size = draw(st.integers(min_value=1, max_value=30))
    base = [f"w{i}" for i in range(size)]

    def edit(prefix: str) -> list[str]:
        words = list(base)
        for n in range(draw(st.integers(min_value=0, max_value=4))):
            op = draw(st.sampled_from(["insert", "delete", "replace"]))
            at = draw(st.integers(min_value=0, max_value=len(words)))
            if op == "insert":
                words.insert(at, f"{prefix}{n}")
            elif words and at < len(words):
                if op == "delete":
                    del words[at]
                else:
                    words[at] = f"{prefix}{n}"
        return words

    local, remote = edit("local"), edit("raven")
    return tuple(" ".join(w) + "\n" for w in (base, local, remote))  # type: ignore[return-value]


@_EXAMPLES
@given(word_edits())
def test_word_merge_keeps_additions_and_drops_deletions(case: tuple[str, str, str]) -> None:
    base, local, remote = case
    result = merge3way(base, local, remote, granularity="word")
    if not result.clean:
        return
    assert result.text is not None
    merged = set(result.text.split())
    base_w, local_w, remote_w = set(base.split()), set(local.split()), set(remote.split())
    assert (local_w - base_w) <= merged
    assert (remote_w - base_w) <= merged
    assert not (base_w - local_w) & merged
    assert not (base_w - remote_w) & merged
    assert merged <= base_w | local_w | remote_w
