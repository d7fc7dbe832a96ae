"""Async wrappers over mongomock shaped like `pymongo.AsyncMongoClient` and friends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import bson
import mongomock
from bson import ObjectId
from bson.codec_options import CodecOptions
from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.errors import ServerSelectionTimeoutError
from pymongo.results import BulkWriteResult

# What `buildInfo` answers: Beanie reads the major version to decide on feature support.
_SERVER_VERSION = "7.0.0"


class DoubleClient:
    """Stands in for `pymongo.AsyncMongoClient`: one in-memory server per instance."""

    def __init__(self) -> None:
        self._sync: mongomock.MongoClient = mongomock.MongoClient(tz_aware=True)
        self._reachable = True
        self.operations = 0
        self.closed = False

    # -- what tests steer ----------------------------------------------------------------

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Every operation inside the block fails as if the server were unreachable."""
        self._reachable = False
        try:
            yield
        finally:
            self._reachable = True

    async def gate(self) -> None:
        """Let other tasks run (operations interleave), then fail if the server is 'down'."""
        await asyncio.sleep(0)
        if not self._reachable:
            raise ServerSelectionTimeoutError("mongo double: server unreachable (simulated)")
        self.operations += 1

    # -- AsyncMongoClient surface -------------------------------------------------------

    def __getitem__(self, name: str) -> DoubleDatabase:
        return DoubleDatabase(self, name)

    def get_database(self, name: str, **_: Any) -> DoubleDatabase:
        return DoubleDatabase(self, name)

    @property
    def admin(self) -> DoubleDatabase:
        return DoubleDatabase(self, "admin")

    def append_metadata(self, _driver_info: Any) -> None:
        return None

    async def drop_database(self, name: str) -> None:
        await self.gate()
        self._sync.drop_database(name)

    async def close(self) -> None:
        self.closed = True

    def load_raw(self, database: str, collection: str, documents: list[dict[str, Any]]) -> None:
        """Put documents straight into storage, skipping every check (benchmark loading only).

        mongomock checks unique indexes by scanning the collection on each insert, so
        loading n documents through it costs n²; the caller guarantees uniqueness instead.
        """
        store = self._sync[database][collection]._store
        for document in documents:
            store[document.setdefault("_id", ObjectId())] = document

    def sync_database(self, name: str) -> mongomock.Database:
        """The underlying mongomock database (tests inspect raw documents through it)."""
        return self._sync[name]


class DoubleDatabase:
    """Stands in for `pymongo.asynchronous.database.AsyncDatabase`."""

    def __init__(self, client: DoubleClient, name: str) -> None:
        self.client = client
        self.name = name
        self._sync: mongomock.Database = client.sync_database(name)

    def __getitem__(self, name: str) -> DoubleCollection:
        return DoubleCollection(self, name)

    def get_collection(self, name: str, **_: Any) -> DoubleCollection:
        return DoubleCollection(self, name)

    async def command(self, command: str | Mapping[str, Any], **_: Any) -> dict[str, Any]:
        await self.client.gate()
        name = command if isinstance(command, str) else next(iter(command))
        if name.lower() == "ping":
            return {"ok": 1.0}
        if name.lower() == "buildinfo":
            return {"ok": 1.0, "version": _SERVER_VERSION}
        raise NotImplementedError(f"mongo double: command {name!r}")

    async def list_collection_names(self, **_: Any) -> list[str]:
        await self.client.gate()
        return list(self._sync.list_collection_names())

    async def create_collection(self, name: str, **_: Any) -> DoubleCollection:
        await self.client.gate()
        self._sync.create_collection(name)
        return DoubleCollection(self, name)

    async def drop_collection(self, name: str, **_: Any) -> None:
        await self.client.gate()
        self._sync.drop_collection(name)


_CODEC = CodecOptions(tz_aware=True, tzinfo=UTC)


def _as_bson(value: Any) -> Any:
    """`value` as it reaches a server: through BSON and back.

    PyMongo encodes every filter, update and document it sends, so values it cannot encode
    fail here as they would there (InvalidDocument), and what is stored has the server's
    types: dates in UTC cut to the millisecond, tuples as lists, str subclasses as str.
    """
    if isinstance(value, Mapping):
        return bson.decode(bson.encode(dict(value)), codec_options=_CODEC)
    if isinstance(value, list | tuple):  # an update pipeline, or a batch of documents
        return [_as_bson(item) for item in value]
    return value


def _options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword options mongomock understands: sessions and comments mean nothing to it."""
    kwargs.pop("session", None)
    kwargs.pop("comment", None)
    for name in ("filter", "update", "replacement"):
        if name in kwargs:
            kwargs[name] = _as_bson(kwargs[name])
    return kwargs


def _wire(args: tuple[Any, ...]) -> list[Any]:
    """Positional filter / update / replacement arguments, through BSON."""
    return [_as_bson(arg) for arg in args]


class DoubleCollection:
    """Stands in for `pymongo.asynchronous.collection.AsyncCollection`."""

    def __init__(self, database: DoubleDatabase, name: str) -> None:
        self.database = database
        self.name = name
        self._sync: mongomock.Collection = database._sync[name]

    @property
    def full_name(self) -> str:
        return f"{self.database.name}.{self.name}"

    async def _gate(self) -> None:
        await self.database.client.gate()

    # -- reads ---------------------------------------------------------------------------

    def find(self, filter: Any = None, *args: Any, **kwargs: Any) -> DoubleCursor:
        found = self._sync.find(_as_bson(filter), *args, **_options(kwargs))
        return DoubleCursor(self, found)

    async def find_one(self, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.find_one(_as_bson(filter), *args, **_options(kwargs))

    async def count_documents(self, filter: Mapping[str, Any], **kwargs: Any) -> int:
        await self._gate()
        return int(self._sync.count_documents(_as_bson(filter), **_options(kwargs)))

    async def distinct(self, key: str, filter: Any = None, **kwargs: Any) -> list[Any]:
        await self._gate()
        return list(self._sync.distinct(key, _as_bson(filter), **_options(kwargs)))

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], **kwargs: Any) -> DoubleCursor:
        await self._gate()
        return DoubleCursor(self, self._sync.aggregate(_as_bson(pipeline), **_options(kwargs)))

    # -- writes --------------------------------------------------------------------------

    async def insert_one(self, document: Any, **kwargs: Any) -> Any:
        await self._gate()
        stored = _as_bson(document)
        result = self._sync.insert_one(stored, **_options(kwargs))
        if isinstance(document, dict):  # PyMongo sets the new `_id` on the caller's dict
            document.setdefault("_id", result.inserted_id)
        return result

    async def insert_many(self, documents: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.insert_many(_as_bson(list(documents)), **_options(kwargs))

    async def replace_one(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.replace_one(*_wire(args), **_options(kwargs))

    async def update_one(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.update_one(*_wire(args), **_options(kwargs))

    async def update_many(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.update_many(*_wire(args), **_options(kwargs))

    async def find_one_and_update(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.find_one_and_update(*_wire(args), **_options(kwargs))

    async def find_one_and_replace(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.find_one_and_replace(*_wire(args), **_options(kwargs))

    async def find_one_and_delete(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.find_one_and_delete(*_wire(args), **_options(kwargs))

    async def delete_one(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.delete_one(*_wire(args), **_options(kwargs))

    async def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        await self._gate()
        return self._sync.delete_many(*_wire(args), **_options(kwargs))

    async def bulk_write(self, requests: Sequence[Any], **_: Any) -> BulkWriteResult:
        # mongomock's own bulk_write predates the operation classes of current PyMongo,
        # so each request is replayed as the single operation it describes.
        await self._gate()
        counts = {"nInserted": 0, "nMatched": 0, "nModified": 0, "nUpserted": 0, "nRemoved": 0}
        for request in requests:
            if isinstance(request, InsertOne):
                self._sync.insert_one(_as_bson(request._doc))
                counts["nInserted"] += 1
            elif isinstance(request, UpdateOne | UpdateMany | ReplaceOne):
                method = {
                    UpdateOne: self._sync.update_one,
                    UpdateMany: self._sync.update_many,
                    ReplaceOne: self._sync.replace_one,
                }[type(request)]
                result = method(
                    *_wire((request._filter, request._doc)), upsert=bool(request._upsert)
                )
                counts["nMatched"] += result.matched_count
                counts["nModified"] += result.modified_count
                counts["nUpserted"] += int(result.upserted_id is not None)
            elif isinstance(request, DeleteOne | DeleteMany):
                delete = self._sync.delete_one if isinstance(request, DeleteOne) else None
                result = (delete or self._sync.delete_many)(_as_bson(request._filter))
                counts["nRemoved"] += result.deleted_count
            else:
                raise NotImplementedError(f"mongo double: bulk request {request!r}")
        return BulkWriteResult({**counts, "upserted": []}, acknowledged=True)

    # -- indexes -------------------------------------------------------------------------

    async def index_information(self, **_: Any) -> dict[str, dict[str, Any]]:
        await self._gate()
        info: dict[str, dict[str, Any]] = self._sync.index_information()
        # mongomock hands `key` back as dict items; PyMongo (and Beanie) expect a list of pairs.
        return {name: {**spec, "key": list(spec["key"])} for name, spec in info.items()}

    async def create_indexes(self, indexes: Sequence[Any], **kwargs: Any) -> list[str]:
        await self._gate()
        return list(self._sync.create_indexes(list(indexes), **_options(kwargs)))

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        await self._gate()
        return str(self._sync.create_index(keys, **_options(kwargs)))

    async def drop_index(self, index_or_name: Any, **kwargs: Any) -> None:
        await self._gate()
        self._sync.drop_index(index_or_name, **_options(kwargs))

    async def drop(self, **_: Any) -> None:
        await self._gate()
        self._sync.drop()


class DoubleCursor:
    """Stands in for `AsyncCursor` / `AsyncCommandCursor`: chainable, then awaited."""

    def __init__(self, collection: DoubleCollection, cursor: Any) -> None:
        self._collection = collection
        self._cursor = cursor
        self._started = False

    def sort(self, *args: Any, **kwargs: Any) -> DoubleCursor:
        self._cursor.sort(*args, **kwargs)
        return self

    def skip(self, count: int) -> DoubleCursor:
        self._cursor.skip(count)
        return self

    def limit(self, count: int) -> DoubleCursor:
        self._cursor.limit(count)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        await self._collection._gate()
        self._started = True
        items = list(self._cursor)
        return items if length is None else items[:length]

    def __aiter__(self) -> DoubleCursor:
        return self

    async def __anext__(self) -> Any:
        if not self._started:
            await self._collection._gate()
            self._started = True
        try:
            return next(self._cursor)
        except StopIteration:
            raise StopAsyncIteration from None

    async def close(self) -> None:
        return None
