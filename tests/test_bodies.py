"""The bounded JSON decoder accepts and decodes exactly what ``json.loads`` does, and
refuses a text over its limits before building it."""

import json
import math
import tracemalloc
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.bodies import (
    WHOLE_DECODE_BYTES,
    WHOLE_DECODE_VALUES,
    JsonLimits,
    JsonTooComplex,
    JsonTooDeep,
    _Strings,
    check_shape,
    decode,
    decode_offloaded,
)

LIMITS = JsonLimits(max_values=100_000, max_depth=64, offload_bytes=64 * 1024)

ODD_TEXTS = [
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b'"a\\ud800b"',
    b'"\\udc00"',
    b'"\\ud83d\\ude00"',
    b'{"l": 1e999999}',
    b"\xef\xbb\xbf{}",
    '{"a": "é"}'.encode("utf-16"),
    '{"a": "é"}'.encode("utf-32-be"),
    b'"quote \\" and backslash \\\\"',
    b'["\\\\", "\\\\\\"", "\\\\\\\\"]',
    b'{"nested": {"deep": [1, [2, [3, {"k": "v,]}["}]]]}}',
    b"  [1, 2.5, true, false, null]  ",
]
BAD_TEXTS = [b"", b"{", b"[1,]", b'{"a": }', b"\xff\xfe", b'"unterminated', b"]]", b"{} {}"]


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and math.isnan(left):
        return isinstance(right, float) and math.isnan(right)
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right) and type(left) is type(right)


@pytest.mark.parametrize("on_worker", [False, True], ids=["json.loads", "value-by-value"])
@pytest.mark.parametrize("text", ODD_TEXTS)
def test_decodes_what_json_loads_decodes(text: bytes, on_worker: bool) -> None:
    assert _same(decode(text, LIMITS, on_worker), json.loads(text))


@pytest.mark.parametrize("on_worker", [False, True], ids=["json.loads", "value-by-value"])
@pytest.mark.parametrize("text", BAD_TEXTS)
def test_refuses_what_json_loads_refuses(text: bytes, on_worker: bool) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        decode(text, LIMITS, on_worker)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)


@given(JSON)
def test_any_value_within_the_limits_round_trips(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert _same(decode(text.encode(), LIMITS, on_worker=True), json.loads(text))


@given(st.text(alphabet='ab"\\é', max_size=40), st.integers(min_value=0, max_value=8))
def test_a_string_ends_where_the_json_scanner_says(content: str, steps: int) -> None:
    """Whether found by quotes and backslashes or by the C scanner past the budget."""
    text = json.dumps(content) + ', "next"'
    assert _Strings(text, steps).end(1) == len(json.dumps(content))


def test_values_over_the_limit_are_refused_before_anything_is_built() -> None:
    limits = JsonLimits(max_values=10, max_depth=64, offload_bytes=0)
    check_shape("[" + ",".join(["1"] * 9) + "]", limits)  # the list and nine numbers
    with pytest.raises(JsonTooComplex):
        check_shape("[" + ",".join(["1"] * 10) + "]", limits)
    with pytest.raises(JsonTooComplex):
        check_shape("[" + ",".join(["[]"] * 1_000_000) + "]", LIMITS)


def test_commas_and_brackets_inside_strings_do_not_count() -> None:
    limits = JsonLimits(max_values=3, max_depth=1, offload_bytes=0)
    check_shape('["[[[,,,{{{", "\\"[,]\\""]', limits)


def test_nesting_past_the_limit_is_refused_without_recursion() -> None:
    check_shape("[" * 64 + "]" * 64, LIMITS)
    for text in ("[" * 65 + "]" * 65, "[" * 1_000_000):
        with pytest.raises(JsonTooDeep):
            check_shape(text, LIMITS)


UTF8_TEXTS = [
    '{"é": "ü", "ascii": "plain"}'.encode(),
    '{"\\u00c3\\u00a9 é": "\\u00e9 😀 \\ud83d\\ude00 \\" \\\\ end"}'.encode(),
    b"\xef\xbb\xbf" + '["BOM then é"]'.encode(),
    b'"lone \xed\xa0\x80 surrogate bytes"',
    '[{"😀": ["😀", {"k\\n😀": "v\\t😀"}]}, "\\ud800 €"]'.encode(),
]


@pytest.mark.parametrize("text", UTF8_TEXTS)
def test_utf8_strings_decode_as_json_loads_decodes_them(text: bytes) -> None:
    """Worker-thread decodes read UTF-8 one byte per character, then each string alone."""
    assert _same(decode(text, LIMITS, on_worker=True), json.loads(text))


@pytest.mark.parametrize(
    "text", [b'"bad \xff utf-8"', b'{"k\xc3": 1}', b'["ok", \xc3\xa9]', b'"\xc3\xa9\x01"']
)
def test_bad_utf8_is_refused_as_json_loads_refuses_it(text: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        decode(text, LIMITS, on_worker=True)


@given(JSON, st.booleans())
def test_any_utf8_value_round_trips_on_a_worker(value: Any, ensure_ascii: bool) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    assert _same(decode(text, LIMITS, on_worker=True), json.loads(text))


def test_one_emoji_does_not_make_the_whole_body_four_bytes_a_character() -> None:
    """Python holds a text with one character past U+FFFF at four bytes per character:
    decoding must not make the whole body such a text."""
    files = [{"path": f"{i}.md", "content": "x" * 64 * 1024} for i in range(64)]
    files.append({"path": "smile.md", "content": "😀"})
    body = json.dumps({"items": files}, ensure_ascii=False).encode()
    tracemalloc.start()
    try:
        decoded = decode(body, LIMITS, on_worker=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded["items"][-1]["content"] == "😀"
    assert peak < 3 * len(body), f"peak {peak} for a body of {len(body)} bytes"


@pytest.mark.parametrize(
    "text",
    [
        *ODD_TEXTS,
        # past WHOLE_DECODE_VALUES: value by value
        ("[" + ",".join(["[1]"] * (WHOLE_DECODE_VALUES // 2 + 1)) + "]").encode(),
        # past WHOLE_DECODE_BYTES: value by value, UTF-8 strings read one by one
        json.dumps(["é" * 1000] * (WHOLE_DECODE_BYTES // 1000), ensure_ascii=False).encode(),
    ],
)
def test_offloaded_decode_is_json_loads(text: bytes) -> None:
    assert _same(decode_offloaded(text, LIMITS), json.loads(text))


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_offloaded_decode_refuses_what_json_loads_refuses(text: bytes) -> None:
    with pytest.raises(ValueError):
        decode_offloaded(text, LIMITS)


def test_offloaded_decode_keeps_the_limits() -> None:
    limits = JsonLimits(max_values=10, max_depth=3, offload_bytes=0)
    with pytest.raises(JsonTooComplex):
        decode_offloaded(b"[" + b",".join([b"1"] * 20) + b"]", limits)
    with pytest.raises(JsonTooDeep):
        decode_offloaded(b"[[[[]]]]", limits)
