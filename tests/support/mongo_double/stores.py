"""Beanie stores for tests, on either backend: the in-process double or a real server.

`backend="server"` is a real MongoDB-wire server (`MONGODB_URI`, else the session's FerretDB;
see tests/support/servers.py), each test in its own throwaway database; `backend="double"` is a
fresh in-process double. Suites parametrise over `MONGO_BACKENDS` to run on both.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, cast

from pymongo import AsyncMongoClient

from tests.support import servers
from tests.support.mongo_double._client import DoubleClient
from yc_chat.adapters.beanie import CollectionNames, MongoClient, MongoStores, open_mongo_stores

Backend = Literal["double", "server"]
MONGO_BACKENDS: tuple[Backend, ...] = ("double", "server")


def backend_name() -> str:
    """What `backend="server"` is in this run: 'mongodb' (MONGODB_URI) or 'ferretdb'."""
    return servers.mongodb_server_name()


def real_server_client(uri: str | None = None) -> MongoClient:
    """A client of the real server (MONGODB_URI, else FerretDB), skipping where there is none."""
    return AsyncMongoClient(
        uri or servers.mongodb_uri(), tz_aware=True, serverSelectionTimeoutMS=5000
    )


@asynccontextmanager
async def double_stores(
    collections: CollectionNames | None = None,
) -> AsyncIterator[tuple[MongoStores, DoubleClient]]:
    """Stores on a fresh in-process double, with the double (to inspect or take down)."""
    double = DoubleClient()
    stores = await open_mongo_stores(cast(MongoClient, double), "yc_chat_test", collections)
    async with stores:
        yield stores, double


@asynccontextmanager
async def mongo_stores(
    collections: CollectionNames | None = None, *, backend: Backend = "double"
) -> AsyncIterator[MongoStores]:
    """Stores on a fresh database of `backend` (see the module docstring)."""
    if backend == "double":
        async with double_stores(collections) as (stores, _):
            yield stores
        return
    client = real_server_client()
    database = f"yc_chat_test_{uuid.uuid4().hex[:12]}"
    try:
        async with await open_mongo_stores(client, database, collections) as stores:
            yield stores
    finally:
        await client.drop_database(database)
        await client.close()
