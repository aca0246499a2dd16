"""Attachments through real folders: bytes in, the same bytes out, never merged, never lost."""

from pathlib import Path
from typing import Any

from tests.attachment_data import b64, digest, pdf, png
from tests.conftest import LiveServer
from tests.connector.conftest import Syncer, source_id
from tests.factories import Api

INCLUDE = ("--include", "**/*.md", "--include", "**/*.png", "--include", "**/*.pdf")


def run(syncer: Syncer, folder: Path, *extra: str) -> Any:
    return syncer.once(folder, *INCLUDE, *extra)


def settle(syncer: Syncer, *folders: Path) -> None:
    for _ in range(2):
        for folder in folders:
            result = run(syncer, folder)
            assert result.exit_code == 0, result.output


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.relative_to(folder).as_posix().startswith(".localsync")
    }


def put(folder: Path, rel: str, data: bytes) -> None:
    target = folder / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def folders(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    return a, b


def test_png_and_pdf_round_trip_with_history_and_restore(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = folders(tmp_path)
    first, second, doc = png(shade=1), png(shade=2), pdf("vault")
    put(a, "img/photo.png", first)
    put(a, "papers/paper.pdf", doc)
    put(a, "note.md", b"# note\n![](img/photo.png)\n")
    settle(syncer, a, b)
    assert files(b) == files(a)
    assert files(b)["img/photo.png"] == first and files(b)["papers/paper.pdf"] == doc

    put(b, "img/photo.png", second)
    settle(syncer, b, a)
    assert files(a)["img/photo.png"] == second
    sid = source_id(a)
    history = api.call(
        "sources/history",
        {"sourceId": sid, "relativePath": "img/photo.png", "acceptEncodings": ["base64"]},
    )
    assert [v["hash"] for v in history] == [digest(second), digest(first)]
    assert history[1]["content"] == b64(first)

    response = api.http.post(
        "/graphql",
        json={
            "query": "mutation($s: String!, $p: String!, $h: String!) {"
            " restoreVersion(sourceId: $s, path: $p, hash: $h) { __typename } }",
            "variables": {"s": sid, "p": "img/photo.png", "h": digest(first)},
        },
        headers=api.headers,
    )
    assert "errors" not in response.json(), response.text
    settle(syncer, a, b)
    assert files(a)["img/photo.png"] == files(b)["img/photo.png"] == first


def test_binary_conflict_keep_both_lands_byte_exact_in_both_folders(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = folders(tmp_path)
    base, mine, theirs = png(shade=1), png(shade=2), png(shade=3)
    put(a, "photo.png", base)
    settle(syncer, a, b)
    put(a, "photo.png", theirs)
    put(b, "photo.png", mine)
    assert run(syncer, a).exit_code == 0
    result = run(syncer, b)
    assert result.exit_code == 1 and "conflict" in result.output, result.output
    assert files(b)["photo.png"] == mine  # the local side is never overwritten meanwhile

    (conflict,) = api.conflicts(source_id(a))
    api.resolve(conflict["id"], "keep_both")
    settle(syncer, a, b)
    copy = f"photo (conflict {digest(mine)[:8]}).png"
    expected = {"photo.png": theirs, copy: mine}
    assert files(a) == files(b) == expected


def test_attachment_over_the_limit_is_reported_and_never_deleted(
    start_server: Any, tmp_path: Path
) -> None:
    server: LiveServer = start_server(max_attachment_bytes=200)
    with Api(server.url, server.settings, "ws-attach-limit") as api:
        syncer = Syncer(server.url, api.token, api.workspace)
        a, b = folders(tmp_path)
        small, big = png(), png() + bytes(range(256))
        assert len(small) <= 200 < len(big)
        put(a, "small.png", small)
        put(a, "big.png", big)
        result = run(syncer, a)
        assert result.exit_code != 0
        assert "big.png" in result.output and "ATTACHMENT_TOO_LARGE" in result.output
        assert files(a) == {"small.png": small, "big.png": big}
        assert [f["relativePath"] for f in api.files(source_id(a))] == ["small.png"]
        # Another pass neither re-sends nor deletes it; the other folder gets what fits.
        run(syncer, a)
        assert run(syncer, b).exit_code == 0
        assert files(b) == {"small.png": small}
        run(syncer, a)
        assert files(a) == {"small.png": small, "big.png": big}


def test_attachment_over_the_connector_limit_is_reported_and_kept(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = folders(tmp_path)
    huge = a / "scan.pdf"
    with huge.open("wb") as fh:  # sparse: 25 MiB and one byte, cheap to make
        fh.truncate(25 * 1024 * 1024 + 1)
    put(a, "note.md", b"# kept\n")
    result = run(syncer, a)
    assert "not synced (too large" in result.output and "scan.pdf" in result.output
    settle(syncer, a, b)
    assert huge.stat().st_size == 25 * 1024 * 1024 + 1
    assert files(b) == {"note.md": b"# kept\n"}
    assert [f["relativePath"] for f in api.files(source_id(a))] == ["note.md"]


def test_a_vault_s_images_and_pdfs_sync_without_being_asked_for(
    syncer: Syncer, tmp_path: Path
) -> None:
    """The default includes cover what notes embed; other files stay where they are."""
    a, b = folders(tmp_path)
    put(a, "note.md", b"# note\n![](img/photo.png)\n")
    put(a, "img/photo.png", png(shade=3))
    put(a, "img/scan.JPG.jpg", png(shade=4))
    put(a, "papers/paper.pdf", pdf("default"))
    put(a, "build/output.bin", bytes(range(256)))
    for folder in (a, b, a, b):
        result = syncer.once(folder)
        assert result.exit_code == 0, result.output
    expected = files(a)
    del expected["build/output.bin"]
    assert files(b) == expected
    assert (a / "build/output.bin").read_bytes() == bytes(range(256))


def test_a_renamed_attachment_keeps_its_history_in_both_folders(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = folders(tmp_path)
    first, second = png(shade=5), png(shade=6)
    put(a, "img/photo.png", first)
    settle(syncer, a, b)
    put(a, "img/photo.png", second)
    settle(syncer, a, b)
    inode = (b / "img/photo.png").stat().st_ino
    (a / "pics").mkdir()
    (a / "img/photo.png").rename(a / "pics/photo.png")
    settle(syncer, a, b)
    assert files(b) == files(a) == {"pics/photo.png": second}
    assert (b / "pics/photo.png").stat().st_ino == inode  # renamed in place, not rewritten
    history = api.call(
        "sources/history",
        {"sourceId": source_id(a), "relativePath": "pics/photo.png", "acceptEncodings": ["base64"]},
    )
    assert history[0]["movedFrom"] == "img/photo.png"
    assert [v["hash"] for v in history[1:]] == [digest(second), digest(first)]
    assert history[2]["content"] == b64(first)
