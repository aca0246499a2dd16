"""Word highlights in a region: each line finds its partner by its own line number.

The server pairs lines by a line diff, so once a side inserts a line the two
versions' line numbers differ; the pane must look lines up on the side it draws.
Each side highlights words of its own text only: another version's words never
appear in it.
"""

from tests.factories import Api, sha, upsert
from tui.client import LocalSyncClient, Region, WordChange, WordSegment
from tui.widgets.merge_rows import Side, region_ranges, word_ranges

PATH = "notes/words.md"
BASE = "# Plan\n\nthe quick brown fox\njumps over the dog\n\nend\n"
LOCAL = "# Plan\n\nA new opening line\nthe quick brown fox\njumps over the lazy dog\n\nend\n"
RAVEN = "# Plan\n\nthe slow brown fox\njumps over the dog\n\nend\n"


def _highlights(region: Region, side: Side, show_base: bool = True) -> list[str]:
    """The highlighted words of every line of ``side`` in ``region``."""
    text = {"local": region.local, "remote": region.remote, "base": region.base}[side]
    return [
        line[a:b]
        for offset, line in enumerate(text.splitlines())
        for a, b in region_ranges(show_base, region, offset, side, line)
    ]


async def _region(api: Api, client: LocalSyncClient) -> Region:
    sid = api.source(autoMerge=False)["id"]
    api.push(sid, upsert(PATH, BASE))
    assert api.update(sid, PATH, RAVEN, base=sha(BASE))["status"] == "ok"
    item = api.push(sid, upsert(PATH, LOCAL, base=sha(BASE)))["results"][0]
    assert item["status"] == "conflict", item
    [region] = (await client.conflict(item["conflictId"])).regions
    return region


async def test_words_are_keyed_by_the_rendered_side(api: Api, client: LocalSyncClient) -> None:
    region = await _region(api, client)
    assert set(region.words("BASE", "LOCAL", "new")) == {1, 2}
    assert set(region.words("BASE", "LOCAL", "old")) == {0, 1}
    assert region.words("BASE", "LOCAL", "new")[1] == (WordSegment("equal", "the quick brown fox"),)


async def test_an_inserted_line_does_not_shift_the_highlights(
    api: Api, client: LocalSyncClient
) -> None:
    region = await _region(api, client)
    # Only the inserted line and the inserted word stand out; the unchanged line
    # below the insertion is plain instead of compared with the line above it.
    assert _highlights(region, "local") == ["A new opening line", "lazy "]
    assert _highlights(region, "remote") == ["slow"]
    assert _highlights(region, "base") == ["quick"]


def test_local_is_the_old_side_and_remote_the_new_one_without_a_base() -> None:
    change = WordChange(
        "LOCAL",
        "REMOTE",
        old_offset=1,
        new_offset=0,
        segments=(
            WordSegment("equal", "same "),
            WordSegment("delete", "a"),
            WordSegment("insert", "b"),
        ),
    )
    region = Region(1, "", "only local\nsame a\n", "same b\n", (change,))
    # Each side marks its own differing words; neither shows the other's.
    assert _highlights(region, "local", show_base=False) == ["only local", "a"]
    assert _highlights(region, "remote", show_base=False) == ["b"]


def test_auto_merged_lines_are_compared_word_by_word() -> None:
    old, new = "## Alice 1:1 section 1", "## Alice 1:1 (edited in Raven) section 1"
    assert [new[a:b] for a, b in word_ranges(old, new)] == ["(edited in Raven) "]
