"""Django settings, parsed once from the environment (see docs/settings.md for every key).

Two modes:

* ``embedded`` (default): SQLite in ``GMINA_DATA_DIR``, a secret key generated on first run and
  kept in the data folder, served on 127.0.0.1. Needs no server.
* ``production``: every secret must come from the environment; HTTPS-only cookies, HSTS and the
  rest of ``manage.py check --deploy`` are on.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gmina.conf import (
    SettingsError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
)

ENV = os.environ
PACKAGE_DIR = Path(__file__).resolve().parent

GMINA_MODE = env_choice("GMINA_MODE", "embedded", ("embedded", "production"), ENV)
PRODUCTION = GMINA_MODE == "production"
DATA_DIR = env_path("GMINA_DATA_DIR", Path.cwd() / "data", ENV)
DEBUG = env_bool("GMINA_DEBUG", False, ENV)
if PRODUCTION and DEBUG:
    raise SettingsError("GMINA_DEBUG: must be off when GMINA_MODE=production")


def _secret_key() -> str:
    key = env_str("GMINA_SECRET_KEY", None, ENV)
    if key:
        if len(key) < 50 or len(set(key)) < 5:
            raise SettingsError("GMINA_SECRET_KEY: expected at least 50 random characters")
        return key
    if PRODUCTION:
        raise SettingsError("GMINA_SECRET_KEY: required when GMINA_MODE=production (50+ random characters)")
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(generated)
    return generated


SECRET_KEY = _secret_key()

_default_hosts = [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env_list("GMINA_ALLOWED_HOSTS", _default_hosts, ENV)
if PRODUCTION and not ALLOWED_HOSTS:
    raise SettingsError("GMINA_ALLOWED_HOSTS: required when GMINA_MODE=production (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env_list("GMINA_CSRF_TRUSTED_ORIGINS", [], ENV)

# --- Database -------------------------------------------------------------------------------
_db_url = env_str("GMINA_DATABASE_URL", None, ENV) or f"sqlite:///{DATA_DIR / 'gmina.sqlite3'}"
_db = parse_database_url("GMINA_DATABASE_URL", _db_url)
if _db.is_sqlite:
    Path(_db.name).parent.mkdir(parents=True, exist_ok=True)
    _db_options: dict[str, object] = {
        # WAL lets readers run beside the writer; FULL makes a commit durable before it is
        # acknowledged; IMMEDIATE takes the write lock up front instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _db_options = dict(_db.options.items())
DATABASES = {
    "default": {
        "ENGINE": _db.engine,
        "NAME": _db.name,
        "USER": _db.user,
        "PASSWORD": _db.password,
        "HOST": _db.host,
        "PORT": _db.port,
        "OPTIONS": _db_options,
        "CONN_MAX_AGE": 0 if _db.is_sqlite else env_int("GMINA_DB_CONN_MAX_AGE", 60, ENV, minimum=0),
        "ATOMIC_REQUESTS": False,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_q",
    "gmina.consortium",
    "gmina.water",
]
AUTH_USER_MODEL = "consortium.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gmina.consortium.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "gmina.urls"
WSGI_APPLICATION = "gmina.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gmina.consortium.context_processors.scope",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Locale and time ------------------------------------------------------------------------
# Stored in UTC (USE_TZ), shown in Europe/Warsaw; Polish by default, English available.
LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", "Polski"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Warsaw"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gmina.consortium.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["gmina.consortium.api.permissions.IsScopedActor"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "gmina.consortium.api.exceptions.handle_exception",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gmina API",
    "DESCRIPTION": "Consortium, water data and ingestion. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}
# Tokens are hashed with this pepper (HMAC-SHA256); rotating it invalidates every token.
API_TOKEN_PEPPER = env_str("GMINA_API_TOKEN_PEPPER", None, ENV) or SECRET_KEY

# --- Background jobs (gmina worker: django-q2 with its ORM broker, in this database) ---------
GMINA_DETECT_NEW_DATA_MINUTES = env_int("GMINA_DETECT_NEW_DATA_MINUTES", 1, ENV, minimum=1)
GMINA_DETECT_EVERY_MINUTES = env_int("GMINA_DETECT_EVERY_MINUTES", 360, ENV, minimum=1)
_worker_tick = env_int("GMINA_WORKER_TICK_MS", 500, ENV, minimum=50)
Q_CLUSTER = {
    "name": "gmina",
    "orm": "default",
    "workers": env_int("GMINA_WORKER_PROCESSES", 1, ENV, minimum=1),
    "timeout": 1800,  # a full detection pass of a large member may take minutes
    "retry": 1900,  # must exceed timeout
    "max_attempts": 1,  # a failed pass is not repeated: the next scheduled one runs anyway
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,  # after downtime, one run, not one per missed slot
    "guard_cycle": _worker_tick / 1000,  # the scheduler is consulted every 30 guard cycles
    "poll": max(0.2, _worker_tick / 1000),
    "label": "Zadania w tle",
}

# --- Security -------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("GMINA_SESSION_AGE_SECONDS", 8 * 3600, ENV, minimum=300)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("GMINA_SSL_REDIRECT", True, ENV)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("GMINA_HSTS_SECONDS", 31_536_000, ENV, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("GMINA_BEHIND_TLS_PROXY", False, ENV):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("GMINA_LOG_LEVEL", "info", ("debug", "info", "warning", "error"), ENV).upper(),
    },
}
