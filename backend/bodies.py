"""Bounded JSON decoding: the one way a request body or WebSocket message becomes Python.

``json.loads`` builds every value it meets before anyone can look at the result,
so 64 MiB of ``[[],[],...]`` costs gigabytes and a nesting of 100,000 levels a
``RecursionError``. Here a scan runs first: it walks the text from one
structural character (``[]{},"``) to the next, letting the ``json`` module's own
C string scanner jump over each string, and stops as soon as the count of values
or the nesting depth passes its limit. Only a text within both limits is handed
to ``json.loads``, so what is accepted and how it is decoded stay exactly the
``json`` module's (``NaN``, escapes, big numbers), and no partial object of an
over-limit body is ever built.

Bodies over ``offload_bytes`` are scanned and decoded on a worker thread, so one
big body never stalls the event loop.
"""

import json
import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread

from backend.errors import LocalSyncError, TooLarge
from backend.settings import Settings

_STRUCTURE = re.compile(r'[\[\]{},"]')
# The C scanner json.loads itself uses for strings (public, though typeshed omits it).
_scan_string: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


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


def check_shape(text: str, limits: JsonLimits) -> None:
    """Raise if ``text`` holds more values or deeper nesting than allowed.

    Values are counted from above: every array or object plus every comma, which
    is at least the number of values (object keys ride along with their values).
    The scan does not check the grammar; where it cannot go on (an unterminated
    string, an unmatched bracket) ``json.loads`` stops too, at or before that
    point, having built no more than was counted.
    """
    values, depth, position = 1, 0, 0
    search = _STRUCTURE.search
    while (found := search(text, position)) is not None:
        char, position = found.group(), found.end()
        if char == '"':
            try:
                position = _scan_string(text, position, False)[1]
            except ValueError:
                return
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
                return
        if values > limits.max_values:
            raise JsonTooComplex(f"JSON body holds more than {limits.max_values} values")


def decode(data: str | bytes, limits: JsonLimits) -> Any:
    """``json.loads(data)`` within ``limits``; raises JSONDecodeError/ValueError like it.

    Over a limit: :class:`JsonTooComplex` or :class:`JsonTooDeep`.
    """
    if isinstance(data, bytes | bytearray):
        # As json.loads does for bytes: UTF-8, -16 or -32, a UTF-8 BOM allowed.
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    check_shape(data, limits)
    return json.loads(data)


async def decode_body(data: bytes, limits: JsonLimits) -> Any:
    """:func:`decode`, on a worker thread when ``data`` is larger than ``offload_bytes``."""
    if len(data) <= limits.offload_bytes:
        return decode(data, limits)
    return await to_thread.run_sync(decode, data, limits)


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
