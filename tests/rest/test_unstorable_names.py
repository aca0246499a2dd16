"""Reads of a path whose name no file can have answer "not found", not bad input.

The published schema bounds a name in characters; the server bounds it in UTF-8
bytes (255). A lookup of a longer name is schema-valid and simply names no file.
"""

import pytest

from tests.factories import Api, assert_error, upsert

LONG = "é" * 200  # 200 characters, 400 UTF-8 bytes


@pytest.mark.parametrize(
    ("route", "extra"),
    [
        ("sources/file", {}),
        ("sources/history", {}),
        ("sources/history/content", {"seq": 1}),
        ("sources/history/retention", {}),
    ],
)
def test_a_name_too_long_to_store_is_not_found(
    api: Api, route: str, extra: dict[str, object]
) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    body = {"sourceId": source["id"], "relativePath": f"notes/{LONG}.md", **extra}
    assert_error(api.post(route, body), 404, "FILE_NOT_FOUND")


def test_writing_such_a_name_is_still_refused_as_bad_input(api: Api) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "relativePath": f"{LONG}.md", "content": "x\n"}
    assert_error(api.post("sources/file/update", body), 422, "INVALID_PATH")
