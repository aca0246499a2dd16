"""A batch commits with its events or not at all (DESIGN rule 4), shown with a real failure.

A database trigger makes the insert of one event fail at commit time, after the
files, blobs and versions of the batch were written in the same transaction. The
server must answer with an error and leave no trace of any item of the batch.
"""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.factories import Api, upsert


@pytest.fixture
def failing_event(db_engine: Engine) -> Iterator[str]:
    """A path whose ``file.upsert`` event the database refuses to store."""
    path = f"boom-{uuid.uuid4().hex[:8]}.md"
    name = f"fail_{uuid.uuid4().hex[:8]}"
    with db_engine.begin() as conn:
        if db_engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON events "
                    f"WHEN NEW.relative_path = '{path}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.relative_path = '{path}' THEN RAISE EXCEPTION 'refused'; END IF; "
                    f"RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON events "
                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            )
    try:
        yield path
    finally:
        with db_engine.begin() as conn:
            if db_engine.dialect.name == "sqlite":
                conn.execute(text(f"DROP TRIGGER {name}"))
            else:
                conn.execute(text(f"DROP TRIGGER {name} ON events"))
                conn.execute(text(f"DROP FUNCTION {name}()"))


def test_a_failure_at_commit_leaves_no_item_of_the_batch(
    api: Api, failing_event: str, db_engine: Engine
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("kept.md", "v1\n"))
    before = api.deltas(sid)
    response = api.post(
        "sources/push-batch",
        {
            "sourceId": sid,
            "items": [
                upsert("kept.md", "v2\n", base=before[0]["payload"]["hash"]),
                upsert("new.md", "new\n"),
                upsert(failing_event, "refused\n"),
            ],
        },
    )
    assert response.status_code >= 500
    assert "refused" not in response.text  # no database internals leak to the client
    assert api.deltas(sid) == before
    assert [f["relativePath"] for f in api.files(sid, includeDeleted=True)] == ["kept.md"]
    assert api.file(sid, "kept.md")["content"] == "v1\n"
    assert len(api.history(sid, "kept.md")) == 1
    with db_engine.connect() as conn:
        processed: int = conn.execute(
            text("SELECT count(*) FROM operations WHERE source_id = :s"), {"s": sid}
        ).scalar_one()
    assert processed == 1  # only the first batch's operation
    # The same batch without the refused item then applies in full.
    retry = api.push(sid, upsert("new.md", "new\n"))
    assert retry["results"][0]["status"] == "applied"
