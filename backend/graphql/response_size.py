"""A per-operation cap on the file text one GraphQL answer may carry.

The cost budget bounds how many content fields an operation asks for; it cannot
know how long each text is. This cap counts the text as fields resolve, and past
``graphql_max_response_bytes`` each further text field fails with
``RESPONSE_TOO_LARGE`` instead of growing the answer. Where the size is known
before the text is loaded (a file's or version's ``size``), the room is taken
first, so a blob that would not fit is never read.
"""

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult
from strawberry.utils.await_maybe import AwaitableOrValue

CODE = "RESPONSE_TOO_LARGE"

SIZED_TEXT: Final = frozenset({"File.content", "Version.content"})
"""Text fields whose parent carries the text's size in bytes (``size``)."""

TEXT_FIELDS: Final = SIZED_TEXT | {
    "Conflict.base",
    "Conflict.local",
    "Conflict.remote",
    "Event.payload",
    "FileDiff.unified",
    "DiffLine.text",
    "ConflictPreview.mergedWithMarkers",
    "MergeChunk.stable",
    "ConflictRegion.base",
    "ConflictRegion.local",
    "ConflictRegion.remote",
    "LineChange.local",
    "LineChange.remote",
    "WordSegment.text",
    "ResolutionPreview.text",
    "File.contentBase64",
    "Version.contentBase64",
}
"""Every field that returns file text (or, for ``Event.payload``, carries it), ``Type.field``."""

_TYPES_BY_FIELD: Final[dict[str, frozenset[str]]] = {
    field: frozenset(k.split(".")[0] for k in TEXT_FIELDS if k.endswith(f".{field}"))
    for field in {k.split(".")[1] for k in TEXT_FIELDS}
}
"""``TEXT_FIELDS`` by field name: one lookup passes over most fields of an answer."""


def text_size(value: object) -> int:
    """UTF-8 length of a text field's value (an event payload counts its ``content``)."""
    if isinstance(value, dict):
        value = value.get("content")
    if not isinstance(value, str):
        return 0
    # isascii() is O(1) on CPython; only non-ASCII text pays for an encode.
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def too_large(limit: int) -> GraphQLError:
    return GraphQLError(
        f"the answer would carry more than {limit} bytes of text; ask for fewer items"
        " or fewer content fields per request",
        extensions={"code": CODE, "limit": limit},
    )


class ResponseSizeCap(SchemaExtension):
    """Count the text of one operation (of one event, for a subscription) against a cap."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0

    def resolve(
        self,
        _next: Callable[..., object],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> AwaitableOrValue[object]:
        types = _TYPES_BY_FIELD.get(info.field_name)
        if types is None or info.parent_type.name not in types:
            return _next(root, info, *args, **kwargs)
        if f"{info.parent_type.name}.{info.field_name}" in SIZED_TEXT:
            self._take(int(getattr(root, "size", 0) or 0))
            return _next(root, info, *args, **kwargs)
        value: object = _next(root, info, *args, **kwargs)
        if isinstance(value, Awaitable):
            return self._count_later(value)
        self._take(text_size(value))
        return value

    async def _count_later(self, pending: Awaitable[object]) -> object:
        value = await pending
        self._take(text_size(value))
        return value

    def _take(self, size: int) -> None:
        if self.used + size > self.max_bytes:
            self.used = self.max_bytes  # later fields fail too; none sneaks into the room left
            raise too_large(self.max_bytes)
        self.used += size

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each event of a subscription is an answer of its own."""
        yield
        self.used = 0
