"""Jiepai settings, all read from the environment (see README "Configuration")."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JIEPAI_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str = "False") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: str) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "False")
PRODUCTION = envbool("JIEPAI_PRODUCTION", "False")


def _secret_key() -> str:
    """In production SECRET_KEY must be set; in development one is generated once under var/."""
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when JIEPAI_PRODUCTION is on")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # its Swagger UI assets are served from here, not a CDN
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "jiepai.core",
    "jiepai.org",
    "jiepai.events",
    "jiepai.customfields",
    "jiepai.customers",
    "jiepai.intake",
    "jiepai.pipeline",
    "jiepai.activities",
    "jiepai.tagging",
    "jiepai.deadlines",
    "jiepai.files",
    "jiepai.notify",
    "jiepai.routing",
    "jiepai.api",
    "jiepai.demo",
    "jiepai.imports",
    "jiepai.dedup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jiepai.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jiepai.org.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "jiepai.urls"
WSGI_APPLICATION = "jiepai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "jiepai.core.context_processors.navigation",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------
# SQLite (WAL) under var/ is the embedded default; PostgreSQL via DATABASE_URL in production.
# The test suite runs on PostgreSQL when JIEPAI_TEST_DATABASE_URL is set.
_default_db = f"sqlite:///{VAR_DIR / 'jiepai.sqlite3'}"
DATABASE_URL = os.environ.get("JIEPAI_TEST_DATABASE_URL") or os.environ.get(
    "DATABASE_URL", _default_db
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent too: opening a SQLite connection (PRAGMAs, schema parse, cold page cache) costs
    # ~10 ms, more than a whole intake; each gunicorn worker keeps its own.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer writes; IMMEDIATE makes a transaction take the
        # write lock at BEGIN, so two writers queue (busy timeout) instead of failing to upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    VAR_DIR.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_prepared = envbool("JIEPAI_PG_SERVER_SIDE_BINDING", "true")
    _pg_options.update(
        {
            # Parameters bound on the server, and a statement run 5 times on a connection is
            # prepared: parsed, analysed and (once PostgreSQL settles on its generic plan)
            # planned once per connection instead of at every execution. With client-side
            # binding (Django's default) every statement arrives as new text: parsing and
            # planning were ~45 % of the server's CPU per intake (bench/bench_intake.py, perf).
            # JIEPAI_PG_SERVER_SIDE_BINDING=0 turns both off (e.g. behind a transaction-mode
            # PgBouncer older than 1.21, which cannot keep prepared statements). Deploying: restart
            # the workers after a migration that changes a column's type — until then, their
            # prepared statements returning that column fail ("cached plan must not change result
            # type"); added columns are harmless (every statement names its columns).
            "server_side_binding": _pg_prepared,
            "prepare_threshold": 5 if _pg_prepared else None,
            # No JIT compilation: an OLTP statement never repays tens of ms of compiling.
            "options": " ".join(filter(None, [_pg_options.get("options"), "-c jit=off"])),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "jiepai" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("JIEPAI_TIME_ZONE", "Asia/Shanghai")

# --- static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
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
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Imports: an uploaded file over this size is refused before it is read; a sheet over this many
# data rows is refused before its rows are read.
IMPORT_MAX_UPLOAD_BYTES = envint("JIEPAI_IMPORT_MAX_UPLOAD_MB", "50") * 1024 * 1024
IMPORT_MAX_ROWS = envint("JIEPAI_IMPORT_MAX_ROWS", "1000000")
# voice memos: dotted path of a transcription backend class (none by default; the interface is
# documented in jiepai/activities/transcription.py)
JIEPAI_TRANSCRIBER = os.environ.get("JIEPAI_TRANSCRIBER", "")

# --- background work --------------------------------------------------------------------------
TASKS = {
    "default": {"BACKEND": os.environ.get("JIEPAI_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}
}

# --- e-mail -----------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "jiepai@localhost")
if DEBUG and not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- production hardening ---------------------------------------------------------------------
if PRODUCTION:
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", "True")
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIEPAI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
