"""The one hash the wire uses: lowercase hex sha256 of the file's bytes.

For text that is its UTF-8; for an attachment, the raw bytes (never the base64).
"""

import hashlib


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_hash(text: str) -> str:
    return sha256_hex(text.encode("utf-8"))
