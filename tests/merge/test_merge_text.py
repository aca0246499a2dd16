"""Line and word splitting must be lossless: the merge relies on re-joining pieces."""

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.merge.text import dominant_eol, split_lines, strip_eol, tokenize_words


def test_empty_text_has_no_lines() -> None:
    assert split_lines("") == []


def test_missing_final_newline_keeps_last_line_open() -> None:
    assert split_lines("a\nb") == ["a\n", "b"]
    assert split_lines("a\nb\n") == ["a\n", "b\n"]


def test_crlf_stays_on_the_line() -> None:
    assert split_lines("a\r\nb\r\n") == ["a\r\n", "b\r\n"]


def test_lone_cr_and_form_feed_are_not_line_breaks() -> None:
    # git splits on LF only; str.splitlines would cut these.
    assert split_lines("a\rb\x0cc\u2028d\n") == ["a\rb\x0cc\u2028d\n"]


def test_blank_lines_are_lines() -> None:
    assert split_lines("\n\n") == ["\n", "\n"]


def test_strip_eol() -> None:
    assert [strip_eol(x) for x in ("a\r\n", "a\n", "a", "\r")] == ["a", "a", "a", "\r"]


def test_dominant_eol() -> None:
    assert dominant_eol(["a\r\n", "b\r\n", "c\n"]) == "\r\n"
    assert dominant_eol(["a\r\n", "c\n"]) == "\n"
    assert dominant_eol(["a"]) == "\n"


def test_tokens_keep_separators() -> None:
    assert tokenize_words("Hello,  world!\n") == ["Hello", ",", "  ", "world", "!", "\n"]


@settings(deadline=None)
@given(st.text())
def test_split_lines_is_lossless(text: str) -> None:
    lines = split_lines(text)
    assert "".join(lines) == text
    assert all(line.endswith("\n") for line in lines[:-1])
    assert all("\n" not in line[:-1] for line in lines)


@settings(deadline=None)
@given(st.text())
def test_tokenize_is_lossless(text: str) -> None:
    tokens = tokenize_words(text)
    assert "".join(tokens) == text
    assert all(tokens)
