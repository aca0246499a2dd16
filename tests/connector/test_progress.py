"""An initial sync shows a progress bar on a terminal and plain log lines otherwise."""

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.connector.conftest import REPO, Syncer, write

FILES = 150  # more than one batch, so progress is worth showing


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    for i in range(FILES):
        write(folder, f"n{i:03}.md", f"note {i}\n")
    return folder


def test_a_terminal_gets_a_progress_bar(syncer: Syncer, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    primary, secondary = pty.openpty()
    cmd = [sys.executable, "-m", "connector.cli", *syncer.args(folder)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=secondary, stderr=secondary)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert proc.wait(timeout=120) == 0
    text = output.decode("utf-8", "replace")
    assert "pushing" in text
    assert "━" in text  # rich's bar
    assert f"pushing: 100/{FILES}" not in text  # no plain progress lines on a terminal


def test_plain_output_gets_log_lines(syncer: Syncer, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    done = syncer.subprocess(folder)
    assert done.returncode == 0, done.stderr
    assert f"pushing: 100/{FILES}" in done.stderr
    assert f"pushing: {FILES}/{FILES}" in done.stderr
    assert "━" not in done.stderr
