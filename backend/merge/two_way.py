"""A merge view for two sides whose common base is unknown.

Without a base nothing can be merged automatically (that would be guessing), so
every block where the sides differ becomes a conflict region with an empty base,
and lines both sides share stay as they are. The decisions functions then work
exactly as for a three-way conflict.
"""

from __future__ import annotations

from backend.merge.diff import diff_lines
from backend.merge.text import dominant_eol, split_lines
from backend.merge.three_way import Chunk, MergeResult, finish_chunks


def merge_without_base(local: str, remote: str) -> MergeResult:
    chunks: list[Chunk] = []
    ours: list[str] = []
    theirs: list[str] = []
    local_at = remote_at = 0
    eol = dominant_eol(split_lines(local) + split_lines(remote))

    def flush_conflict() -> None:
        nonlocal local_at, remote_at
        if ours or theirs:
            chunks.append(
                Chunk(
                    "conflict",
                    local=tuple(ours),
                    remote=tuple(theirs),
                    local_start=local_at,
                    remote_start=remote_at,
                    marker_eol=eol,
                )
            )
            local_at += len(ours)
            remote_at += len(theirs)
            ours.clear()
            theirs.clear()

    for line in diff_lines(local, remote):
        if line.kind == "equal":
            flush_conflict()
            chunks.append(Chunk("stable", (line.raw,)))
            local_at += 1
            remote_at += 1
        elif line.kind == "delete":
            ours.append(line.raw)
        else:
            theirs.append(line.raw)
    flush_conflict()
    return finish_chunks(chunks)
