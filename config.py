"""Configuration classes, read from the environment first.

`FLASK_CONFIG` (or the ``config_name`` passed to ``create_app``) picks one of
``development``, ``testing`` or ``production``.  Every setting can be overridden by an
environment variable of the same name; the README lists them.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

# Values seen in examples and tutorials; production refuses them even when long enough.
KNOWN_WEAK_SECRETS = frozenset({"change-me", "changeme", "secret", "dev", "development"})


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def database_url(default: str) -> str:
    url = env("DATABASE_URL", default) or default
    # Accept the common "postgres://" and plain "postgresql://" spellings; use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    # Unset in development: a random key is made once and kept in instance/secret_key.
    SECRET_KEY = env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(f"sqlite:///{INSTANCE_DIR / 'fellowship.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = env_int("SQLITE_BUSY_TIMEOUT_MS", 10_000)

    # Sessions: idle and absolute timeouts (minutes), enforced in auth.sessions.
    SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_MINUTES = env_int("SESSION_ABSOLUTE_MINUTES", 12 * 60)
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=SESSION_ABSOLUTE_MINUTES)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Passwords, tokens, two-factor
    PASSWORD_MIN_LENGTH = 12
    INVITATION_TTL_HOURS = env_int("INVITATION_TTL_HOURS", 7 * 24)
    PASSWORD_RESET_TTL_MINUTES = env_int("PASSWORD_RESET_TTL_MINUTES", 60)
    # "Forgot password" answers after this long whether or not the address has an account.
    RESET_RESPONSE_SECONDS = 0.25
    TOTP_ISSUER = env("TOTP_ISSUER", "Fellowship")
    TOTP_REQUIRED_ROLES: tuple[str, ...] = tuple(
        r for r in (env("TOTP_REQUIRED_ROLES", "") or "").split(",") if r
    )

    # Rate limits (Flask-Limiter). memory:// is per process; use redis:// with several servers.
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    # Any 60 seconds, not calendar minutes: a burst across a minute boundary would otherwise
    # get two minutes' worth of attempts.
    RATELIMIT_STRATEGY = "moving-window"
    # Sign-in attempts per account, and per client address (higher: a school network may
    # put a whole room of people behind one address).
    LOGIN_FAILURE_LIMIT = env("LOGIN_FAILURE_LIMIT", "10 per minute")
    LOGIN_ADDRESS_LIMIT = env("LOGIN_ADDRESS_LIMIT", "60 per minute")

    # Mail: messages are rows in the outbox; delivery after commit and by `flask outbox deliver`.
    MAIL_SERVER = env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "Fellowship <no-reply@example.org>")
    MAIL_SUPPRESS_SEND = env_bool("MAIL_SUPPRESS_SEND", False)
    MAIL_TIMEOUT_SECONDS = env_int("MAIL_TIMEOUT_SECONDS", 10)
    OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
    # Delivering right after the commit keeps mail fast; cron's `flask outbox deliver` retries.
    OUTBOX_DELIVER_AFTER_COMMIT = env_bool("OUTBOX_DELIVER_AFTER_COMMIT", True)
    # The hour (in each person's own timezone) after which `flask digests run` sends the daily
    # digest, and on Mondays the weekly one.
    DIGEST_HOUR = env_int("DIGEST_HOUR", 7)

    # Number of reverse proxies in front of the app (nginx = 1); 0 trusts no X-Forwarded-*.
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

    # Public base URL used in emails sent from CLI jobs (no request to take it from).
    BASE_URL = env("BASE_URL", "http://127.0.0.1:5000")
    SERVER_NAME = None

    # Languages
    LANGUAGES = {"en": "English", "es": "Español"}
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "fellowship" / "translations")

    # Largest request body for ordinary forms; upload views raise it for their own request.
    MAX_CONTENT_LENGTH = env_int("MAX_FORM_BYTES", 2 * 1024 * 1024)
    PEOPLE_PER_PAGE = 25
    AUDIT_PER_PAGE = 50
    NOTIFICATIONS_PER_PAGE = 50
    UPLOAD_DIR = env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # Largest file one upload (curriculum, capstone, evidence) accepts, in bytes.
    UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
    # Largest roster file (CSV or OneRoster zip) an import accepts, in bytes.
    ROSTER_MAX_BYTES = env_int("ROSTER_MAX_BYTES", 5 * 1024 * 1024)

    DEBUG = False
    TESTING = False
    PRODUCTION = False
    ALLOW_SQLITE_IN_PRODUCTION = env_bool("ALLOW_SQLITE_IN_PRODUCTION", False)
    HSTS = False


class DevelopmentConfig(Config):
    DEBUG = env_bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = secrets.token_hex(32)
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_SUPPRESS_SEND = True
    OUTBOX_DELIVER_AFTER_COMMIT = True
    RESET_RESPONSE_SECONDS = 0.05
    RATELIMIT_STORAGE_URI = "memory://"
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None


class ProductionConfig(Config):
    PRODUCTION = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    TOTP_REQUIRED_ROLES = tuple(
        r for r in (env("TOTP_REQUIRED_ROLES", "admin,staff") or "").split(",") if r
    )
    HSTS = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class UnsafeConfiguration(RuntimeError):
    """Raised when production settings would be unsafe; the app refuses to start."""


def check_production(config: dict[str, object]) -> None:
    """Refuse to start production with a default secret, debug on, or SQLite by accident."""
    problems = []
    secret = config.get("SECRET_KEY")
    if not secret or str(secret).lower() in KNOWN_WEAK_SECRETS or len(str(secret)) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if config.get("DEBUG"):
        problems.append("debug must be off")
    uri = str(config.get("SQLALCHEMY_DATABASE_URI", ""))
    if uri.startswith("sqlite") and not config.get("ALLOW_SQLITE_IN_PRODUCTION"):
        problems.append(
            "DATABASE_URL points at SQLite; use PostgreSQL or set ALLOW_SQLITE_IN_PRODUCTION=1"
        )
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory"):
        problems.append(
            "RATELIMIT_STORAGE_URI is memory:// (one count per process); point it at Redis"
        )
    if problems:
        raise UnsafeConfiguration("Refusing to start in production: " + "; ".join(problems))


def development_secret_key(instance_dir: Path) -> str:
    """A random key made on first run and kept in the instance folder (never in production)."""
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
