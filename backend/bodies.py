"""Bounded JSON decoding: the one way a request body or WebSocket message becomes Python.

``json.loads`` builds every value it meets before anyone can look at the result,
so 64 MiB of ``[[],[],...]`` costs gigabytes and a nesting of 100,000 levels a
``RecursionError``. Here a scan runs first: it walks the text from one
structural character (``[]{},"``) to the next, jumping to the end of each string
without building it, and stops as soon as the count of values or the nesting
depth passes its limit. Only a text within both limits is decoded,
by the ``json`` module itself, so what is accepted and how it is decoded stay
exactly as before (``NaN``, lone surrogate escapes, big numbers), and no partial
object of an over-limit body is ever built.

The scan is written here rather than taken from a streaming parser such as
ijson: those accept a stricter grammar than the ``json`` module (they refuse
``NaN`` and lone low surrogate escapes, and fail on integers past Python's digit
limit), so a body could stop their scan early yet decode unbounded afterwards.

Bodies over ``offload_bytes`` are scanned and decoded on a worker thread, value
by value (see :func:`decode`), so one big body never stalls the event loop, and
at most ``LARGE_DECODES`` at a time per server.

A worker-thread decode of a UTF-8 body reads it as Latin-1, one character per
byte, and decodes each string from UTF-8 on its own: Python keeps a text with a
single emoji at four bytes per character, so decoding a 64 MiB body in one piece
costs 256 MiB when one note holds an emoji. The JSON outside strings is ASCII, so
the grammar and what is accepted stay those of the ``json`` module.
"""

import asyncio
import json
import json.decoder
import json.scanner
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, to_thread

from backend.errors import LocalSyncError, TooLarge
from backend.settings import Settings

_STRUCTURE = re.compile(r'[\[\]{},"]')
# The C scanner json.loads itself uses for strings (public, though typeshed omits it).
_scan_string: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_py_make_scanner: Callable[[json.JSONDecoder], Any] = json.scanner.py_make_scanner  # type: ignore[attr-defined]

WHOLE_DECODE_BYTES = 1024 * 1024
WHOLE_DECODE_VALUES = 10_000
"""A worker-thread body within both is decoded by the C scanner in one piece: it holds
the GIL (and so the event loop) for about a millisecond at most, less than the
interpreter's own switch interval, and decodes some ten times faster than value by
value. A connector's usual batch (a hundred small files) is of that size."""

LARGE_DECODES = 2
"""Bodies over ``offload_bytes`` decoded at once per server (a third waits its turn):
each costs about three times its size while it is decoded."""
_large_decodes: "WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter]" = (
    WeakKeyDictionary()
)


class JsonTooComplex(TooLarge):
    """More values than ``max_json_values`` (413)."""

    code = "JSON_TOO_COMPLEX"


class JsonTooDeep(LocalSyncError):
    """Arrays and objects nested deeper than ``max_json_depth`` (400, like malformed JSON)."""

    status = 400
    code = "MALFORMED_JSON"


class JsonRefusedError(json.JSONDecodeError):
    """What :func:`decode_message` raises: transports treat it like any undecodable text."""


@dataclass(frozen=True)
class JsonLimits:
    max_values: int
    max_depth: int
    offload_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "JsonLimits":
        return cls(settings.max_json_values, settings.max_json_depth, settings.json_offload_bytes)


def check_shape(text: str, limits: JsonLimits) -> int:
    """Raise if ``text`` holds more values or deeper nesting than allowed; else return
    the count of values it found (an upper bound, as below).

    Values are counted from above: every array or object plus every comma, which
    is at least the number of values (object keys ride along with their values).
    The scan does not check the grammar; where it cannot go on (an unterminated
    string, an unmatched bracket) ``json.loads`` stops too, at or before that
    point, having built no more than was counted.
    """
    values, depth, position = 1, 0, 0
    search = _STRUCTURE.search
    strings = _Strings(text, steps=2 * limits.max_values)
    while (found := search(text, position)) is not None:
        char, position = found.group(), found.end()
        if char == '"':
            position = strings.end(position)
            if position < 0:
                return values
        elif char in "[{":
            depth += 1
            values += 1
            if depth > limits.max_depth:
                raise JsonTooDeep(f"JSON nested deeper than {limits.max_depth} levels")
        elif char == ",":
            values += 1
        else:
            depth -= 1
            if depth < 0:
                return values
        if values > limits.max_values:
            raise JsonTooComplex(f"JSON body holds more than {limits.max_values} values")
    return values


class _Strings:
    """Finds where the strings of one text end, without building them."""

    def __init__(self, text: str, steps: int) -> None:
        self.text = text
        self.steps = steps

    def end(self, start: int) -> int:
        """Index past the closing quote of the string whose content begins at ``start``
        (-1 if it has none).

        The next quote is found in C; an escaped quote, or each backslash before
        one, costs a Python step from a budget shared by the whole text. Past the
        budget the ``json`` module's C string scanner takes over, which builds the
        string: only a text full of escaped quotes gets there.
        """
        text, position = self.text, start
        while self.steps > 0:
            quote = text.find('"', position)
            if quote < 0:
                return -1
            run = quote
            while run > position and text[run - 1] == "\\" and self.steps > 0:
                run -= 1
                self.steps -= 1
            if self.steps > 0 and (quote - run) % 2 == 0:
                return quote + 1
            self.steps -= 1
            position = quote + 1
        try:
            return _scan_string(text, start, False)[1]
        except ValueError:
            return -1


def decode(data: str | bytes, limits: JsonLimits, on_worker: bool = False) -> Any:
    """``json.loads(data)`` within ``limits``; raises JSONDecodeError/ValueError like it.

    Over a limit: :class:`JsonTooComplex` or :class:`JsonTooDeep`. ``on_worker``
    decodes through the ``json`` module's pure-Python scanner: the same grammar,
    but a thread decoding a large body lets go of the GIL between values instead
    of holding it for the whole text (each string still goes through the C string
    scanner), so the event loop is held up for no longer than one string takes.
    A UTF-8 body is then read one byte per character (see the module docstring).
    """
    per_string_utf8 = False
    if isinstance(data, bytes | bytearray):
        # As json.loads does for bytes: UTF-8, -16 or -32, a UTF-8 BOM allowed.
        encoding = json.detect_encoding(data)
        per_string_utf8 = on_worker and encoding.startswith("utf-8") and not data.isascii()
        if per_string_utf8:
            data = data.decode("latin-1")
            data = data[3:] if encoding == "utf-8-sig" else data  # the BOM, three bytes
        else:
            data = data.decode(encoding, "surrogatepass")
    check_shape(data, limits)
    if not on_worker:
        return json.loads(data)
    decoder = json.JSONDecoder()
    if per_string_utf8:
        decoder.parse_string = _utf8_string  # type: ignore[attr-defined]
        decoder.parse_object = _utf8_object  # type: ignore[attr-defined]
    decoder.scan_once = _py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(data)


def decode_offloaded(data: bytes, limits: JsonLimits) -> Any:
    """:func:`decode` on a worker thread: in one piece when within ``WHOLE_DECODE_BYTES``
    and ``WHOLE_DECODE_VALUES``, value by value otherwise."""
    if len(data) > WHOLE_DECODE_BYTES:
        return decode(data, limits, on_worker=True)
    text = data.decode(json.detect_encoding(data), "surrogatepass")
    if check_shape(text, limits) > WHOLE_DECODE_VALUES:
        return decode(data, limits, on_worker=True)
    return json.loads(text)


def _utf8_string(text: str, start: int, strict: bool = True) -> tuple[str, int]:
    """The JSON string at ``start`` of a UTF-8 text read as Latin-1, and its end.

    The C scanner finds the end and checks escapes and control characters (all
    ASCII, so the same in either reading); a string holding other bytes is then
    decoded from UTF-8 as ``json.loads`` decodes a body (lone surrogates allowed),
    and its escapes read again from the decoded text.
    """
    value, end = _scan_string(text, start, strict)
    raw = text[start : end - 1]
    if raw.isascii():
        return value, end
    decoded = raw.encode("latin-1").decode("utf-8", "surrogatepass")
    if "\\" not in decoded:
        return decoded, end
    return _scan_string(decoded + '"', 0, strict)[0], end


# The json module's own object parser, reading its keys with _utf8_string.
_json_object: Any = json.decoder.JSONObject  # type: ignore[attr-defined]
_utf8_object = types.FunctionType(
    _json_object.__code__,
    {**vars(json.decoder), "scanstring": _utf8_string},
    "_utf8_object",
    _json_object.__defaults__,
)


def _large_decode_limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _large_decodes.get(loop)
    if limiter is None:
        limiter = _large_decodes[loop] = CapacityLimiter(LARGE_DECODES)
    return limiter


async def decode_body(data: bytes, limits: JsonLimits) -> Any:
    """:func:`decode`, on a worker thread when ``data`` is larger than ``offload_bytes``."""
    if len(data) <= limits.offload_bytes:
        return decode(data, limits)
    try:
        return await to_thread.run_sync(
            decode_offloaded, data, limits, limiter=_large_decode_limiter()
        )
    except Exception as exc:
        # Raised through the worker, the traceback ties the error to the body and
        # its text in a cycle that only the garbage collector frees, maybe much
        # later: the error alone is all a caller needs.
        raise exc.with_traceback(None) from None


def decode_message(data: str | bytes, limits: JsonLimits) -> Any:
    """:func:`decode` for transports that only know ``JSONDecodeError`` (WebSocket messages).

    An over-limit message is refused like text that is not JSON, with the reason
    in the error's message.
    """
    try:
        return decode(data, limits)
    except LocalSyncError as exc:
        raise JsonRefusedError(exc.message, "", 0) from None
    except ValueError as exc:  # UnicodeDecodeError, an integer over Python's digit limit
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(exc), "", 0) from None
