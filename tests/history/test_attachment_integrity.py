"""Verify, backup and restore hold attachments to their bytes, as they hold text."""

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.engine import Engine

from backend.settings import Settings
from tests.attachment_data import attachment, b64, digest, pdf, png
from tests.conftest import LiveServer
from tests.factories import Api, upsert


def _populate(api: Api) -> str:
    sid: str = api.source()["id"]
    api.push(sid, attachment("img/a.png", png()), upsert("n.md", "# n\n"))
    api.push(sid, attachment("doc.pdf", pdf(), content_type="application/pdf"))
    return sid


def test_verify_checks_attachments_by_their_bytes(
    own_api: Api, own_database: str, own_engine: Engine, localsync: Callable[..., Result]
) -> None:
    _populate(own_api)
    healthy = localsync("verify", database_url=own_database)
    assert healthy.exit_code == 0, healthy.output
    assert "ok: nothing is missing" in healthy.output
    with own_engine.begin() as conn:
        # Still valid base64, other bytes: the hash no longer names it.
        conn.execute(
            text("UPDATE blobs SET content = :c WHERE hash = :h"),
            {"c": b64(png(shade=7)), "h": digest(png())},
        )
        # Not base64 at all.
        conn.execute(text("UPDATE blobs SET content = '@@@' WHERE hash = :h"), {"h": digest(pdf())})
    broken = localsync("verify", database_url=own_database)
    assert broken.exit_code != 0
    assert f"blob {digest(png())} does not hash to its name" in broken.output
    assert f"blob {digest(pdf())} does not hash to its name" in broken.output


def test_backup_and_restore_round_trip_attachments(
    own_server: LiveServer,
    own_settings: Settings,
    own_api: Api,
    own_database: str,
    tmp_path: Path,
    localsync: Callable[..., Result],
) -> None:
    if not own_database.startswith("sqlite"):
        pytest.skip("PostgreSQL backups are pg_dump's job")
    sid = _populate(own_api)
    target = tmp_path / "snapshot.db"
    assert localsync("backup", str(target), database_url=own_database).exit_code == 0
    own_api.push(sid, attachment("img/a.png", png(shade=5), base=digest(png())))
    own_server.stop()
    restored = localsync("restore", str(target), database_url=own_database)
    assert restored.exit_code == 0, restored.output
    assert "ok: nothing is missing" in restored.output
    again = LiveServer(own_settings).start()
    try:
        with Api(again.url, own_settings, own_api.workspace) as api:
            ask = {"sourceId": sid, "acceptEncodings": ["base64"]}
            image = api.call("sources/file", ask | {"relativePath": "img/a.png"})
            doc = api.call("sources/file", ask | {"relativePath": "doc.pdf"})
    finally:
        again.stop()
    assert (image["content"], image["contentEncoding"]) == (b64(png()), "base64")
    assert doc["content"] == b64(pdf())
