"""Reading the environment: each variable checked as it is read, every problem collected.

`settings.Settings.from_env` is the one caller; the value types here (RateLimit, the
literals) are re-exported from `settings`, where the rest of the code imports them.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

import attrs

# Placeholders shipped in `.env.example`: a copied file must not run with a public secret.
PLACEHOLDER_SECRET_PREFIXES = ("change-me",)

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


class EnvReader:
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
