"""How the terminal app speaks of attachments (files synced as bytes): by type and size."""


def describe_binary(size: int, content_type: str) -> str:
    """What is shown instead of an attachment's bytes, which are not text to read."""
    unit = "byte" if size == 1 else "bytes"
    return f"binary, {size:,} {unit}, {content_type}"
