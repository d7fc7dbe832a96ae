"""How the PostgreSQL stores connect: the URL's driver, the pool and the statement timeout."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import attrs

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")


@attrs.frozen(kw_only=True)
class PostgresOptions:
    """Pool and session settings; the defaults suit one service process (see docs/postgres.md)."""

    # Connections this process keeps open, and how many more it may open under a burst.
    pool_size: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    max_overflow: int = attrs.field(default=10, validator=attrs.validators.ge(0))
    # How long a request waits for a free connection before failing (then: 503).
    pool_timeout: timedelta = timedelta(seconds=5)
    connect_timeout: timedelta = timedelta(seconds=5)
    # The server cancels any statement running longer (a runaway query becomes a 503).
    statement_timeout: timedelta = timedelta(seconds=5)
    application_name: str = "yc-chat"
    # Test each pooled connection with a round trip before use. Off by default: a
    # connection that died while idle fails its statement once (a 503) and is replaced.
    pre_ping: bool = False
    # asyncpg connections held open beside the pool for typeahead and member pages, which
    # take one without a pool checkout (read_connections.py); 0: they use the pool.
    read_connections: int = attrs.field(default=8, validator=attrs.validators.ge(0))


def async_url(url: str) -> str:
    """`url` with the asyncpg driver named, as SQLAlchemy wants it."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError("a PostgreSQL URL starts with postgresql://")
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


def hosts(url: str) -> str:
    """The host and database of a URL without credentials or options, for messages."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{host}{parts.path}"
