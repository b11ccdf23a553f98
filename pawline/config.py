"""Configuration from the environment, with safe defaults for the embedded demo."""

import os
import secrets
from pathlib import Path

SMS_PROVIDERS = ("console", "twilio")


class ConfigError(RuntimeError):
    """The environment asks for something the app refuses to run with."""


def normalize_database_url(url: str) -> str:
    """Accept postgres://, postgresql:// and postgresql+psycopg:// and answer the psycopg 3 form."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ConfigError(f"DATABASE_URL must be a PostgreSQL URL, not {url.split(':', 1)[0]}://")


def _flag(value: str) -> bool:
    """An on/off setting as people write it: 1, true, yes or on (any case) mean on."""
    return value.strip().lower() in ("1", "true", "yes", "on")


def _seconds(env, name: str, default: int) -> int:
    """A whole number of seconds, or a refusal that names the setting."""
    value = env.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, not {value!r}.") from None


def _sms_provider(env, production: bool) -> str:
    """The SMS provider by name, refused at start rather than at the first send."""
    name = env.get("SMS_PROVIDER", "twilio" if production else "console")
    if name not in SMS_PROVIDERS:
        raise ConfigError(f"SMS_PROVIDER must be {' or '.join(SMS_PROVIDERS)}, not {name!r}.")
    return name


def _instance_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, so demo sessions survive a restart."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path, env=os.environ) -> dict:
    """Build the app's settings; production (a DATABASE_URL) must bring its own SECRET_KEY."""
    database_url = env.get("DATABASE_URL")
    production = bool(database_url)
    secret_key = (env.get("SECRET_KEY") or "").strip()
    if production and not secret_key:
        raise ConfigError("SECRET_KEY must be set when DATABASE_URL is (a production database).")
    secure = _flag(env.get("SESSION_COOKIE_SECURE", "1" if production else "0"))
    return {
        "SECRET_KEY": secret_key or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url) if database_url else None,
        "EMBEDDED_DATABASE": not production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "__Host-pawline" if secure else "pawline",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure,
        "PERMANENT_SESSION_LIFETIME": _seconds(env, "SESSION_LIFETIME_SECONDS", 12 * 3600),
        # however active: a session signed in longer ago than this must sign in again
        "SESSION_MAX_AGE_SECONDS": _seconds(env, "SESSION_MAX_AGE_SECONDS", 12 * 3600),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "SMS_PROVIDER": _sms_provider(env, production),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN", ""),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "").rstrip("/"),
    }
