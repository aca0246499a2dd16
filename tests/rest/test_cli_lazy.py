"""``localsync`` loads a command's package only when that command runs, yet lists them all."""

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from backend.cli import LAZY_COMMANDS, main
from backend.history_cli import COMMANDS as HISTORY_COMMANDS


def test_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in [*LAZY_COMMANDS, "serve", "token", "export-schema"]:
        assert f"  {name} " in result.output
    for command in HISTORY_COMMANDS:
        assert command.name in LAZY_COMMANDS


def test_each_lazy_command_loads_under_its_own_name() -> None:
    for name in LAZY_COMMANDS:
        command = main.get_command(click_context(), name)
        assert command is not None and command.name == name
    assert main.get_command(click_context(), "no-such-command") is None


def test_the_sync_command_imports_neither_the_terminal_app_nor_the_server() -> None:
    code = (
        "import json, sys\n"
        "from backend.cli import main\n"
        "main.get_command(None, 'sync')\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "connector.cli" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("tui", "textual", "fastapi", "sqlalchemy")]
    assert "backend.settings" not in loaded


def click_context() -> click.Context:
    return click.Context(main)
