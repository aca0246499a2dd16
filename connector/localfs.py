"""Writing what the server sent: atomically, and never outside the folder.

A remote path is untrusted input: absolute paths, ``..`` and symlinked
directories leading out of the root are refused, and every write goes to a
temp file that is renamed over the target so readers never see half a file.
"""

import os
import posixpath
from pathlib import Path

from connector.ignore import STATE_DIR


class UnsafePath(Exception):
    pass


def safe_target(root: Path, rel: str) -> Path:
    """The absolute target of ``rel`` under ``root``, or ``UnsafePath``."""
    if not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel:
        raise UnsafePath(f"refusing path {rel!r}: absolute or malformed")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or posixpath.normpath(rel) != rel:
        raise UnsafePath(f"refusing path {rel!r}: not a normalised relative path")
    real_root = os.path.realpath(root)
    target = root.joinpath(*parts)
    # Every existing ancestor must resolve inside the root (a symlinked dir may not escape).
    parent = os.path.realpath(target.parent)
    if parent != real_root and not parent.startswith(real_root + os.sep):
        raise UnsafePath(f"refusing path {rel!r}: leads outside {root}")
    if target.is_symlink():
        raise UnsafePath(f"refusing path {rel!r}: the local file is a symlink")
    return target


def _tmp_dir(root: Path) -> Path:
    directory = root / STATE_DIR / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def atomic_write(root: Path, rel: str, data: bytes) -> os.stat_result:
    target = safe_target(root, rel)
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        safe_target(root, rel)  # re-check: mkdir may have walked through a symlink
    tmp = _tmp_dir(root) / f"{os.urandom(16).hex()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target.stat()


def remove_file(root: Path, rel: str) -> None:
    target = safe_target(root, rel)
    target.unlink(missing_ok=True)
    # Tidy directories the delete left empty, never the root itself.
    parent = target.parent
    real_root = Path(os.path.realpath(root))
    while Path(os.path.realpath(parent)) != real_root:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
