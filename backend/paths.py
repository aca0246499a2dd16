"""Validation and normalisation of ``relativePath`` values (pure)."""

import posixpath

from backend.errors import InvalidInput

MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255
"""What common filesystems (ext4, APFS, NTFS) allow for one file or folder name."""


def normalise_path(raw: object) -> str:
    """Return the canonical POSIX form of a source-relative path, or raise.

    Refusing rather than repairing hostile forms (``..``, absolute, backslashes)
    keeps a connector from ever being told to write outside its folder.
    """
    parts = _parts(raw)
    if _overlong(parts):
        raise InvalidInput(
            f"a name in relativePath is longer than {MAX_SEGMENT_BYTES} bytes; "
            "no folder on disk could hold it",
            "INVALID_PATH",
        )
    # Unicode normalisation is left alone on purpose: NFC and NFD spellings are
    # distinct files on most filesystems, and the connector reports such clashes.
    return posixpath.join(*parts)


def lookup_path(raw: object) -> str | None:
    """``normalise_path`` for reads: a name too long to store names no file (None).

    No file can ever have such a name, so asking for one is answered "not found",
    like any other absent path, rather than as bad input: the published schema
    bounds names in characters, not UTF-8 bytes, so such a request is schema-valid.
    """
    parts = _parts(raw)
    return None if _overlong(parts) else posixpath.join(*parts)


def _overlong(parts: list[str]) -> bool:
    return any(len(p.encode("utf-8")) > MAX_SEGMENT_BYTES for p in parts)


def _parts(raw: object) -> list[str]:
    """The path's names, after every check but the names' length."""
    if not isinstance(raw, str) or raw == "":
        raise InvalidInput("relativePath must be a non-empty string", "INVALID_PATH")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise InvalidInput("relativePath contains a NUL or control character", "INVALID_PATH")
    if "\\" in raw:
        raise InvalidInput("relativePath must use '/' separators, not '\\'", "INVALID_PATH")
    if raw.startswith("/"):
        raise InvalidInput("relativePath must be relative, not absolute", "INVALID_PATH")
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput("relativePath is not valid Unicode", "INVALID_PATH") from None
    if size > MAX_PATH_BYTES:
        raise InvalidInput(f"relativePath is longer than {MAX_PATH_BYTES} bytes", "INVALID_PATH")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput("relativePath must not contain '..'", "INVALID_PATH")
    if not parts:
        raise InvalidInput("relativePath names no file", "INVALID_PATH")
    return parts
