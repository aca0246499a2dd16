"""Content validation and the content-addressed blob store."""

import hashlib
import re
from collections.abc import Iterable

from sqlmodel import Session, col, select

from backend.db import defer_insert, keyed_rows, write_deferred
from backend.errors import InvalidInput, TooLarge
from backend.models import Blob

_HASH = re.compile(r"[0-9a-f]{64}")
_BLOB = ("hash", "content")


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


def store_blob(session: Session, digest: str, content: str, size: int) -> None:
    """Queue the blob unless present; concurrent writers of the same content both succeed."""
    defer_insert(session, Blob, {"hash": digest, "content": content, "size": size}, True)


def load_blob(session: Session, digest: str | None) -> str | None:
    if digest is None:
        return None
    write_deferred(session)
    statement = select(col(Blob.content)).where(Blob.hash == digest)
    return session.execute(statement).scalar_one_or_none()


def load_blobs(session: Session, digests: Iterable[str | None]) -> dict[str, str]:
    """Fetch many blobs in one query (deltas and history pages), as columns, not objects."""
    wanted = {d for d in digests if d}
    if not wanted:
        return {}
    write_deferred(session)
    table = Blob.__table__  # type: ignore[attr-defined]
    return {row.hash: row.content for row in keyed_rows(session, table, _BLOB, "hash", wanted)}
