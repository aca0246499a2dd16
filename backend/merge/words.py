"""Re-merging a conflicting block word by word.

Markdown paragraphs are often a single long line, so two people editing
different sentences of it collide at line level. Here the block is cut into
words, whitespace runs and punctuation runs and merged with the same git rules
as lines: a token edit by one side is taken, identical edits are taken once,
and edits that overlap or touch (including two insertions at the same spot)
leave the block a conflict.
"""

from __future__ import annotations

from backend.merge.regions import merge_regions
from backend.merge.script import edit_script
from backend.merge.text import tokenize_words


def merge_words(base: str, local: str, remote: str) -> str | None:
    """The merged block, or None when the word edits collide."""
    b, lo, re = tokenize_words(base), tokenize_words(local), tokenize_words(remote)
    script1 = edit_script(b, lo)
    script2 = edit_script(b, re)
    if not script1:
        return remote
    if not script2:
        return local
    out: list[str] = []
    pos = 0
    for region in merge_regions(script1, script2, lo, re, len(b)):
        if region.mode == "conflict":
            return None
        out.extend(lo[pos : region.i1])
        if region.mode == "local":
            out.extend(lo[region.i1 : region.i1 + region.chg1])
        else:
            out.extend(re[region.i2 : region.i2 + region.chg2])
        pos = region.i1 + region.chg1
    out.extend(lo[pos:])
    return "".join(out)
