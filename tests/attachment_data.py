"""Small real attachments for tests: a valid PNG and a minimal PDF, built in code."""

import base64
import hashlib
import struct
import uuid
import zlib
from typing import Any


def png(width: int = 4, height: int = 3, shade: int = 0) -> bytes:
    """A valid RGB PNG: signature, IHDR, one zlib IDAT, IEND (each chunk with its CRC)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + bytes((x * 40 + shade) % 256 for x in range(width * 3))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def pdf(text: str = "Hello") -> bytes:
    """A minimal one-page PDF; the binary comment line makes it bytes, as real PDFs are."""
    stream = f"BT /F1 12 Tf 20 50 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment(
    path: str, data: bytes, base: str | None = None, content_type: str = "image/png", **extra: Any
) -> dict[str, Any]:
    """A push-batch item carrying ``data`` as an attachment."""
    item: dict[str, Any] = {
        "operationId": f"op-{uuid.uuid4()}",
        "relativePath": path,
        "content": b64(data),
        "contentEncoding": "base64",
        "contentType": content_type,
        "contentHash": digest(data),
        "baseHash": base,
        "isDelete": False,
    }
    item.update(extra)
    return item
