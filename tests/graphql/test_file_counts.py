"""GraphQL ``fileCount`` is the source's counter: no statement reads files for it."""

from tests.conftest import LiveServer
from tests.factories import Api, delete, sha, upsert
from tests.graphql.conftest import Gq
from tests.graphql.test_n_plus_one import _engine, counting

SOURCES = "{ sources { id fileCount } }"


async def test_file_count_is_read_from_the_source(
    api: Api, gq: Gq, live_server: LiveServer
) -> None:
    sids = [api.source()["id"] for _ in range(3)]
    api.push(sids[0], *(upsert(f"{i}.md", f"{i}\n") for i in range(4)))
    api.push(sids[0], delete("0.md", sha("0\n")))
    api.push(sids[1], upsert("a.md", "a\n"))
    with counting(_engine(live_server)) as counter:
        data = await gq.run(SOURCES)
    counts = {s["id"]: s["fileCount"] for s in data["sources"]}
    assert counts == {sids[0]: 3, sids[1]: 1, sids[2]: 0}
    assert counts == {s["id"]: s["fileCount"] for s in api.sources()}
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in selects if "files" in s.lower()], selects
    assert len(selects) <= 2, selects  # the sources (and how many), not a query per source
