"""Settings: parsed once, fail fast naming the variable, production passes check --deploy."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gmina.conf import SettingsError, env_bool, env_choice, env_int, env_list, parse_database_url

SECRET = "k" * 30 + "Zq8-vX2_pL0#wR5!mN7@tY3$hJ6^bF9&"


def run_gmina(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GMINA_") and k != "DJANGO_SETTINGS_MODULE"}
    base.update({"GMINA_DATA_DIR": str(tmp_path / "data")})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "gmina.cli", *args], env=base, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: env_bool("GMINA_DEBUG", False, {"GMINA_DEBUG": "maybe"}), "GMINA_DEBUG: expected one of"),
        (lambda: env_int("GMINA_N", 1, {"GMINA_N": "0"}, minimum=1), "GMINA_N: expected an integer >= 1"),
        (
            lambda: env_choice("GMINA_MODE", "a", ("a", "b"), {"GMINA_MODE": "c"}),
            "GMINA_MODE: expected one of a, b",
        ),
        (lambda: parse_database_url("GMINA_DATABASE_URL", "sqlite://relative.db"), "needs an absolute path"),
        (lambda: parse_database_url("GMINA_DATABASE_URL", "sqlite:///relative.db"), "needs an absolute path"),
        (lambda: parse_database_url("GMINA_DATABASE_URL", "postgres://host/"), "needs a host and a database"),
        (lambda: parse_database_url("GMINA_DATABASE_URL", "postgres://h:port/db"), "port is not a number"),
    ],
)
def test_parsers_fail_naming_the_variable(call, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        call()


def test_parsers_accept_good_values() -> None:
    assert env_list("X", ["d"], {}) == ["d"]
    assert env_list("X", [], {"X": " a , ,b "}) == ["a", "b"]
    db = parse_database_url("U", "postgres://us%40er:p%2Fw@db.example:6543/gmina?sslmode=require")
    assert (db.user, db.password, db.host, db.port, db.name) == (
        "us@er",
        "p/w",
        "db.example",
        "6543",
        "gmina",
    )
    assert db.options == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"GMINA_DEBUG": "perhaps"}, "GMINA_DEBUG"),
        ({"GMINA_MODE": "staging"}, "GMINA_MODE"),
        ({"GMINA_DATABASE_URL": "mysql://x/y"}, "GMINA_DATABASE_URL"),
        ({"GMINA_MODE": "production", "GMINA_ALLOWED_HOSTS": "g.example"}, "GMINA_SECRET_KEY"),
        ({"GMINA_MODE": "production", "GMINA_SECRET_KEY": SECRET}, "GMINA_ALLOWED_HOSTS"),
        ({"GMINA_SECRET_KEY": "short"}, "GMINA_SECRET_KEY"),
    ],
)
def test_bad_settings_stop_startup_with_a_clear_error(env: dict[str, str], variable: str, tmp_path: Path) -> None:
    result = run_gmina(["check"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"gmina: configuration error: {variable}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_embedded_mode_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {"DJANGO_SETTINGS_MODULE": "gmina.settings"}
    first = run_gmina(["shell", "--no-imports", "-c", code], env, tmp_path)
    second = run_gmina(["shell", "--no-imports", "-c", code], env, tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.stdout.strip() == second.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50


def test_production_mode_passes_check_deploy(tmp_path: Path) -> None:
    env = {"GMINA_MODE": "production", "GMINA_SECRET_KEY": SECRET, "GMINA_ALLOWED_HOSTS": "wody.example.pl"}
    result = run_gmina(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_embedded_mode_is_not_deploy_ready(tmp_path: Path) -> None:
    """The check is real: the embedded default (plain HTTP on loopback) does not pass it."""
    result = run_gmina(["check", "--deploy", "--fail-level", "WARNING"], {}, tmp_path)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_sqlite_runs_wal_with_full_sync(tmp_path: Path) -> None:
    code = (
        "from django.db import connection; c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], c.execute('PRAGMA synchronous').fetchone()[0],"
        " c.execute('PRAGMA foreign_keys').fetchone()[0])"
    )
    result = run_gmina(["shell", "--no-imports", "-c", code], {"DJANGO_SETTINGS_MODULE": "gmina.settings"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "2", "1"]  # synchronous=2 is FULL
