"""Beanie stores for tests: on a real MongoDB when MONGODB_URI is set, else on the double."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from pymongo import AsyncMongoClient

from tests.mongo_double._client import DoubleClient
from yc_chat.adapters.beanie import CollectionNames, MongoClient, MongoStores, open_mongo_stores

MONGODB_URI_VARIABLE = "MONGODB_URI"


def real_mongodb_uri() -> str | None:
    """The URI of a real MongoDB to test against, if the environment names one."""
    return os.environ.get(MONGODB_URI_VARIABLE) or None


def backend_name() -> str:
    """Where the Beanie tests of this run go: 'mongodb' or 'double'."""
    return "mongodb" if real_mongodb_uri() else "double"


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
async def mongo_stores(collections: CollectionNames | None = None) -> AsyncIterator[MongoStores]:
    """Stores on a throwaway database: real MongoDB if MONGODB_URI is set, else the double."""
    uri = real_mongodb_uri()
    if uri is None:
        async with double_stores(collections) as (stores, _):
            yield stores
        return
    client: MongoClient = AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    database = f"yc_chat_test_{uuid.uuid4().hex[:12]}"
    try:
        async with await open_mongo_stores(client, database, collections) as stores:
            yield stores
    finally:
        await client.drop_database(database)
        await client.close()
