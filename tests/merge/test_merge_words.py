"""Word-level re-merge of conflicting blocks (granularity="word")."""

from backend.merge import merge3way

PARAGRAPH = (
    "The committee meets on the first Tuesday of the month in the hut by the gate, "
    "and anyone who keeps a plot is welcome to come along and raise a question.\n"
)
BASE = "# Meetings\n\n" + PARAGRAPH + "\nThat is all.\n"


def test_edits_to_different_words_of_one_line_merge_at_word_level() -> None:
    local = BASE.replace("first Tuesday", "second Tuesday")
    remote = BASE.replace("raise a question", "raise any question")
    assert not merge3way(BASE, local, remote).clean
    result = merge3way(BASE, local, remote, granularity="word")
    assert result.clean
    assert result.text == BASE.replace("first", "second").replace("raise a", "raise any")


def test_word_level_is_off_by_default() -> None:
    local = BASE.replace("first", "second")
    remote = BASE.replace("gate", "shed")
    assert not merge3way(BASE, local, remote).clean


def test_same_word_changed_differently_still_conflicts() -> None:
    result = merge3way(
        BASE,
        BASE.replace("Tuesday", "Monday"),
        BASE.replace("Tuesday", "Friday"),
        granularity="word",
    )
    assert not result.clean
    (region,) = result.regions
    assert region.local == (PARAGRAPH.replace("Tuesday", "Monday"),)


def test_insertions_at_the_same_spot_conflict_unless_identical() -> None:
    local = BASE.replace("the hut", "the big hut")
    remote = BASE.replace("the hut", "the old hut")
    assert not merge3way(BASE, local, remote, granularity="word").clean
    same = merge3way(BASE, local, local.replace("month", "year"), granularity="word")
    assert same.clean and same.text == local.replace("month", "year")


def test_touching_word_edits_conflict() -> None:
    # The second edit changes the space right after the first edited word.
    local = BASE.replace("first Tuesday", "1st Tuesday")
    remote = BASE.replace("first Tuesday", "first\nTuesday")
    assert not merge3way(BASE, local, remote, granularity="word").clean


def test_word_pass_keeps_line_endings_and_neighbouring_conflicts_numbered() -> None:
    base = BASE.replace("\n", "\r\n") + "end\r\n"
    local = base.replace("first", "second").replace("end", "END")
    remote = base.replace("gate", "shed").replace("end", "fin")
    result = merge3way(base, local, remote, granularity="word")
    assert [r.index for r in result.regions] == [1]
    assert result.regions[0].local == ("END\r\n",)
    assert (
        PARAGRAPH.replace("first", "second").replace("gate", "shed").replace("\n", "\r\n")
        in result.merged_with_markers
    )


def test_edits_on_adjacent_lines_merge_at_word_level() -> None:
    base = "alpha beta\ngamma delta\n"
    result = merge3way(
        base, "alpha BETA\ngamma delta\n", "alpha beta\nGAMMA delta\n", granularity="word"
    )
    assert result.clean and result.text == "alpha BETA\nGAMMA delta\n"
