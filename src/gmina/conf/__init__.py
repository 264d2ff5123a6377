"""Typed, Django-free parsing of the environment into settings values.

Every helper fails fast with :class:`SettingsError`, whose message names the variable and
the expected form, so a misconfigured deployment stops at start-up with a clear reason.
"""

from gmina.conf.parsers import (
    DatabaseConfig,
    SettingsError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
)

__all__ = [
    "DatabaseConfig",
    "SettingsError",
    "env_bool",
    "env_choice",
    "env_int",
    "env_list",
    "env_path",
    "env_str",
    "parse_database_url",
]
