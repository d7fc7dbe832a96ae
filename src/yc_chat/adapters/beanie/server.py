"""What the MongoDB-wire server behind the stores can do, asked once when they open.

The adapter is written for MongoDB. FerretDB (MongoDB's wire protocol over SQLite or
PostgreSQL) answers the same queries, but refuses some index options; `buildInfo` tells
the two apart (FerretDB adds `ferretdbVersion`). Only what must differ is adapted:

- TTL indexes (`expireAfterSeconds`): FerretDB 1.x refuses the option. On such a server
  the same fields get plain indexes and `ExpirySweeper` deletes what the TTL monitor would
  have deleted, from the worker's polling (see `BeanieEventInbox.lease`).
- Atomic conditional updates: FerretDB 1.x applies `update`/`findAndModify` as a read,
  a filter in its own process, then a write by `_id`, so two concurrent compare-and-sets
  on one document can both win, and two writers of different fields can lose one's change.
  On such a server `WriteSerializer` runs the stores' updates one at a time within the
  process. Inserts on a unique key stay atomic there (SQLite's unique indexes), which is
  what the once-only effects (push claims, inbox records) rely on.
- Re-declaring existing indexes: `createIndexes` naming indexes that already exist makes
  FerretDB 1.24 panic and drop the connection ("slice bounds out of range"), so reopening a
  database failed. On such a server Beanie skips its index pass and `create_missing_indexes`
  creates only the indexes the collection lacks.
- Unordered bulk upserts meeting a concurrent insert of the same key: FerretDB answers
  without `nModified` and PyMongo fails reading it (KeyError, a 500): there the profile
  fingerprints are upserted one by one (found by two `serve` processes sharing FerretDB).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from beanie import Document
from pymongo import IndexModel

_logger = logging.getLogger("yc_chat.mongo")


@attrs.frozen
class ServerTraits:
    """The server's name and version, and whether it honours TTL indexes."""

    name: str
    version: str
    ttl_indexes: bool
    atomic_updates: bool
    redeclares_indexes: bool
    bulk_upserts: bool

    @classmethod
    def from_build_info(cls, info: dict[str, Any]) -> ServerTraits:
        ferretdb = info.get("ferretdbVersion")
        if ferretdb is not None:
            return cls(
                name="FerretDB",
                version=str(ferretdb),
                ttl_indexes=False,
                atomic_updates=False,
                redeclares_indexes=False,
                bulk_upserts=False,
            )
        return cls(
            name="MongoDB",
            version=str(info.get("version", "?")),
            ttl_indexes=True,
            atomic_updates=True,
            redeclares_indexes=True,
            bulk_upserts=True,
        )


async def detect(database: Any) -> ServerTraits:
    """Ask the server behind `database` (an async PyMongo database) what it is."""
    traits = ServerTraits.from_build_info(await database.command("buildInfo"))
    if not (traits.ttl_indexes and traits.atomic_updates):
        _logger.info(
            "MongoDB-wire server without TTL indexes or atomic conditional updates: "
            "expiry runs in the worker, updates run one at a time in this process",
            extra={"server": traits.name, "version": traits.version},
        )
    return traits


# Each document's indexes as declared (with TTL options), before any server adapted them.
_DECLARED: dict[type[Document], list[IndexModel]] = {}


def _without_ttl(index: IndexModel) -> IndexModel:
    spec = dict(index.document)
    if "expireAfterSeconds" not in spec:
        return index
    keys = list(spec.pop("key").items())
    spec.pop("expireAfterSeconds")
    return IndexModel(keys, **spec)


def bind_indexes(documents: tuple[type[Document], ...], traits: ServerTraits) -> None:
    """Set each document's indexes for this server: as declared, or TTL options dropped.

    Beanie reads `Settings.indexes` in `init_beanie`; the declared lists are kept aside so
    that a later store set on a MongoDB server gets its TTL indexes back.
    """
    for document in documents:
        declared = _DECLARED.setdefault(document, list(getattr(document.Settings, "indexes", [])))
        if not declared:
            continue
        adapted = declared if traits.ttl_indexes else [_without_ttl(i) for i in declared]
        document.Settings.indexes = adapted


async def create_missing_indexes(documents: tuple[type[Document], ...]) -> None:
    """Create each document's declared indexes that its collection lacks (by name)."""
    for document in documents:
        declared: list[IndexModel] = list(getattr(document.Settings, "indexes", []))
        if not declared:
            continue
        collection = document.get_pymongo_collection()
        existing = await collection.index_information()
        missing = [index for index in declared if index.document["name"] not in existing]
        if missing:
            await collection.create_indexes(missing)


@attrs.define
class Expiry:
    """What a TTL index would delete: documents of `document` whose `field` is older than
    `after` (stored field name, as in the index)."""

    document: type[Document]
    field: str
    after: timedelta


@attrs.define
class ExpirySweeper:
    """Deletes expired documents where the server's TTL monitor does not (FerretDB).

    `maybe_sweep()` is cheap to call often: it runs at most once per `every`, and never on
    a server that honours TTL indexes. Wall time is used, as the TTL monitor uses the
    server's clock; documents live a little longer between sweeps, as they do between the
    monitor's passes (every 60 s on MongoDB).
    """

    expiries: tuple[Expiry, ...]
    enabled: bool
    every: timedelta = timedelta(seconds=60)
    _last: datetime | None = attrs.field(default=None, init=False)

    async def maybe_sweep(self) -> int:
        if not self.enabled:
            return 0
        now = datetime.now(UTC)
        if self._last is not None and now - self._last < self.every:
            return 0
        self._last = now
        return await self.sweep(now)

    async def sweep(self, now: datetime) -> int:
        """Delete every expired document now; how many went."""
        deleted = 0
        for expiry in self.expiries:
            cutoff = now - expiry.after
            collection = expiry.document.get_pymongo_collection()
            result = await collection.delete_many({expiry.field: {"$lte": cutoff}})
            deleted += int(result.deleted_count)
        return deleted


class WriteSerializer:
    """Runs the stores' updates one at a time where the server does not make each atomic.

    On MongoDB (`atomic=True`) it does nothing: every update is a single-document atomic
    operation there. On FerretDB 1.x it holds one lock per store set around each update, so
    a compare-and-set in this process sees no other write between its read and its write.
    """

    def __init__(self, *, atomic: bool) -> None:
        self._lock = None if atomic else asyncio.Lock()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield


ATOMIC_WRITES = WriteSerializer(atomic=True)
