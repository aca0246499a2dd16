"""Three-way merge of text files, with git's rules and git's conflict markers.

Both sides are diffed against the base with git's line diff, the two edit
scripts are paired into regions (:mod:`backend.merge.regions`) and the file is
rebuilt as a list of chunks: stable text everybody agrees on, and numbered
conflict regions a person has to decide. Lines keep their raw endings, so CRLF
files stay CRLF and a missing final newline stays missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from backend.merge.markers import marker_eol, render_conflict
from backend.merge.regions import Region, merge_regions
from backend.merge.script import edit_script
from backend.merge.text import split_lines
from backend.merge.words import merge_words

Granularity = Literal["line", "word"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of the merged file.

    A ``"stable"`` chunk only has ``lines``. A ``"conflict"`` chunk has its
    1-based region ``index``, the three versions of the region (raw lines, endings
    included) and where each version starts in its own file (0-based offsets in
    the ``*_start`` fields, 1-based line numbers from the ``*_line`` properties).
    ``marker_eol`` is the ending git would give this region's marker lines.
    """

    kind: Literal["stable", "conflict"]
    lines: tuple[str, ...] = ()
    index: int = 0
    base: tuple[str, ...] = ()
    local: tuple[str, ...] = ()
    remote: tuple[str, ...] = ()
    base_start: int = 0
    local_start: int = 0
    remote_start: int = 0
    marker_eol: str = "\n"

    @property
    def base_line(self) -> int:
        return self.base_start + 1

    @property
    def local_line(self) -> int:
        return self.local_start + 1

    @property
    def remote_line(self) -> int:
        return self.remote_start + 1

    def with_markers(self) -> str:
        """The chunk as it appears in a file that still has conflict markers."""
        if self.kind == "stable":
            return "".join(self.lines)
        return render_conflict(self.local, self.base, self.remote, self.marker_eol)


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Everything a caller needs: the chunks, the verdict and both renderings.

    ``text`` is the merged file when ``clean`` and None otherwise;
    ``merged_with_markers`` is always set (equal to ``text`` when clean), and
    ``regions`` lists the conflict chunks in order.
    """

    chunks: tuple[Chunk, ...]
    clean: bool
    text: str | None
    regions: tuple[Chunk, ...]
    merged_with_markers: str


class _Builder:
    """Collects stable lines and conflicts while walking the merge regions."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.pending: list[str] = []

    def stable(self, lines: Sequence[str]) -> None:
        self.pending.extend(lines)

    def conflict(self, chunk: Chunk) -> None:
        self.flush()
        self.chunks.append(chunk)

    def flush(self) -> None:
        if self.pending:
            self.chunks.append(Chunk("stable", tuple(self.pending)))
            self.pending = []


def _conflict_chunk(base: list[str], local: list[str], remote: list[str], r: Region) -> Chunk:
    return Chunk(
        "conflict",
        base=tuple(base[r.i0 : r.i0 + r.chg0]),
        local=tuple(local[r.i1 : r.i1 + r.chg1]),
        remote=tuple(remote[r.i2 : r.i2 + r.chg2]),
        base_start=r.i0,
        local_start=r.i1,
        remote_start=r.i2,
        marker_eol=marker_eol(base, local, remote, r.i1, r.i2),
    )


def _chunks(base: list[str], local: list[str], remote: list[str]) -> list[Chunk]:
    """Rebuild the file from local, splicing in remote's edits and the conflicts."""
    script1 = edit_script(base, local)
    script2 = edit_script(base, remote)
    if not script1:
        return [Chunk("stable", tuple(remote))] if remote else []
    if not script2:
        return [Chunk("stable", tuple(local))] if local else []
    out = _Builder()
    pos = 0
    for region in merge_regions(script1, script2, local, remote, len(base)):
        out.stable(local[pos : region.i1])
        if region.mode == "conflict":
            out.conflict(_conflict_chunk(base, local, remote, region))
        elif region.mode == "local":
            out.stable(local[region.i1 : region.i1 + region.chg1])
        else:
            out.stable(remote[region.i2 : region.i2 + region.chg2])
        pos = region.i1 + region.chg1
    out.stable(local[pos:])
    out.flush()
    return out.chunks


def _ends_open(lines: Sequence[str]) -> bool:
    return bool(lines) and not lines[-1].endswith("\n")


def word_pass(chunk: Chunk) -> Chunk:
    """Replace a conflict by its word-level merge when the word edits do not collide.

    A merge that would leave the block without its final newline while no side
    lacked one is refused, so it can never glue onto the text after it.
    """
    merged = merge_words("".join(chunk.base), "".join(chunk.local), "".join(chunk.remote))
    if merged is None:
        return chunk
    lines = split_lines(merged)
    if _ends_open(lines) and not any(map(_ends_open, (chunk.base, chunk.local, chunk.remote))):
        return chunk
    return Chunk("stable", tuple(lines))


def finish_chunks(chunks: Sequence[Chunk]) -> MergeResult:
    """Fuse neighbouring stable chunks and number the conflicts 1, 2, ..."""
    out = _Builder()
    index = 0
    for chunk in chunks:
        if chunk.kind == "stable":
            out.stable(chunk.lines)
        else:
            index += 1
            out.conflict(replace(chunk, index=index))
    out.flush()
    final = tuple(out.chunks)
    regions = tuple(c for c in final if c.kind == "conflict")
    with_markers = "".join(c.with_markers() for c in final)
    clean = not regions
    return MergeResult(final, clean, with_markers if clean else None, regions, with_markers)


def merge3way(
    base: str, local: str, remote: str, *, granularity: Granularity = "line"
) -> MergeResult:
    """Merge ``local`` and ``remote`` (the "raven" side), both derived from ``base``.

    Matches ``git merge-file --diff3`` line for line: a side equal to the base
    yields the other side, identical edits merge, edits that overlap or touch
    conflict. With ``granularity="word"`` each conflict is retried word by word.
    """
    if granularity not in ("line", "word"):
        raise ValueError(f"granularity must be 'line' or 'word', got {granularity!r}")
    if local == remote:
        lines = split_lines(local)
        return finish_chunks([Chunk("stable", tuple(lines))] if lines else [])
    chunks = _chunks(split_lines(base), split_lines(local), split_lines(remote))
    if granularity == "word":
        chunks = [word_pass(c) if c.kind == "conflict" else c for c in chunks]
    return finish_chunks(chunks)
