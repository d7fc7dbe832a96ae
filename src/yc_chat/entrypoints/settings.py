"""Settings: one frozen object built from the environment here, and passed down from here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import attrs

from yc_chat.domain.limits import (
    DEFAULT_TOKEN_TTL,
    MAX_AUTO_END_MINUTES,
    MAX_TOKEN_TTL,
    MIN_TOKEN_TTL,
)
from yc_chat.entrypoints.environment import (
    EnvReader,
    IpNetwork,
    LogFormat,
    PushProvider,
    RateLimit,
    SettingsError,
    parse_duration_seconds,
)

# Re-exported: the rest of the code imports these from settings, its one configuration module.
__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_WEBHOOK_MAX_BODY_BYTES",
    "JWKS_ALGORITHMS",
    "MIN_JWT_SECRET_BYTES",
    "MIN_STREAM_SECRET_BYTES",
    "MONGODB_SCHEMES",
    "POSTGRES_SCHEMES",
    "REDIS_SCHEMES",
    "AuthSettings",
    "HttpSettings",
    "IpNetwork",
    "LogFormat",
    "PushProvider",
    "PushSettings",
    "RateLimit",
    "Settings",
    "SettingsError",
    "WorkerSettings",
    "parse_duration_seconds",
    "require_auth",
    "with_jwt_secret",
]


KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BODY_BYTES = 256 * KIB
DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1 * MIB
# HS256 keys shorter than the hash output are brute-forceable offline from one token.
MIN_JWT_SECRET_BYTES = 32
# The Stream API secret signs every Stream token (HS256) and every webhook (HMAC-SHA256).
MIN_STREAM_SECRET_BYTES = 32
# Signature algorithms accepted from a JWKS. Pinned: never HS* (key confusion), never none.
JWKS_ALGORITHMS = ("RS256", "ES256")


# URL schemes the drivers accept; anything else would only fail later, inside the driver.
MONGODB_SCHEMES = ("mongodb", "mongodb+srv")
POSTGRES_SCHEMES = ("postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss", "unix")


@attrs.frozen(kw_only=True)
class AuthSettings:
    """How callers' bearer JWTs are verified."""

    jwt_secret: str | None = attrs.field(default=None, repr=False)
    jwks_url: str | None = None
    audience: str | None = None
    issuer: str | None = None
    leeway_seconds: float = 30.0
    user_id_claim: str = "sub"
    jwks_cache_seconds: float = 300.0
    # An unknown `kid` refetches at most this often: random kids cannot hammer the IdP.
    jwks_min_refresh_seconds: float = 5.0
    jwks_timeout_seconds: float = 5.0

    @property
    def configured(self) -> bool:
        return self.jwt_secret is not None or self.jwks_url is not None


@attrs.frozen(kw_only=True)
class HttpSettings:
    """What the HTTP app needs: auth, limits, CORS, proxies, webhook secret, lifecycle."""

    auth: AuthSettings = attrs.field(factory=AuthSettings)
    token_rate_limit: RateLimit | None = RateLimit(limit=30, window_seconds=60)
    address_limit_factor: int = 4
    # Every user's POST and DELETE under /api/ but the token endpoint (its own budget).
    write_rate_limit: RateLimit | None = RateLimit(limit=60, window_seconds=60)
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[IpNetwork, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    webhook_max_body_bytes: int = DEFAULT_WEBHOOK_MAX_BODY_BYTES
    webhook_secret: str | None = attrs.field(default=None, repr=False)
    # REQUEST_READ_TIMEOUT: seconds a client has for its headers, and again for its body.
    request_read_timeout_seconds: float = 15.0
    request_deadline_seconds: float = 5.0  # REQUEST_DEADLINE: all of a request's dependencies
    activation_interval_seconds: float = 15.0
    readiness_timeout_seconds: float = 2.0


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """The webhook inbox worker: where it runs, how it leases, retries and gives up."""

    # Whether `serve` runs the worker in-process (`serve --no-worker` turns it off).
    enabled: bool = True
    poll_seconds: float = 1.0
    # Longer than any handling takes: a live worker never loses its lease mid-event.
    lease_seconds: float = 60.0
    event_deadline_seconds: float = 30.0  # EVENT_DEADLINE (bootstrap: at most half the lease)
    batch_size: int = 16
    max_attempts: int = 8
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    # How long shutdown waits for events being handled before cancelling them.
    stop_grace_seconds: float = 10.0


@attrs.frozen(kw_only=True)
class PushSettings:
    """Which push provider notifies devices, and how to reach it."""

    provider: PushProvider = "log"
    fcm_credentials_file: str | None = None
    fcm_base_url: str | None = None
    expo_base_url: str | None = None
    expo_access_token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class Settings:
    """The whole service configuration, read once from the environment."""

    http: HttpSettings = attrs.field(factory=HttpSettings)
    worker: WorkerSettings = attrs.field(factory=WorkerSettings)
    push: PushSettings = attrs.field(factory=PushSettings)
    # End appointment chats this long after the appointment time; None: never automatically.
    chat_auto_end: timedelta | None = None
    chat_token_ttl: timedelta = DEFAULT_TOKEN_TTL
    redis_url: str | None = attrs.field(default=None, repr=False)
    redis_cool_down_seconds: float = 10.0  # REDIS_COOL_DOWN: Redis skipped after a failure
    mongodb_uri: str | None = attrs.field(default=None, repr=False)
    database_name: str | None = None
    database_url: str | None = attrs.field(default=None, repr=False)
    stream_api_key: str | None = None
    stream_api_secret: str | None = attrs.field(default=None, repr=False)
    stream_base_url: str | None = None
    stream_system_user_id: str | None = None  # None: `system` (creates channels, posts notices)
    log_level: str = "INFO"
    log_format: LogFormat = "json"
    # PROMETHEUS_MULTIPROC_DIR: metrics in files there, summed over processes (--workers N).
    metrics_multiprocess_dir: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables; raises SettingsError with every problem."""
        reader = EnvReader(env)
        settings = cls(
            http=HttpSettings(
                auth=AuthSettings(
                    jwt_secret=reader.text("JWT_SECRET"),
                    jwks_url=reader.url("JWT_JWKS_URL"),
                    audience=reader.text("JWT_AUDIENCE"),
                    issuer=reader.text("JWT_ISSUER"),
                    leeway_seconds=reader.number("JWT_LEEWAY_SECONDS", 30.0, high=300.0),
                    user_id_claim=reader.text("JWT_USER_ID_CLAIM") or "sub",
                ),
                token_rate_limit=reader.rate_limit(
                    "TOKEN_RATE_LIMIT", RateLimit(limit=30, window_seconds=60)
                ),
                write_rate_limit=reader.rate_limit(
                    "WRITE_RATE_LIMIT", RateLimit(limit=60, window_seconds=60)
                ),
                cors_origins=reader.origins("CORS_ORIGINS"),
                trusted_proxies=reader.networks("TRUSTED_PROXIES"),
                webhook_secret=reader.text("STREAM_API_SECRET"),
                request_read_timeout_seconds=reader.number(
                    "REQUEST_READ_TIMEOUT", 15.0, low=0.1, high=3600.0
                ),
                request_deadline_seconds=reader.number("REQUEST_DEADLINE", 5, low=0.1, high=300),
                activation_interval_seconds=reader.number(
                    "ACTIVATION_INTERVAL_SECONDS", 15.0, high=3600.0
                ),
            ),
            worker=WorkerSettings(
                poll_seconds=reader.number("WORKER_POLL_SECONDS", 1.0, high=60.0, low=0.01),
                lease_seconds=reader.number("WORKER_LEASE_SECONDS", 60.0, high=3600.0, low=1.0),
                event_deadline_seconds=reader.number("EVENT_DEADLINE", 30.0, low=0.1, high=3600.0),
                max_attempts=reader.integer("WEBHOOK_MAX_ATTEMPTS", 8, low=1, high=100),
                retry_base_seconds=reader.number(
                    "WEBHOOK_RETRY_BASE_SECONDS", 2.0, high=3600.0, low=0.01
                ),
                retry_max_seconds=reader.number(
                    "WEBHOOK_RETRY_MAX_SECONDS", 300.0, high=86400.0, low=0.01
                ),
            ),
            push=PushSettings(
                provider=reader.push_provider("PUSH_PROVIDER"),
                fcm_credentials_file=reader.text("FCM_CREDENTIALS_FILE"),
                fcm_base_url=reader.url("FCM_BASE_URL"),
                expo_base_url=reader.url("EXPO_BASE_URL"),
                expo_access_token=reader.text("EXPO_ACCESS_TOKEN"),
            ),
            chat_auto_end=reader.minutes_or_off("CHAT_AUTO_END_MINUTES", high=MAX_AUTO_END_MINUTES),
            chat_token_ttl=reader.duration(
                "CHAT_TOKEN_TTL", DEFAULT_TOKEN_TTL, low=MIN_TOKEN_TTL, high=MAX_TOKEN_TTL
            ),
            redis_url=reader.service_url("REDIS_URL", REDIS_SCHEMES, "redis://127.0.0.1:6379/0"),
            redis_cool_down_seconds=reader.number("REDIS_COOL_DOWN", 10.0, low=0.1, high=3600.0),
            mongodb_uri=reader.service_url(
                "MONGODB_URI", MONGODB_SCHEMES, "mongodb://127.0.0.1:27017"
            ),
            database_name=reader.text("DATABASE_NAME"),
            database_url=reader.service_url(
                "DATABASE_URL", POSTGRES_SCHEMES, "postgresql://db/chat"
            ),
            stream_api_key=reader.text("STREAM_API_KEY"),
            stream_api_secret=reader.text("STREAM_API_SECRET"),
            stream_base_url=reader.base_url("STREAM_BASE_URL"),
            stream_system_user_id=reader.text("STREAM_SYSTEM_USER_ID"),
            log_level=reader.log_level("LOG_LEVEL"),
            log_format=reader.log_format("LOG_FORMAT"),
            metrics_multiprocess_dir=reader.directory("PROMETHEUS_MULTIPROC_DIR"),
        )
        if settings.database_url is not None and settings.mongodb_uri is not None:
            reader.problem("set only one of DATABASE_URL (PostgreSQL) and MONGODB_URI (MongoDB)")
        auth = settings.http.auth
        if auth.jwt_secret is not None and auth.jwks_url is not None:
            reader.problem("set only one of JWT_SECRET and JWT_JWKS_URL")
        reader.check_secret("JWT_SECRET", auth.jwt_secret, MIN_JWT_SECRET_BYTES)
        reader.check_secret(
            "STREAM_API_SECRET", settings.stream_api_secret, MIN_STREAM_SECRET_BYTES
        )
        if (settings.stream_api_key is None) != (settings.stream_api_secret is None):
            reader.problem(
                "STREAM_API_KEY and STREAM_API_SECRET go together: set both for a Stream app, "
                "or neither for the built-in emulator"
            )
        elif settings.stream_base_url is not None and settings.stream_api_key is None:
            reader.problem(
                "STREAM_BASE_URL needs STREAM_API_KEY and STREAM_API_SECRET (the ones "
                "`yc-chat emulator` prints, or your Stream app's)"
            )
        push = settings.push
        if push.provider == "fcm" and push.fcm_credentials_file is None:
            reader.problem("PUSH_PROVIDER=fcm needs FCM_CREDENTIALS_FILE")
        worker = settings.worker
        if worker.retry_max_seconds < worker.retry_base_seconds:
            reader.problem("WEBHOOK_RETRY_MAX_SECONDS must not be below WEBHOOK_RETRY_BASE_SECONDS")
        reader.raise_problems()
        return settings


def require_auth(settings: Settings) -> None:
    """Raise SettingsError unless callers can be authenticated."""
    if not settings.http.auth.configured:
        raise SettingsError(
            "no caller authentication configured: set JWT_SECRET (HS256) or JWT_JWKS_URL "
            "(RS256/ES256), or run `yc-chat serve --demo` for a generated development secret"
        )


def with_jwt_secret(settings: Settings, secret: str) -> Settings:
    """The same settings with HS256 authentication under `secret`."""
    auth = attrs.evolve(settings.http.auth, jwt_secret=secret, jwks_url=None)
    return attrs.evolve(settings, http=attrs.evolve(settings.http, auth=auth))
