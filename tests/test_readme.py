"""Documentation that runs: the README's two commands, CI calling the same test command,
every setting documented, and the demo coming up for real."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", section, flags=re.S)
    return [
        line.strip() for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")
    ]


def test_readme_gives_exactly_two_commands() -> None:
    assert readme_commands() == ["./dev.sh demo", "./dev.sh test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec \./dev\.sh test$", ci, flags=re.M)


def test_every_setting_is_documented() -> None:
    source = (ROOT / "src" / "gmina" / "settings.py").read_text(encoding="utf-8")
    used = set(re.findall(r'"(GMINA_[A-Z_]+)"', source))
    documented = set(re.findall(r"`(GMINA_[A-Z_]+)`", (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")))
    assert used, "no settings found"
    assert used <= documented, f"undocumented settings: {sorted(used - documented)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_demo_comes_up_on_embedded_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GMINA_") and k != "DJANGO_SETTINGS_MODULE"}
    env["GMINA_DATA_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "gmina.cli", "demo", "--check", "--port", str(_free_port())]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert (tmp_path / "gmina.sqlite3").exists()
    for role in ("operator", "clerk", "manager", "viewer"):
        assert len(re.findall(rf"^\s+\S+\.{role}\s", out, flags=re.M)) == 3, role
    assert re.search(r"^\s+centrum\s", out, flags=re.M)
    assert re.search(r"API token .*: gmina_[0-9a-f]{12}_\S+$", out, flags=re.M)
    assert "demo check: the server answered /healthz and /accounts/login/" in out
    again = subprocess.run(command[:-1] + [str(_free_port())], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "API token" not in again.stdout  # seeded once; a second run reuses the data
