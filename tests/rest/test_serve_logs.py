"""``LOCALSYNC_LOG_FORMAT=json``: every line ``serve`` logs is one JSON object."""

import json
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import _free_port
from tests.rest.test_workers import WAIT, _env


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    env = _env(tmp_path, LOCALSYNC_LOG_FORMAT="json")
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(_free_port())]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    guard = threading.Timer(WAIT, proc.kill)  # a server that never starts ends the read
    guard.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("{"):
                lines.append(line)
                if "startup complete" in line:
                    break
    finally:
        guard.cancel()
        proc.terminate()
        proc.wait(WAIT)
    records = [json.loads(line) for line in lines]
    assert any(r["message"] == "Application startup complete." for r in records), lines
    assert all({"levelname", "name", "message"} <= set(r) for r in records)
