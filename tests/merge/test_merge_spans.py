"""Merge spans: aligned ranges that rebuild the merge exactly and say who changed what."""

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.merge import (
    MergeResult,
    Span,
    merge3way,
    merge_spans,
    merge_without_base,
    region_lines,
    render_partial,
    spans_of_chunks,
)
from backend.merge.text import split_lines
from tests.merge.test_merge_properties import texts

_EXAMPLES = settings(max_examples=200, deadline=None)


def _rebuild(spans: list[Span], base: str, local: str, remote: str, merge: MergeResult) -> str:
    """The file the spans describe; a ``words`` span takes its lines from the merge."""
    merged = merge.merged_with_markers
    b, loc, rem = split_lines(base), split_lines(local), split_lines(remote)
    out: list[str] = []
    for span in spans:
        mine = loc[span.local_start : span.local_start + span.local_count]
        theirs = rem[span.remote_start : span.remote_start + span.remote_count]
        if span.kind == "conflict":
            region = merge.regions[span.index - 1]
            old = b[span.base_start : span.base_start + span.base_count]
            assert (tuple(mine), tuple(old), tuple(theirs)) == (
                region.local,
                region.base,
                region.remote,
            )
            out.append(region.with_markers())
        elif span.kind == "words":
            at = len(split_lines("".join(out)))
            out.append("".join(split_lines(merged)[at : at + span.merged_count]))
        else:
            assert span.kind != "same" or mine == theirs
            out.append("".join(theirs if span.kind == "remote" else mine))
    return "".join(out)


@_EXAMPLES
@given(texts(), texts(), texts(), st.sampled_from(["line", "word"]))
def test_spans_rebuild_the_merge(base: str, local: str, remote: str, granularity: str) -> None:
    merge = merge3way(base, local, remote, granularity=granularity)  # type: ignore[arg-type]
    spans = merge_spans(base, local, remote, granularity=granularity)  # type: ignore[arg-type]
    assert _rebuild(spans, base, local, remote, merge) == (merge.merged_with_markers)
    conflicts = [s for s in spans if s.kind == "conflict"]
    assert [s.index for s in conflicts] == [r.index for r in merge.regions]
    for span, region in zip(conflicts, merge.regions, strict=True):
        assert (span.local_start, span.local_count) == (region.local_start, len(region.local))


def test_auto_merged_changes_say_whose_they_are() -> None:
    base = "a\nb\nc\nd\ne\n"
    local = "a\nB\nc\nd\ne\n"
    remote = "a\nb\nc\nD\ne\n"
    kinds = [(s.kind, s.local_start, s.remote_start) for s in merge_spans(base, local, remote)]
    assert kinds == [
        ("same", 0, 0),
        ("local", 1, 1),
        ("same", 2, 2),
        ("remote", 3, 3),
        ("same", 4, 4),
    ]
    both = merge_spans(base, "a\nX\nc\nd\ne\n", "a\nX\nc\nd\ne\n")
    assert [s.kind for s in both] == ["same", "both", "same"]


def test_spans_without_a_base_are_shared_lines_and_regions() -> None:
    merge = merge_without_base("a\nb\nc\n", "a\nB\nc\n")
    spans = spans_of_chunks(merge)
    assert [(s.kind, s.local_start, s.local_count, s.index) for s in spans] == [
        ("same", 0, 1, 0),
        ("conflict", 1, 1, 1),
        ("same", 2, 1, 0),
    ]


@_EXAMPLES
@given(texts(), texts(), texts(), st.data())
def test_region_lines_point_into_the_rendered_text(
    base: str, local: str, remote: str, data: st.DataObject
) -> None:
    merge = merge3way(base, local, remote)
    decided = {
        r.index: data.draw(st.sampled_from(["local", "raven", "both_local_first", "base"]))
        for r in merge.regions
        if data.draw(st.booleans())
    }
    text, _ = render_partial(merge, decided)  # type: ignore[arg-type]
    lines = split_lines(text)
    for region in merge.regions:
        start, count = region_lines(merge, decided)[region.index]  # type: ignore[arg-type]
        if region.index not in decided:
            assert lines[start].startswith("<<<<<<<")
            assert lines[start + count - 1].startswith(">>>>>>>")
        elif decided[region.index] == "local":
            assert lines[start : start + count] == list(region.local)
