"""Content validation and the content-addressed blob store.

Text and attachments share the store (see :class:`~backend.models.Blob`). An
attachment's content travels and rests as the base64 of its bytes; its hash
and size are the raw bytes'. :func:`load_blob` and :func:`load_blobs` answer
text only, so a reader written for text (merge, diff, blame, search) can never
take base64 for a file's text; readers that serve attachments use
:func:`load_stored` and :func:`load_stored_many`.
"""

import binascii
import hashlib
import re
from collections.abc import Iterable
from typing import NamedTuple

from sqlmodel import Session, col, select

from backend.db import defer_insert, keyed_rows, write_deferred
from backend.errors import InvalidInput, TooLarge
from backend.models import Blob

_HASH = re.compile(r"[0-9a-f]{64}")
_BLOB = ("hash", "content", "encoding")

TEXT = "utf-8"
BASE64 = "base64"
ENCODINGS = (TEXT, BASE64)


class Stored(NamedTuple):
    """A blob as stored: its text, or the base64 of its bytes when ``encoding`` is base64."""

    content: str
    encoding: str

    @property
    def binary(self) -> bool:
        return self.encoding == BASE64

    def data(self) -> bytes:
        """The exact bytes this content stands for."""
        if self.binary:
            return binascii.a2b_base64(self.content)
        return self.content.encode("utf-8")


def check_encoding(value: object) -> str:
    """``contentEncoding`` as sent: absent or "utf-8" is text, "base64" an attachment."""
    if value is None or value == "" or value == TEXT:
        return TEXT
    if value == BASE64:
        return BASE64
    raise InvalidInput(
        'contentEncoding must be "utf-8" (or absent) or "base64"', "INVALID_CONTENT_ENCODING"
    )


def check_accept(value: object) -> bool:
    """Whether a reader asked for attachments (``acceptEncodings`` naming "base64")."""
    if value is None:
        return False
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("acceptEncodings must be a list of strings", "INVALID_ACCEPT_ENCODINGS")
    unknown = [v for v in value if v not in ENCODINGS]
    if unknown:
        raise InvalidInput(
            f'acceptEncodings may name only "utf-8" and "base64", not {unknown[0]!r}',
            "INVALID_ACCEPT_ENCODINGS",
        )
    return BASE64 in value


def check_base64_length(content: str, max_bytes: int) -> None:
    """Refuse base64 surely over ``max_bytes`` decoded, by its length alone (4 per 3 bytes)."""
    if len(content) > (max_bytes + 2) // 3 * 4:
        raise TooLarge(f"attachment is over the limit of {max_bytes} bytes", "ATTACHMENT_TOO_LARGE")


def check_binary(content: object, max_bytes: int) -> tuple[str, int, str]:
    """Return ``(hash, size, canonical base64)`` of an attachment, or raise.

    The length is checked before decoding (base64 is 4 characters per 3 bytes),
    so an oversized item costs no more than its length; malformed base64 is
    refused rather than silently decoded in part.
    """
    if not isinstance(content, str):
        raise InvalidInput("content must be a string", "MISSING_CONTENT")
    if len(content) > (max_bytes + 2) // 3 * 4 + 4:
        raise TooLarge(f"attachment is over the limit of {max_bytes} bytes", "ATTACHMENT_TOO_LARGE")
    try:
        data = binascii.a2b_base64(content.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise InvalidInput("content is not valid base64", "INVALID_BASE64") from None
    if len(data) > max_bytes:
        raise TooLarge(
            f"attachment is {len(data)} bytes, over the limit of {max_bytes}",
            "ATTACHMENT_TOO_LARGE",
        )
    canonical = binascii.b2a_base64(data, newline=False).decode("ascii")
    return hashlib.sha256(data).hexdigest(), len(data), canonical


def sha256_hex(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def is_storable(text: str) -> bool:
    """Whether both databases can hold ``text``: UTF-8 encodable (no lone surrogate), no NUL."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_text(value: object, field: str) -> str:
    """Refuse an id, name or pattern that no database can hold, as a client error."""
    if not isinstance(value, str) or not is_storable(value):
        raise InvalidInput(f"{field} must be valid Unicode text without NUL characters")
    return value


def check_size(content: str, max_bytes: int) -> None:
    """Refuse content that is surely too large before encoding it: a character is 1 to 4 bytes."""
    if len(content) > max_bytes:
        raise TooLarge(f"content is over the limit of {max_bytes} bytes", "CONTENT_TOO_LARGE")


def check_content(content: object, max_bytes: int) -> tuple[str, int]:
    """Return ``(hash, size)`` of acceptable content, or raise.

    Lone surrogates cannot be stored as UTF-8 and NUL cannot live in a
    PostgreSQL text column, so both are refused here rather than failing later.
    """
    if not isinstance(content, str):
        raise InvalidInput("content must be a string", "MISSING_CONTENT")
    check_size(content, max_bytes)
    try:
        data = content.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("content is not valid UTF-8 text", "INVALID_CONTENT") from None
    if len(data) > max_bytes:
        raise TooLarge(
            f"content is {len(data)} bytes, over the limit of {max_bytes}", "CONTENT_TOO_LARGE"
        )
    if b"\x00" in data:
        raise InvalidInput("content contains a NUL byte; only text is synced", "INVALID_CONTENT")
    return hashlib.sha256(data).hexdigest(), len(data)


def check_hash(value: object, field: str) -> str | None:
    """Accept an absent hash or 64 hex digits (case-folded to the canonical lowercase)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _HASH.fullmatch(value.lower()):
        raise InvalidInput(f"{field} must be a sha256 hex digest", "INVALID_HASH")
    return value.lower()


def store_blob(
    session: Session, digest: str, content: str, size: int, encoding: str = TEXT
) -> None:
    """Queue the blob unless present; concurrent writers of the same content both succeed.

    Same bytes are one blob whatever encoding they came in: the first stored
    keeps its encoding (both decode to the bytes the hash names).
    """
    row = {"hash": digest, "content": content, "size": size, "encoding": encoding}
    defer_insert(session, Blob, row, True)


def load_stored(session: Session, digest: str | None) -> Stored | None:
    """One blob with its encoding (None when absent)."""
    if digest is None:
        return None
    write_deferred(session)
    statement = select(col(Blob.content), col(Blob.encoding)).where(Blob.hash == digest)
    row = session.execute(statement).one_or_none()
    return None if row is None else Stored(row[0], row[1])


def load_stored_many(session: Session, digests: Iterable[str | None]) -> dict[str, Stored]:
    """Fetch many blobs with their encodings in one query, as columns, not objects."""
    wanted = {d for d in digests if d}
    if not wanted:
        return {}
    write_deferred(session)
    table = Blob.__table__  # type: ignore[attr-defined]
    rows = keyed_rows(session, table, _BLOB, "hash", wanted)
    return {row.hash: Stored(row.content, row.encoding) for row in rows}


def load_blob(session: Session, digest: str | None) -> str | None:
    """A blob's text; None when absent or an attachment (whose base64 is not its text)."""
    stored = load_stored(session, digest)
    return None if stored is None or stored.binary else stored.content


def load_blobs(session: Session, digests: Iterable[str | None]) -> dict[str, str]:
    """Many blobs' texts in one query; attachments are left out, as by :func:`load_blob`."""
    found = load_stored_many(session, digests)
    return {h: s.content for h, s in found.items() if not s.binary}


def binary_hashes(session: Session, digests: Iterable[str | None]) -> set[str]:
    """Which of ``digests`` are attachments, without reading any content."""
    wanted = {d for d in digests if d}
    if not wanted:
        return set()
    write_deferred(session)
    statement = select(col(Blob.hash)).where(col(Blob.hash).in_(wanted), Blob.encoding == BASE64)
    return set(session.execute(statement).scalars())
