"""Retention over GraphQL: the same service calls as REST, GraphQL's shapes and codes."""

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

SET = """
mutation($id: ID!, $kind: RetentionKind!, $last: Int, $age: Int) {
  setRetention(sourceId: $id, kind: $kind, keepLast: $last, maxAgeDays: $age) {
    kind keepLast maxAgeDays
  }
}"""
SOURCE = "query($id: ID!) { source(id: $id) { retention { kind keepLast maxAgeDays } } }"
PIN = """
mutation($id: ID!, $path: String!, $seq: Int!) {
  pinVersion(sourceId: $id, path: $path, seq: $seq) { seq pinned pruned }
}"""
GC = """
mutation($id: ID!, $dry: Boolean!) {
  collectGarbage(sourceId: $id, dryRun: $dry) { versionsPruned blobsDeleted blobsLeft dryRun }
}"""
VERSIONS = """
query($id: ID!, $path: String!) {
  versionRetention(sourceId: $id, path: $path) { seq hash pinned pruned prunedAt }
}"""


async def test_set_pin_collect_and_read_back(api: Api, gq: Gq, db_engine: Engine) -> None:
    source = api.source()["id"]
    base = None
    for n in range(4):
        content = f"# g\n{n} {source}\n"
        api.push(source, upsert("g.md", content, base=base))
        base = sha(content)
    default = await gq.run(SOURCE, id=source)
    assert default["source"]["retention"] == {"kind": "ALL", "keepLast": None, "maxAgeDays": None}
    answer = await gq.run(SET, id=source, kind="LAST", last=1)
    assert answer["setRetention"] == {"kind": "LAST", "keepLast": 1, "maxAgeDays": None}
    assert (await gq.run(SOURCE, id=source))["source"]["retention"]["keepLast"] == 1

    pinned = await gq.run(PIN, id=source, path="g.md", seq=1)
    assert pinned["pinVersion"] == {"seq": 1, "pinned": True, "pruned": False}
    dry = await gq.run(GC, id=source, dry=True)
    assert dry["collectGarbage"] == {
        "versionsPruned": 2,
        "blobsDeleted": 2,
        "blobsLeft": 0,
        "dryRun": True,
    }
    done = await gq.run(GC, id=source, dry=False)
    assert done["collectGarbage"] == {
        "versionsPruned": 2,
        "blobsDeleted": 2,
        "blobsLeft": 0,
        "dryRun": False,
    }
    rows = (await gq.run(VERSIONS, id=source, path="g.md"))["versionRetention"]
    assert [(r["seq"], r["pinned"], r["pruned"]) for r in rows] == [
        (4, False, False),
        (3, False, True),
        (2, False, True),
        (1, True, False),
    ]
    assert all(r["hash"] for r in rows) and rows[1]["prunedAt"]
    with db_engine.connect() as conn:
        gone = conn.execute(text("SELECT 1 FROM blobs WHERE hash = :h"), {"h": rows[1]["hash"]})
        assert gone.first() is None

    code = await gq.error(PIN, id=source, path="g.md", seq=2)
    assert code["extensions"]["code"] == "NOT_FOUND"
    assert code["extensions"].get("reason") == "VERSION_PRUNED"


async def test_bad_policies_and_other_tenants_are_refused(api: Api, gq: Gq, other_gq: Gq) -> None:
    source = api.source()["id"]
    assert await gq.code(SET, id=source, kind="LAST") == "BAD_USER_INPUT"
    assert await gq.code(SET, id=source, kind="STAGGERED", age=3) == "BAD_USER_INPUT"
    assert await other_gq.code(SET, id=source, kind="LAST", last=2) == "NOT_FOUND"
    assert await other_gq.code(GC, id=source, dry=False) == "NOT_FOUND"
