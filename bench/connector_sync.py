"""Benchmark the folder connector against ``rsync -a`` and Syncthing, in the same run.

Run from the repository root:

    .venv/bin/python bench/connector_sync.py [--files 10000] [--megabytes 50] [--rounds 5]

Generates a folder of markdown (default 10,000 files, 50 MB, 100 directories) and
times, against a real ``localsync serve`` on SQLite (a subprocess each time, as a
user runs it: ``localsync sync DIR --once``):

* ``localsync --help`` (goal: at most 0.15 s), beside a bare ``python -c pass``;
* the initial upload (goal: at least 3,000 files/s), beside ``rsync -a`` into an
  empty folder and ``cp -r``;
* a rerun with nothing changed, and a rerun after 100 files changed (goals: at
  most 2x ``rsync -a`` doing the same), medians of ``--rounds``;
* two folders end to end: the upload plus a second, empty folder pulling it all;
  beside two Syncthing instances on loopback doing the same (first start of both
  until the second holds every file), and a no-op rescan beside Syncthing's.
  Syncthing is skipped, saying so, when ``syncthing`` is not installed;
* renaming a folder of 1,000 files (goal: about a no-op, at most 1.5x the no-op
  run measured beside it), pushed as moves, and the same rename pulled into a
  second folder (renamed there, not rewritten).

Commands run with Python's bytecode caches enabled, as for an installed tool.
Prints one JSON object on stdout; progress goes to stderr. Ratios compare
figures measured in the same run, so a busy machine shifts both sides.
"""

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _server import BenchApi, ServerProcess, free_port, log

WORDS = [
    "sync",
    "vault",
    "note",
    "draft",
    "merge",
    "local",
    "remote",
    "cursor",
    "event",
    "history",
    "version",
    "conflict",
    "markdown",
    "heading",
    "list",
    "link",
    "table",
    "source",
    "connector",
    "workspace",
    "batch",
    "delta",
    "blob",
    "hash",
]
LOCALSYNC = str(Path(sys.executable).with_name("localsync"))


def generate(root: Path, files: int, total_bytes: int) -> int:
    rng = random.Random(7)
    per_file = total_bytes // files
    written = 0
    for i in range(files):
        directory = root / f"d{i % 100:02}"
        directory.mkdir(parents=True, exist_ok=True)
        lines = [f"# Note {i}\n"]
        size = len(lines[0])
        while size < per_file:
            line = " ".join(rng.choice(WORDS) for _ in range(12)) + "\n"
            lines.append(line)
            size += len(line)
        data = "".join(lines).encode()
        (directory / f"note-{i:05}.md").write_bytes(data)
        written += len(data)
    return written


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Bytecode caches on, as an installed tool has them (not every module compiled per run)."""


def timed(cmd: list[str], check: bool = True) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    if check and result.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def median(fn: Callable[[], float], rounds: int) -> float:
    return statistics.median(fn() for _ in range(rounds))


def change_files(folder: Path, files: int, count: int, round_no: int) -> None:
    for i in random.Random(round_no).sample(range(files), count):
        path = folder / f"d{i % 100:02}" / f"note-{i:05}.md"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"edit {round_no}\n")


class Localsync:
    """``localsync sync DIR --once`` against one server and workspace."""

    def __init__(self, server: ServerProcess, workspace: str) -> None:
        self.server = server
        self.workspace = workspace
        self.token = server.token([workspace])

    def cmd(self, folder: Path) -> list[str]:
        return [LOCALSYNC, "sync", str(folder), "--server", self.server.url, "--token",
                self.token, "--workspace", self.workspace, "--source-name", "Bench",
                "--once"]  # fmt: skip

    def once(self, folder: Path) -> float:
        return timed(self.cmd(folder))


def rsync(src: Path, dst: Path) -> float:
    return timed(["rsync", "-a", "--exclude", ".localsync", f"{src}/", f"{dst}/"])


def bench_localsync(args: argparse.Namespace, tmp: Path, report: dict[str, Any]) -> Path:
    folder = tmp / "vault"
    folder.mkdir()
    log(f"generating {args.files} files, {args.megabytes} MB")
    report["bytes"] = generate(folder, args.files, args.megabytes * 1024 * 1024)
    pristine = tmp / "pristine"
    subprocess.run(["cp", "-r", str(folder), str(pristine)], check=True)

    report["help_seconds"] = round(median(lambda: timed([LOCALSYNC, "--help"]), 7), 3)
    report["python_start_seconds"] = round(
        median(lambda: timed([sys.executable, "-c", "pass"]), 7), 3
    )
    log(f"localsync --help: {report['help_seconds']}s")

    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(folder), str(tmp / "copy")], check=True)
    report["cp_seconds"] = round(time.perf_counter() - start, 3)
    report["rsync_initial_seconds"] = round(rsync(folder, tmp / "mirror"), 3)

    with ServerProcess() as server:
        ls = Localsync(server, f"ws-bench-{uuid.uuid4().hex[:8]}")
        cpu_before = server.cpu_seconds() or 0.0
        upload = ls.once(folder)
        report["initial_upload_seconds"] = round(upload, 3)
        report["initial_upload_files_per_second"] = round(args.files / upload, 1)
        report["initial_upload_server_cpu_seconds"] = round(
            (server.cpu_seconds() or 0.0) - cpu_before, 2
        )
        log(f"initial upload: {upload:.2f}s")
        with BenchApi(server, ls.workspace) as api:
            (source,) = api.call("sources/list", {})
            report["server_file_count"] = source.get("fileCount")

        rounds = args.rounds
        report["noop_rsync_seconds"] = round(
            median(lambda: rsync(folder, tmp / "mirror"), rounds), 3
        )
        report["noop_sync_seconds"] = round(median(lambda: ls.once(folder), rounds), 3)
        log(f"no-op: sync {report['noop_sync_seconds']}s, rsync {report['noop_rsync_seconds']}s")

        changed_rsync, changed_sync = [], []
        for r in range(rounds):
            change_files(folder, args.files, 100, r)
            changed_rsync.append(rsync(folder, tmp / "mirror"))
            changed_sync.append(ls.once(folder))
        report["changed_100_rsync_seconds"] = round(statistics.median(changed_rsync), 3)
        report["changed_100_sync_seconds"] = round(statistics.median(changed_sync), 3)
        log(f"100 changed: sync {report['changed_100_sync_seconds']}s")

        bench_rename(args, ls, folder, report)

        # Two folders end to end: a fresh source, uploaded from one folder, pulled by another.
        e2e = Localsync(server, f"ws-bench-{uuid.uuid4().hex[:8]}")
        first, second = tmp / "e2e-a", tmp / "e2e-b"
        subprocess.run(["cp", "-r", str(pristine), str(first)], check=True)
        second.mkdir()
        push = e2e.once(first)
        pull = e2e.once(second)
        files_b = sum(1 for p in second.rglob("*.md"))
        if files_b != args.files:
            raise SystemExit(f"second folder holds {files_b} files, expected {args.files}")
        report["two_folders_push_seconds"] = round(push, 3)
        report["two_folders_pull_seconds"] = round(pull, 3)
        report["two_folders_seconds"] = round(push + pull, 3)
        report["noop_rescan_seconds"] = round(median(lambda: e2e.once(second), rounds), 3)
        log(f"two folders: push {push:.2f}s + pull {pull:.2f}s")
        bench_rename_pulled(args, e2e, first, second, report)
    return pristine


RENAMED_FILES = 1000
"""The size of the folder whose rename is measured."""


def gather(folder: Path, files: int) -> tuple[Path, int]:
    """Put whole ``dNN`` folders into ``shelf/`` until it holds about RENAMED_FILES files."""
    per_dir = max(1, files // 100)
    dirs = max(1, min(100, round(RENAMED_FILES / per_dir)))
    shelf = folder / "shelf"
    shelf.mkdir()
    for i in range(dirs):
        (folder / f"d{i:02}").rename(shelf / f"d{i:02}")
    return shelf, sum(1 for _ in shelf.rglob("*.md"))


def flip(folder: Path, current: Path) -> Path:
    """Rename the gathered folder between ``shelf`` and ``archive``."""
    other = folder / ("archive" if current.name == "shelf" else "shelf")
    current.rename(other)
    return other


def bench_rename(
    args: argparse.Namespace, ls: Localsync, folder: Path, report: dict[str, Any]
) -> None:
    """Renaming a folder of 1,000 files, beside a no-op run of the same folder, same run."""
    shelf, moved = gather(folder, args.files)
    report["rename_folder_files"] = moved
    report["gather_into_folder_sync_seconds"] = round(ls.once(folder), 3)
    times, noops = [], []
    for _ in range(args.rounds):
        shelf = flip(folder, shelf)
        times.append(ls.once(folder))
        noops.append(ls.once(folder))
    report["rename_folder_sync_seconds"] = round(statistics.median(times), 3)
    report["noop_beside_rename_sync_seconds"] = round(statistics.median(noops), 3)
    log(
        f"rename of a folder of {moved} files: {report['rename_folder_sync_seconds']}s, "
        f"no-op beside it {report['noop_beside_rename_sync_seconds']}s"
    )


def bench_rename_pulled(
    args: argparse.Namespace, ls: Localsync, first: Path, second: Path, report: dict[str, Any]
) -> None:
    """The same rename pushed from one folder and applied (renamed locally) in another."""
    shelf, moved = gather(first, args.files)
    ls.once(first)
    ls.once(second)
    shelf = flip(first, shelf)
    report["two_folders_rename_push_seconds"] = round(ls.once(first), 3)
    report["two_folders_rename_pull_seconds"] = round(ls.once(second), 3)
    arrived = sum(1 for _ in (second / shelf.name).rglob("*.md"))
    if arrived != moved:
        raise SystemExit(f"second folder holds {arrived} renamed files, expected {moved}")


# ---- Syncthing -----------------------------------------------------------------


class SyncthingPeer:
    """One Syncthing instance on loopback with its own home, sharing folder ``bench``."""

    def __init__(self, home: Path, folder: Path) -> None:
        self.home = home
        self.folder = folder
        self.gui_port = free_port()
        self.listen_port = free_port()
        self.apikey = uuid.uuid4().hex
        self.proc: subprocess.Popen[bytes] | None = None
        subprocess.run(
            ["syncthing", "generate", f"--home={home}", "--no-default-folder",
             "--skip-port-probing"],
            check=True, capture_output=True,
        )  # fmt: skip
        out = subprocess.run(
            ["syncthing", "serve", f"--home={home}", "--device-id"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        self.device_id = out.stdout.strip()

    def configure(self, peers: list["SyncthingPeer"]) -> None:
        path = self.home / "config.xml"
        tree = ET.parse(path)
        root = tree.getroot()
        gui = root.find("gui")
        assert gui is not None
        _set(gui, "address", f"127.0.0.1:{self.gui_port}")
        _set(gui, "apikey", self.apikey)
        options = root.find("options")
        assert options is not None
        for name in ("listenAddress",):
            for old in options.findall(name):
                options.remove(old)
        _set(options, "listenAddress", f"tcp://127.0.0.1:{self.listen_port}")
        for name, value in (
            ("globalAnnounceEnabled", "false"),
            ("localAnnounceEnabled", "false"),
            ("relaysEnabled", "false"),
            ("natEnabled", "false"),
            ("urAccepted", "-1"),
            ("crashReportingEnabled", "false"),
            ("autoUpgradeIntervalH", "0"),
            ("startBrowser", "false"),
        ):
            _set(options, name, value)
        for old in root.findall("device"):
            root.remove(old)
        for peer in peers:
            device = ET.SubElement(
                root, "device", id=peer.device_id, name=peer.home.name, compression="metadata"
            )
            _set(device, "address", f"tcp://127.0.0.1:{peer.listen_port}")
        folder = ET.SubElement(
            root, "folder", id="bench", label="bench", path=str(self.folder),
            type="sendreceive", rescanIntervalS="3600", fsWatcherEnabled="false",
        )  # fmt: skip
        for peer in peers:
            ET.SubElement(folder, "device", id=peer.device_id)
        tree.write(path)

    def start(self) -> None:
        env = {**os.environ, "STNOUPGRADE": "1", "STNORESTART": "1"}
        self.proc = subprocess.Popen(
            ["syncthing", "serve", f"--home={self.home}", "--no-browser", "--no-restart"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def api(self, method: str, path: str, **params: str) -> Any:
        response = httpx.request(
            method, f"http://127.0.0.1:{self.gui_port}{path}", params=params,
            headers={"X-API-Key": self.apikey}, timeout=600,
        )  # fmt: skip
        response.raise_for_status()
        return response.json() if response.content else None

    def status(self) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.api("GET", "/rest/db/status", folder="bench")
            return result
        except httpx.HTTPError:
            return None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _set(parent: ET.Element, tag: str, value: str) -> None:
    element = parent.find(tag)
    if element is None:
        element = ET.SubElement(parent, tag)
    element.text = value


def _converged(status: dict[str, Any] | None, files: int) -> bool:
    return bool(
        status
        and status.get("state") == "idle"
        and status.get("needFiles") == 0
        and status.get("localFiles") == files
    )


def bench_syncthing(
    args: argparse.Namespace, tmp: Path, pristine: Path, report: dict[str, Any]
) -> None:
    if shutil.which("syncthing") is None:
        log("syncthing not installed: skipping the Syncthing peer")
        report["syncthing"] = "skipped: syncthing is not installed"
        return
    first, second = tmp / "st-a", tmp / "st-b"
    subprocess.run(["cp", "-r", str(pristine), str(first)], check=True)
    second.mkdir()
    peers = [SyncthingPeer(tmp / "st-home-a", first), SyncthingPeer(tmp / "st-home-b", second)]
    for peer in peers:
        peer.configure(peers)
    try:
        start = time.perf_counter()
        for peer in peers:
            peer.start()
        deadline = start + 900
        while True:
            done = sum(1 for p in second.rglob("*.md"))
            status = peers[1].status() if done >= args.files else None
            if _converged(status, args.files):
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"syncthing did not converge ({done} files)")
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        report["syncthing_two_folders_seconds"] = round(seconds, 3)
        log(f"syncthing two folders: {seconds:.2f}s")

        def rescan() -> float:
            t0 = time.perf_counter()
            peers[1].api("POST", "/rest/db/scan", folder="bench")
            return time.perf_counter() - t0

        report["syncthing_noop_rescan_seconds"] = round(median(rescan, args.rounds), 3)
        report["syncthing"] = subprocess.run(
            ["syncthing", "--version"], capture_output=True, text=True
        ).stdout.split(" (")[0]
    finally:
        for peer in peers:
            peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-syncthing", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"files": args.files, "machine_note": "shared 2-core machine"}
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as name:
        tmp = Path(name)
        pristine = bench_localsync(args, tmp, report)
        if args.no_syncthing:
            report["syncthing"] = "skipped: --no-syncthing"
        else:
            bench_syncthing(args, tmp, pristine, report)
    report.update(_ratios(report))
    report["python"] = platform.python_version()
    report["machine"] = platform.machine()
    print(json.dumps(report, indent=2))


def _ratios(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ratio_noop_over_rsync": round(r["noop_sync_seconds"] / r["noop_rsync_seconds"], 2),
        "ratio_changed_100_over_rsync": round(
            r["changed_100_sync_seconds"] / r["changed_100_rsync_seconds"], 2
        ),
        "ratio_initial_upload_over_rsync": round(
            r["initial_upload_seconds"] / r["rsync_initial_seconds"], 2
        ),
    }
    out["ratio_rename_folder_over_noop"] = round(
        r["rename_folder_sync_seconds"] / r["noop_beside_rename_sync_seconds"], 2
    )
    out["goals"] = {
        "rename_folder_about_a_noop_at_most_1.5x": out["ratio_rename_folder_over_noop"] <= 1.5,
        "noop_at_most_2x_rsync": out["ratio_noop_over_rsync"] <= 2,
        "changed_100_at_most_2x_rsync": out["ratio_changed_100_over_rsync"] <= 2,
        "help_at_most_0.15s": r["help_seconds"] <= 0.15,
        "initial_upload_at_least_3000_files_per_second": r["initial_upload_files_per_second"]
        >= 3000,
    }
    if "syncthing_two_folders_seconds" in r:
        out["ratio_two_folders_over_syncthing"] = round(
            r["two_folders_seconds"] / r["syncthing_two_folders_seconds"], 2
        )
        out["ratio_noop_rescan_over_syncthing"] = round(
            r["noop_rescan_seconds"] / r["syncthing_noop_rescan_seconds"], 2
        )
        out["goals"]["two_folders_faster_than_syncthing"] = (
            out["ratio_two_folders_over_syncthing"] < 1
        )
    return out


if __name__ == "__main__":
    main()
