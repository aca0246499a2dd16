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
    if any(len(p.encode("utf-8")) > MAX_SEGMENT_BYTES for p in parts):
        raise InvalidInput(
            f"a name in relativePath is longer than {MAX_SEGMENT_BYTES} bytes; "
            "no folder on disk could hold it",
            "INVALID_PATH",
        )
    # Unicode normalisation is left alone on purpose: NFC and NFD spellings are
    # distinct files on most filesystems, and the connector reports such clashes.
    return posixpath.join(*parts)
