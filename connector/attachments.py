"""Attachments: files the connector syncs as bytes rather than as UTF-8 text.

Images, PDFs and any file that is not UTF-8 text (or holds a NUL, which no
text column stores) travel as base64 with ``contentEncoding: "base64"``; the
hash is the sha256 of the file's bytes either way, so the journal's hashes,
the scan's change detection and the server's hashes all agree.

Inside the connector an attachment's content is carried where text is
carried (scan results, journal rows, pending pushes) as a *packed* string:
:data:`PACKED` followed by the base64 of the bytes. A text file can never
start with NUL (a file holding one is an attachment), so the two cannot be
confused, and the journal's schema and every pass-through stay as they are.
Only the edges (reading a file, building a push item, taking an event's
content, writing bytes) look inside, through the functions below.
"""

import base64
import mimetypes
import posixpath
from typing import Any

from connector.hashing import sha256_hex

PACKED = "\x00base64:"
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
"""The server's default ``max_attachment_bytes``; larger files are reported, never synced."""

BINARY_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".bmp",
        ".tif",
        ".tiff",
        ".ico",
        ".heic",
        ".avif",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".7z",
        ".rar",
        ".mp3",
        ".m4a",
        ".wav",
        ".ogg",
        ".flac",
        ".mp4",
        ".mov",
        ".mkv",
        ".webm",
        ".docx",
        ".xlsx",
        ".pptx",
        ".odt",
        ".epub",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".sqlite",
        ".db",
    ]
)
"""Common binary types, synced as bytes even when their bytes happen to decode as UTF-8."""


def is_binary(path: str, data: bytes) -> bool:
    """Whether ``data`` must travel as bytes: a binary type, a NUL, or not UTF-8."""
    if posixpath.splitext(path)[1].lower() in BINARY_SUFFIXES or b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def decode_local(path: str, data: bytes) -> str:
    """A file's bytes as the connector carries them: text, or packed base64."""
    if is_binary(path, data):
        return pack(data)
    return data.decode("utf-8")


def pack(data: bytes) -> str:
    return PACKED + base64.b64encode(data).decode("ascii")


def is_packed(content: str) -> bool:
    return content.startswith(PACKED)


def to_bytes(content: str) -> bytes:
    """The exact bytes to write for carried ``content``."""
    if is_packed(content):
        return base64.b64decode(content[len(PACKED) :], validate=True)
    return content.encode("utf-8")


def content_hash(content: str) -> str:
    """The wire hash of carried content: sha256 of the bytes it stands for."""
    return sha256_hex(to_bytes(content))


def wire_fields(path: str, content: str) -> dict[str, Any]:
    """The push item's content fields for carried ``content``."""
    if not is_packed(content):
        return {"content": content, "contentType": "text/markdown"}
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return {
        "content": content[len(PACKED) :],
        "contentEncoding": "base64",
        "contentType": kind,
    }


def from_wire(record: dict[str, Any]) -> str | None:
    """An event payload's or file record's content, as the connector carries it.

    None when absent, or when base64 content does not decode (the caller's
    hash check then refuses it rather than writing garbage).
    """
    content = record.get("content")
    if not isinstance(content, str):
        return None
    if record.get("contentEncoding") != "base64":
        return content
    try:
        return pack(base64.b64decode(content, validate=True))
    except ValueError:
        return None


ACCEPT = ["base64"]
"""What this connector asks the server for: attachments as base64."""
