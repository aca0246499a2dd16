"""Conflict markers exactly as ``git merge-file --diff3`` writes them.

Kept apart from the merge so the decisions module can redraw undecided regions
in a half-resolved file with the very same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

LOCAL_MARKER = "<<<<<<< local"
BASE_MARKER = "||||||| base"
SEPARATOR = "======="
REMOTE_MARKER = ">>>>>>> raven"


def _eol_crlf(lines: Sequence[str], i: int) -> int:
    """1 if line ``i`` ends in CRLF, 0 if in LF, -1 if it cannot be told.

    A last line without ending borrows the style of the line before it, as in
    xdiff's ``is_eol_crlf``.
    """
    n = len(lines)
    if i < n - 1:
        return int(lines[i].endswith("\r\n"))
    if n == 0:
        return -1
    if lines[i].endswith("\n"):
        return int(lines[i].endswith("\r\n"))
    if i == 0:
        return -1
    return int(lines[i - 1].endswith("\r\n"))


def marker_eol(
    base: Sequence[str],
    local: Sequence[str],
    remote: Sequence[str],
    local_start: int,
    remote_start: int,
) -> str:
    r"""The ending for marker lines of a conflict starting at the given offsets.

    Markers use CRLF only when the lines just before the conflict in both sides
    and the base's first line all do (git's ``is_cr_needed``); a CRLF file thus
    gets CRLF markers and is not turned into a mixed-ending file.
    """
    crlf = _eol_crlf(local, local_start - 1 if local_start else 0)
    if crlf:
        crlf = _eol_crlf(remote, remote_start - 1 if remote_start else 0)
    if crlf:
        crlf = _eol_crlf(base, 0)
    return "\r\n" if crlf > 0 else "\n"


def _block(lines: Sequence[str], eol: str) -> str:
    """A side's lines; a last line without ending gets one so no marker is glued to it."""
    text = "".join(lines)
    if text and not text.endswith("\n"):
        text += eol
    return text


def render_conflict(
    local: Sequence[str], base: Sequence[str], remote: Sequence[str], eol: str = "\n"
) -> str:
    """One conflict in diff3 style: local, base, then the other side ("raven")."""
    return "".join(
        (
            LOCAL_MARKER + eol,
            _block(local, eol),
            BASE_MARKER + eol,
            _block(base, eol),
            SEPARATOR + eol,
            _block(remote, eol),
            REMOTE_MARKER + eol,
        )
    )
