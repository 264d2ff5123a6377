"""Environment parsers: one function per type, each naming the variable when it fails.

>>> env_bool("GMINA_X", default=False, environ={"GMINA_X": "yes"})
True
>>> env_list("GMINA_HOSTS", default=[], environ={"GMINA_HOSTS": "a.example, b.example"})
['a.example', 'b.example']
>>> env_int("GMINA_N", default=3, environ={"GMINA_N": "x"})
Traceback (most recent call last):
...
gmina.conf.parsers.SettingsError: GMINA_N: expected an integer, got 'x'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A setting read from the environment is missing or malformed."""


def _raw(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    return value.strip()


def env_str(name: str, default: str | None, environ: Mapping[str, str]) -> str | None:
    """A string; an empty value counts as unset."""
    value = _raw(name, environ)
    return value if value else default


def env_bool(name: str, default: bool, environ: Mapping[str, str]) -> bool:
    """A boolean written as 1/0, true/false, yes/no or on/off (any case)."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}: expected one of 1/0, true/false, yes/no, on/off, got {value!r}")


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str],
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """An integer, optionally bounded (inclusive)."""
    value = _raw(name, environ)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise SettingsError(f"{name}: expected an integer >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise SettingsError(f"{name}: expected an integer <= {maximum}, got {number}")
    return number


def env_list(name: str, default: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """A comma-separated list; blanks around items are dropped."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: Sequence[str], environ: Mapping[str, str]) -> str:
    """One value out of a fixed set (case-insensitive)."""
    value = _raw(name, environ)
    if not value:
        return default
    lowered = value.lower()
    if lowered not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return lowered


def env_path(name: str, default: Path, environ: Mapping[str, str]) -> Path:
    """A filesystem path; ``~`` is expanded and relative paths are made absolute."""
    value = _raw(name, environ)
    path = Path(value).expanduser() if value else default
    return path.resolve()


@dataclass(frozen=True)
class DatabaseConfig:
    """A database connection described by a URL, in the shape Django's DATABASES wants."""

    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.engine == "django.db.backends.sqlite3"


_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
}
_URL_FORM = "sqlite:////ABSOLUTE/PATH.sqlite3 (four slashes) or postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME"


def parse_database_url(name: str, url: str) -> DatabaseConfig:
    """Parse a database URL; ``name`` is the variable it came from, used in errors.

    >>> parse_database_url("DB", "postgres://postgres@127.0.0.1:5432/test").port
    '5432'
    >>> parse_database_url("DB", "sqlite:////var/lib/gmina/db.sqlite3").name
    '/var/lib/gmina/db.sqlite3'
    >>> parse_database_url("DB", "mysql://x/y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gmina.conf.parsers.SettingsError: DB: unsupported scheme 'mysql'; expected sqlite:////...
    """
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise SettingsError(f"{name}: unsupported scheme {parts.scheme!r}; expected {_URL_FORM}")
    options = dict(parse_qsl(parts.query))
    if engine == _ENGINES["sqlite"]:
        # As in SQLAlchemy: after "sqlite:///" comes the path, so an absolute one gives four slashes.
        path = unquote(parts.path)[1:]
        if parts.netloc or not path.startswith("/") or path == "/":
            raise SettingsError(f"{name}: a SQLite URL needs an absolute path; expected {_URL_FORM}")
        return DatabaseConfig(engine=engine, name=path, options=options)
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name or not parts.hostname:
        raise SettingsError(f"{name}: a PostgreSQL URL needs a host and a database name; expected {_URL_FORM}")
    try:
        port = str(parts.port or "")
    except ValueError:
        raise SettingsError(f"{name}: the port is not a number; expected {_URL_FORM}") from None
    return DatabaseConfig(
        engine=engine,
        name=db_name,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname,
        port=port,
        options=options,
    )
