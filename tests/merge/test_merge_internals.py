"""The building blocks under the public API: runs, git's sqrt, edit scripts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.merge.prepare import bogosqrt
from backend.merge.runs import backward, forward
from backend.merge.script import edit_script

_INTS = st.lists(st.integers(min_value=0, max_value=2), max_size=120)


@settings(max_examples=200, deadline=None)
@given(_INTS, _INTS, st.data())
def test_runs_match_a_plain_loop(a: list[int], b: list[int], data: st.DataObject) -> None:
    i = data.draw(st.integers(min_value=0, max_value=len(a)))
    j = data.draw(st.integers(min_value=0, max_value=len(b)))
    k = 0
    while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
        k += 1
    assert forward(a, b, i, j, len(a), len(b)) == k
    k = 0
    while i - k > 0 and j - k > 0 and a[i - k - 1] == b[j - k - 1]:
        k += 1
    assert backward(a, b, i, j, 0, 0) == k


def test_bogosqrt_matches_git() -> None:
    assert [bogosqrt(n) for n in (0, 1, 3, 4, 60, 10_000)] == [1, 2, 2, 4, 8, 128]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from("abc"), max_size=40), st.lists(st.sampled_from("abcd"), max_size=40)
)
def test_edit_script_turns_a_into_b(a: list[str], b: list[str]) -> None:
    out: list[str] = []
    pos = 0
    last_end = -1
    for change in edit_script(a, b):
        assert change.a_start > last_end, "changes are ordered and never touch"
        assert change.a_count or change.b_count
        out.extend(a[pos : change.a_start])
        out.extend(b[change.b_start : change.b_end])
        pos = change.a_end
        last_end = change.a_end
    out.extend(a[pos:])
    assert out == b
