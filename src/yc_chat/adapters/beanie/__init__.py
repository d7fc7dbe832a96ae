"""Every store port on MongoDB through Beanie: `open_mongo_stores(uri_or_client, database)`.

```python
stores = await open_mongo_stores("mongodb://db:27017", "yc_chat")
try:
    service = ChatService.build(directory=stores.directory, appointments=stores.appointments,
                                devices=stores.devices, effect_claims=stores.effect_claims,
                                fingerprints=stores.fingerprints, locks=stores.locks, ...)
finally:
    await stores.close()
```

Collections (names configurable through `CollectionNames`; these are the defaults), their
keys, and the indexes created when the stores open:

- `chat_users` (`_id` user id), `chat_orgs` (`_id` org id).
- `chat_memberships`: unique (orgId, userId); (userId); (orgId, sortName, userId);
  (orgId, searchSpelled); (orgId, searchWords); (orgId, searchEmail).
- `chat_appointments` (`_id` appointment id): (chatStatus, chatOpensAt);
  (chatStatus, startsAt); (chatChannelId).
- `chat_devices` (`_id` push token): (userId).
- `chat_webhook_events` (`_id` effect key, e.g. `push:{event}:{user}`): TTL on claimedAt
  (7 days).
- `chat_webhook_inbox` (`_id` webhook id): (state, dueAt) for leases; (state, finishedAt);
  TTL on expireAt (done events, 7 days after finishing).
- `chat_profile_fingerprints` (`_id` user id).
- `chat_locks` (`_id` lock key, e.g. `end:{channel}`): TTL on until (1 hour after it
  lapses).

Every operation is a single-document atomic write or a read; PyMongo errors surface as
`ProviderUnavailable` (503). Typeahead queries are anchored, escaped prefixes on the
folded keys each membership carries; member lists are keyset pages on
(orgId, sortName, userId). Beanie binds document classes process-wide, so one store set
is open per process at a time.
"""

from yc_chat.adapters.beanie.appointments import BeanieAppointments
from yc_chat.adapters.beanie.channel_locks import BeanieChannelLocks
from yc_chat.adapters.beanie.devices import BeanieDevices
from yc_chat.adapters.beanie.directory import BeanieDirectory
from yc_chat.adapters.beanie.effect_claims import BeanieEffectClaims
from yc_chat.adapters.beanie.fingerprints import BeanieFingerprints
from yc_chat.adapters.beanie.inbox import BeanieEventInbox
from yc_chat.adapters.beanie.settings import CollectionNames, MongoOptions
from yc_chat.adapters.beanie.stores import MongoClient, MongoStores, open_mongo_stores

__all__ = [
    "BeanieAppointments",
    "BeanieChannelLocks",
    "BeanieDevices",
    "BeanieDirectory",
    "BeanieEffectClaims",
    "BeanieEventInbox",
    "BeanieFingerprints",
    "CollectionNames",
    "MongoClient",
    "MongoOptions",
    "MongoStores",
    "open_mongo_stores",
]
