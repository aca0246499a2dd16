"""Word highlights in a region: each line finds its partner by its own line number.

The server pairs lines by a line diff, so once a side inserts a line the two
versions' line numbers differ; the pane must look lines up on the side it draws.
"""

from textual.content import Content

from tests.factories import Api, sha, upsert
from tui.client import LocalSyncClient, Region, WordChange, WordSegment
from tui.widgets.merge_region import INSERTED, REMOVED, render_region

PATH = "notes/words.md"
BASE = "# Plan\n\nthe quick brown fox\njumps over the dog\n\nend\n"
LOCAL = "# Plan\n\nA new opening line\nthe quick brown fox\njumps over the lazy dog\n\nend\n"
RAVEN = "# Plan\n\nthe slow brown fox\njumps over the dog\n\nend\n"


def _highlights(content: Content) -> list[tuple[str, str]]:
    """The highlighted pieces of a rendering, with their styles."""
    return [(content.plain[s.start : s.end], str(s.style)) for s in content.spans]


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
    assert _highlights(render_region(region, "local")) == [
        ("A new opening line", INSERTED),
        ("lazy ", INSERTED),
    ]
    assert _highlights(render_region(region, "remote")) == [
        ("quick", REMOVED),
        ("slow", INSERTED),
    ]


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
    # On local the remote's word is shown struck through where it would be.
    assert _highlights(render_region(region, "local")) == [
        ("only local", INSERTED),
        ("a", INSERTED),
        ("b", REMOVED),
    ]
    assert _highlights(render_region(region, "remote")) == [("a", REMOVED), ("b", INSERTED)]
