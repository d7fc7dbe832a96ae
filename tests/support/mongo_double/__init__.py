"""An in-process MongoDB double behind PyMongo's async API, for Beanie 2 and our adapters.

mongomock implements MongoDB's query and update language in memory, but only behind the
synchronous PyMongo API. Beanie 2 talks to `pymongo.AsyncMongoClient`, so this package wraps
mongomock in the few async classes Beanie and `yc_chat.adapters.beanie` use. Two things make
it a better stand-in than plain mongomock:

- every operation first yields to the event loop, so concurrent callers interleave between
  operations as they would against a server (check-then-write bugs show up under `gather`,
  while each single operation stays atomic, as a single-document write is in MongoDB);
- every filter, update and document goes through BSON and back, as PyMongo sends it: what
  the driver could not encode fails, and stored values have the server's types (dates in
  UTC to the millisecond, plain strings for str enums);
- `outage()` makes every operation fail the way an unreachable server does.

What it cannot tell: query plans and index use (mongomock scans), server-side limits, and
operators mongomock accepts that a server would not. The adapters use only long-standing
operators ($set, $in, $ne, $gt, $lte, $or, $nor, $regex); run the suites against a real
server with MONGODB_URI to be sure.
"""

from tests.support.mongo_double._client import (
    DoubleClient,
    DoubleCollection,
    DoubleCursor,
    DoubleDatabase,
)

__all__ = ["DoubleClient", "DoubleCollection", "DoubleCursor", "DoubleDatabase"]
