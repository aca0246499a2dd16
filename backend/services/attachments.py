"""Attachments: files synced as bytes (base64 on the wire) rather than as text.

The rules that differ from text live here so the edit, read and conflict
paths only hook in: which limit applies, how a pushed attachment is checked,
the name a "keep both" resolution gives the other side, and what a reader
that did not ask for bytes is shown instead of base64.
"""

import posixpath

from backend.services.content import (
    BASE64,
    check_base64_length,
    check_binary,
    check_content,
    check_size,
)
from backend.settings import Settings


def check_length(content: str, encoding: str, settings: Settings) -> None:
    """Refuse content surely over its limit by its length alone, before decoding anything."""
    if encoding == BASE64:
        check_base64_length(content, settings.max_attachment_bytes)
    else:
        check_size(content, settings.max_file_bytes)


def checked_content(content: object, encoding: str, settings: Settings) -> tuple[str, int, str]:
    """``(hash, size, content)`` of acceptable content in the given encoding, or raise.

    Text is limited by ``max_file_bytes``, attachments by ``max_attachment_bytes``
    of decoded bytes; an attachment's content comes back as canonical base64.
    """
    if encoding == BASE64:
        return check_binary(content, settings.max_attachment_bytes)
    digest, size = check_content(content, settings.max_file_bytes)
    assert isinstance(content, str)
    return digest, size, content


def keep_both_path(path: str, digest: str) -> str:
    """Where "keep both" puts the side that loses the path: ``photo (conflict 1a2b3c4d).png``.

    Derived from the kept-aside content's hash only, so every connector and the
    server agree on the name without talking to each other.
    """
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    if not stem:  # ".env" style names have no extension to keep apart
        stem, ext = name, ""
    return posixpath.join(folder, f"{stem} (conflict {digest[:8]}){ext}")
