"""The result view's word wrap: rows fit the width and lose no text."""

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tui.widgets.result_view import wrap

LINES = st.text(
    alphabet=st.sampled_from(["a", "b", "Ω", "漢", " ", "-", "\t"]), min_size=0, max_size=200
)


@given(LINES, st.integers(min_value=1, max_value=40))
def test_rows_fit_and_keep_every_visible_character(line: str, width: int) -> None:
    rows = wrap(line, width)
    # A double-width character cannot be split: a row of width 1 may hold one.
    assert all(cell_len(row) <= max(width, 2) for row in rows)
    assert "".join("".join(rows).split()) == "".join(line.split())


def test_breaks_between_words_and_chops_long_words() -> None:
    assert wrap("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrap("short", 40) == ["short"]
