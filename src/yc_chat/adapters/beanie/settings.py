"""Where and how the Beanie stores keep their data: collection names and client options."""

from __future__ import annotations

from datetime import timedelta

import attrs


def _collection_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    # MongoDB's own rules: non-empty, no '$', no NUL, not in the reserved 'system.' space.
    if not value or "$" in value or "\x00" in value or value.startswith("system."):
        raise ValueError(f"{attribute.name}: {value!r} is not a valid collection name")


@attrs.frozen(kw_only=True)
class CollectionNames:
    """One collection per store; every name can be changed, the defaults share a `chat_` prefix.

    The prefix keeps this service's documents apart from a host platform's own `users` or
    `appointments` collections when both live in one database. The directory collections
    hold this service's shape (see `yc_chat.adapters.beanie.documents`): a host that keeps
    its directory elsewhere syncs into them through `DirectoryWriter`, or supplies its own
    `Directory` adapter instead.
    """

    users: str = attrs.field(default="chat_users", validator=_collection_name)
    orgs: str = attrs.field(default="chat_orgs", validator=_collection_name)
    memberships: str = attrs.field(default="chat_memberships", validator=_collection_name)
    appointments: str = attrs.field(default="chat_appointments", validator=_collection_name)
    devices: str = attrs.field(default="chat_devices", validator=_collection_name)
    webhook_events: str = attrs.field(default="chat_webhook_events", validator=_collection_name)
    webhook_inbox: str = attrs.field(default="chat_webhook_inbox", validator=_collection_name)
    profile_fingerprints: str = attrs.field(
        default="chat_profile_fingerprints", validator=_collection_name
    )
    channel_locks: str = attrs.field(default="chat_locks", validator=_collection_name)

    def __attrs_post_init__(self) -> None:
        names = attrs.astuple(self)
        if len(set(names)) != len(names):
            raise ValueError("every store needs a collection of its own")


@attrs.frozen(kw_only=True)
class MongoOptions:
    """Client settings used when `open_mongo_stores` builds the client from a URI."""

    # How long an operation waits for a reachable server before failing (then: 503).
    server_selection_timeout: timedelta = timedelta(seconds=5)
    connect_timeout: timedelta = timedelta(seconds=5)
    # How long one reply may take to arrive; a stalled server fails the call instead of
    # holding it forever (requests also stop at their deadline, whatever this says).
    socket_timeout: timedelta = timedelta(seconds=30)
    max_pool_size: int = attrs.field(default=50, validator=attrs.validators.ge(1))
    min_pool_size: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    app_name: str = "yc-chat"
