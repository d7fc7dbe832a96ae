"""Settings: one frozen object built from the environment here, and passed down from here."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

import attrs

from yc_chat.domain.limits import (
    DEFAULT_TOKEN_TTL,
    MAX_AUTO_END_MINUTES,
    MAX_TOKEN_TTL,
    MIN_TOKEN_TTL,
)

KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BODY_BYTES = 256 * KIB
DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1 * MIB
# HS256 keys shorter than the hash output are brute-forceable offline from one token.
MIN_JWT_SECRET_BYTES = 32
# The Stream API secret signs every Stream token (HS256) and every webhook (HMAC-SHA256).
MIN_STREAM_SECRET_BYTES = 32
# Placeholders shipped in `.env.example`: a copied file must not run with a public secret.
PLACEHOLDER_SECRET_PREFIXES = ("change-me",)
# Signature algorithms accepted from a JWKS. Pinned: never HS* (key confusion), never none.
JWKS_ALGORITHMS = ("RS256", "ES256")

_RATE_UNITS = {"second": 1, "sec": 1, "s": 1, "minute": 60, "min": 60, "m": 60,
               "hour": 3600, "h": 3600, "day": 86400, "d": 86400}  # fmt: skip

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LogFormat = Literal["json", "text"]
PushProvider = Literal["log", "fcm", "expo"]
PUSH_PROVIDERS: tuple[PushProvider, ...] = ("log", "fcm", "expo")


def _spoken(span: timedelta) -> str:
    """A whole number of days, hours, minutes or seconds, as a person says it."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{seconds} seconds"


class SettingsError(ValueError):
    """The environment does not describe a configuration this service can run with."""


# URL schemes the drivers accept; anything else would only fail later, inside the driver.
MONGODB_SCHEMES = ("mongodb", "mongodb+srv")
POSTGRES_SCHEMES = ("postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss", "unix")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration_seconds(text: str) -> int:
    """Seconds from `3600`, `90s`, `90m`, `24h` or `7d`; raises ValueError otherwise."""
    match = re.fullmatch(r"(\d{1,9})\s*([smhd]?)", text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not seconds or a number with s, m, h or d (e.g. 24h)")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


@attrs.frozen(kw_only=True)
class RateLimit:
    """A budget of `limit` requests per `window_seconds`."""

    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str, *, name: str = "TOKEN_RATE_LIMIT") -> RateLimit | None:
        """Parse `30/minute` (also second, hour, day); `off` gives None (no limit)."""
        value = text.strip().lower()
        if value in ("off", "none", "0", "disabled"):
            return None
        match = re.fullmatch(r"(\d{1,9})\s*/\s*(\d{0,6})\s*([a-z]+)", value)
        unit = match.group(3) if match else ""
        if match is None or unit not in _RATE_UNITS or int(match.group(1)) < 1:
            raise SettingsError(f"{name} must look like '30/minute' or be 'off', not {text!r}")
        count = int(match.group(2) or "1")
        return cls(limit=int(match.group(1)), window_seconds=max(1, count) * _RATE_UNITS[unit])

    def times(self, factor: int) -> RateLimit:
        """The same window with `factor` times the budget."""
        return RateLimit(limit=self.limit * factor, window_seconds=self.window_seconds)


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
        reader = _EnvReader(env)
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


class _EnvReader:
    """Reads and checks variables, collecting every problem so one run reports them all."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._problems: list[str] = []

    def problem(self, message: str) -> None:
        self._problems.append(message)

    def problem_unless(self, ok: bool, message: str) -> None:
        if not ok:
            self._problems.append(message)

    def raise_problems(self) -> None:
        if self._problems:
            raise SettingsError("invalid configuration: " + "; ".join(self._problems))

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        parts = urlsplit(value)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        # Keys and API calls over plain http would let anyone on the path forge identities.
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and local)
        ):
            self.problem(f"{name} must be an https URL (http only for localhost)")
            return None
        return value

    def base_url(self, name: str) -> str | None:
        """An API base URL: scheme and host only, since the Stream SDK drops any path."""
        value = self.url(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            self.problem(
                f"{name} must have no path, query or fragment (the Stream SDK drops them): "
                "give the scheme and host only, e.g. https://chat.stream-io-api.com"
            )
            return None
        return value

    def directory(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not os.path.isdir(value):
            self.problem(f"{name} must name an existing directory")
            return None
        return value

    def check_secret(self, name: str, value: str | None, min_bytes: int) -> None:
        """A secret long enough for its algorithm, and not a placeholder from an example."""
        if value is None:
            return
        if value.lower().startswith(PLACEHOLDER_SECRET_PREFIXES):
            self.problem(
                f"{name} is the placeholder from .env.example: generate a real one, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        elif len(value.encode("utf-8")) < min_bytes:
            self.problem(f"{name} must be at least {min_bytes} bytes")

    def service_url(self, name: str, schemes: tuple[str, ...], example: str) -> str | None:
        """A driver connection URL; never echoed back, since it may carry a password."""
        value = self.text(name)
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            valid = parts.scheme in schemes and (parts.scheme == "unix" or bool(parts.netloc))
        except ValueError:
            valid = False
        if not valid:
            *head, last = [scheme + "://" for scheme in schemes]
            kinds = f"{', '.join(head)} or {last}" if head else last
            self.problem(f"{name} must be a {kinds} URL, e.g. {example}")
            return None
        return value

    def number(self, name: str, default: float, *, high: float, low: float = 0.0) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not low <= number <= high:
            self.problem(f"{name} must be a number of seconds between {low:g} and {high:g}")
            return default
        return number

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            self.problem(f"{name} must be a whole number between {low} and {high}")
            return default
        return int(value)

    def minutes_or_off(self, name: str, *, high: int) -> timedelta | None:
        value = self.text(name)
        if value is None or value.lower() in ("off", "none", "disabled"):
            return None
        if not value.isdigit() or not 0 <= int(value) <= high:
            self.problem(f"{name} must be a whole number of minutes between 0 and {high}, or off")
            return None
        return timedelta(minutes=int(value))

    def push_provider(self, name: str) -> PushProvider:
        value = (self.text(name) or "log").lower()
        for provider in PUSH_PROVIDERS:
            if value == provider:
                return provider
        self.problem(f"{name} must be one of " + ", ".join(PUSH_PROVIDERS))
        return "log"

    def duration(
        self, name: str, default: timedelta, *, low: timedelta, high: timedelta
    ) -> timedelta:
        value = self.text(name)
        if value is None:
            return default
        try:
            seconds = parse_duration_seconds(value)
        except ValueError:
            self.problem(f"{name} must be seconds, or a number with s, m, h or d (e.g. 24h)")
            return default
        if not low <= timedelta(seconds=seconds) <= high:
            self.problem(f"{name} must be between {_spoken(low)} and {_spoken(high)}")
            return default
        return timedelta(seconds=seconds)

    def rate_limit(self, name: str, default: RateLimit) -> RateLimit | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            return RateLimit.parse(value, name=name)
        except SettingsError as exc:
            self.problem(str(exc))
            return None

    def origins(self, name: str) -> tuple[str, ...]:
        value = self.text(name)
        if value is None:
            return ()
        origins = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        for origin in origins:
            parts = urlsplit(origin)
            if origin != "*" and (parts.scheme not in ("http", "https") or not parts.hostname):
                self.problem(f"{name}: {origin!r} is not an origin like https://pms.example")
        return origins

    def networks(self, name: str) -> tuple[IpNetwork, ...]:
        value = self.text(name)
        if value is None:
            return ()
        networks: list[IpNetwork] = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                self.problem(f"{name}: {part!r} is not an IP address or network")
        return tuple(networks)

    def log_level(self, name: str) -> str:
        value = (self.text(name) or "INFO").upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            self.problem(f"{name} must be one of DEBUG, INFO, WARNING, ERROR")
            return "INFO"
        return value

    def log_format(self, name: str) -> LogFormat:
        value = (self.text(name) or "json").lower()
        if value == "text":
            return "text"
        if value != "json":
            self.problem(f"{name} must be json or text")
        return "json"
