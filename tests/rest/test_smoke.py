"""The happy path of every documented group, end to end over HTTP."""

from tests.factories import Api, sha, upsert


def test_push_then_read_back(api: Api) -> None:
    source = api.source()
    result = api.push(source["id"], upsert("notes/a.md", "# A\n"))
    assert result["applied"] == 1
    assert result["results"][0]["status"] == "applied"
    record = api.file(source["id"], "notes/a.md")
    assert record["content"] == "# A\n"
    assert record["hash"] == sha("# A\n")
    events = api.deltas(source["id"])
    assert [e["type"] for e in events] == ["file.upsert"]
    assert events[0]["payload"]["content"] == "# A\n"
