"""Peak server RSS for legitimate pushes whose UTF-8 body holds one emoji.

Python keeps a text with one character past U+FFFF at four bytes per character,
so a body decoded in one piece grows fourfold for one emoji; this measures what a
push of ``--mib`` MiB (files of 5 MiB, one emoji in the first) costs the server,
beside the same push without the emoji. Not a test: numbers for the README.

    .venv/bin/python bench/emoji_push.py [--mib 60]
"""

import argparse
import json
import sys
import uuid
from typing import Any

from _server import PREFIX, BenchApi, ServerProcess, log
from hostile import MIB, legit_files, measure


def body(source_id: str, mib: int, emoji: bool) -> bytes:
    items: list[dict[str, Any]] = legit_files(max(1, mib // 5), 5 * MIB)
    for item in items:
        item["operationId"] = f"op-{uuid.uuid4()}"
    if emoji:
        items[0]["content"] = "😀" + items[0]["content"][1:]
    return json.dumps({"sourceId": source_id, "items": items}, ensure_ascii=False).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mib", type=int, default=60)
    args = parser.parse_args(argv)
    server = ServerProcess(None).start()
    results: dict[str, Any] = {}
    try:
        with BenchApi(server) as api:
            source_id = api.source(str(api.connector()["id"]))
            for name, emoji in (("plain", False), ("one_emoji", True)):
                data = body(source_id, args.mib, emoji)

                def push(data: bytes = data) -> list[dict[str, Any]]:
                    response = api.http.post(PREFIX + "sources/push-batch", content=data)
                    return [{"status": response.status_code}]

                phase = measure(server, name, push, "200")
                results[name] = {
                    "status": phase.answers[0]["status"],
                    "body_mib": round(len(data) / MIB, 1),
                    "peak_rss_mib": round(phase.peak_rss_mib, 1),
                    "rss_before_mib": round(phase.rss_before_mib, 1),
                }
    finally:
        server.stop()
    log(json.dumps(results, indent=2))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
