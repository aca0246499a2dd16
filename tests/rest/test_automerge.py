"""Server wiring of the merge engine: stale bases merge when they can, else conflict."""

from typing import Any

from tests.factories import Api, sha, upsert

BASE = "# Title\n\nalpha\n\nbeta\n\ngamma\n"
LOCAL = "# Title\n\nalpha local\n\nbeta\n\ngamma\n"
RAVEN = "# Title\n\nalpha\n\nbeta\n\ngamma raven\n"
MERGED = "# Title\n\nalpha local\n\nbeta\n\ngamma raven\n"


def _stale_setup(api: Api, **source: Any) -> tuple[str, str]:
    """A file at BASE, then a Raven edit to RAVEN, so a push based on BASE is stale."""
    sid = api.source(**source)["id"]
    api.push(sid, upsert("n.md", BASE))
    body = {"sourceId": sid, "relativePath": "n.md", "content": RAVEN, "baseHash": sha(BASE)}
    assert api.call("sources/file/update", body)["status"] == "ok"
    return sid, sha(BASE)


def test_stale_push_without_overlap_merges(api: Api) -> None:
    sid, base = _stale_setup(api)
    result = api.push(sid, upsert("n.md", LOCAL, base=base, op="op-local"))
    item = result["results"][0]
    assert item["status"] == "merged"
    assert item["hash"] == sha(MERGED)
    assert api.file(sid, "n.md")["content"] == MERGED
    last = api.deltas(sid)[-1]
    assert last["type"] == "file.upsert"
    assert last["payload"]["origin"] == "merge"
    assert last["payload"]["content"] == MERGED
    assert "connectorId" not in last["payload"]  # the pusher must write it back, not skip it
    history = api.history(sid, "n.md")
    assert [v["origin"] for v in history[:2]] == ["merge", "connector"]
    assert history[1]["content"] == LOCAL  # what the client sent stays in history


def test_overlapping_edits_open_a_conflict_with_all_three_sides(api: Api) -> None:
    sid, base = _stale_setup(api)
    clash = "# Title\n\nalpha\n\nbeta\n\ngamma local\n"
    item = api.push(sid, upsert("n.md", clash, base=base))["results"][0]
    assert item["status"] == "conflict"
    assert api.file(sid, "n.md")["content"] == RAVEN  # not overwritten
    preview = api.call("sources/conflicts/preview", {"conflictId": item["conflictId"]})
    assert preview["baseKnown"] is True
    assert preview["baseHash"] == base
    assert preview["summary"]["conflictingRegions"] == 1
    assert preview["regions"][0]["local"] == "gamma local\n"
    assert preview["regions"][0]["remote"] == "gamma raven\n"
    assert preview["regions"][0]["base"] == "gamma\n"
    assert preview["changes"] == [{"line": 7, "local": "gamma local", "remote": "gamma raven"}]
    assert preview["mergedWithMarkers"] == (
        "# Title\n\nalpha\n\nbeta\n\n<<<<<<< local\ngamma local\n||||||| base\ngamma\n"
        "=======\ngamma raven\n>>>>>>> raven\n"
    )


def test_preview_honours_context_lines(api: Api) -> None:
    sid, base = _stale_setup(api)
    clash = "# Title\n\nalpha\n\nbeta\n\ngamma local\n"
    conflict_id = api.push(sid, upsert("n.md", clash, base=base))["results"][0]["conflictId"]
    sizes = {}
    for context in (0, 3, 50):
        body = {"conflictId": conflict_id, "contextLines": context}
        hunks = api.call("sources/conflicts/preview", body)["hunks"]
        sizes[context] = sum(len(h["lines"]) for h in hunks)
    assert sizes[0] == 2  # just the changed line, both sides
    assert sizes[3] == 5
    assert sizes[50] == 8  # the whole file
    assert (
        api.post(
            "sources/conflicts/preview", {"conflictId": conflict_id, "contextLines": 51}
        ).status_code
        == 422
    )


def test_auto_merge_off_keeps_the_plain_conflict_model(api: Api) -> None:
    sid, base = _stale_setup(api, autoMerge=False)
    item = api.push(sid, upsert("n.md", LOCAL, base=base))["results"][0]
    assert item["status"] == "conflict"


def test_unknown_base_is_never_guessed(api: Api) -> None:
    sid, _ = _stale_setup(api)
    unknown = sha("content this server never stored\n")
    item = api.push(sid, upsert("n.md", LOCAL, base=unknown))["results"][0]
    assert item["status"] == "conflict"
    preview = api.call("sources/conflicts/preview", {"conflictId": item["conflictId"]})
    assert preview["baseKnown"] is False
    assert preview["regions"][0]["base"] == ""


def test_raven_edit_with_stale_base_merges(api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("n.md", BASE))
    api.push(sid, upsert("n.md", LOCAL, base=sha(BASE)))
    body = {"sourceId": sid, "relativePath": "n.md", "content": RAVEN, "baseHash": sha(BASE)}
    result = api.call("sources/file/update", body)
    assert result["status"] == "merged"
    assert api.file(sid, "n.md")["content"] == MERGED


def test_word_granularity_merges_edits_inside_one_paragraph(api: Api) -> None:
    base = "The quick brown fox jumps over the lazy dog.\n"
    local = "The quick red fox jumps over the lazy dog.\n"
    raven = "The quick brown fox jumps over the sleepy dog.\n"
    for granularity, expected in (("line", "conflict"), ("word", "merged")):
        sid = api.source(mergeGranularity=granularity)["id"]
        api.push(sid, upsert("p.md", base))
        api.call(
            "sources/file/update",
            {"sourceId": sid, "relativePath": "p.md", "content": raven, "baseHash": sha(base)},
        )
        item = api.push(sid, upsert("p.md", local, base=sha(base)))["results"][0]
        assert item["status"] == expected
        if expected == "merged":
            merged = "The quick red fox jumps over the sleepy dog.\n"
            assert api.file(sid, "p.md")["content"] == merged


def test_crlf_line_endings_survive_a_merge(api: Api) -> None:
    base, local, raven = (t.replace("\n", "\r\n") for t in (BASE, LOCAL, RAVEN))
    sid = api.source()["id"]
    api.push(sid, upsert("w.md", base))
    api.call(
        "sources/file/update",
        {"sourceId": sid, "relativePath": "w.md", "content": raven, "baseHash": sha(base)},
    )
    item = api.push(sid, upsert("w.md", local, base=sha(base)))["results"][0]
    assert item["status"] == "merged"
    assert api.file(sid, "w.md")["content"] == MERGED.replace("\n", "\r\n")


def test_history_diff_between_two_versions(api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("d.md", BASE))
    api.push(sid, upsert("d.md", LOCAL, base=sha(BASE)))
    body = {
        "sourceId": sid,
        "relativePath": "d.md",
        "fromHash": sha(BASE),
        "toHash": sha(LOCAL),
        "contextLines": 1,
    }
    diff = api.call("sources/history/diff", body)
    assert (diff["insertions"], diff["deletions"]) == (1, 1)
    assert diff["unified"].splitlines()[2:] == [
        "@@ -2,3 +2,3 @@",
        " ",
        "-alpha",
        "+alpha local",
        " ",
    ]
    foreign = {**body, "toHash": sha("never stored in this file\n")}
    assert api.post("sources/history/diff", foreign).status_code == 404


def test_a_base_from_another_file_is_not_a_known_base(api: Api, other_api: Api) -> None:
    """Blobs are shared across workspaces; a guessed hash must not reveal or merge content."""
    secret = "another workspace's private note\n"
    other_sid = other_api.source()["id"]
    other_api.push(other_sid, upsert("secret.md", secret))
    sid, _ = _stale_setup(api)
    item = api.push(sid, upsert("n.md", LOCAL, base=sha(secret)))["results"][0]
    assert item["status"] == "conflict"
    preview = api.call("sources/conflicts/preview", {"conflictId": item["conflictId"]})
    assert preview["baseKnown"] is False
    assert secret not in str(preview)
