"""Opening the MongoDB stores: one client, `init_beanie` once, every store port, one close."""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import InvalidName, PyMongoError

from yc_chat.adapters.beanie.appointments import BeanieAppointments
from yc_chat.adapters.beanie.channel_locks import BeanieChannelLocks
from yc_chat.adapters.beanie.devices import BeanieDevices
from yc_chat.adapters.beanie.directory import BeanieDirectory
from yc_chat.adapters.beanie.documents import (
    ALL_DOCUMENTS,
    CHANNEL_LOCK_RETENTION_SECONDS,
    WEBHOOK_EVENT_RETENTION_SECONDS,
    AppointmentDocument,
    ChannelLockDocument,
    DeviceDocument,
    FingerprintDocument,
    InboxEventDocument,
    MembershipDocument,
    OrgDocument,
    UserDocument,
    WebhookEventDocument,
)
from yc_chat.adapters.beanie.effect_claims import BeanieEffectClaims
from yc_chat.adapters.beanie.errors import ping, unavailable
from yc_chat.adapters.beanie.fingerprints import BeanieFingerprints
from yc_chat.adapters.beanie.inbox import BeanieEventInbox
from yc_chat.adapters.beanie.server import (
    Expiry,
    ExpirySweeper,
    ServerTraits,
    WriteSerializer,
    bind_indexes,
    create_missing_indexes,
    detect,
)
from yc_chat.adapters.beanie.settings import CollectionNames, MongoOptions
from yc_chat.domain.errors import ProviderUnavailable

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentStore,
        ChannelLocks,
        DeviceRegistry,
        Directory,
        DirectoryWriter,
        EffectClaims,
        EventInbox,
        ProfileFingerprints,
    )

MongoClient = AsyncMongoClient[dict[str, Any]]


class _Binding:
    """Which open store set Beanie's document classes are bound to.

    Beanie binds each document class to one collection of one database, process-wide
    (class attributes). Two store sets open at once would silently share whichever was
    bound last, so opening a second one before closing the first is refused.
    """

    # The open store set, or `opening` while one is being opened.
    current: object | None = None
    opening = object()


@attrs.define(kw_only=True, eq=False)
class MongoStores:
    """Every store port on one MongoDB database; `close()` (or `async with`) when done."""

    directory: BeanieDirectory
    appointments: BeanieAppointments
    devices: BeanieDevices
    effect_claims: BeanieEffectClaims
    inbox: BeanieEventInbox
    fingerprints: BeanieFingerprints
    locks: BeanieChannelLocks
    database: str
    collections: CollectionNames
    server: ServerTraits
    # Expires what TTL indexes would, from the worker's lease calls, where they are ignored.
    sweeper: ExpirySweeper
    _client: MongoClient = attrs.field(alias="client", repr=False)
    # No one-read typeahead here: the service reads it through the directory.
    member_reads: None = attrs.field(default=None, init=False)
    _owns_client: bool = attrs.field(alias="owns_client")
    _closed: bool = attrs.field(default=False, init=False)

    async def ping(self) -> None:
        """Raise ProviderUnavailable when MongoDB cannot be reached (for `/readyz`)."""
        await ping(UserDocument)

    async def close(self) -> None:
        """Release the binding; close the client if `open_mongo_stores` created it."""
        if self._closed:
            return
        self._closed = True
        if _Binding.current is self:
            _Binding.current = None
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> MongoStores:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _hosts(uri: str) -> str:
    """The host list of a MongoDB URI without credentials, options or path, for messages."""
    rest = uri.split("://", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]


def _client_from(uri: str, options: MongoOptions) -> MongoClient:
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        appname=options.app_name,
        serverSelectionTimeoutMS=int(options.server_selection_timeout.total_seconds() * 1000),
        connectTimeoutMS=int(options.connect_timeout.total_seconds() * 1000),
        socketTimeoutMS=int(options.socket_timeout.total_seconds() * 1000),
        maxPoolSize=options.max_pool_size,
        minPoolSize=options.min_pool_size,
    )


def _bind_collection_names(names: CollectionNames) -> None:
    for document, name in (
        (UserDocument, names.users),
        (OrgDocument, names.orgs),
        (MembershipDocument, names.memberships),
        (AppointmentDocument, names.appointments),
        (DeviceDocument, names.devices),
        (WebhookEventDocument, names.webhook_events),
        (InboxEventDocument, names.webhook_inbox),
        (FingerprintDocument, names.profile_fingerprints),
        (ChannelLockDocument, names.channel_locks),
    ):
        document.Settings.name = name


def expiry_sweeper(*, enabled: bool) -> ExpirySweeper:
    """What the TTL indexes expire, swept by the worker on servers that ignore them."""
    return ExpirySweeper(
        (
            Expiry(InboxEventDocument, "expireAt", timedelta(0)),
            Expiry(
                WebhookEventDocument,
                "claimedAt",
                timedelta(seconds=WEBHOOK_EVENT_RETENTION_SECONDS),
            ),
            Expiry(ChannelLockDocument, "until", timedelta(seconds=CHANNEL_LOCK_RETENTION_SECONDS)),
        ),
        enabled=enabled,
    )


async def open_mongo_stores(
    uri_or_client: str | MongoClient,
    database: str,
    collections: CollectionNames | None = None,
    *,
    options: MongoOptions | None = None,
) -> MongoStores:
    """Connect, run `init_beanie` (creating the declared indexes), and build every store.

    Given a URI, the client is built from `options` and closed by `MongoStores.close()`;
    given a client, it stays the caller's. Raises ProviderUnavailable, naming the hosts but
    never the credentials, when MongoDB cannot be reached within the selection timeout.
    """
    if _Binding.current is not None:
        raise RuntimeError(
            "MongoDB stores are already open in this process (Beanie binds its document "
            "classes process-wide); close them before opening others"
        )
    _Binding.current = _Binding.opening
    try:
        stores = await _open(uri_or_client, database, collections or CollectionNames(), options)
    except BaseException:
        _Binding.current = None
        raise
    _Binding.current = stores
    return stores


async def _open(
    uri_or_client: str | MongoClient,
    database: str,
    collections: CollectionNames,
    options: MongoOptions | None,
) -> MongoStores:
    if isinstance(uri_or_client, str):
        # A malformed URI raises here (ConfigurationError), before any connection.
        client, owns_client = _client_from(uri_or_client, options or MongoOptions()), True
        where = _hosts(uri_or_client)
    else:
        client, owns_client, where = uri_or_client, False, "the given client"
    try:
        try:
            db = client[database]
        except InvalidName as exc:
            raise ValueError(f"{database!r} is not a valid MongoDB database name") from exc
        _bind_collection_names(collections)
        server = await detect(db)
        bind_indexes(ALL_DOCUMENTS, server)
        await init_beanie(
            database=db,
            document_models=list(ALL_DOCUMENTS),
            skip_indexes=not server.redeclares_indexes,
        )
        if not server.redeclares_indexes:
            await create_missing_indexes(ALL_DOCUMENTS)
    except BaseException as exc:
        if owns_client:
            await client.close()
        if isinstance(exc, PyMongoError):
            unavailable(exc)  # logs it
            raise ProviderUnavailable(
                f"Cannot use MongoDB at {where} (database {database!r}): {type(exc).__name__}"
            ) from exc
        raise
    serial = WriteSerializer(atomic=server.atomic_updates)
    sweeper = expiry_sweeper(enabled=not server.ttl_indexes)
    return MongoStores(
        directory=BeanieDirectory(),
        appointments=BeanieAppointments(serial=serial),
        devices=BeanieDevices(),
        effect_claims=BeanieEffectClaims(),
        inbox=BeanieEventInbox(sweeper=sweeper, serial=serial),
        fingerprints=BeanieFingerprints(bulk_upserts=server.bulk_upserts),
        locks=BeanieChannelLocks(serial=serial),
        database=database,
        collections=collections,
        server=server,
        sweeper=sweeper,
        client=client,
        owns_client=owns_client,
    )


if TYPE_CHECKING:

    def _implements_the_ports(
        stores: MongoStores,
    ) -> tuple[
        Directory,
        DirectoryWriter,
        AppointmentStore,
        DeviceRegistry,
        EffectClaims,
        EventInbox,
        ProfileFingerprints,
        ChannelLocks,
    ]:
        """Never called: mypy checks here that each store satisfies its port Protocol."""
        return (
            stores.directory,
            stores.directory,
            stores.appointments,
            stores.devices,
            stores.effect_claims,
            stores.inbox,
            stores.fingerprints,
            stores.locks,
        )
