"""Configuration from the environment, with safe defaults for the embedded demo."""

import os
import secrets
from pathlib import Path

SMS_PROVIDERS = ("console", "twilio")
MIN_METRICS_TOKEN = 16


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


def _seconds(env, name: str, default: float) -> float:
    """A time limit in seconds (decimals allowed); more than zero, or the app refuses to start."""
    raw = (env.get(name) or "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}.") from None
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be more than 0 seconds, not {raw!r}.")
    return value


MAX_WORKER_CONCURRENCY = 15  # SQLAlchemy's default pool: 5 connections and 10 more on demand


def _whole(env, name: str, default: int, most: int | None = None) -> int:
    """A whole number (at least 1, at most `most`), or a refusal that names the setting."""
    raw = (env.get(name) or "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, not {raw!r}.")
    if most is not None and value > most:
        raise ConfigError(f"{name} must be at most {most}, not {raw!r}.")
    return value


def _hops(env) -> int:
    """TRUSTED_PROXY_HOPS: how many proxies in front of the app add to X-Forwarded-For."""
    raw = (env.get("TRUSTED_PROXY_HOPS") or "").strip()
    try:
        value = int(raw) if raw else 0
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"TRUSTED_PROXY_HOPS must be a whole number (0 or more), not {raw!r}.")
    return value


def _sms_provider(env, production: bool) -> str:
    """The SMS provider by name, refused at start rather than at the first send."""
    name = env.get("SMS_PROVIDER", "twilio" if production else "console")
    if name not in SMS_PROVIDERS:
        raise ConfigError(f"SMS_PROVIDER must be {' or '.join(SMS_PROVIDERS)}, not {name!r}.")
    return name


def _metrics_token(env) -> str:
    """METRICS_TOKEN: the bearer token that opens /metrics; empty (the default) keeps it shut.
    Long enough that guessing it is hopeless, and only characters a header carries as is."""
    token = (env.get("METRICS_TOKEN") or "").strip()
    if token and (len(token) < MIN_METRICS_TOKEN or not token.isascii() or not token.isprintable()
                  or " " in token):
        raise ConfigError(f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} printable ASCII "
                          "characters without spaces (try `openssl rand -hex 32`).")
    return token


def _multiprocess_dir(env) -> str:
    """PROMETHEUS_MULTIPROC_DIR: where gunicorn's workers keep their metrics to be added up at a
    scrape (gunicorn.conf.py makes one when METRICS_TOKEN is set). prometheus-client writes
    there on every request, so a missing folder is refused now rather than failing each one."""
    path = (env.get("PROMETHEUS_MULTIPROC_DIR") or "").strip()
    if path and not (os.path.isdir(path) and os.access(path, os.W_OK)):
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR must be a folder the app can write, "
                          f"not {path!r}.")
    return path


def _instance_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, so demo sessions survive a restart."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _channel_secrets_key(env) -> str:
    """CHANNEL_SECRETS_KEY: the Fernet key that seals bot and page tokens (pawline.secret_box).
    Empty in development: a key is derived from SECRET_KEY. Production needs it only to store a
    token (secret_box refuses then), so an SMS-only deployment starts without one; a key that is
    not a Fernet key is refused now rather than at the first token saved."""
    key = (env.get("CHANNEL_SECRETS_KEY") or "").strip()
    if key:
        from cryptography.fernet import Fernet

        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError("CHANNEL_SECRETS_KEY must be a Fernet key (32 bytes, urlsafe "
                              "base64).") from None
    return key


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
        "PERMANENT_SESSION_LIFETIME": _whole(env, "SESSION_LIFETIME_SECONDS", 12 * 3600),
        # however active: a session signed in longer ago than this must sign in again
        "SESSION_MAX_AGE_SECONDS": _whole(env, "SESSION_MAX_AGE_SECONDS", 12 * 3600),
        # a session with no request for this long must sign in again (pawline.sessions)
        "SESSION_IDLE_SECONDS": _whole(env, "SESSION_IDLE_SECONDS", 2 * 3600),
        # The client's address: 0 trusts no header (the connection's own address); N takes the
        # address the Nth proxy from the app saw (X-Forwarded-For, via werkzeug's ProxyFix).
        "TRUSTED_PROXY_HOPS": _hops(env),
        # failed sign-ins from one client address in 15 minutes before it gets 429s (per email
        # it is 5); an office behind one NAT address shares it
        "SIGN_IN_FAILURES_PER_ADDRESS": _whole(env, "SIGN_IN_FAILURES_PER_ADDRESS", 20),
        # requests per minute from one webhook sender (an SMS's From, else the address) before
        # 429s: generous, as Twilio does not retry an SMS webhook (blueprints/webhook_limits.py)
        "WEBHOOK_REQUESTS_PER_MINUTE": _whole(env, "WEBHOOK_REQUESTS_PER_MINUTE", 120),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "SMS_PROVIDER": _sms_provider(env, production),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN", ""),
        # Empty: Twilio's own API host. Tests and benchmarks point it at a fake Twilio.
        "TWILIO_API_BASE_URL": env.get("TWILIO_API_BASE_URL", "").strip().rstrip("/"),
        # Twilio calls give up after these: connecting (nothing sent yet), then waiting for the
        # answer (the message may have been sent; see pawline/providers.py).
        "SMS_CONNECT_TIMEOUT": _seconds(env, "SMS_CONNECT_TIMEOUT", 5.0),
        "SMS_READ_TIMEOUT": _seconds(env, "SMS_READ_TIMEOUT", 10.0),
        # The site's public address: Twilio's webhook signatures, and the signed URLs Twilio
        # fetches sent photos from (required to send photos through Twilio; pawline.media).
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "").rstrip("/"),
        # Fetching an inbound MMS's media (pawline.media_fetch): waiting for the next bytes.
        "MEDIA_READ_TIMEOUT": _seconds(env, "MEDIA_READ_TIMEOUT", 15.0),
        # Background work (pawline.jobs): the demo runs a worker inside the web process.
        "WORKER_IN_PROCESS": _flag(env.get("WORKER_IN_PROCESS", "0" if production else "1")),
        # each running job holds a database connection: no more than the pool has
        "WORKER_CONCURRENCY": _whole(env, "WORKER_CONCURRENCY", 4, MAX_WORKER_CONCURRENCY),
        "JOB_POLL_SECONDS": _seconds(env, "JOB_POLL_SECONDS", 5),
        "JOB_HEARTBEAT_SECONDS": _seconds(env, "JOB_HEARTBEAT_SECONDS", 10),
        "JOB_STALLED_AFTER_SECONDS": _seconds(env, "JOB_STALLED_AFTER_SECONDS", 30),
        "JOB_RETENTION_HOURS": _whole(env, "JOB_RETENTION_HOURS", 7 * 24),
        "DATABASE_BEHIND_PGBOUNCER": _flag(env.get("DATABASE_BEHIND_PGBOUNCER", "0")),
        # GET /metrics answers only `Authorization: Bearer <this>`; empty: 404 to everyone
        "METRICS_TOKEN": _metrics_token(env),
        "PROMETHEUS_MULTIPROC_DIR": _multiprocess_dir(env),
        # Channels other than SMS (pawline.channels): the key sealing their tokens, and the API
        # addresses of Telegram and Meta (tests and the demo point them at local fakes).
        "CHANNEL_SECRETS_KEY": _channel_secrets_key(env),
        "TELEGRAM_API_BASE": (env.get("TELEGRAM_API_BASE") or "https://api.telegram.org")
        .strip().rstrip("/"),
        "META_GRAPH_BASE": (env.get("META_GRAPH_BASE") or "https://graph.facebook.com/v21.0")
        .strip().rstrip("/"),
        "META_APP_SECRET": env.get("META_APP_SECRET", ""),
        "META_VERIFY_TOKEN": env.get("META_VERIFY_TOKEN", ""),
    }
